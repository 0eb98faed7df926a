"""Soak: a bounded, fixed-rate mixed load through the gateway for N minutes; errors, latency, RSS growth.

Starts its own mesh on 127.0.0.1 (a private PostgreSQL cluster, the five services and the gateway, as the
test fixtures do), seeds a job and 60 candidates, then sends requests at a fixed rate from an asyncio
client: search 50 %, upload 20 %, screen 15 %, report 15 %. Concurrency is capped, so an overloaded mesh
shows up as latency and errors instead of an ever-growing client backlog.

    PYTHONPATH=. .venv/bin/python bench/soak.py [--minutes 10] [--rate 8] [--json out.json]

Reports errors, p50/p99 per route, and each process's RSS after warm-up and at the end (target: 0 errors,
RSS growth < 10 %).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402

from hiremesh.clients import search_stub  # noqa: E402
from hiremesh.config import HEALTH_NAMES  # noqa: E402
from hiremesh.v1 import common_pb2, search_pb2  # noqa: E402
from hiremesh_ops.probe import wait_serving  # noqa: E402
from tests.faults.stack import new_cluster, wait_http  # noqa: E402
from tests.fixtures.analytics import QUIET_SCHEDULES  # noqa: E402
from tests.fixtures.embedding import ensure_model_built  # noqa: E402
from tests.fixtures.pg import create_database  # noqa: E402
from tests.fixtures.procs import ServiceProcess, free_port, start_process  # noqa: E402
from tests.fixtures.screening import FAST_QUEUE  # noqa: E402

MIX = [("search", 50), ("upload", 20), ("screen", 15), ("report", 15)]
QUERIES = [
    "python django postgres",
    "kubernetes go microservices",
    "data engineer airflow spark",
    "react typescript frontend",
    "machine learning pytorch",
    "rust systems programming",
]
SKILLS = ["Python", "Go", "Rust", "SQL", "Django", "Kubernetes", "AWS", "React", "Airflow", "Spark", "Java"]
REPORTS = ["funnel", "summary", "top_candidates"]


@dataclass
class Mesh:
    root: Path
    cluster: Any
    procs: dict[str, ServiceProcess] = field(default_factory=dict)
    url: str = ""
    token: str = ""


async def start_mesh() -> Mesh:
    root = Path(tempfile.mkdtemp(prefix="hiremesh-soak-", dir="/tmp"))
    cluster = await asyncio.to_thread(new_cluster, root)
    server = cluster.url("postgres")
    dbs = {name: await asyncio.to_thread(create_database, server, name) for name in ("catalog", "screening", "gateway")}
    mesh = Mesh(root, cluster)
    models = await asyncio.to_thread(ensure_model_built)

    async def up(name: str, module: str, env: dict[str, str], args: list[str] | None = None) -> ServiceProcess:
        proc = start_process(module, free_port(), env, args)
        mesh.procs[name] = proc
        await wait_serving(proc.addr, HEALTH_NAMES[name], timeout=300, alive=proc.alive)
        return proc

    embedding = await up("embedding", "embedding_svc", {"HIREMESH_MODEL_DIR": str(models)})
    guardrail = await up("guardrail", "guardrail_svc", {"HIREMESH_GUARDRAIL_WORKERS": "2"})
    search = await up(
        "search", "search_svc", {"HIREMESH_DATABASE_URL": dbs["catalog"], "HIREMESH_EMBEDDING_ADDR": embedding.addr}
    )
    screening = await up(
        "screening",
        "screening_svc",
        {
            **FAST_QUEUE,
            "HIREMESH_DATABASE_URL": dbs["screening"],
            "HIREMESH_SEARCH_ADDR": search.addr,
            "HIREMESH_GUARDRAIL_ADDR": guardrail.addr,
            "HIREMESH_EMBEDDING_ADDR": embedding.addr,
            "HIREMESH_SCREENING_WORKERS": "2",
        },
    )
    # analytics reads the catalog and screening schemas: both live in one database in production; here it
    # reads the catalog database (reports over applications), with schedules off.
    analytics = await up(
        "analytics",
        "analytics_svc",
        {
            **QUIET_SCHEDULES,
            "HIREMESH_DATABASE_URL": dbs["catalog"],
            "HIREMESH_HOME": str(root / "analytics"),
            "HIREMESH_ANALYTICS_SYNC_ON_START": "false",
        },
    )
    gateway_port = free_port()
    gateway = start_process(
        "gateway",
        gateway_port,
        {
            "HIREMESH_DATABASE_URL": dbs["gateway"],
            "HIREMESH_HOME": str(root / "gateway"),
            "HIREMESH_SEARCH_ADDR": search.addr,
            "HIREMESH_SCREENING_ADDR": screening.addr,
            "HIREMESH_GUARDRAIL_ADDR": guardrail.addr,
            "HIREMESH_ANALYTICS_ADDR": analytics.addr,
            "HIREMESH_GATEWAY_RATE_LIMIT": "0",
        },
    )
    mesh.procs["gateway"] = gateway
    mesh.url = f"http://127.0.0.1:{gateway_port}"
    await wait_http(f"{mesh.url}/readyz", gateway, 120)
    mesh.token = (root / "gateway" / "admin-token").read_text().strip()
    return mesh


async def stop_mesh(mesh: Mesh) -> None:
    for proc in reversed(list(mesh.procs.values())):
        await proc.stop(timeout=15)
    await asyncio.to_thread(mesh.cluster.stop, "immediate")
    shutil.rmtree(mesh.root, ignore_errors=True)


def rss_mb(pid: int) -> float:
    """Resident set size of a process and its children threads, from /proc (MB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def resume(i: int) -> str:
    rng = random.Random(i)
    skills = rng.sample(SKILLS, 4)
    return (
        f"Soak Candidate {i} {secrets.token_hex(3)}\n{rng.randint(1, 20)} years of experience.\n"
        f"Skills: {', '.join(skills)}.\nBuilt services with {skills[0]} and {skills[1]} at company {i % 37}.\n"
    )


async def seed(mesh: Mesh) -> tuple[str, list[str]]:
    search = search_stub(mesh.procs["search"].addr)
    job = (
        await search.CreateJob(
            search_pb2.CreateJobRequest(
                job=search_pb2.Job(
                    title="Backend engineer",
                    description="Python, Go, SQL and Kubernetes services.",
                    required_skills=["Python", "SQL"],
                    status=common_pb2.JOB_STATUS_OPEN,
                )
            ),
            timeout=60,
        )
    ).job
    records = [json.dumps({"resume_text": resume(i)}) for i in range(60)]
    ids: list[str] = []
    async for reply in search.ImportCandidates(search_pb2.ImportCandidatesRequest(jsonl_records=records), timeout=300):
        if reply.HasField("summary"):
            ids = list(reply.summary.candidate_ids)
    for cid in ids[:30]:
        await search.CreateApplication(
            search_pb2.CreateApplicationRequest(application=search_pb2.Application(candidate_id=cid, job_id=job.id)),
            timeout=60,
        )
    return job.id, ids


class Load:
    def __init__(self, mesh: Mesh, job_id: str, candidates: list[str], limit: int) -> None:
        self.mesh = mesh
        self.job_id = job_id
        self.candidates = candidates
        self.sem = asyncio.Semaphore(limit)
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)
        self.saturated = 0
        self.counter = 1000

    async def one(self, http: aiohttp.ClientSession, route: str) -> None:
        headers = {"Authorization": f"Bearer {self.mesh.token}"}
        url = self.mesh.url + "/api/v1"
        started = time.perf_counter()
        try:
            if route == "search":
                req = http.get(f"{url}/search/candidates", params={"q": random.choice(QUERIES)}, headers=headers)
            elif route == "upload":
                self.counter += 1
                form = aiohttp.FormData()
                form.add_field(
                    "resume", resume(self.counter).encode(), filename="resume.txt", content_type="text/plain"
                )
                req = http.post(f"{url}/candidates", data=form, headers=headers)
            elif route == "screen":
                req = http.post(
                    f"{url}/screenings",
                    headers=headers,
                    json={
                        "candidate_id": random.choice(self.candidates),
                        "job_id": self.job_id,
                        "engine": "ENGINE_EVIDENCE",
                    },
                )
            else:
                req = http.get(f"{url}/analytics/reports/{random.choice(REPORTS)}", headers=headers)
            async with req as resp:
                body = await resp.read()
                if resp.status >= 400:
                    self.errors[route].append(f"{resp.status} {body[:160]!r}")
                    return
                if route == "upload":
                    self.candidates.append(json.loads(body)["candidate"]["id"])
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.errors[route].append(repr(exc))
            return
        finally:
            self.sem.release()
        self.latency[route].append((time.perf_counter() - started) * 1000)

    async def run(self, seconds: float, rate: float) -> None:
        routes = [r for r, _ in MIX]
        weights = [w for _, w in MIX]
        timeout = aiohttp.ClientTimeout(total=60)
        pending: set[asyncio.Task[None]] = set()
        async with aiohttp.ClientSession(timeout=timeout) as http:
            loop = asyncio.get_running_loop()
            start = loop.time()
            n = 0
            while (due := start + n / rate) < start + seconds:
                await asyncio.sleep(max(0.0, due - loop.time()))
                n += 1
                if self.sem.locked():
                    self.saturated += 1  # the cap is hit: the mesh is not keeping up with the rate
                    continue
                await self.sem.acquire()
                task = asyncio.create_task(self.one(http, random.choices(routes, weights)[0]))
                pending.add(task)
                task.add_done_callback(pending.discard)
            if pending:
                await asyncio.wait(pending)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the measured load (default 10)")
    parser.add_argument("--rate", type=float, default=8.0, help="requests per second, all routes (default 8)")
    parser.add_argument("--concurrency", type=int, default=32, help="in-flight request cap (default 32)")
    parser.add_argument("--warmup", type=float, default=30.0, help="seconds of load before the first RSS reading")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    t0 = time.perf_counter()
    mesh = await start_mesh()
    print(f"mesh up in {time.perf_counter() - t0:.0f}s at {mesh.url}", flush=True)
    try:
        job_id, candidates = await seed(mesh)
        warm = Load(mesh, job_id, candidates, args.concurrency)
        await warm.run(args.warmup, args.rate)
        rss_start = {name: rss_mb(p.pid) for name, p in mesh.procs.items()}
        load = Load(mesh, job_id, warm.candidates, args.concurrency)
        t1 = time.perf_counter()
        await load.run(args.minutes * 60, args.rate)
        elapsed = time.perf_counter() - t1
        await asyncio.sleep(2.0)
        rss_end = {name: rss_mb(p.pid) for name, p in mesh.procs.items()}
        alive = {name: p.alive() for name, p in mesh.procs.items()}
    finally:
        await stop_mesh(mesh)

    total = sum(len(v) for v in load.latency.values())
    errors = sum(len(v) for v in load.errors.values())
    figures: dict[str, Any] = {
        "minutes": args.minutes,
        "rate_rps": args.rate,
        "elapsed_s": round(elapsed, 1),
        "requests_ok": total,
        "errors": errors,
        "saturated_skips": load.saturated,
        "achieved_rps": round((total + errors) / elapsed, 2),
        "routes": {
            r: {
                "n": len(v),
                "errors": len(load.errors[r]),
                "p50_ms": round(statistics.median(v), 1),
                "p99_ms": round(pct(v, 0.99), 1),
            }
            for r, v in sorted(load.latency.items())
        },
        "rss_mb": {
            n: {
                "start": round(rss_start[n], 1),
                "end": round(rss_end[n], 1),
                "growth_pct": round(100 * (rss_end[n] - rss_start[n]) / rss_start[n], 1),
            }
            for n in rss_start
        },
        "all_alive": all(alive.values()),
        "error_samples": {r: v[:3] for r, v in load.errors.items() if v},
    }
    print(json.dumps(figures, indent=2))
    print("\n| route | requests | errors | p50 ms | p99 ms |\n| --- | --- | --- | --- | --- |")
    for route, row in figures["routes"].items():
        print(f"| {route} | {row['n'] + row['errors']} | {row['errors']} | {row['p50_ms']} | {row['p99_ms']} |")
    print("\n| process | RSS start MB | RSS end MB | growth |\n| --- | --- | --- | --- |")
    for name, row in figures["rss_mb"].items():
        print(f"| {name} | {row['start']} | {row['end']} | {row['growth_pct']} % |")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    worst = max(r["growth_pct"] for r in figures["rss_mb"].values())
    ok = errors == 0 and worst < 10 and figures["all_alive"]
    print(f"\nverdict: {'PASS' if ok else 'FAIL'} (errors {errors}, worst RSS growth {worst} %)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
