"""Where the time of one job-sourced VECTOR search goes, stage by stage, old design next to the new one.

    .venv/bin/python bench/search_stages.py --cluster /tmp/hiremesh-bench-100k --baseline-tree /tmp/main-dc7b990

Runs in-process against a table bench/search.py loaded (its `bench query` jobs are the queries; --cluster
restarts a cluster that bench/search.py kept, --dsn uses a running one). For every query both designs run back
to back, alternating which goes first, on their own pool, and each stage is timed on its own:

  baseline (the --baseline-tree checkout, e.g. `git archive dc7b990`): pool checkout with psycopg_pool's
  check_connection (an empty query), the source row lookup (Ranker._source), then the pipelined
  BEGIN + set_config + search statement (first sync) and COMMIT (second sync), the hits, the reply protos;
  this tree: checkout with hiremesh.db.check_idle_connection, the one search statement (StoreSession.nearest:
  settings, source vector, search and rows), the hits' skills, the reply protos.

Medians in microseconds. The whole in-process search (Ranker.candidates_for_job + reply protos) of each
tree and the bare SQL (prepared `ORDER BY embedding <=> q LIMIT 10`, ids only) are timed in the same loop.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import importlib.util
import json
import statistics
import sys
import time
import types
from pathlib import Path
from typing import Any

from psycopg import sql
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.cpu import cpu_info  # noqa: E402
from bench.search import free_port  # noqa: E402
from hiremesh.db import configure_connection, open_pool  # noqa: E402
from hiremesh.v1 import search_pb2 as pb  # noqa: E402
from hiremesh_ops.pg import Cluster  # noqa: E402
from search_svc import convert, ranking, ranking_policy  # noqa: E402
from search_svc.jobs import TABLE as JOBS  # noqa: E402
from search_svc.ranking_store import CANDIDATE_TARGET  # noqa: E402
from search_svc.records import Candidate  # noqa: E402


def load_module(tree: Path, relative: str, name: str) -> types.ModuleType:
    """A module of another checkout, imported under its own name (its imports resolve in this tree)."""
    spec = importlib.util.spec_from_file_location(name, tree / relative)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class Clock:
    def __init__(self) -> None:
        self.t = time.perf_counter()
        self.stages: dict[str, list[float]] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages.setdefault(stage, []).append(now - self.t)
        self.t = now


def reply(hits: list[Any], conv: Any) -> bytes:
    # This tree's hits carry their record (read with the rows); the baseline's a row dict.
    msg = pb.SearchCandidatesResponse(
        hits=[
            pb.CandidateHit(
                candidate=conv.candidate_out(h.record if hasattr(h, "record") else Candidate.from_row(h.row)),
                match=conv.match_out(h),
            )
            for h in hits
        ]
    )
    return msg.SerializeToString()


async def baseline_search(
    pool: AsyncConnectionPool[Any], base: Any, base_convert: Any, ranker: Any, job: str, ef: int, clock: Clock
) -> None:
    opts = base.check_options(base.Options(mode="vector", top_k=10, ef_search=ef))
    target = base.CANDIDATE_TARGET
    clock.lap("-")
    async with pool.connection() as conn:
        clock.lap("pool checkout (+ its check)")
        await ranker._rows(conn, target.table)
        clock.lap("planner row estimate (cached)")
        query = await ranker._source(conn, JOBS, job)
        clock.lap("source row lookup (own round trip)")
        statement = sql.SQL(
            "WITH hits AS MATERIALIZED (SELECT id, embedding <=> %s::vector AS distance FROM {t} "
            "WHERE embedding IS NOT NULL ORDER BY embedding <=> %s::vector LIMIT %s) "
            "SELECT r.*, 1 - h.distance AS cosine, "
            "CASE WHEN c.tsv @@ q THEN {rank}(c.tsv, q, %s) ELSE 0 END AS keyword_rank "
            "FROM hits h JOIN ({select}) r ON r.id = h.id JOIN {t} c ON c.id = h.id, "
            "websearch_to_tsquery('english', %s) q ORDER BY h.distance, h.id"
        ).format(t=target.table.ident, select=target.table.select, rank=sql.Identifier(query.rank_fn))
        async with conn.pipeline():
            async with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
                await base._set_search_knobs(conn, ef, False)
                await cur.execute(
                    statement, [query.vector, query.vector, opts.top_k, base.TS_NORMALISATION, query.keyword_text]
                )
                rows = await cur.fetchall()
                clock.lap("BEGIN + set_config + search + rows (1st sync)")
            clock.lap("COMMIT (2nd sync)")
        hits = []
        for position, row in enumerate(rows, start=1):
            cosine = float(row.pop("cosine"))
            hits.append(base.Hit(row, cosine, cosine, float(row.pop("keyword_rank") or 0.0), [], position, 0))
        wanted = {s.lower() for s in query.skills}
        for hit in hits:
            hit.matched_skills = [s for s in hit.row.get("skills") or [] if s.lower() in wanted]
        clock.lap("hits + explanation")
    clock.lap("pool return")
    reply(hits, base_convert)
    clock.lap("reply protos + serialise")


async def new_search(pool: AsyncConnectionPool[Any], ranker: ranking.Ranker, job: str, ef: int, clock: Clock) -> None:
    opts = ranking_policy.check_options(ranking_policy.Options(mode="vector", top_k=10, ef_search=ef))
    target = CANDIDATE_TARGET
    clock.lap("-")
    async with ranker.store.session() as s:
        clock.lap("pool checkout (+ its check)")
        await s.row_estimate(target.table)
        clock.lap("planner row estimate (cached)")
        clock.lap("source row lookup (own round trip)")
        rows, skills = await s.nearest(target, opts, ef, source=(JOBS, job))
        clock.lap("one statement: settings + source vector + search + rows")
        hits = ranking_policy.nearest_hits(rows, opts.min_similarity)
        ranking._mark_matched_skills(target, hits, skills, opts)
        clock.lap("hits + explanation")
    clock.lap("pool return")
    reply(hits, convert)
    clock.lap("reply protos + serialise")


async def whole_search(ranker: Any, options: Any, conv: Any, job: str, times: list[float]) -> None:
    t0 = time.perf_counter()
    result = await ranker.candidates_for_job(job, options(mode="vector", top_k=10, ef_search=ARGS.ef))
    reply(result.hits, conv)
    times.append(time.perf_counter() - t0)


async def main() -> None:
    cluster: Cluster | None = None
    url = ARGS.dsn
    if not url:
        cluster = Cluster(Path(ARGS.cluster) / "data", free_port(), settings={"shared_buffers": "4GB", "jit": "off"})
        await asyncio.to_thread(cluster.start)
        url = cluster.url("bench")
    tree = await asyncio.to_thread(Path(ARGS.baseline_tree).resolve)
    base = load_module(tree, "search_svc/ranking.py", "baseline_ranking")
    base_convert = load_module(tree, "search_svc/convert.py", "baseline_convert")
    try:
        new_pool = await open_pool(url, min_size=1, max_size=1)
        base_pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            url,
            min_size=1,
            max_size=1,
            kwargs={"autocommit": True},
            configure=configure_connection,
            check=AsyncConnectionPool.check_connection,
            open=False,
        )
        await base_pool.open(wait=True)
        # Searches by a stored job's vector: the ranker's embedder is never called, so there is none.
        new_ranker = ranking.Ranker(new_pool, None)  # type: ignore[arg-type]
        base_ranker = base.Ranker(base_pool, None)
        async with new_pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT id::text, embedding FROM catalog.jobs WHERE title = 'bench query' ORDER BY id LIMIT %s",
                    (ARGS.queries,),
                )
            ).fetchall()
        jobs = [r[0] for r in rows]
        floor_sql = "SELECT id FROM catalog.candidates ORDER BY embedding <=> %s::vector LIMIT 10"
        clocks = {"baseline": Clock(), "this tree": Clock()}
        whole: dict[str, list[float]] = {"baseline": [], "this tree": [], "SQL floor (ids only)": []}
        for _pass in range(2):  # the first pass warms plans, buffers and caches and is not reported
            for name in clocks:
                clocks[name] = Clock()
            whole = {k: [] for k in whole}
            for i, (job, (_, vector)) in enumerate(zip(jobs, rows, strict=True)):
                steps = [
                    functools.partial(
                        baseline_search, base_pool, base, base_convert, base_ranker, job, ARGS.ef, clocks["baseline"]
                    ),
                    functools.partial(whole_search, base_ranker, base.Options, base_convert, job, whole["baseline"]),
                    functools.partial(new_search, new_pool, new_ranker, job, ARGS.ef, clocks["this tree"]),
                    functools.partial(
                        whole_search, new_ranker, ranking_policy.Options, convert, job, whole["this tree"]
                    ),
                ]
                shift = i % len(steps)  # each runs first, second, ... equally often: later runs of the same
                for step in steps[shift:] + steps[:shift]:  # query find warmer caches
                    await step()
                async with new_pool.connection() as conn:
                    await conn.execute("SELECT set_config('hnsw.ef_search', %s, false)", (str(ARGS.ef),))
                    t0 = time.perf_counter()
                    await (await conn.execute(floor_sql, (vector,), prepare=True)).fetchall()
                    whole["SQL floor (ids only)"].append(time.perf_counter() - t0)
                    await conn.execute("RESET hnsw.ef_search")
        stages = [s for s in {**clocks["baseline"].stages, **clocks["this tree"].stages} if s != "-"]
        table: dict[str, dict[str, float | None]] = {}
        for stage in stages:
            table[stage] = {
                name: (statistics.median(c.stages[stage]) * 1e6 if stage in c.stages else None)
                for name, c in clocks.items()
            }
        report = {
            "cpu": cpu_info(),
            "queries": len(jobs),
            "ef_search": ARGS.ef,
            "stages_us": table,
            "whole_us": {k: statistics.median(v) * 1e6 for k, v in whole.items()},
            "command": " ".join(sys.argv),
        }
        width = max(len(s) for s in stages) + 2
        print(f"{'stage':<{width}}{'baseline':>10}{'this tree':>11}  (median us, {len(jobs)} queries, ef {ARGS.ef})")
        for stage, cols in table.items():
            cells = "".join(
                f"{'-' if v is None else round(v):>{10 if n == 'baseline' else 11}}" for n, v in cols.items()
            )
            print(f"{stage:<{width}}{cells}")
        for name, value in report["whole_us"].items():
            print(f"whole, {name}: {value:.0f} us")
        if ARGS.out:
            await asyncio.to_thread(Path(ARGS.out).write_text, json.dumps(report, indent=2) + "\n")
        await new_pool.close()
        await base_pool.close()
    finally:
        if cluster is not None:
            await asyncio.to_thread(cluster.stop, "fast")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", default="")
    parser.add_argument("--cluster", default="", help="a folder bench/search.py --cluster kept")
    parser.add_argument("--baseline-tree", required=True, help="the checkout to compare with (git archive of main)")
    parser.add_argument("--ef", type=int, default=40)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--out", default="")
    ARGS = parser.parse_args()
    asyncio.run(main())
