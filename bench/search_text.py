"""Keyword and hybrid search through gRPC on a big catalog of realistic resumes: latency at 100K and 1M rows.

    PYTHONPATH=. .venv/bin/python bench/search_text.py --database-url "$(.venv/bin/hiremesh db url)" \\
        [--rows 100000] [--keep NAME] [--out FILE]

The catalog: N resumes remixed from real resume sentences (bench/corpus.py), loaded through the production
triggers (tsvector, term vector, word counts). A resume's vector is the normalised mean of its sentences'
MiniLM vectors (each distinct sentence embedded once with the service's model file), so meaning and words
agree as they do in real resumes without embedding N whole documents. The queries: the 17 job descriptions
of bench/data/relevance_jobs.json, stored as jobs with their real MiniLM vectors.

Against a real `python -m search_svc` (and `python -m embedding_svc` for typed text), in one run:
  * bare RPC: the health check of the same server, the floor of any call here;
  * job-sourced `SearchCandidates(job_id, mode, top_k=10)` for VECTOR, KEYWORD and HYBRID;
  * text `SearchCandidates(text=<job description>, HYBRID)` (includes embedding the query);
p50 and p99 of 10 rounds over the 17 jobs. Targets (issue 15): text hybrid p50 <= 30 ms at 100K; job-sourced
hybrid <= 50 ms at 100K and <= 150 ms at 1M.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import psycopg
from psycopg import sql

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.corpus import remixed_with_sentences, unique_sentences  # noqa: E402
from hiremesh.clients import search_stub  # noqa: E402
from hiremesh.credentials import new_secret  # noqa: E402
from hiremesh.db import migrate, open_pool  # noqa: E402
from hiremesh.v1 import search_pb2 as pb  # noqa: E402
from search_svc import term_stats  # noqa: E402
from tests.fixtures.procs import free_port, spawn_service  # noqa: E402

JOBS = json.loads((REPO / "bench" / "data" / "relevance_jobs.json").read_text())
MODEL_DIR = Path(os.environ.get("HIREMESH_MODEL_DIR", REPO / ".hiremesh" / "models")) / "all-MiniLM-L6-v2"
ROUNDS = 10


def sentence_vectors() -> np.ndarray:
    from embedding_svc.model import MiniLM

    sentences = unique_sentences()
    key = hashlib.sha256("\n".join(sentences).encode()).hexdigest()[:16]
    cache = Path("/tmp") / f"hiremesh-bench-sentences-{key}.npy"
    if cache.exists():
        cached: np.ndarray = np.load(cache)
        return cached
    model = MiniLM(MODEL_DIR, threads=2)
    vectors = np.concatenate(
        [np.stack([e.vector for e in model.embed(sentences[i : i + 256])]) for i in range(0, len(sentences), 256)]
    )
    np.save(cache, vectors)
    return vectors


def vec_text(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6f}" for x in v) + "]"


async def load(url: str, rows: int, out: dict[str, Any]) -> None:
    await migrate(url, "catalog", REPO / "search_svc" / "migrations")
    sv = sentence_vectors()
    async with await psycopg.AsyncConnection.connect(url) as conn:
        await conn.execute("DROP INDEX IF EXISTS catalog.candidates_embedding_hnsw")
        await conn.commit()
        started = time.perf_counter()
        batch, docs = 5_000, remixed_with_sentences(rows)
        for start in range(0, rows, batch):
            async with conn.cursor().copy(
                "COPY catalog.candidates (name, resume_text, embedding, embedded_at) FROM STDIN"
            ) as copy:
                for i in range(start, min(rows, start + batch)):
                    text, ids = next(docs)
                    mean = sv[ids].mean(axis=0)
                    await copy.write_row((f"Person {i}", text, vec_text(mean / np.linalg.norm(mean)), "2100-01-01"))
            await conn.commit()
        out["load_rows_per_s"] = round(rows / (time.perf_counter() - started))
        started = time.perf_counter()
        await conn.execute("SET maintenance_work_mem = '2GB'")
        await conn.execute(
            "CREATE INDEX candidates_embedding_hnsw ON catalog.candidates USING hnsw "
            "(embedding vector_cosine_ops) WITH (m = 16, ef_construction = 200)"
        )  # as migration 0005
        await conn.commit()
        out["hnsw_build_s"] = round(time.perf_counter() - started, 1)
        await conn.execute("ANALYZE catalog.candidates")
        await conn.commit()
    pool = await open_pool(url, max_size=1)
    try:
        await term_stats.fold(pool)
    finally:
        await pool.close()


async def add_jobs(url: str) -> list[tuple[str, str]]:
    from embedding_svc.model import MiniLM

    model = MiniLM(MODEL_DIR, threads=2)
    texts = [f"{j['title']}\n{j['description']}" for j in JOBS.values()]
    vectors = [e.vector for e in model.embed(texts)]
    jobs = []
    async with await psycopg.AsyncConnection.connect(url) as conn:
        await conn.execute("DELETE FROM catalog.jobs")
        for job, text, vector in zip(JOBS.values(), texts, vectors, strict=True):
            cur = await conn.execute(
                "INSERT INTO catalog.jobs (title, description, embedding, embedded_at) VALUES (%s, %s, %s, "
                "'2100-01-01') RETURNING id::text",
                [job["title"], job["description"], vec_text(vector)],
            )
            row = await cur.fetchone()
            assert row is not None
            jobs.append((row[0], text))
        await conn.commit()
    return jobs


def summary(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(ordered[int(0.99 * (len(ms) - 1))], 2),
        "n": len(ms),
    }


async def measure(url: str, rows: int, reuse: bool) -> dict[str, Any]:
    # The services it starts and the stubs it calls share a service credential made for this run.
    os.environ.setdefault("HIREMESH_SERVICE_TOKEN", new_secret())
    out: dict[str, Any] = {"rows": rows}
    if not reuse:
        await load(url, rows, out)
    jobs = await add_jobs(url)
    env = {"HIREMESH_DATABASE_URL": url, "HIREMESH_SEARCH_CATCHUP_S": "0"}
    embedding = await spawn_service("embedding_svc", free_port(), {}, "hiremesh.v1.EmbeddingService")
    search = await spawn_service(
        "search_svc", free_port(), {**env, "HIREMESH_EMBEDDING_ADDR": embedding.addr}, "hiremesh.v1.SearchService"
    )
    try:
        from grpc_health.v1 import health_pb2, health_pb2_grpc

        from hiremesh.clients import channel

        stub = search_stub(search.addr)
        health = health_pb2_grpc.HealthStub(channel(search.addr))
        calls: dict[str, Any] = {
            "bare rpc (health)": lambda job_id, text: health.Check(health_pb2.HealthCheckRequest(), timeout=30),
            **{
                f"job {m}": (
                    lambda job_id, text, mode=mode: stub.SearchCandidates(
                        pb.SearchCandidatesRequest(job_id=job_id, options=pb.SearchOptions(mode=mode, top_k=10)),
                        timeout=60,
                    )
                )
                for m, mode in (
                    ("vector", pb.SEARCH_MODE_VECTOR),
                    ("keyword", pb.SEARCH_MODE_KEYWORD),
                    ("hybrid", pb.SEARCH_MODE_HYBRID),
                )
            },
            "text hybrid": lambda job_id, text: stub.SearchCandidates(
                pb.SearchCandidatesRequest(text=text, options=pb.SearchOptions(mode=pb.SEARCH_MODE_HYBRID, top_k=10)),
                timeout=60,
            ),
        }
        for job_id, text in jobs:  # warm caches and prepared plans
            for call in calls.values():
                await call(job_id, text)
        times: dict[str, list[float]] = {name: [] for name in calls}
        for _ in range(ROUNDS):
            for job_id, text in jobs:
                for name, call in calls.items():  # interleaved: every variant sees the same machine
                    started = time.perf_counter()
                    await call(job_id, text)
                    times[name].append((time.perf_counter() - started) * 1000)
        out["latency"] = {name: summary(ms) for name, ms in times.items()}
    finally:
        await search.stop()
        await embedding.stop()
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a postgresql:// URL on the server to use")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", metavar="NAME", help="load into database NAME and keep it (reuse it if it exists)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    name = args.keep or f"bench_text_{uuid.uuid4().hex[:8]}"
    async with await psycopg.AsyncConnection.connect(args.database_url, autocommit=True) as admin:
        exists = await (await admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])).fetchone()
        if not exists:
            await admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        report = await measure(
            urlunsplit(urlsplit(args.database_url)._replace(path="/" + name)), args.rows, reuse=bool(exists)
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
