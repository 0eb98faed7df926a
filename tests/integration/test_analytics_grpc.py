"""AnalyticsService over gRPC: a real analytics_svc process, its DuckDB file and a real PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import duckdb
import grpc
import pytest

from analytics_svc.etl import Syncer
from analytics_svc.warehouse import Warehouse
from hiremesh.clients import analytics_stub
from hiremesh.v1 import analytics_pb2 as pb
from hiremesh.v1 import analytics_pb2_grpc
from tests.fixtures.analytics import ANALYTICS_HEALTH, AnalyticsService, analytics_env
from tests.fixtures.procs import free_port, spawn_service


def cell(row: pb.ReportRow, columns: list[str], name: str) -> object:
    value = row.values[columns.index(name)]
    kind = value.WhichOneof("kind")
    assert kind is not None, "a report cell always sets its kind"
    return None if kind == "null_value" else getattr(value, kind)


async def report(
    stub: analytics_pb2_grpc.AnalyticsServiceAsyncStub, name: str, **params: str
) -> tuple[list[str], list[pb.ReportRow]]:
    reply = await stub.GetReport(pb.GetReportRequest(name=name, params=params), timeout=30)
    return [c.name for c in reply.columns], list(reply.rows)


async def test_sync_report_train_predict_export(fresh_analytics_service: AnalyticsService) -> None:
    analytics_service = fresh_analytics_service
    stub = analytics_stub(analytics_service.addr)
    messages = [m async for m in stub.Sync(pb.SyncRequest(mode=pb.SYNC_MODE_FULL), timeout=120)]
    assert any(m.progress.stage == "applications" and m.progress.total == 900 for m in messages)
    summary = messages[-1].summary
    assert {t.table: t.rows for t in summary.tables}["applications"] == 900
    assert summary.mode == pb.SYNC_MODE_FULL and summary.watermark.seconds > 0

    incremental = [m async for m in stub.Sync(pb.SyncRequest(mode=pb.SYNC_MODE_INCREMENTAL), timeout=60)]
    assert sum(t.rows for t in incremental[-1].summary.tables) == 0

    columns, rows = await report(stub, "summary")
    assert cell(rows[0], columns, "applications") == 900
    reply = await stub.GetReport(pb.GetReportRequest(name="summary"), timeout=30)
    assert {c.name: c.type for c in reply.columns}["hire_rate"] == pb.COLUMN_TYPE_DOUBLE
    assert reply.data_as_of.seconds > 0

    columns, rows = await report(stub, "job_title_success", title="engineer")
    assert rows and all("Engineer" in str(cell(r, columns, "title")) for r in rows)

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.PredictHire(pb.PredictHireRequest(features=pb.HireFeatures(match_score=80)), timeout=30)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "TrainModels" in (err.value.details() or "")

    training = [m async for m in stub.TrainModels(pb.TrainModelsRequest(), timeout=300)]
    assert any(m.progress.stage == "hire" for m in training)
    metrics = {m.kind: m for m in training[-1].metrics}
    hire = metrics[pb.MODEL_KIND_HIRE]
    assert hire.accuracy > hire.baseline_accuracy and hire.samples > 100
    assert metrics[pb.MODEL_KIND_TIME_TO_HIRE].mae < metrics[pb.MODEL_KIND_TIME_TO_HIRE].baseline_mae

    strong = await stub.PredictHire(
        pb.PredictHireRequest(
            features=pb.HireFeatures(
                match_score=95,
                skills_score=95,
                semantic_score=95,
                experience_score=80,
                years_experience=8,
                required_experience=3,
                skills_count=8,
                ai_confidence=0.9,
            )
        ),
        timeout=30,
    )
    weak = await stub.PredictHire(
        pb.PredictHireRequest(
            features=pb.HireFeatures(match_score=15, skills_score=15, semantic_score=15, missing_skills_count=5)
        ),
        timeout=30,
    )
    assert strong.probability > weak.probability and strong.model_version == hire.version
    assert "match_score" in strong.feature_importances

    app_id = "00000000-0000-000e-0000-000000000001"  # synthetic application 1 (ids: kind 0xE, counter 1)
    by_id = await stub.PredictTimeToHire(pb.PredictTimeToHireRequest(application_id=app_id), timeout=30)
    assert by_id.low_days <= by_id.days <= by_id.high_days
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.PredictHire(pb.PredictHireRequest(application_id="00000000-0000-0000-0000-00000000dead"), timeout=30)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND

    exported = [m async for m in stub.ExportParquet(pb.ExportParquetRequest(folder="grpc-test"), timeout=120)]
    files = {f.table: f for f in exported[-1].files}
    assert Path(exported[-1].folder) == (analytics_service.home / "exports" / "grpc-test").resolve()
    fact = files["fact_applications"]
    assert fact.rows == 900
    assert duckdb.execute(f"SELECT count(*) FROM read_parquet('{fact.path}')").fetchall()[0][0] == 900  # noqa: S608


@pytest.mark.parametrize(
    ("name", "params", "needle"),
    [
        ("nope", {}, "nope"),
        ("ai_performance", {"days": "-3"}, "params.days"),
        ("funnel", {"colour": "red"}, "params.colour"),
        ("job_title_success", {}, "params.title"),
    ],
)
async def test_bad_report_is_invalid_argument_naming_it(
    analytics_addr: str, name: str, params: dict[str, str], needle: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await analytics_stub(analytics_addr).GetReport(pb.GetReportRequest(name=name, params=params), timeout=30)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert needle in (err.value.details() or "")


async def test_schedules_report(analytics_addr: str) -> None:
    columns, rows = await report(analytics_stub(analytics_addr), "schedules")
    assert columns[:5] == ["name", "interval", "last_run", "next_run", "last_status"]
    assert {cell(r, columns, "name"): cell(r, columns, "interval") for r in rows} == {
        "incremental": "off",
        "full": "off",
        "train": "off",
        "export": "off",
    }


async def test_export_outside_the_export_root_is_rejected(analytics_addr: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        async for _ in analytics_stub(analytics_addr).ExportParquet(pb.ExportParquetRequest(folder="/etc"), timeout=30):
            pass
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_postgresql_down_sync_unavailable_reports_still_served(
    analytics_service: AnalyticsService, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    wh = Warehouse.open(home / "analytics.duckdb")
    async for _ in Syncer(wh, analytics_service.database_url).sync("full"):
        pass
    await asyncio.to_thread(wh.close)
    down = f"postgresql://nobody@127.0.0.1:{free_port()}/gone"
    proc = await spawn_service("analytics_svc", free_port(), analytics_env(down, home), ANALYTICS_HEALTH)
    try:
        stub = analytics_stub(proc.addr)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            async for _ in stub.Sync(pb.SyncRequest(mode=pb.SYNC_MODE_INCREMENTAL), timeout=60):
                pass
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "PostgreSQL" in (err.value.details() or "")
        columns, rows = await report(stub, "summary")
        assert cell(rows[0], columns, "applications") == 900
    finally:
        await proc.stop()


async def test_agent_tools(analytics_service: AnalyticsService) -> None:
    from screening_svc import analytics_tools as tools

    stub = analytics_stub(analytics_service.addr)
    async for _ in stub.Sync(pb.SyncRequest(mode=pb.SYNC_MODE_INCREMENTAL), timeout=120):
        pass
    async for _ in stub.TrainModels(pb.TrainModelsRequest(models=[pb.MODEL_KIND_HIRE]), timeout=300):
        pass
    rows = await tools.success_rate_for_title("data engineer", addr=analytics_service.addr)
    assert rows and rows[0]["title"] == "Data Engineer" and 0 <= rows[0]["hire_rate"] <= 1
    trends = await tools.hiring_trends(400, addr=analytics_service.addr)
    assert sum(day["applications"] for day in trends["daily"]) == 900
    assert trends["funnel"][0]["stage"] == "applied"
    prediction = await tools.predict_hire({"match_score": 90, "skills_score": 90}, addr=analytics_service.addr)
    assert 0 <= prediction["probability"] <= 1 and prediction["model_version"].startswith("hire-")
    with pytest.raises(ValueError, match="unknown feature"):
        await tools.predict_hire({"shoe_size": 9}, addr=analytics_service.addr)


async def test_not_serving_until_the_warehouse_opens(tmp_path: Path) -> None:
    from hiremesh_ops.probe import check, wait_serving
    from tests.fixtures.procs import start_process

    home = tmp_path / "home"
    home.mkdir()
    holder = duckdb.connect(str(home / "analytics.duckdb"))  # another process holds the file
    proc = start_process("analytics_svc", free_port(), analytics_env("postgresql://nobody@127.0.0.1:1/x", home))
    try:
        status = "UNREACHABLE"
        async with asyncio.timeout(60):
            while status in ("UNREACHABLE", "SERVICE_UNKNOWN"):
                status = await check(proc.addr, ANALYTICS_HEALTH)
                await asyncio.sleep(0.1)
        assert status == "NOT_SERVING"
        # Calls before the warehouse opens are refused as a dependency outage, not an unknown method.
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await analytics_stub(proc.addr).GetReport(pb.GetReportRequest(name="funnel"), timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "warehouse" in (refused.value.details() or "")
        holder.close()
        await wait_serving(proc.addr, ANALYTICS_HEALTH, timeout=60, alive=proc.alive)
    finally:
        holder.close()
        await proc.stop()
