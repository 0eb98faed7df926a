"""Search benchmark: bulk load (binary COPY), HNSW builds, latency and recall@10 of pgvector search.

    .venv/bin/python bench/search.py --rows 100000                       # ~3 min on 2 cores
    .venv/bin/python bench/search.py --rows 1000000 --cluster /tmp/hiremesh-bench-1m --text resume \\
        --variant vector:16:64 vector:16:128 halfvec:16:64 --variant-ef 100 200 400   # builds: hours

Keyword and hybrid search (the relevance issue's latency targets) are measured on real-sentence resumes by
bench/search_text.py, which runs the same gRPC service; this bench's synthetic words carry no meaning.

Vectors are clustered like sentence embeddings (Zipf-sized topics around a shared mean direction, cosine
to the topic centre ~0.7), not uniform noise, which would make HNSW look worse and recall meaningless.
Starts a private PostgreSQL 18 + pgvector cluster in /tmp (or uses --dsn, or keeps one in --cluster DIR and
reuses its loaded table and built indexes on the next run), loads `catalog.candidates` with binary COPY (tsv
trigger on, as in production), builds the production HNSW index exactly as the migrations define it (unless
--m/--ef-construction override it), then for each --ef, query by query and alternating which goes first:
  * SQL: the service's ORDER BY ... LIMIT 10 over one connection, prepared (the database's own time);
  * gRPC: SearchCandidates(job_id, VECTOR, top_k=10) against `python -m search_svc` (job vectors are the
    queries, so no embedding call is in the path);
  * bare RPC: a unary health Check against a bare grpc.aio server (bench/bare_grpc.py): the floor of any RPC;
and prints the gRPC path's overhead over its SQL (p50 gRPC - p50 SQL) next to the bare RPC's p50.
--variant KIND:M:EFC builds more HNSW indexes on the same rows (KIND vector or halfvec: the 384-d vector
cast to half precision) and measures each by SQL at every --variant-ef, one after another with the index
prewarmed, with build time and size. Recall@10 is against exact numpy brute force (its time is the floor).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from grpc_health.v1 import health_pb2, health_pb2_grpc
from psycopg import sql
from psycopg.types.json import Jsonb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.cpu import cpu_info  # noqa: E402
from bench.embedding import ROLES as RESUME_ROLES  # noqa: E402
from bench.embedding import SKILLS as RESUME_SKILLS  # noqa: E402
from bench.embedding import resume  # noqa: E402
from hiremesh.clients import channel, search_stub  # noqa: E402
from hiremesh.db import migrate  # noqa: E402
from hiremesh.v1 import search_pb2 as pb  # noqa: E402
from hiremesh_ops.pg import Cluster  # noqa: E402
from hiremesh_ops.probe import wait_serving  # noqa: E402

DIM = 384
SEED = 7
ROLES = [
    "backend engineer",
    "data scientist",
    "nurse",
    "accountant",
    "sales manager",
    "mechanical engineer",
    "designer",
    "teacher",
    "truck driver",
    "chef",
    "lawyer",
    "marketing specialist",
    "devops engineer",
    "pharmacist",
    "electrician",
    "recruiter",
    "financial analyst",
    "frontend developer",
    "civil engineer",
]
SKILLS = ["Python", "Go", "SQL", "Kubernetes", "AWS", "Excel", "Figma", "React", "Java", "Docker"]
CITIES = ["Berlin", "London", "Madrid", "Paris", "Warsaw", "Lisbon", "Remote"]
PROD_INDEX = "candidates_embedding_hnsw"
VARIANT_PREFIX = "bench_hnsw_"


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else float("nan")


def stats_ms(times: list[float]) -> dict[str, float]:
    return {"p50_ms": percentile(times, 50) * 1e3, "p99_ms": percentile(times, 99) * 1e3}


class Corpus:
    """Unit vectors shaped like sentence embeddings rather than noise.

    Zipf-sized topics with sub-topics around a shared mean direction (embeddings are anisotropic), and
    within-topic variation that lives mostly in a 48-dimensional subspace plus a little isotropic noise
    (sentence embeddings put most of their variance in a few dozen principal directions). Isotropic
    384-dimensional noise would have a far higher intrinsic dimension than real text and understate recall.
    """

    SUBTOPICS = 8

    def __init__(self, rows: int, topics: int, seed: int = SEED) -> None:
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
            out[start : start + k] = _unit(self.subtopics[assign] + low_rank + noise)
        return out


def _unit(x: np.ndarray) -> np.ndarray:
    unit: np.ndarray = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    return unit


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


# --- the database ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One HNSW index to compare: element type, m and ef_construction."""

    kind: str  # "vector" (fp32, as stored) or "halfvec" (the vector cast to half precision in the index)
    m: int
    ef_construction: int

    @classmethod
    def parse(cls, spec: str) -> Variant:
        kind, m, efc = spec.split(":")
        if kind not in ("vector", "halfvec"):
            raise SystemExit(f"--variant {spec}: kind must be vector or halfvec")
        return cls(kind, int(m), int(efc))

    @property
    def name(self) -> str:
        return f"{self.kind}_m{self.m}_efc{self.ef_construction}"

    @property
    def index(self) -> str:
        return VARIANT_PREFIX + self.name

    def expression(self, depth: int) -> str:
        """The indexed expression. Each variant wraps the column in `depth` value-preserving subvector(.., 1,
        384) calls, so every variant has an expression of its own: the planner can only use that index for a
        query that orders by the same expression, and all variants share one heap."""
        expr = "embedding" if self.kind == "vector" else f"(embedding::halfvec({DIM}))"
        for _ in range(depth):
            expr = f"(subvector({expr}, 1, {DIM})::{self.kind}({DIM}))"  # HNSW needs the typmod (dimensions)
        return expr

    def query_cast(self) -> str:
        return "::vector" if self.kind == "vector" else f"::vector::halfvec({DIM})"

    def opclass(self) -> str:
        return f"{self.kind}_cosine_ops"


async def connect(url: str) -> psycopg.AsyncConnection[Any]:
    from pgvector.psycopg import register_vector_async

    conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
    await register_vector_async(conn)
    return conn


async def meta_get(conn: psycopg.AsyncConnection[Any], key: str) -> Any:
    row = await (await conn.execute("SELECT value FROM public.bench_meta WHERE key = %s", (key,))).fetchone()
    return row[0] if row else None


async def meta_put(conn: psycopg.AsyncConnection[Any], key: str, value: Any) -> None:
    await conn.execute(
        "INSERT INTO public.bench_meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE "
        "SET value = excluded.value",
        (key, Jsonb(value)),
    )


async def index_def(conn: psycopg.AsyncConnection[Any], name: str) -> str | None:
    row = await (
        await conn.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = 'catalog' AND indexname = %s", (name,))
    ).fetchone()
    return row[0] if row else None


def load_key(rows: int, text: str) -> dict[str, Any]:
    return {"rows": rows, "seed": SEED, "text": text, "topics": max(50, rows // 500), "version": 2}


async def load(conn: psycopg.AsyncConnection[Any], corpus: Corpus, text: str) -> dict[str, float]:
    """Empty catalog.candidates (and every HNSW index on it), then COPY the corpus in and analyse it."""
    for name in await variant_indexes(conn):
        await conn.execute(f'DROP INDEX catalog."{name}"')
    await conn.execute("DELETE FROM public.bench_meta WHERE key LIKE 'index:%' OR key = 'load'")
    await conn.execute(f"DROP INDEX IF EXISTS catalog.{PROD_INDEX}")
    await conn.execute("TRUNCATE catalog.candidates CASCADE")
    rng = np.random.default_rng(3)
    words = random.Random(5)
    now = datetime.now(UTC)
    t0 = time.perf_counter()
    async with (
        conn.cursor() as cur,
        cur.copy(
            "COPY catalog.candidates (id, name, headline, location, years_experience, skills, resume_text, "
            "embedding, embedded_at, created_at, updated_at) FROM STDIN WITH (FORMAT BINARY)"
        ) as copy,
    ):
        copy.set_types(
            [
                "uuid",
                "text",
                "text",
                "text",
                "float8",
                "text[]",
                "text",
                "vector",
                "timestamptz",
                "timestamptz",
                "timestamptz",
            ]
        )
        for i, vec in enumerate(corpus.vectors):
            if text == "resume":  # 80-400 words like bench/search_keyword.py, for keyword and hybrid runs
                role = RESUME_ROLES[i % len(RESUME_ROLES)]
                skills = words.sample(RESUME_SKILLS[role], 3)
                body = resume(words, words.randint(80, 400), role)
            else:
                role = ROLES[i % len(ROLES)]
                skills = [SKILLS[j] for j in rng.choice(len(SKILLS), 3, replace=False)]
                body = f"{role} with {', '.join(skills)}"
            await copy.write_row(
                (
                    row_id(i),
                    f"Candidate {i}",
                    role.title() if text == "resume" else "",
                    CITIES[i % len(CITIES)],
                    float(i % 20),
                    skills,
                    body,
                    vec,
                    now,
                    now,
                    now,
                )
            )
    out = {"load_seconds": time.perf_counter() - t0}
    out["load_rows_per_s"] = len(corpus.vectors) / out["load_seconds"]
    t0 = time.perf_counter()
    await conn.execute("VACUUM (ANALYZE) catalog.candidates")  # hint bits and the visibility map, once
    out["vacuum_seconds"] = time.perf_counter() - t0
    return out


async def variant_indexes(conn: psycopg.AsyncConnection[Any]) -> list[str]:
    rows = await (
        await conn.execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = 'catalog' AND indexname LIKE %s",
            (VARIANT_PREFIX + "%",),
        )
    ).fetchall()
    return [r[0] for r in rows]


async def build(conn: psycopg.AsyncConnection[Any], statement: str) -> dict[str, float]:
    await conn.execute("SET maintenance_work_mem = '3GB'")
    await conn.execute("SET max_parallel_maintenance_workers = 1")
    t0 = time.perf_counter()
    await conn.execute(statement)
    return {"build_seconds": time.perf_counter() - t0}


async def index_mb(conn: psycopg.AsyncConnection[Any], name: str) -> float:
    row = await (await conn.execute("SELECT pg_relation_size(%s::regclass)", (f'catalog."{name}"',))).fetchone()
    return (row[0] if row else 0) / 2**20


def with_params(definition: str, m: int | None, efc: int | None) -> str:
    """The production index's CREATE INDEX statement with m / ef_construction overridden when given."""
    statement = definition
    if m is not None:
        statement = re.sub(r"\bm='?\d+'?", f"m='{m}'", statement)
    if efc is not None:
        statement = re.sub(r"ef_construction='?\d+'?", f"ef_construction='{efc}'", statement)
    return statement


async def migrated_index(conn: psycopg.AsyncConnection[Any]) -> str:
    """The production index's definition as the migrations left it (the bench drops and rebuilds it around a
    load, so it is remembered per set of applied migrations)."""
    rows = await (
        await conn.execute("SELECT name FROM public.hiremesh_migrations WHERE schema = 'catalog' ORDER BY name")
    ).fetchall()
    applied = [r[0] for r in rows]
    stored = await meta_get(conn, "migrated_index")
    if stored and stored["migrations"] == applied:
        return str(stored["definition"])
    definition = await index_def(conn, PROD_INDEX)
    if definition is None:
        raise RuntimeError(f"the migrations define no catalog.{PROD_INDEX}")
    await meta_put(conn, "migrated_index", {"migrations": applied, "definition": definition})
    return definition


def order_expression(definition: str) -> tuple[str, str]:
    """(indexed expression, cast for the query vector) of an HNSW cosine index definition."""
    match = re.search(r"USING hnsw \((.*) (vector|halfvec)_cosine_ops\)", definition)
    if match is None:
        raise RuntimeError(f"not an HNSW cosine index: {definition}")
    return match.group(1), "::vector" if match.group(2) == "vector" else f"::vector::halfvec({DIM})"


async def ensure_prod_index(conn: psycopg.AsyncConnection[Any], migrated_def: str) -> dict[str, Any]:
    """The production HNSW index as the migrations define it (with --m/--ef-construction if given)."""
    wanted = with_params(migrated_def, ARGS.m, ARGS.ef_construction)
    current = await index_def(conn, PROD_INDEX)
    stored = await meta_get(conn, f"index:{PROD_INDEX}")
    if current == wanted and stored and stored.get("definition") == wanted:
        return {**stored, "reused": True}
    if current == wanted:  # a migration (re)built it on the loaded rows: its time is the migration's
        out: dict[str, Any] = {
            "definition": wanted,
            "build_seconds": None,
            "built_by": "migration",
            "size_mb": await index_mb(conn, PROD_INDEX),
        }
        await meta_put(conn, f"index:{PROD_INDEX}", out)
        return {**out, "reused": False}
    await conn.execute(f"DROP INDEX IF EXISTS catalog.{PROD_INDEX}")
    print(f"building {wanted}", flush=True)
    out = {"definition": wanted, **(await build(conn, wanted))}
    out["size_mb"] = await index_mb(conn, PROD_INDEX)
    await meta_put(conn, f"index:{PROD_INDEX}", out)
    return {**out, "reused": False}


async def ensure_variant(conn: psycopg.AsyncConnection[Any], v: Variant) -> dict[str, Any]:
    stored = await meta_get(conn, f"index:{v.index}")
    if stored and await index_def(conn, v.index):
        return {**stored, "reused": True}
    used = {(await meta_get(conn, f"index:{n}") or {}).get("depth") for n in await variant_indexes(conn)}
    depth = 1
    while depth in used:
        depth += 1
    statement = (
        f'CREATE INDEX "{v.index}" ON catalog.candidates USING hnsw (({v.expression(depth)}) '
        f"{v.opclass()}) WITH (m = {v.m}, ef_construction = {v.ef_construction})"
    )
    print(f"building {statement}", flush=True)
    out: dict[str, Any] = {"depth": depth, "statement": statement, **(await build(conn, statement))}
    out["size_mb"] = await index_mb(conn, v.index)
    await meta_put(conn, f"index:{v.index}", out)
    print(f"  {v.name}: {out['build_seconds']:.0f} s, {out['size_mb']:.0f} MB", flush=True)
    return {**out, "reused": False}


async def add_query_jobs(conn: psycopg.AsyncConnection[Any], queries: np.ndarray) -> list[str]:
    ids = [str(uuid.UUID(int=2**100 + i)) for i in range(len(queries))]
    async with conn.transaction():
        await conn.execute("DELETE FROM catalog.jobs WHERE title = 'bench query'")
        async with conn.cursor() as cur:
            await cur.executemany(
                "INSERT INTO catalog.jobs (id, title, embedding, embedded_at) VALUES (%s, 'bench query', %s, now())",
                list(zip(ids, queries, strict=True)),
            )
    return ids


# --- measurements ---------------------------------------------------------------------------------------


def nearest_sql(expression: str, cast: str) -> sql.Composed:
    """The 10 nearest rows by an indexed expression (the bench's own constants, never input)."""
    return sql.SQL("SELECT id FROM catalog.candidates ORDER BY {} <=> %s{} LIMIT 10").format(
        sql.SQL(expression), sql.SQL(cast)
    )


async def set_ef(conn: psycopg.AsyncConnection[Any], ef: int, iterative: str = "relaxed_order") -> None:
    await conn.execute(
        "SELECT set_config('hnsw.ef_search', %s, false), set_config('hnsw.iterative_scan', %s, false)",
        (str(ef), iterative),
    )


async def measure_variant(
    conn: psycopg.AsyncConnection[Any],
    v: Variant,
    depth: int,
    queries: np.ndarray,
    truth: np.ndarray,
    efs: list[int],
    iterative: str = "relaxed_order",
) -> dict[str, Any]:
    statement = nearest_sql(v.expression(depth), v.query_cast())
    plan = await (await conn.execute(sql.SQL("EXPLAIN (FORMAT JSON) ") + statement, (queries[0],))).fetchone()
    if v.index not in json.dumps(plan):
        raise RuntimeError(f"the plan for {v.name} does not use {v.index}: {plan}")
    await conn.execute("SELECT pg_prewarm(%s::regclass)", (f'catalog."{v.index}"',))
    backend = (await (await conn.execute("SELECT pg_backend_pid()")).fetchone() or [0])[0]
    out: dict[str, Any] = {}
    for ef in efs:
        await set_ef(conn, ef, iterative)
        for q in queries[:20]:
            await (await conn.execute(statement, (q,), prepare=True)).fetchall()
        times: list[float] = []
        found: list[list[int]] = []
        cpu0 = cpu_seconds(backend)
        for q in queries:
            t0 = time.perf_counter()
            rows = await (await conn.execute(statement, (q,), prepare=True)).fetchall()
            times.append(time.perf_counter() - t0)
            found.append([r[0].int - 1 for r in rows])
        r = {
            **stats_ms(times),
            "recall_at_10": recall(found, truth),
            "backend_cpu_ms": (cpu_seconds(backend) - cpu0) / len(queries) * 1e3,
            "buffers_per_query": await buffers_per_query(conn, statement, queries[:50]),
        }
        out[str(ef)] = r
        print(
            f"  {v.name} ef {ef} (iterative_scan {iterative}): p50 {r['p50_ms']:.2f} / p99 {r['p99_ms']:.2f} ms, "
            f"backend CPU {r['backend_cpu_ms']:.2f} ms/query, {r['buffers_per_query']:.0f} buffers/query, "
            f"recall@10 {r['recall_at_10']:.3f}",
            flush=True,
        )
    return out


async def buffers_per_query(conn: psycopg.AsyncConnection[Any], statement: sql.Composed, queries: np.ndarray) -> float:
    """Mean buffer pages a query touches (EXPLAIN ANALYZE BUFFERS): the index's work, independent of the load."""
    total = 0
    for q in queries:
        row = await (
            await conn.execute(sql.SQL("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) ") + statement, (q,))
        ).fetchone()
        plan = (row or [[{}]])[0][0]["Plan"]
        total += plan.get("Shared Hit Blocks", 0) + plan.get("Shared Read Blocks", 0)
    return total / len(queries)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a local process (a PostgreSQL backend, search_svc): unlike wall time it does
    not grow when neighbours take the cores, so it compares variants on a busy machine (10 ms ticks: use it
    over hundreds of calls)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def timed(call: Callable[[], Awaitable[Any]]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    result = await call()
    return time.perf_counter() - t0, result


async def measure_paths(
    conn: psycopg.AsyncConnection[Any],
    search_addr: str,
    bare_addr: str,
    job_ids: list[str],
    queries: np.ndarray,
    truth: np.ndarray,
    ef: int,
    definition: str,
    baseline_addr: str | None = None,
    pids: dict[str, int] | None = None,
) -> dict[str, Any]:
    """SQL, gRPC (and the baseline tree's gRPC) and a bare RPC, query by query; which one goes first rotates so
    none always finds the buffers warmed by another. ef 0 lets the service pick (ranking.EF_FLOORS); the SQL
    then runs at the ef_search the service reports it used."""
    statement = nearest_sql(*order_expression(definition))
    stub = search_stub(search_addr)
    sql_ef = ef
    if ef == 0:
        probe = await stub.SearchCandidates(
            pb.SearchCandidatesRequest(
                job_id=job_ids[0], options=pb.SearchOptions(mode=pb.SEARCH_MODE_VECTOR, top_k=10)
            ),
            timeout=30,
        )
        sql_ef = probe.ef_search
    await set_ef(conn, sql_ef)
    mesh_health = health_pb2_grpc.HealthStub(channel(search_addr))
    bare = health_pb2_grpc.HealthStub(channel(bare_addr))
    options = pb.SearchOptions(mode=pb.SEARCH_MODE_VECTOR, top_k=10, ef_search=ef)
    check = health_pb2.HealthCheckRequest()

    async def sql_call(q: np.ndarray) -> list[int]:
        rows = await (await conn.execute(statement, (q,), prepare=True)).fetchall()
        return [r[0].int - 1 for r in rows]

    stubs = {"grpc": stub}
    if baseline_addr is not None:
        stubs["grpc_baseline"] = search_stub(baseline_addr)

    async def grpc_call(job: str, name: str = "grpc") -> list[int]:
        request = pb.SearchCandidatesRequest(job_id=job, options=options)
        reply = await stubs[name].SearchCandidates(request, timeout=30)
        return [uuid.UUID(h.candidate.id).int - 1 for h in reply.hits]

    for q, job in zip(queries[:20], job_ids[:20], strict=True):  # warm plans, buffers and channels
        await sql_call(q)
        for name in stubs:
            await grpc_call(job, name)
        await bare.Check(check, timeout=10)
        await mesh_health.Check(check, timeout=10)
    times: dict[str, list[float]] = {"sql": [], "bare_rpc": [], "mesh_health_rpc": [], **{n: [] for n in stubs}}
    pids = pids or {}
    cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
    found: dict[str, list[list[int]]] = {"sql": [], **{n: [] for n in stubs}}
    for i, (q, job) in enumerate(zip(queries, job_ids, strict=True)):
        calls: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
            ("sql", functools.partial(sql_call, q)),  # a numpy row is Any: mypy infers no lambda over it
            *[(n, lambda job=job, n=n: grpc_call(job, n)) for n in stubs],
            ("bare_rpc", lambda: bare.Check(check, timeout=10)),
            ("mesh_health_rpc", lambda: mesh_health.Check(check, timeout=10)),
        ]
        shift = i % len(calls)
        for name, call in calls[shift:] + calls[:shift]:
            elapsed, result = await timed(call)
            times[name].append(elapsed)
            if name in found:
                found[name].append(result)
    out: dict[str, Any] = {name: stats_ms(t) for name, t in times.items()}
    # search_svc's own CPU per call (one health check per query included): the service's share of the overhead
    # whatever the neighbours do
    out["process_cpu_ms_per_query"] = {
        name: (cpu_seconds(pid) - cpu0[name]) / len(queries) * 1e3 for name, pid in pids.items()
    }
    for name in found:
        out[name]["recall_at_10"] = recall(found[name], truth)
    out["sql_ef_search"] = sql_ef
    out["overhead_ms"] = out["grpc"]["p50_ms"] - out["sql"]["p50_ms"]
    out["overhead_over_bare_rpc"] = out["overhead_ms"] / out["bare_rpc"]["p50_ms"]
    if "grpc_baseline" in out:
        out["baseline_overhead_ms"] = out["grpc_baseline"]["p50_ms"] - out["sql"]["p50_ms"]
        out["baseline_overhead_over_bare_rpc"] = out["baseline_overhead_ms"] / out["bare_rpc"]["p50_ms"]
    return out


def start_search(url: str, tree: Path = REPO) -> tuple[subprocess.Popen[bytes], str]:
    """`python -m search_svc` from `tree` (another checkout's code runs with this venv's packages)."""
    port = free_port()
    env = {
        **os.environ,
        "HIREMESH_DATABASE_URL": url,
        "HIREMESH_SEARCH_PORT": str(port),
        "HIREMESH_METRICS_PORT": "-1",
        "HIREMESH_SEARCH_CATCHUP_S": "0",
        "HIREMESH_EMBEDDING_ADDR": "127.0.0.1:9",
    }  # never called: queries are stored job vectors
    if tree != REPO:
        env["PYTHONPATH"] = str(tree)
    log = open(Path(tempfile.gettempdir()) / f"bench-search-{port}.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "search_svc"], cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    return proc, f"127.0.0.1:{port}"


def start_bare() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "bench" / "bare_grpc.py"), "--port", str(port)], stdout=subprocess.DEVNULL
    )
    return proc, f"127.0.0.1:{port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cached_truth(folder: Path | None, corpus: Corpus, queries: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """Brute-force ground truth, kept next to a reused cluster (at 1M it takes about a minute)."""
    path = folder / f"truth-{ARGS.rows}-{ARGS.queries}-{SEED}.npz" if folder is not None else None
    if path is not None and path.exists():
        data = np.load(path)
        return data["truth"], data["times"].tolist()
    truth, times = exact_top10(corpus.vectors, queries)
    if path is not None:
        np.savez(path, truth=truth, times=np.asarray(times))
    return truth, times


async def main() -> None:
    started = time.time()
    root: Path | None = None
    cluster: Cluster | None = None
    url = ARGS.dsn
    settings = {
        "shared_buffers": ARGS.shared_buffers,
        "maintenance_work_mem": "3GB",
        "max_parallel_maintenance_workers": "1",
        "effective_cache_size": "12GB",
        "jit": "off",
        # an index built after the load needs no WAL of its own: builds are faster, nothing is lost
        # that a rerun cannot rebuild
        "wal_level": "minimal",
        "max_wal_senders": "0",
        "max_wal_size": "8GB",
    }
    if not url:
        root = (
            Path(ARGS.cluster) if ARGS.cluster else Path(tempfile.mkdtemp(prefix="hiremesh-bench-search-", dir="/tmp"))
        )
        cluster = Cluster(root / "data", free_port(), settings=settings)
        await asyncio.to_thread(cluster.start)
        await asyncio.to_thread(cluster.ensure_database, "bench")
        url = cluster.url("bench")
        print(f"database {url} (cluster in {root})", flush=True)
    report: dict[str, Any] = {
        "rows": ARGS.rows,
        "queries": ARGS.queries,
        "text": ARGS.text,
        "cpu": cpu_info(),
        "platform": platform.platform(),
        "shared_buffers": ARGS.shared_buffers,
        "command": " ".join(sys.argv),
        "started": datetime.now(UTC).isoformat(),
    }
    procs: list[subprocess.Popen[bytes]] = []
    try:
        t0 = time.perf_counter()
        await migrate(url, "catalog", REPO / "search_svc" / "migrations")
        report["migrate_seconds"] = time.perf_counter() - t0
        conn = await connect(url)
        await conn.execute("CREATE TABLE IF NOT EXISTS public.bench_meta (key text PRIMARY KEY, value jsonb)")
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        migrated = await migrated_index(conn)
        corpus = Corpus(ARGS.rows, topics=max(50, ARGS.rows // 500))
        queries = corpus.sample(ARGS.queries)
        truth, brute = cached_truth(root if ARGS.cluster else None, corpus, queries)
        report["numpy_exact"] = stats_ms(brute)
        print(f"numpy exact top-10: p50 {report['numpy_exact']['p50_ms']:.2f} ms", flush=True)
        key = load_key(ARGS.rows, ARGS.text)
        loaded = await meta_get(conn, "load")
        if loaded and loaded.get("key") == key:
            report["load"] = {**loaded, "reused": True}
            print("reusing the loaded table", flush=True)
        else:
            stats = await load(conn, corpus, ARGS.text)
            await meta_put(conn, "load", {"key": key, **stats})
            report["load"] = {"key": key, **stats, "reused": False}
            print(f"load {stats['load_rows_per_s']:.0f} rows/s ({stats['load_seconds']:.0f} s)", flush=True)
        del corpus  # the vectors live in the database now; ground truth is computed
        report["hnsw"] = await ensure_prod_index(conn, migrated)
        build_s = report["hnsw"]["build_seconds"]
        print(
            f"production index: {report['hnsw']['definition']} — "
            f"{'built by a migration' if build_s is None else f'{build_s:.0f} s'}, {report['hnsw']['size_mb']:.0f} MB"
            f"{' (reused)' if report['hnsw']['reused'] else ''}",
            flush=True,
        )
        variants = [Variant.parse(s) for s in ARGS.variant]
        built = {v.name: await ensure_variant(conn, v) for v in variants}
        if variants and not ARGS.build_only:
            report["variants"] = {}
            for v in variants:
                info = built[v.name]
                res = await measure_variant(conn, v, info["depth"], queries, truth, ARGS.variant_ef)
                report["variants"][v.name] = {
                    "build_seconds": info["build_seconds"],
                    "size_mb": info["size_mb"],
                    "ef_search": res,
                }
            first = variants[0]
            report["iterative_scan_off"] = {
                first.name: await measure_variant(
                    conn, first, built[first.name]["depth"], queries, truth, ARGS.variant_ef, iterative="off"
                )
            }
        if not ARGS.skip_grpc and not ARGS.build_only:
            job_ids = await add_query_jobs(conn, queries)
            search_proc, search_addr = start_search(url)
            procs.append(search_proc)
            bare_proc, bare_addr = start_bare()
            procs.append(bare_proc)
            await wait_serving(
                search_addr, "hiremesh.v1.SearchService", timeout=120, alive=lambda: search_proc.poll() is None
            )
            baseline_addr = None
            if ARGS.baseline_tree:
                base_proc, baseline_addr = start_search(url, await asyncio.to_thread(Path(ARGS.baseline_tree).resolve))
                procs.append(base_proc)
                await wait_serving(
                    baseline_addr, "hiremesh.v1.SearchService", timeout=120, alive=lambda: base_proc.poll() is None
                )
            await wait_serving(bare_addr, timeout=60, alive=lambda: bare_proc.poll() is None)
            await conn.execute("SELECT pg_prewarm(%s::regclass)", (f"catalog.{PROD_INDEX}",))
            report["ef_search"] = {}
            for ef in ARGS.ef:
                pids = {"grpc": search_proc.pid, **({"grpc_baseline": base_proc.pid} if baseline_addr else {})}
                r = await measure_paths(
                    conn,
                    search_addr,
                    bare_addr,
                    job_ids,
                    queries,
                    truth,
                    ef,
                    report["hnsw"]["definition"],
                    baseline_addr,
                    pids,
                )
                report["ef_search"][str(ef)] = r
                label = ef or f"{r['sql_ef_search']} (picked by the service)"
                print(
                    f"ef_search {label}: SQL p50 {r['sql']['p50_ms']:.2f} / p99 {r['sql']['p99_ms']:.2f} ms, "
                    f"recall@10 {r['sql']['recall_at_10']:.3f} | gRPC p50 {r['grpc']['p50_ms']:.2f} / p99 "
                    f"{r['grpc']['p99_ms']:.2f} ms, recall@10 {r['grpc']['recall_at_10']:.3f} | overhead "
                    f"{r['overhead_ms']:.2f} ms = {r['overhead_over_bare_rpc']:.2f} x bare RPC p50 "
                    f"{r['bare_rpc']['p50_ms']:.2f} ms (search_svc health {r['mesh_health_rpc']['p50_ms']:.2f} "
                    "ms)",
                    flush=True,
                )
                print(f"  search_svc CPU per query (this tree / baseline): {r['process_cpu_ms_per_query']}", flush=True)
                if baseline_addr is not None:
                    print(
                        f"  baseline tree: gRPC p50 {r['grpc_baseline']['p50_ms']:.2f} / p99 "
                        f"{r['grpc_baseline']['p99_ms']:.2f} ms, overhead {r['baseline_overhead_ms']:.2f} ms = "
                        f"{r['baseline_overhead_over_bare_rpc']:.2f} x bare RPC",
                        flush=True,
                    )
        await conn.close()
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(30)
        if cluster is not None:
            await asyncio.to_thread(cluster.stop, "fast")
        if root is not None and not ARGS.keep and not ARGS.cluster:
            shutil.rmtree(root, ignore_errors=True)
    report["wall_seconds"] = time.time() - started
    text = json.dumps(report, indent=2)
    print(text)
    if ARGS.out:
        await asyncio.to_thread(Path(ARGS.out).write_text, text + "\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--ef", type=int, nargs="+", default=[40, 100, 200], help="ef_search of the gRPC runs")
    parser.add_argument("--m", type=int, default=None, help="override the production index's m")
    parser.add_argument("--ef-construction", type=int, default=None, help="override its ef_construction")
    parser.add_argument(
        "--text",
        choices=["short", "resume"],
        default="short",
        help="resume: 80-400 word synthetic resumes (for keyword/hybrid runs on the same table)",
    )
    parser.add_argument(
        "--variant",
        nargs="*",
        default=[],
        metavar="KIND:M:EFC",
        help="more HNSW indexes to build and measure by SQL (vector:16:128, halfvec:16:64, ...)",
    )
    parser.add_argument("--variant-ef", type=int, nargs="+", default=[100, 200, 400])
    parser.add_argument("--skip-grpc", action="store_true", help="only load, build and measure the variants")
    parser.add_argument(
        "--build-only",
        action="store_true",
        help="only load and build (run it under nice; measure in a later run on --cluster)",
    )
    parser.add_argument("--shared-buffers", default="4GB")
    parser.add_argument("--dsn", default="", help="use this database instead of a private cluster")
    parser.add_argument(
        "--cluster",
        default="",
        help="keep the private cluster in this folder and reuse its loaded table and indexes next time",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary cluster's folder")
    parser.add_argument(
        "--baseline-tree",
        default="",
        help="also run search_svc from this source tree (e.g. `git archive` of main) side by side",
    )
    parser.add_argument("--out", default="")
    ARGS = parser.parse_args()
    asyncio.run(main())
