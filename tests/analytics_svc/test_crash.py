"""A full sync killed with SIGKILL midway leaves the previous warehouse whole and readable."""

from __future__ import annotations

import asyncio
from pathlib import Path

from analytics_svc import synthetic
from analytics_svc.etl import Syncer
from analytics_svc.warehouse import Warehouse
from hiremesh.clients import analytics_stub
from hiremesh.v1 import analytics_pb2 as pb
from tests.analytics_svc.seed import prepare
from tests.fixtures.analytics import ANALYTICS_HEALTH, analytics_env
from tests.fixtures.procs import free_port, spawn_service


async def test_sigkill_during_full_sync_keeps_the_previous_warehouse(fresh_db_url: str, tmp_path: Path) -> None:
    await prepare(fresh_db_url)
    await asyncio.to_thread(synthetic.seed, fresh_db_url, synthetic.Sizes(50, 4, 200))
    home = tmp_path / "home"
    # Small batches: many progress messages, so the kill lands while the staging tables are being filled.
    proc = await spawn_service(
        "analytics_svc",
        free_port(),
        analytics_env(fresh_db_url, home, HIREMESH_ANALYTICS_BATCH_BYTES="65536"),
        ANALYTICS_HEALTH,
    )
    killed_at = None
    try:
        stub = analytics_stub(proc.addr)
        async for msg in stub.Sync(pb.SyncRequest(mode=pb.SYNC_MODE_FULL), timeout=120):
            last = msg
        assert {t.table: t.rows for t in last.summary.tables}["fact_applications"] == 200

        await asyncio.to_thread(synthetic.seed, fresh_db_url, synthetic.Sizes(20_000, 50, 150_000), id_offset=1_000_000)
        call = stub.Sync(pb.SyncRequest(mode=pb.SYNC_MODE_FULL), timeout=300)
        async for msg in call:
            if msg.progress.stage == "applications" and msg.progress.done > 0:
                killed_at = msg.progress.done
                proc.proc.kill()  # SIGKILL: no handler, no cleanup
                break
        call.cancel()
        await asyncio.to_thread(proc.proc.wait)
    finally:
        proc.kill()
    assert killed_at is not None and killed_at < 150_200
    assert proc.proc.returncode == -9

    wh = Warehouse.open(home / "analytics.duckdb")
    try:
        counts = wh.counts()
        assert counts["fact_applications"] == 200 and counts["src_applications"] == 200
        assert counts["dim_candidates"] == 50
        cur = wh.cursor()
        leftovers = cur.execute("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '%staging'").fetchall()
        cur.close()
        assert leftovers == []
        # And the warehouse takes the next full sync normally.
        async for _ in Syncer(wh, fresh_db_url).sync("full"):
            pass
        assert wh.counts()["fact_applications"] == 150_200
    finally:
        wh.close()
