"""Parquet export: every table written, and the files read back identical to the warehouse."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from analytics_svc.etl import Syncer
from analytics_svc.export import export_tables, resolve_folder
from analytics_svc.warehouse import EXPORT_TABLES, Warehouse
from hiremesh.errors import InvalidArgument
from tests.analytics_svc.seed import prepare, seed_hand_checked


async def test_parquet_round_trip(fresh_db_url: str, tmp_path: Path) -> None:
    await prepare(fresh_db_url)
    await seed_hand_checked(fresh_db_url)
    wh = Warehouse.open(tmp_path / "analytics.duckdb")
    try:
        async for _ in Syncer(wh, fresh_db_url).sync("full"):
            pass
        steps: list[str] = []
        files = export_tables(wh, tmp_path / "out", lambda table, d, t: steps.append(table))
        assert [f.table for f in files] == list(EXPORT_TABLES)
        assert steps[-1] == "done"
        cur = wh.cursor()
        reader = duckdb.connect()
        reader.execute("SET TimeZone = 'UTC'")  # the same zone label as the warehouse's session
        try:
            for f in files:
                assert f.path.exists() and f.bytes > 0
                assert f.rows == cur.execute(f"SELECT count(*) FROM {f.table}").fetchall()[0][0]  # noqa: S608
                original = cur.sql(f"SELECT * FROM {f.table}").to_arrow_table()  # noqa: S608
                back = reader.sql(f"SELECT * FROM read_parquet('{f.path}')").to_arrow_table()  # noqa: S608
                assert back.schema.equals(original.schema)
                assert back.equals(original), f.table
        finally:
            cur.close()
            reader.close()
        assert files[2].rows == 7  # fact_applications
    finally:
        wh.close()


def test_export_folder_stays_under_the_export_root(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    assert resolve_folder(root, "nightly") == (root / "nightly").resolve()
    assert resolve_folder(root, "").parent == root
    with pytest.raises(InvalidArgument) as err:
        resolve_folder(root, "../../etc")
    assert err.value.field == "folder"
    with pytest.raises(InvalidArgument):
        resolve_folder(root, "/tmp/elsewhere")
