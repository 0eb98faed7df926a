"""Gateway benchmark: REST -> gRPC overhead against direct gRPC, and search requests/s at 16 clients.

Needs PostgreSQL and running embedding/search/screening/guardrail/analytics services (e.g. `hiremesh up`,
or their addresses in HIREMESH_*_ADDR) and HIREMESH_DATABASE_URL pointing at that PostgreSQL. It starts
its own gateway process (rate limit off, a fresh user database) so a live gateway's limits do not skew it:

    HIREMESH_DATABASE_URL=postgresql://... PYTHONPATH=. .venv/bin/python bench/gateway.py [--quick] [--out F]

Measures, in one run and interleaved call by call so both paths see the same machine state:
- p50/p95 of GetJob and of SearchCandidates (keyword mode, so the embedding model's time does not hide
  the gateway's) direct over gRPC and through `GET /api/v1/...`; overhead = REST p50 - gRPC p50;
- search requests/s with 16 concurrent clients through the gateway, and direct gRPC for reference.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402

from hiremesh.clients import search_stub  # noqa: E402
from hiremesh.config import database_url, service_addr  # noqa: E402
from hiremesh.v1 import search_pb2  # noqa: E402
from tests.fixtures.mesh import gateway_database, wait_ready  # noqa: E402
from tests.fixtures.procs import free_port, start_process  # noqa: E402

T = 60
QUERY = "python sql airflow data pipelines"


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(ms), 3),
        "p95_ms": round(pct(ms, 0.95), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "n": len(ms),
    }


async def seed(search_addr: str) -> str:
    search = search_stub(search_addr)
    tag = uuid.uuid4().hex[:6]
    job = (
        await search.CreateJob(
            search_pb2.CreateJobRequest(
                job=search_pb2.Job(
                    title=f"Bench Data Engineer {tag}",
                    company="Bench",
                    location="Remote",
                    min_experience=2,
                    description="Python, SQL and Airflow pipelines on AWS.",
                    required_skills=["python", "sql", "airflow"],
                )
            ),
            timeout=T,
        )
    ).job
    for i in range(20):
        text = (
            f"Bench Person {tag} {i}\nData engineer with {i % 9 + 1} years of Python, SQL and Airflow; "
            f"also {'Spark' if i % 2 else 'Kafka'} and Docker.\n"
        )
        await search.CreateCandidate(
            search_pb2.CreateCandidateRequest(
                candidate=search_pb2.Candidate(name=f"Bench Person {tag} {i}", resume_text=text)
            ),
            timeout=T,
        )
    return job.id


async def paired(
    n: int, direct: Callable[[], Awaitable[Any]], rest: Callable[[], Awaitable[Any]]
) -> tuple[list[float], list[float]]:
    grpc_ms: list[float] = []
    rest_ms: list[float] = []
    for i in range(n):
        order = (direct, rest) if i % 2 == 0 else (rest, direct)
        for fn in order:
            start = time.perf_counter()
            await fn()
            (grpc_ms if fn is direct else rest_ms).append((time.perf_counter() - start) * 1000)
    return grpc_ms, rest_ms


async def throughput(clients: int, seconds: float, call: Callable[[], Awaitable[Any]]) -> dict[str, float]:
    done = 0
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            start = time.perf_counter()
            await call()
            latencies.append((time.perf_counter() - start) * 1000)
            done += 1

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    elapsed = time.perf_counter() - began
    return {
        "requests_per_s": round(done / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(pct(latencies, 0.95), 2),
        "requests": done,
    }


async def main(quick: bool, out: Path | None) -> None:
    n = 200 if quick else 1000
    seconds = 3.0 if quick else 10.0
    addrs = {svc: service_addr(svc) for svc in ("search", "screening", "guardrail", "analytics")}
    home = Path(tempfile.mkdtemp(prefix="hiremesh-bench-gateway-"))
    env = {
        "HIREMESH_DATABASE_URL": await gateway_database(database_url()),
        "HIREMESH_HOME": str(home),
        "HIREMESH_GATEWAY_RATE_LIMIT": "0",
        **{f"HIREMESH_{k.upper()}_ADDR": v for k, v in addrs.items()},
    }
    port = free_port()
    proc = start_process("gateway", port, env)
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(url, proc)
        token = (home / "admin-token").read_text().strip()
        job_id = await seed(addrs["search"])
        stub = search_stub(addrs["search"])
        headers = {"Authorization": f"Bearer {token}"}
        connector = aiohttp.TCPConnector(limit=32)
        async with aiohttp.ClientSession(url, headers=headers, connector=connector) as http:

            async def rest(path: str) -> None:
                async with http.get(path) as resp:
                    await resp.read()
                    assert resp.status == 200, resp.status

            get_req = search_pb2.GetJobRequest(id=job_id)
            search_req = search_pb2.SearchCandidatesRequest(
                text=QUERY, options=search_pb2.SearchOptions(mode=search_pb2.SEARCH_MODE_KEYWORD, top_k=10)
            )
            search_path = f"/api/v1/search/candidates?q={QUERY.replace(' ', '+')}&mode=keyword&top_k=10"
            # Warm both paths: channels, pools, caches, prepared statements.
            await paired(50, lambda: stub.GetJob(get_req, timeout=T), lambda: rest(f"/api/v1/jobs/{job_id}"))
            await paired(50, lambda: stub.SearchCandidates(search_req, timeout=T), lambda: rest(search_path))

            g_get, r_get = await paired(
                n, lambda: stub.GetJob(get_req, timeout=T), lambda: rest(f"/api/v1/jobs/{job_id}")
            )
            g_search, r_search = await paired(
                n // 2, lambda: stub.SearchCandidates(search_req, timeout=T), lambda: rest(search_path)
            )
            hybrid_path = f"/api/v1/search/candidates?q={QUERY.replace(' ', '+')}&mode=hybrid&top_k=10"
            rest_tp = await throughput(16, seconds, lambda: rest(search_path))
            grpc_tp = await throughput(16, seconds, lambda: stub.SearchCandidates(search_req, timeout=T))
            hybrid_tp = await throughput(16, seconds, lambda: rest(hybrid_path))
    finally:
        await proc.stop()

    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "get_job": {
            "grpc": summary(g_get),
            "rest": summary(r_get),
            "overhead_p50_ms": round(statistics.median(r_get) - statistics.median(g_get), 3),
        },
        "search_keyword": {
            "grpc": summary(g_search),
            "rest": summary(r_search),
            "overhead_p50_ms": round(statistics.median(r_search) - statistics.median(g_search), 3),
        },
        "search_16_clients": {"rest_keyword": rest_tp, "grpc_keyword": grpc_tp, "rest_hybrid": hybrid_tp},
    }
    print(json.dumps(results, indent=2))
    if out is not None:
        await asyncio.to_thread(write_results, out, json.dumps(results, indent=2))


def write_results(out: Path, text: str) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "gateway.json")
    args = parser.parse_args()
    asyncio.run(main(args.quick, args.out))
