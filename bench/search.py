"""Search benchmark: bulk load (binary COPY), HNSW build, latency and recall@10 of pgvector search.

    .venv/bin/python bench/search.py --rows 100000            # ~3 min on 2 cores
    .venv/bin/python bench/search.py --rows 1000000 --out bench/search-1m.json   # HNSW build alone 10-20+ min

Vectors are clustered like sentence embeddings (Zipf-sized topics around a shared mean direction, cosine
to the topic centre ~0.7), not uniform noise, which would make HNSW look worse and recall meaningless.
Starts a private PostgreSQL 18 + pgvector cluster in /tmp (or uses --dsn), loads `catalog.candidates` with
binary COPY (tsv trigger on, as in production), builds the HNSW index (m=16, ef_construction=64 unless told),
then measures for ef_search 40/100/200:
  * SQL alone: the ORDER BY embedding <=> q LIMIT 10 query over one connection, prepared;
  * gRPC API: SearchCandidates(job_id, VECTOR, top_k=10) against `python -m search_svc` (job vectors are the
    queries, so no embedding call is in the path);
  * recall@10 of both against exact numpy brute force, whose per-query time is reported as the floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hiremesh.clients import search_stub  # noqa: E402
from hiremesh.db import migrate, open_pool  # noqa: E402
from hiremesh.pg import Cluster  # noqa: E402
from hiremesh.probe import wait_serving  # noqa: E402
from hiremesh.v1 import search_pb2 as pb  # noqa: E402

DIM = 384
ROLES = ["backend engineer", "data scientist", "nurse", "accountant", "sales manager", "mechanical engineer",
         "designer", "teacher", "truck driver", "chef", "lawyer", "marketing specialist", "devops engineer",
         "pharmacist", "electrician", "recruiter", "financial analyst", "frontend developer", "civil engineer"]
SKILLS = ["Python", "Go", "SQL", "Kubernetes", "AWS", "Excel", "Figma", "React", "Java", "Docker"]
CITIES = ["Berlin", "London", "Madrid", "Paris", "Warsaw", "Lisbon", "Remote"]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


class Corpus:
    """Unit vectors shaped like sentence embeddings rather than noise.

    Zipf-sized topics with sub-topics around a shared mean direction (embeddings are anisotropic), and
    within-topic variation that lives mostly in a 48-dimensional subspace plus a little isotropic noise
    (sentence embeddings put most of their variance in a few dozen principal directions). Isotropic
    384-dimensional noise would have a far higher intrinsic dimension than real text and understate recall.
    """

    SUBTOPICS = 8

    def __init__(self, rows: int, topics: int, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        self.rng = rng
        shared = _unit(rng.normal(size=(1, DIM)))[0]
        centres = _unit(rng.normal(size=(topics, DIM))) + 0.45 * shared
        offsets = 0.35 * _unit(rng.normal(size=(topics * self.SUBTOPICS, DIM)))
        self.subtopics = (np.repeat(centres, self.SUBTOPICS, axis=0) + offsets).astype(np.float32)
        self.basis = np.linalg.qr(rng.normal(size=(DIM, 48)))[0].T.astype(np.float32)  # 48 x DIM, orthonormal
        weights = np.repeat(1.0 / np.arange(1, topics + 1) ** 0.9, self.SUBTOPICS)
        self.weights = weights / weights.sum()
        self.vectors = self.sample(rows)

    def sample(self, n: int) -> np.ndarray:
        out = np.empty((n, DIM), dtype=np.float32)
        for start in range(0, n, 100_000):
            k = min(100_000, n - start)
            assign = self.rng.choice(len(self.subtopics), size=k, p=self.weights)
            low_rank = self.rng.normal(scale=0.07, size=(k, 48)).astype(np.float32) @ self.basis
            noise = self.rng.normal(scale=0.012, size=(k, DIM)).astype(np.float32)
            out[start:start + k] = _unit(self.subtopics[assign] + low_rank + noise)
        return out


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def exact_top10(data: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Ground truth by brute force, and the per-query time of doing it that way (the floor to beat)."""
    truth = np.empty((len(queries), 10), dtype=np.int64)
    times: list[float] = []
    for i, q in enumerate(queries):
        t0 = time.perf_counter()
        sims = data @ q
        top = np.argpartition(-sims, 10)[:10]
        truth[i] = top[np.argsort(-sims[top])]
        times.append(time.perf_counter() - t0)
    return truth, times


def recall(found: list[list[int]], truth: np.ndarray) -> float:
    hits = sum(len(set(f[:10]) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    return hits / (10 * len(found))


def row_id(i: int) -> uuid.UUID:
    return uuid.UUID(int=i + 1)


async def load(url: str, corpus: Corpus) -> dict[str, float]:
    pool = await open_pool(url, max_size=2)
    now = datetime.now(UTC)
    out: dict[str, float] = {}
    async with pool.connection() as conn:
        await conn.execute("DROP INDEX IF EXISTS catalog.candidates_embedding_hnsw")
        await conn.execute("TRUNCATE catalog.candidates CASCADE")
        rng = np.random.default_rng(3)
        t0 = time.perf_counter()
        async with conn.cursor() as cur, cur.copy(
                "COPY catalog.candidates (id, name, location, years_experience, skills, resume_text, embedding, "
                "embedded_at, created_at, updated_at) FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(["uuid", "text", "text", "float8", "text[]", "text", "vector", "timestamptz",
                            "timestamptz", "timestamptz"])
            for i, vec in enumerate(corpus.vectors):
                role = ROLES[i % len(ROLES)]
                skills = [SKILLS[j] for j in rng.choice(len(SKILLS), 3, replace=False)]
                await copy.write_row((row_id(i), f"Candidate {i}", CITIES[i % len(CITIES)], float(i % 20),
                                      skills, f"{role} with {', '.join(skills)}", vec, now, now, now))
        out["load_seconds"] = time.perf_counter() - t0
        out["load_rows_per_s"] = len(corpus.vectors) / out["load_seconds"]
        await conn.execute("ANALYZE catalog.candidates")
        await conn.execute("SET maintenance_work_mem = '2GB'")
        await conn.execute("SET max_parallel_maintenance_workers = 1")
        t0 = time.perf_counter()
        await conn.execute(f"CREATE INDEX candidates_embedding_hnsw ON catalog.candidates USING hnsw "
                           f"(embedding vector_cosine_ops) WITH (m = {int(ARGS.m)}, "
                           f"ef_construction = {int(ARGS.ef_construction)})")
        out["hnsw_build_seconds"] = time.perf_counter() - t0
        size = await (await conn.execute(
            "SELECT pg_relation_size('catalog.candidates_embedding_hnsw')")).fetchone()
        out["hnsw_index_mb"] = (size[0] if size else 0) / 2**20
    await pool.close()
    return out


async def sql_latency(url: str, queries: np.ndarray, truth: np.ndarray, ef: int) -> dict[str, float]:
    pool = await open_pool(url, max_size=1)
    times: list[float] = []
    found: list[list[int]] = []
    async with pool.connection() as conn:
        await conn.execute("SELECT set_config('hnsw.ef_search', %s, false), "
                           "set_config('hnsw.iterative_scan', 'relaxed_order', false)", (str(ef),))
        sql = "SELECT id FROM catalog.candidates ORDER BY embedding <=> %s::vector LIMIT 10"
        for q in queries[:20]:  # warm the plan cache and the buffers
            await conn.execute(sql, (q,), prepare=True)
        for q in queries:
            t0 = time.perf_counter()
            cur = await conn.execute(sql, (q,), prepare=True)
            rows = await cur.fetchall()
            times.append(time.perf_counter() - t0)
            found.append([r[0].int - 1 for r in rows])
    await pool.close()
    return {"p50_ms": percentile(times, 50) * 1e3, "p99_ms": percentile(times, 99) * 1e3,
            "recall_at_10": recall(found, truth)}


async def add_query_jobs(url: str, queries: np.ndarray) -> list[str]:
    pool = await open_pool(url, max_size=1)
    ids = [str(uuid.UUID(int=2**100 + i)) for i in range(len(queries))]
    async with pool.connection() as conn, conn.transaction():
        await conn.execute("DELETE FROM catalog.jobs WHERE title = 'bench query'")
        async with conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO catalog.jobs (id, title, embedding, embedded_at) VALUES (%s, 'bench query', %s, now())",
                list(zip(ids, queries, strict=True)))
    await pool.close()
    return ids


async def grpc_latency(addr: str, job_ids: list[str], truth: np.ndarray, ef: int) -> dict[str, float]:
    stub = search_stub(addr)
    options = pb.SearchOptions(mode=pb.SEARCH_MODE_VECTOR, top_k=10, ef_search=ef)
    for job in job_ids[:20]:
        await stub.SearchCandidates(pb.SearchCandidatesRequest(job_id=job, options=options), timeout=30)
    times: list[float] = []
    found: list[list[int]] = []
    for job in job_ids:
        t0 = time.perf_counter()
        reply = await stub.SearchCandidates(pb.SearchCandidatesRequest(job_id=job, options=options), timeout=30)
        times.append(time.perf_counter() - t0)
        found.append([uuid.UUID(h.candidate.id).int - 1 for h in reply.hits])
    return {"p50_ms": percentile(times, 50) * 1e3, "p99_ms": percentile(times, 99) * 1e3,
            "recall_at_10": recall(found, truth)}


def start_search(url: str) -> tuple[subprocess.Popen[bytes], str]:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "HIREMESH_DATABASE_URL": url, "HIREMESH_SEARCH_PORT": str(port),
           "HIREMESH_METRICS_PORT": "-1", "HIREMESH_SEARCH_CATCHUP_S": "0",
           "HIREMESH_EMBEDDING_ADDR": "127.0.0.1:9"}  # never called: queries are stored job vectors
    log = open(Path(tempfile.gettempdir()) / f"bench-search-{port}.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "search_svc"], cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    return proc, f"127.0.0.1:{port}"


async def main() -> None:
    started = time.time()
    root: Path | None = None
    cluster: Cluster | None = None
    url = ARGS.dsn
    if not url:
        root = Path(tempfile.mkdtemp(prefix="hiremesh-bench-search-", dir="/tmp"))
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        cluster = Cluster(root / "data", port, settings={
            "shared_buffers": ARGS.shared_buffers, "maintenance_work_mem": "2GB",
            "max_parallel_maintenance_workers": "1", "effective_cache_size": "12GB", "jit": "off"})
        await asyncio.to_thread(cluster.start)
        await asyncio.to_thread(cluster.ensure_database, "bench")
        url = cluster.url("bench")
    report: dict[str, Any] = {"rows": ARGS.rows, "queries": ARGS.queries, "m": ARGS.m,
                              "ef_construction": ARGS.ef_construction, "cpu_count": os.cpu_count(),
                              "platform": platform.platform(), "shared_buffers": ARGS.shared_buffers}
    proc: subprocess.Popen[bytes] | None = None
    try:
        await migrate(url, "catalog", REPO / "search_svc" / "migrations")
        corpus = Corpus(ARGS.rows, topics=max(50, ARGS.rows // 500))
        queries = corpus.sample(ARGS.queries)
        truth, brute = exact_top10(corpus.vectors, queries)
        report["numpy_exact_p50_ms"] = percentile(brute, 50) * 1e3
        report["numpy_exact_p99_ms"] = percentile(brute, 99) * 1e3
        print(f"numpy exact top-10: p50 {report['numpy_exact_p50_ms']:.2f} ms", flush=True)
        report.update(await load(url, corpus))
        print(f"load {report['load_rows_per_s']:.0f} rows/s, HNSW build {report['hnsw_build_seconds']:.1f} s "
              f"({report['hnsw_index_mb']:.0f} MB)", flush=True)
        job_ids = await add_query_jobs(url, queries)
        proc, addr = start_search(url)
        await wait_serving(addr, "hiremesh.v1.SearchService", timeout=120, alive=lambda: proc.poll() is None)
        report["ef_search"] = {}
        for ef in ARGS.ef:
            sql_stats = await sql_latency(url, queries, truth, ef)
            grpc_stats = await grpc_latency(addr, job_ids, truth, ef)
            report["ef_search"][str(ef)] = {"sql": sql_stats, "grpc": grpc_stats}
            print(f"ef_search {ef}: SQL p50 {sql_stats['p50_ms']:.2f} / p99 {sql_stats['p99_ms']:.2f} ms, "
                  f"recall@10 {sql_stats['recall_at_10']:.3f} | gRPC p50 {grpc_stats['p50_ms']:.2f} / "
                  f"p99 {grpc_stats['p99_ms']:.2f} ms, recall@10 {grpc_stats['recall_at_10']:.3f}", flush=True)
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
        if cluster is not None:
            await asyncio.to_thread(cluster.stop, "immediate")
        if root is not None and not ARGS.keep:
            shutil.rmtree(root, ignore_errors=True)
    report["wall_seconds"] = time.time() - started
    text = json.dumps(report, indent=2)
    print(text)
    if ARGS.out:
        Path(ARGS.out).write_text(text + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--ef", type=int, nargs="+", default=[40, 100, 200])
    parser.add_argument("--m", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=64)
    parser.add_argument("--shared-buffers", default="4GB")
    parser.add_argument("--dsn", default="", help="use this database instead of a private cluster")
    parser.add_argument("--keep", action="store_true", help="keep the private cluster's folder")
    parser.add_argument("--out", default="")
    ARGS = parser.parse_args()
    asyncio.run(main())
