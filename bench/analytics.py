"""Benchmark analytics_svc's warehouse: full sync of 1M applications, incremental of 10K, every report.

    .venv/bin/python bench/analytics.py --database-url "$(.venv/bin/hiremesh db url)"

Creates (and drops first) database `hiremesh_bench_analytics` on that server, writes the synthetic history
with COPY, then times the sync and the reports in-process against a DuckDB file in a temp folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analytics_svc import synthetic  # noqa: E402
from analytics_svc.etl import Mode, Syncer, SyncResult  # noqa: E402
from analytics_svc.reports import SPECS, run_report  # noqa: E402
from analytics_svc.warehouse import Warehouse  # noqa: E402

DB = "hiremesh_bench_analytics"
REPORT_PARAMS = {"job_title_success": {"title": "data engineer"}}


async def existing_source(server_url: str, sizes: synthetic.Sizes) -> str | None:
    """The bench database from an earlier run, when it holds exactly `sizes.applications` applications."""
    url = urlunsplit(urlsplit(server_url)._replace(path="/" + DB))
    try:
        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            row = await (await conn.execute("SELECT count(*) FROM catalog.applications")).fetchone()
    except psycopg.Error:
        return None
    return url if row and row[0] == sizes.applications else None


async def create_source(server_url: str, sizes: synthetic.Sizes) -> tuple[str, float]:
    async with await psycopg.AsyncConnection.connect(server_url, autocommit=True) as conn:
        await conn.execute(f"DROP DATABASE IF EXISTS {DB} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {DB}")
    url = urlunsplit(urlsplit(server_url)._replace(path="/" + DB))
    from hiremesh.db import migrate

    await migrate(url, "catalog", REPO / "search_svc" / "migrations")
    await migrate(url, "screening", REPO / "screening_svc" / "migrations")
    start = time.perf_counter()
    await asyncio.to_thread(synthetic.seed, url, sizes)
    return url, time.perf_counter() - start


async def sync(syncer: Syncer, mode: Mode) -> SyncResult:
    async for event in syncer.sync(mode):
        if isinstance(event, SyncResult):
            return event
    raise RuntimeError("sync returned no result")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("HIREMESH_DATABASE_URL"),
        help="a PostgreSQL server (postgresql:// URL); the bench makes its own database there",
    )
    parser.add_argument("--applications", type=int, default=1_000_000)
    parser.add_argument("--changed", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=20, help="timed runs per report")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--reuse", action="store_true", help="keep the source database of an earlier run")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("--database-url or HIREMESH_DATABASE_URL is required")
    sizes = synthetic.Sizes(
        candidates=args.applications // 5, jobs=max(8, args.applications // 500), applications=args.applications
    )
    reused = await existing_source(args.database_url, sizes) if args.reuse else None
    url, seed_s = (reused, 0.0) if reused else await create_source(args.database_url, sizes)
    results: dict[str, object] = {"applications": args.applications, "seed_s": round(seed_s, 1)}

    with tempfile.TemporaryDirectory(prefix="bench-analytics-") as tmp:
        wh = Warehouse.open(Path(tmp) / "analytics.duckdb")
        syncer = Syncer(wh, url)
        start = time.perf_counter()
        full = await sync(syncer, "full")
        results["full_sync_s"] = round(time.perf_counter() - start, 2)
        results["full_rows"] = {t.table: t.rows for t in full.tables}

        async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
            await conn.execute(
                "UPDATE catalog.applications SET status = 'hired', decided_at = now(), updated_at = now() "
                "WHERE id IN (SELECT id FROM catalog.applications ORDER BY id LIMIT %s)",
                (args.changed,),
            )
        start = time.perf_counter()
        inc = await sync(syncer, "incremental")
        results["incremental_s"] = round(time.perf_counter() - start, 3)
        results["incremental_rows"] = {t.table: t.rows for t in inc.tables}

        reports: dict[str, dict[str, float]] = {}
        for name in SPECS:
            params = REPORT_PARAMS.get(name, {})
            run_report(wh, name, params)  # warm-up
            times = []
            for _ in range(args.runs):
                t0 = time.perf_counter()
                run_report(wh, name, params)
                times.append((time.perf_counter() - t0) * 1000)
            times.sort()
            reports[name] = {
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
            }
        results["reports"] = reports
        wh.close()

    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"source: {args.applications:,} applications seeded with COPY in {seed_s:.1f} s")
    print(f"full sync: {results['full_sync_s']} s  rows {results['full_rows']}")
    print(f"incremental ({args.changed:,} changed): {results['incremental_s']} s  rows {results['incremental_rows']}")
    print("| report | median ms | p95 ms |\n| --- | --- | --- |")
    for name, r in reports.items():
        print(f"| {name} | {r['median_ms']} | {r['p95_ms']} |")


if __name__ == "__main__":
    asyncio.run(main())
