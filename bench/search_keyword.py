"""The keyword leg with a pasted job description, as the catalog grows: what it costs and what bounding it loses.

Loads N synthetic resumes made of real resume sentences (bench/corpus.py; through the production triggers,
so tsvectors, term vectors and term counts are written as in production) into a fresh database on the given
server, then, for each of the 17 job descriptions of bench/data/relevance_jobs.json, times side by side:
  * baseline: the keyword leg before IDF scoring, an OR of up to 64 of the job's words ranked by ts_rank over
    every matching row (its SQL is kept here);
  * bounded: search_svc's keyword leg (Ranker, KEYWORD mode) with its default budget (lexical.Budget) and
    at each fixed budget asked for (--budgets): only rows holding the query's rarest words, up to that
    many, are scored;
  * exact: the same scoring with no bound (every row sharing a word is scored): the truth for recall@10.
Five runs each, median per query, then the median over queries. The database is dropped at the end.

    PYTHONPATH=. .venv/bin/python bench/search_keyword.py --database-url "$(.venv/bin/hiremesh db url)" \
        [--rows 100000] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.corpus import remixed  # noqa: E402
from hiremesh.db import migrate, open_pool  # noqa: E402
from search_svc import lexical, term_stats  # noqa: E402
from search_svc.ranking import Ranker  # noqa: E402
from search_svc.ranking_policy import Options  # noqa: E402

JOBS = json.loads((REPO / "bench" / "data" / "relevance_jobs.json").read_text())
RUNS = 5
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def old_any_terms_query(text: str) -> str:
    """The query the keyword leg used before IDF scoring: any of the text's first 64 distinct words."""
    words: dict[str, None] = {}
    for word in _WORD.findall(text):
        lowered = word.lower()
        if lowered not in {"or", "and", "not"} and len(lowered) > 1:
            words.setdefault(lowered, None)
    return " or ".join(list(words)[:64])


# Keyword mode embeds nothing. search_svc's Embedder is a class, not a Protocol, so passing this stand-in to
# Ranker takes a `type: ignore[arg-type]`.
class NoEmbedder:
    async def embed_one(self, text: str) -> Any:
        raise RuntimeError("KEYWORD mode embeds nothing")


async def timed(call: Any) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(RUNS):
        started = time.perf_counter()
        result = await call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


async def load(url: str, rows: int, out: dict[str, Any]) -> None:
    await migrate(url, "catalog", REPO / "search_svc" / "migrations")
    async with await psycopg.AsyncConnection.connect(url) as conn:
        started = time.perf_counter()
        batch = 5_000
        texts = remixed(rows)
        for start in range(0, rows, batch):
            async with conn.cursor().copy("COPY catalog.candidates (name, resume_text) FROM STDIN") as copy:
                for i in range(start, min(rows, start + batch)):
                    await copy.write_row((f"Person {i}", next(texts)))
            await conn.commit()
        out["load_rows_per_s"] = round(rows / (time.perf_counter() - started))
        await conn.execute("ANALYZE catalog.candidates")
        await conn.commit()


async def measure(url: str, rows: int, budgets: list[int], reuse: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"rows": rows}
    if not reuse:
        await load(url, rows, out)
    pool = await open_pool(url, max_size=2)
    try:
        await term_stats.fold(pool)
        exact = Ranker(pool, NoEmbedder(), lexical_budget=10**9)  # type: ignore[arg-type]
        opts = Options(mode="keyword", top_k=10)
        old_sql = (
            "SELECT id FROM catalog.candidates, websearch_to_tsquery('english', %s) q WHERE tsv @@ q "
            "ORDER BY ts_rank(tsv, q, 33) DESC, id LIMIT 10"
        )
        per: dict[str, list[float]] = {"baseline_ms": [], "exact_ms": []}
        for job in JOBS.values():
            text = f"{job['title']}\n{job['description']}"
            async with pool.connection() as conn:
                query = old_any_terms_query(text)
                ms, _ = await timed(lambda c=conn, q=query: c.execute(old_sql, [q]))
            per["baseline_ms"].append(ms)
            ms, truth = await timed(lambda t=text: exact.candidates_for_text(t, opts))
            per["exact_ms"].append(ms)
            want = {h.record.id for h in truth.hits}
            for budget in ["default", *map(str, budgets)]:
                bounded = Ranker(
                    pool,
                    NoEmbedder(),  # type: ignore[arg-type]
                    lexical_budget=None if budget == "default" else int(budget),
                )
                ms, got = await timed(lambda t=text, r=bounded: r.candidates_for_text(t, opts))
                per.setdefault(f"budget {budget} ms", []).append(ms)
                per.setdefault(f"budget {budget} recall@10", []).append(
                    len(want & {h.record.id for h in got.hits}) / max(len(want), 1)
                )
        out.update(
            {
                k: round(statistics.median(v), 3) if k.endswith("ms") else round(statistics.fmean(v), 3)
                for k, v in per.items()
            }
        )
        out["default_budget"] = str(lexical.Budget())
        for budget in ["default", *map(str, budgets)]:
            out[f"budget {budget} over baseline"] = round(out[f"budget {budget} ms"] / out["baseline_ms"], 3)
    finally:
        await pool.close()
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True, help="a postgresql:// URL on the server to use")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--budgets", type=int, nargs="*", default=[])
    parser.add_argument(
        "--keep",
        metavar="NAME",
        help="load into database NAME and keep it (or reuse it if it exists) instead of a throw-away one",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    name = args.keep or f"bench_keyword_{uuid.uuid4().hex[:8]}"
    async with await psycopg.AsyncConnection.connect(args.database_url, autocommit=True) as admin:
        exists = await (await admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])).fetchone()
        if not exists:
            await admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        report = await measure(
            urlunsplit(urlsplit(args.database_url)._replace(path="/" + name)),
            args.rows,
            args.budgets,
            reuse=bool(exists),
        )
    finally:
        if not args.keep:
            async with await psycopg.AsyncConnection.connect(args.database_url, autocommit=True) as admin:
                await admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    asyncio.run(main())
