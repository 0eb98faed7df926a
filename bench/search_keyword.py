"""What a job-sourced keyword leg costs as the candidate table grows: `ts_rank` vs `ts_rank_cd` side by side.

Searching candidates *for a job* ORs up to 64 terms of the job's text (search_svc.ranking.any_terms_query),
which matches most resumes; the keyword leg then ranks every matching row. This loads N synthetic resumes
(the embedding bench's generator, 80–400 words, no vectors) into a fresh database on the given server, then
times the keyword leg's SQL (`... WHERE tsv @@ q ORDER BY <rank>(tsv, q, 33) DESC, id LIMIT 50`, 5 runs,
median) with both ranking functions. The database is dropped at the end.

    PYTHONPATH=. .venv/bin/python bench/search_keyword.py --database-url "$(.venv/bin/hiremesh db url)" \
        [--rows 100000] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
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

from bench.embedding import ROLES, SKILLS, resume  # noqa: E402
from hiremesh.db import migrate  # noqa: E402
from search_svc.ranking import TS_NORMALISATION, any_terms_query  # noqa: E402

JOB = ("Senior devops engineer. Operate Kubernetes and Terraform on AWS; CI/CD, Prometheus, Linux, Ansible. "
       "On-call rotation, incident reviews, mentoring.")


async def measure(url: str, rows: int) -> dict[str, Any]:
    await migrate(url, "catalog", REPO / "search_svc" / "migrations")
    rng = random.Random(5)
    out: dict[str, Any] = {"rows": rows}
    async with await psycopg.AsyncConnection.connect(url) as conn:
        started = time.perf_counter()
        async with conn.cursor().copy("COPY catalog.candidates (name, skills, resume_text) FROM STDIN") as copy:
            for i in range(rows):
                role = rng.choice(ROLES)
                await copy.write_row((f"Person {i}", rng.sample(SKILLS[role], 3),
                                      resume(rng, rng.randint(80, 400), role)))
        await conn.commit()
        out["load_s"] = time.perf_counter() - started
        await conn.execute("ANALYZE catalog.candidates")
        query = any_terms_query(JOB, SKILLS["devops engineer"])
        count = await (await conn.execute(
            "SELECT count(*) FROM catalog.candidates, websearch_to_tsquery('english', %s) q WHERE tsv @@ q",
            [query])).fetchone()
        out["matching_rows"] = count[0] if count else 0
        for fn in ("ts_rank", "ts_rank_cd"):
            statement = sql.SQL("SELECT id FROM catalog.candidates, websearch_to_tsquery('english', %s) q "
                                "WHERE tsv @@ q ORDER BY {fn}(tsv, q, %s) DESC, id LIMIT 50"
                                ).format(fn=sql.Identifier(fn))
            times = []
            for _ in range(5):
                started = time.perf_counter()
                await (await conn.execute(statement, [query, TS_NORMALISATION])).fetchall()
                times.append((time.perf_counter() - started) * 1000)
            out[f"{fn}_ms_p50"] = statistics.median(times)
    out["ratio_cd_to_rank"] = out["ts_rank_cd_ms_p50"] / out["ts_rank_ms_p50"]
    return out


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True, help="a postgresql:// URL on the server to use")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    name = f"bench_keyword_{uuid.uuid4().hex[:8]}"
    async with await psycopg.AsyncConnection.connect(args.database_url, autocommit=True) as admin:
        await admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        report = await measure(urlunsplit(urlsplit(args.database_url)._replace(path="/" + name)), args.rows)
    finally:
        async with await psycopg.AsyncConnection.connect(args.database_url, autocommit=True) as admin:
            await admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    text = json.dumps(report, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    asyncio.run(main())
