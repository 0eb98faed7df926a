"""Screening benchmark: orchestration overhead, evidence-engine screenings/s, queue tasks/s.

Needs PostgreSQL and running embedding/search/guardrail services (e.g. `hiremesh up`, or the addresses in
HIREMESH_SEARCH_ADDR / HIREMESH_GUARDRAIL_ADDR) and HIREMESH_DATABASE_URL pointing at that PostgreSQL.
It starts its own screening_svc (evidence engine, HIREMESH_SCREENING_WORKERS=2) on a fresh database:

    HIREMESH_DATABASE_URL=postgresql://... PYTHONPATH=. .venv/bin/python bench/screening.py [--quick] [--out F]

Measures
- per synchronous `Screen`: client wall time, engine time (analyzer ‖ interviewer, from the result's agent
  traces), the guardrail call and retrieval; "overhead" = wall − engine: everything screening_svc adds
  around the engine (target lookup, retrieval RPCs, guardrail RPCs, DB upsert, progress streaming);
- evidence-engine screenings/s with 4 concurrent `Screen` callers;
- tasks/s through the durable queue: `SubmitBatchScreening` of N applications until all succeeded
  (2 workers, full pipeline), and the queue alone (same 2 workers, a trivial job body) in-process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hiremesh.clients import screening_stub, search_stub  # noqa: E402
from hiremesh.config import service_addr  # noqa: E402
from hiremesh.v1 import screening_pb2 as pb  # noqa: E402
from hiremesh.v1 import search_pb2  # noqa: E402
from tests.fixtures.procs import free_port, spawn_service  # noqa: E402
from tests.fixtures.screening import SCREENING_HEALTH, new_database, screening_env  # noqa: E402

T = 120
SKILLS = ["Python", "Go", "PostgreSQL", "Docker", "Kubernetes", "Kafka", "gRPC", "React", "AWS", "Terraform"]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def make_catalog(search_addr: str, candidates: int) -> tuple[str, list[str]]:
    search = search_stub(search_addr)
    tag = uuid.uuid4().hex[:6]
    job = (await search.CreateJob(search_pb2.CreateJobRequest(job=search_pb2.Job(
        title=f"Platform Engineer {tag}", company="Bench", location="Remote", min_experience=3,
        description="Operate Kubernetes and PostgreSQL; write Python and Go services; gRPC, Kafka, Terraform.",
        required_skills=["Python", "Kubernetes", "PostgreSQL", "Terraform"])), timeout=T)).job
    cands = []
    for i in range(candidates):
        skills = [SKILLS[(i + k) % len(SKILLS)] for k in range(4)]
        text = (f"Engineer {tag}-{i}. {3 + i % 8} years building backend systems with {', '.join(skills)}. "
                "Led migrations, on-call rotations, observability with Prometheus and Grafana.")
        cand = (await search.CreateCandidate(search_pb2.CreateCandidateRequest(
            candidate=search_pb2.Candidate(name=f"Engineer {tag}-{i}", years_experience=3 + i % 8, skills=skills),
            resume=search_pb2.ResumeFile(file_name=f"r{i}.txt", media_type="text/plain", content=text.encode())),
            timeout=T)).candidate
        await search.CreateApplication(search_pb2.CreateApplicationRequest(
            application=search_pb2.Application(candidate_id=cand.id, job_id=job.id)), timeout=T)
        cands.append(cand.id)
    return job.id, cands


def split_times(result: pb.ScreeningResult) -> dict[str, float]:
    by_agent: dict[str, float] = {}
    for trace in result.traces:
        by_agent[trace.agent.lower()] = by_agent.get(trace.agent.lower(), 0.0) + trace.duration_ms
    engine = max([v for k, v in by_agent.items() if "analy" in k or "interview" in k] or [0.0])
    return {"engine_ms": engine, "guard_ms": by_agent.get("guardrail", 0.0),
            "retrieve_ms": sum(v for k, v in by_agent.items() if "retriev" in k)}


async def guardrail_cache_counts(guardrail_addr: str) -> dict[str, float] | None:
    """hiremesh_guardrail_pii_cache_total by result, from guardrail_svc's metrics port (gRPC port + 1000)."""
    host, port = guardrail_addr.rsplit(":", 1)
    url = f"http://{host}:{int(port) + 1000}/metrics"
    try:
        text = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read().decode())
    except OSError:
        return None
    counts = {"hit": 0.0, "miss": 0.0}
    for line in text.splitlines():
        if line.startswith("hiremesh_guardrail_pii_cache_total{"):
            result = line.split('result="', 1)[1].split('"', 1)[0]
            counts[result] = float(line.rsplit(" ", 1)[1])
    return counts


def cache_delta(before: dict[str, float] | None, after: dict[str, float] | None) -> dict[str, float] | None:
    if before is None or after is None:
        return None
    hit, miss = after["hit"] - before["hit"], after["miss"] - before["miss"]
    return {"hits": hit, "misses": miss, "hit_ratio": round(hit / (hit + miss), 3) if hit + miss else 0.0}


async def drop_database(base_url: str, database_url: str) -> None:
    import psycopg

    name = urllib.parse.urlsplit(database_url).path.lstrip("/") if "://" in database_url else \
        database_url.split("dbname=", 1)[1].split()[0]
    async with await psycopg.AsyncConnection.connect(base_url, autocommit=True) as conn:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def screen_once(stub: Any, job_id: str, candidate_id: str) -> dict[str, float]:
    started = time.perf_counter()
    last = None
    async for reply in stub.Screen(pb.ScreenRequest(candidate_id=candidate_id, job_id=job_id,
                                                    engine=pb.ENGINE_EVIDENCE), timeout=T):
        last = reply.event
    wall = (time.perf_counter() - started) * 1000
    assert last is not None and last.HasField("result"), "Screen ended without a result"
    return {"wall_ms": wall, **split_times(last.result)}


def summarize(samples: list[dict[str, float]]) -> dict[str, Any]:
    overhead = [s["wall_ms"] - s["engine_ms"] for s in samples]
    no_guard = [s["wall_ms"] - s["engine_ms"] - s["guard_ms"] for s in samples]
    return {
        "screenings": len(samples),
        "wall_ms_p50": pct([s["wall_ms"] for s in samples], 0.5),
        "wall_ms_p95": pct([s["wall_ms"] for s in samples], 0.95),
        "engine_ms_p50": pct([s["engine_ms"] for s in samples], 0.5),
        "guardrail_ms_p50": pct([s["guard_ms"] for s in samples], 0.5),
        "retrieval_ms_p50": pct([s["retrieve_ms"] for s in samples], 0.5),
        "overhead_ms_p50": pct(overhead, 0.5), "overhead_ms_p95": pct(overhead, 0.95),
        "overhead_ms_mean": statistics.fmean(overhead),
        "overhead_without_guardrail_ms_p50": pct(no_guard, 0.5),
    }


async def bench_sync(stub: Any, baseline: Any, job_id: str, cands: list[str], rounds: int,
                     concurrency: int) -> dict[str, Any]:
    """Sequential screenings alternating between `stub` (guardrail with its findings cache) and `baseline`
    (a guardrail with the cache off), then `rounds` screenings through `stub` with `concurrency` callers.

    Every measured screening is of a candidate not screened before (`cands` holds 6 + 3 x rounds): their
    summaries and evidence quotes are new to the guardrail; only the strings that truly repeat across a job's
    applicants (question templates per skill, verdict lines) can come from the cache."""
    assert len(cands) >= 6 + 3 * rounds
    for i in range(3):  # warm-up: connections, caches, spaCy in guardrail
        await screen_once(stub, job_id, cands[i])
        await screen_once(baseline, job_id, cands[3 + i])
    cached, uncached = [], []
    for i in range(rounds):
        cached.append(await screen_once(stub, job_id, cands[6 + 2 * i]))
        uncached.append(await screen_once(baseline, job_id, cands[7 + 2 * i]))
    out = summarize(cached)
    out["guardrail_cache_off"] = summarize(uncached)
    out["overhead_p50_ratio_cache_off_to_on"] = round(out["guardrail_cache_off"]["overhead_ms_p50"]
                                                      / out["overhead_ms_p50"], 2)
    sem = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with sem:
            await screen_once(stub, job_id, cands[6 + 2 * rounds + i])

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(rounds)))
    out["concurrency"] = concurrency
    out["screenings_per_s"] = rounds / (time.perf_counter() - started)
    return out


async def bench_queue(stub: Any, job_id: str, expected: int) -> dict[str, Any]:
    started = time.perf_counter()
    reply = await stub.SubmitBatchScreening(pb.SubmitBatchScreeningRequest(job_id=job_id,
                                                                           engine=pb.ENGINE_EVIDENCE), timeout=T)
    submitted = time.perf_counter() - started
    assert len(reply.tasks) == expected, f"{len(reply.tasks)} tasks for {expected} applications"

    async def finish(task_id: str) -> str:
        last = None
        async for r in stub.WatchScreeningTask(pb.WatchScreeningTaskRequest(id=task_id), timeout=600):
            last = r.event
        assert last is not None
        return pb.TaskState.Name(last.state)

    states = await asyncio.gather(*(finish(t.id) for t in reply.tasks))
    elapsed = time.perf_counter() - started
    return {"tasks": expected, "submit_ms": submitted * 1000, "seconds": elapsed,
            "tasks_per_s": expected / elapsed, "succeeded": states.count("TASK_STATE_SUCCEEDED")}


async def bench_queue_only(database_url: str, tasks: int) -> dict[str, Any]:
    """The queue mechanism alone: 2 workers, a job body that only records stages and a result."""
    from hiremesh.db import migrate, open_pool
    from screening_svc.config import ScreeningConfig
    from screening_svc.queue import ScreeningQueue, ensure_schema
    from screening_svc.tasks import NewResult, TaskRecord, TaskSpec, TaskStore

    os.environ.update({"HIREMESH_DATABASE_URL": database_url, "HIREMESH_SCREENING_WORKERS": "2",
                       "HIREMESH_SCREENING_POLL_S": "0.5"})
    await migrate(database_url, "screening", REPO / "screening_svc" / "migrations")
    await ensure_schema(database_url)
    pool = await open_pool(database_url, min_size=1, max_size=8)
    store = TaskStore(pool)
    done = asyncio.Event()
    finished = 0

    async def body(task: TaskRecord) -> None:
        nonlocal finished
        for stage in ("retrieving", "analyzing", "interviewing", "guarding"):
            await store.progress(task.id, stage, 50, stage)
        await store.complete(task.id, NewResult(task.candidate_id, task.job_id, "", "evidence", "bench", "",
                                                {"match_score": 50}, False, "", {}, True, 0, 0, 0.0, False))
        finished += 1
        if finished == tasks:
            done.set()

    queue = ScreeningQueue(ScreeningConfig.from_env(), store, pool, body)
    await queue.open()
    try:
        created = await store.create([TaskSpec(str(uuid.uuid4()), str(uuid.uuid4()), "", "evidence", 0)
                                      for _ in range(tasks)])
        await queue.defer(created, 0)
        started = time.perf_counter()
        queue.start_background(worker=True)
        await asyncio.wait_for(done.wait(), 600)
        elapsed = time.perf_counter() - started
    finally:
        await queue.close()
        await pool.close()
    return {"tasks": tasks, "seconds": elapsed, "tasks_per_s": tasks / elapsed}


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rounds, batch, queue_only = (10, 10, 50) if args.quick else (60, 40, 400)

    base_url = os.environ["HIREMESH_DATABASE_URL"]
    search_addr, guardrail_addr = service_addr("search"), service_addr("guardrail")
    job_id, cands = await make_catalog(search_addr, 6 + 3 * rounds)
    queue_job_id, queue_cands = await make_catalog(search_addr, batch)
    cache_before = await guardrail_cache_counts(guardrail_addr)
    screening_db = await new_database(base_url, "bench_screening")
    # The baseline: the same screening_svc code against a guardrail_svc whose findings cache is off.
    plain_guardrail = await spawn_service("guardrail_svc", free_port(),
                                          {**os.environ, "HIREMESH_GUARDRAIL_PII_CACHE": "0",
                                           "HIREMESH_METRICS_PORT": "-1"}, "hiremesh.v1.GuardrailService")
    procs = [plain_guardrail]
    try:
        procs.append(await spawn_service("screening_svc", free_port(),
                                         screening_env(screening_db, search_addr, guardrail_addr,
                                                       HIREMESH_SCREENING_WORKERS="2"), SCREENING_HEALTH))
        procs.append(await spawn_service("screening_svc", free_port(),
                                         screening_env(screening_db, search_addr, plain_guardrail.addr,
                                                       HIREMESH_SCREENING_WORKERS="0",
                                                       HIREMESH_METRICS_PORT="-1"), SCREENING_HEALTH))
        stub, baseline = screening_stub(procs[1].addr), screening_stub(procs[2].addr)
        sync = await bench_sync(stub, baseline, job_id, cands, rounds, concurrency=4)
        sync["guardrail_pii_cache"] = cache_delta(cache_before, await guardrail_cache_counts(guardrail_addr))
        queued = await bench_queue(stub, queue_job_id, len(queue_cands))
    finally:
        for proc in reversed(procs):
            await proc.stop()
        await drop_database(base_url, screening_db)
    queue_db = await new_database(base_url, "bench_queue")
    try:
        mechanism = await bench_queue_only(queue_db, queue_only)
    finally:
        await drop_database(base_url, queue_db)
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
              "screen": sync, "queue_pipeline": queued, "queue_only": mechanism}
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
