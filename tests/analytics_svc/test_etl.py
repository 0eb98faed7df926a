"""Full and incremental warehouse sync against a real PostgreSQL and a real DuckDB file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from analytics_svc.etl import Mode, Syncer, SyncProgress, SyncResult
from analytics_svc.warehouse import Warehouse
from hiremesh.errors import Unavailable
from tests.analytics_svc.seed import aid, cid, prepare, seed_hand_checked


async def run_sync(syncer: Syncer, mode: Mode) -> tuple[SyncResult, list[SyncProgress]]:
    steps: list[SyncProgress] = []
    async for event in syncer.sync(mode):
        if isinstance(event, SyncResult):
            return event, steps
        steps.append(event)
    raise AssertionError("sync ended without a result")


@pytest.fixture
async def source(fresh_db_url: str) -> str:
    await prepare(fresh_db_url)
    await seed_hand_checked(fresh_db_url)
    return fresh_db_url


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    wh = Warehouse.open(tmp_path / "analytics.duckdb")
    yield wh
    wh.close()


def fact(wh: Warehouse, application: str, column: str) -> object:
    cur = wh.cursor()
    try:
        row = cur.execute(
            f"SELECT {column} FROM fact_applications WHERE application_id = ?",  # noqa: S608
            [application],
        ).fetchone()
    finally:
        cur.close()
    assert row is not None, application
    return row[0]


async def test_full_sync_loads_every_table_and_denormalises_the_latest_result(
    source: str, warehouse: Warehouse
) -> None:
    result, steps = await run_sync(Syncer(warehouse, source), "full")
    assert {t.table: t.rows for t in result.tables} == {
        "candidates": 4,
        "jobs": 3,
        "applications": 7,
        "results": 7,
        "fact_applications": 7,
    }
    assert warehouse.counts()["fact_applications"] == 7
    assert {s.stage for s in steps} >= {"candidates", "jobs", "applications", "results", "facts"}
    assert fact(warehouse, aid(6), "match_score") == 40  # the newer of its two results
    assert fact(warehouse, aid(5), "is_screened") is False
    assert fact(warehouse, aid(1), "is_hired") is True
    assert fact(warehouse, aid(1), "days_to_decision") == pytest.approx(10, abs=0.01)
    assert fact(warehouse, aid(2), "pii_count") == 2
    assert fact(warehouse, aid(2), "has_safety_issues") is True
    # Ada (python, sql) for Data Engineer (python, sql, spark): spark is missing.
    assert fact(warehouse, aid(1), "missing_skills_count") == 1
    assert fact(warehouse, aid(1), "job_title") == "Data Engineer"
    assert result.watermark is not None


async def test_incremental_reads_only_what_changed(source: str, warehouse: Warehouse) -> None:
    syncer = Syncer(warehouse, source)
    await run_sync(syncer, "full")
    async with await psycopg.AsyncConnection.connect(source, autocommit=True) as conn:
        await conn.execute(
            "UPDATE catalog.applications SET status = 'hired', decided_at = now(), updated_at = now() WHERE id = %s",
            (aid(3),),
        )
    result, _ = await run_sync(syncer, "incremental")
    assert {t.table: t.rows for t in result.tables} == {
        "candidates": 0,
        "jobs": 0,
        "applications": 1,
        "results": 0,
        "fact_applications": 1,
    }
    assert fact(warehouse, aid(3), "is_hired") is True
    assert fact(warehouse, aid(3), "match_score") == 70  # the fact kept its screening columns

    # A candidate's change re-derives that candidate's facts only.
    async with await psycopg.AsyncConnection.connect(source, autocommit=True) as conn:
        await conn.execute("UPDATE catalog.candidates SET name = 'Cyrus', updated_at = now() WHERE id = %s", (cid(3),))
    result, _ = await run_sync(syncer, "incremental")
    assert {t.table: t.rows for t in result.tables} == {
        "candidates": 1,
        "jobs": 0,
        "applications": 0,
        "results": 0,
        "fact_applications": 2,
    }
    assert fact(warehouse, aid(6), "candidate_name") == "Cyrus"

    result, _ = await run_sync(syncer, "incremental")
    assert sum(t.rows for t in result.tables) == 0
    assert warehouse.counts()["fact_applications"] == 7


async def test_incremental_picks_up_a_new_screening_result(source: str, warehouse: Warehouse) -> None:
    syncer = Syncer(warehouse, source)
    await run_sync(syncer, "full")
    async with await psycopg.AsyncConnection.connect(source, autocommit=True) as conn:
        await conn.execute(
            "INSERT INTO screening.results (application_id, candidate_id, job_id, engine, engine_version, "
            "match_score, analysis) SELECT id, candidate_id, job_id, 'llm', 'v9', 77, '{}' "
            "FROM catalog.applications WHERE id = %s",
            (aid(5),),
        )
    result, _ = await run_sync(syncer, "incremental")
    assert result.rows("results") == 1 and result.rows("applications") == 0
    assert fact(warehouse, aid(5), "match_score") == 77


async def test_incremental_removes_rows_deleted_at_the_source(source: str, warehouse: Warehouse) -> None:
    syncer = Syncer(warehouse, source)
    await run_sync(syncer, "full")
    async with await psycopg.AsyncConnection.connect(source, autocommit=True) as conn:
        await conn.execute("DELETE FROM catalog.applications WHERE id = %s", (aid(5),))
    await run_sync(syncer, "incremental")
    counts = warehouse.counts()
    assert counts["src_applications"] == 6 and counts["fact_applications"] == 6


async def test_sync_without_postgresql_is_unavailable_and_the_warehouse_still_reads(
    source: str, warehouse: Warehouse
) -> None:
    await run_sync(Syncer(warehouse, source), "full")
    down = Syncer(warehouse, "postgresql://nobody@127.0.0.1:1/none")
    with pytest.raises(Unavailable, match="PostgreSQL"):
        await run_sync(down, "incremental")
    assert warehouse.counts()["fact_applications"] == 7


async def test_concurrent_syncs_are_serialised(source: str, warehouse: Warehouse) -> None:
    import asyncio

    syncer = Syncer(warehouse, source)
    results = await asyncio.gather(run_sync(syncer, "full"), run_sync(syncer, "full"))
    assert all(r.rows("fact_applications") == 7 for r, _ in results)
    assert any(s.stage == "waiting" for _, steps in results for s in steps)
