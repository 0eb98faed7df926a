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
import random
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
    job = (
        await search.CreateJob(
            search_pb2.CreateJobRequest(
                job=search_pb2.Job(
                    title=f"Platform Engineer {tag}",
                    company="Bench",
                    location="Remote",
                    min_experience=3,
                    description=(
                        "Operate Kubernetes and PostgreSQL; write Python and Go services; gRPC, Kafka, Terraform."
                    ),
                    required_skills=["Python", "Kubernetes", "PostgreSQL", "Terraform"],
                )
            ),
            timeout=T,
        )
    ).job
    cands = []
    for i in range(candidates):
        skills = [SKILLS[(i + k) % len(SKILLS)] for k in range(4)]
        text = (
            f"Engineer {tag}-{i}. {3 + i % 8} years building backend systems with {', '.join(skills)}. "
            "Led migrations, on-call rotations, observability with Prometheus and Grafana."
        )
        cand = (
            await search.CreateCandidate(
                search_pb2.CreateCandidateRequest(
                    candidate=search_pb2.Candidate(
                        name=f"Engineer {tag}-{i}", years_experience=3 + i % 8, skills=skills
                    ),
                    resume=search_pb2.ResumeFile(file_name=f"r{i}.txt", media_type="text/plain", content=text.encode()),
                ),
                timeout=T,
            )
        ).candidate
        await search.CreateApplication(
            search_pb2.CreateApplicationRequest(
                application=search_pb2.Application(candidate_id=cand.id, job_id=job.id)
            ),
            timeout=T,
        )
        cands.append(cand.id)
    return job.id, cands


def split_times(result: pb.ScreeningResult) -> dict[str, float]:
    by_agent: dict[str, float] = {}
    for trace in result.traces:
        by_agent[trace.agent.lower()] = by_agent.get(trace.agent.lower(), 0.0) + trace.duration_ms
    engine = max([v for k, v in by_agent.items() if "analy" in k or "interview" in k] or [0.0])
    return {
        "engine_ms": engine,
        "guard_ms": by_agent.get("guardrail", 0.0),
        "retrieve_ms": sum(v for k, v in by_agent.items() if "retriev" in k),
    }


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

    name = (
        urllib.parse.urlsplit(database_url).path.lstrip("/")
        if "://" in database_url
        else database_url.split("dbname=", 1)[1].split()[0]
    )
    async with await psycopg.AsyncConnection.connect(base_url, autocommit=True) as conn:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def screen_once(stub: Any, job_id: str, candidate_id: str, engine: pb.Engine.ValueType) -> dict[str, float]:
    started = time.perf_counter()
    last = None
    async for reply in stub.Screen(
        pb.ScreenRequest(candidate_id=candidate_id, job_id=job_id, engine=engine), timeout=T
    ):
        last = reply.event
    wall = (time.perf_counter() - started) * 1000
    assert last is not None and last.HasField("result"), "Screen ended without a result"
    return {"wall_ms": wall, **split_times(last.result)}


# How long the scripted LLM takes per call: the interviewer's shorter answer comes first, as with a real model.
LLM_DELAYS = {"analysis": 0.5, "questions": 0.25}
WORDS = [
    "Lisbon",
    "Toronto",
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Kafka",
    "Postgres",
    "Terraform",
    "pipelines",
    "migrations",
    "latency",
    "on-call",
    "mentoring",
]


class ScriptedLLM:
    """An OpenAI-compatible server answering every call with new, LLM-shaped text (never the same string
    twice), so the guardrail's cache cannot answer for it: tests.fixtures.llm.FakeOpenAI with a responder."""

    def __init__(self) -> None:
        from tests.fixtures.llm import FakeOpenAI, Reply

        self._reply = Reply
        self.server = FakeOpenAI()
        self.server.responder = self._respond
        self._rng = random.Random(11)
        self._n = 0

    @property
    def base_url(self) -> str:
        return self.server.base_url

    async def start(self) -> None:
        await self.server.start()

    async def stop(self) -> None:
        await self.server.stop()

    def _phrase(self) -> str:
        self._n += 1
        a, b, c = self._rng.sample(WORDS, 3)
        return f"work {self._n} with {a}, {b} and {c}"

    def _questions(self) -> list[dict[str, str]]:
        return [
            {
                "question": f"Walk us through your {self._phrase()}: what would you change today?",
                "rationale": f"probes {self._phrase()}",
                "skill": "Kafka",
            }
            for _ in range(5)
        ]

    def _respond(self, body: dict[str, Any]) -> Any:
        system = body["messages"][0]["content"]
        if "interviewer" in system:
            return self._reply(json.dumps({"interview_questions": self._questions()}), delay=LLM_DELAYS["questions"])
        analysis = {
            "match_score": self._rng.randint(40, 90),
            "summary": f"Solid backend engineer; {self._phrase()}. Led {self._phrase()}.",
            "strengths": [f"Shipped {self._phrase()}", f"Owned {self._phrase()}"],
            "weaknesses": [f"Little {self._phrase()}"],
            "missing_skills": ["Terraform"],
            "interview_questions": self._questions(),
        }
        return self._reply(json.dumps(analysis), delay=LLM_DELAYS["analysis"])


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
        "overhead_ms_p50": pct(overhead, 0.5),
        "overhead_ms_p95": pct(overhead, 0.95),
        "overhead_ms_mean": statistics.fmean(overhead),
        "overhead_without_guardrail_ms_p50": pct(no_guard, 0.5),
    }


async def bench_sync(
    variants: dict[str, Any], engine: pb.Engine.ValueType, job_id: str, cands: list[str], rounds: int, concurrency: int
) -> dict[str, Any]:
    """Sequential screenings alternating between the `variants` (screening_svc stubs; the first is the shipped
    setup, the others its baselines), then `rounds` screenings through the first with `concurrency` callers.

    Every measured screening is of a candidate not screened before (`cands` holds (3 + rounds) x variants +
    rounds): their summaries and evidence quotes are new to the guardrail; only the strings that truly repeat
    across a job's applicants (question templates per skill, verdict lines) can come from its cache."""
    names = list(variants)
    assert len(cands) >= (3 + rounds) * len(names) + rounds
    pending = iter(cands)
    for _ in range(3):  # warm-up: connections, caches, spaCy in guardrail
        for name in names:
            await screen_once(variants[name], job_id, next(pending), engine)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for _ in range(rounds):
        for name in names:
            samples[name].append(await screen_once(variants[name], job_id, next(pending), engine))
    out = summarize(samples[names[0]])
    for name in names[1:]:
        out[name] = summarize(samples[name])
        out[f"overhead_p50_ratio_{name}_to_shipped"] = round(out[name]["overhead_ms_p50"] / out["overhead_ms_p50"], 2)
    sem = asyncio.Semaphore(concurrency)
    rest = [next(pending) for _ in range(rounds)]

    async def one(i: int) -> None:
        async with sem:
            await screen_once(variants[names[0]], job_id, rest[i], engine)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(rounds)))
    out["concurrency"] = concurrency
    out["screenings_per_s"] = rounds / (time.perf_counter() - started)
    return out


async def bench_queue(stub: Any, job_id: str, expected: int) -> dict[str, Any]:
    started = time.perf_counter()
    reply = await stub.SubmitBatchScreening(
        pb.SubmitBatchScreeningRequest(job_id=job_id, engine=pb.ENGINE_EVIDENCE), timeout=T
    )
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
    return {
        "tasks": expected,
        "submit_ms": submitted * 1000,
        "seconds": elapsed,
        "tasks_per_s": expected / elapsed,
        "succeeded": states.count("TASK_STATE_SUCCEEDED"),
    }


async def bench_queue_only(database_url: str, tasks: int) -> dict[str, Any]:
    """The queue mechanism alone: 2 workers, a job body that only records stages and a result."""
    from hiremesh.db import migrate, open_pool
    from screening_svc.config import ScreeningConfig
    from screening_svc.queue import ScreeningQueue, ensure_schema
    from screening_svc.tasks import NewResult, TaskRecord, TaskSpec, TaskStore

    os.environ.update(
        {"HIREMESH_DATABASE_URL": database_url, "HIREMESH_SCREENING_WORKERS": "2", "HIREMESH_SCREENING_POLL_S": "0.5"}
    )
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
        await store.complete(
            task.id,
            NewResult(
                task.candidate_id,
                task.job_id,
                "",
                "evidence",
                "bench",
                "",
                {"match_score": 50},
                False,
                "",
                {},
                True,
                0,
                0,
                0.0,
                False,
            ),
        )
        finished += 1
        if finished == tasks:
            done.set()

    queue = ScreeningQueue(ScreeningConfig.from_env(), store, pool, body)
    await queue.open()
    try:
        created = await store.create(
            [TaskSpec(str(uuid.uuid4()), str(uuid.uuid4()), "", "evidence", 0) for _ in range(tasks)]
        )
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
    parser.add_argument(
        "--engine",
        choices=("evidence", "llm"),
        default="evidence",
        help="llm: LLM-written results from a scripted OpenAI-compatible server (see LLM_DELAYS)",
    )
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    rounds, batch, queue_only = (10, 10, 50) if args.quick else (60, 40, 400)
    llm = args.engine == "llm"

    base_url = os.environ["HIREMESH_DATABASE_URL"]
    search_addr, guardrail_addr = service_addr("search"), service_addr("guardrail")
    variant_names = ["shipped", "early_scan_off", "guardrail_cache_off"] if llm else ["shipped", "guardrail_cache_off"]
    job_id, cands = await make_catalog(search_addr, (3 + rounds) * len(variant_names) + rounds)
    queue_job_id, queue_cands = await make_catalog(search_addr, batch)
    cache_before = await guardrail_cache_counts(guardrail_addr)
    screening_db = await new_database(base_url, "bench_screening")
    fake = ScriptedLLM() if llm else None
    extra: dict[str, str] = {}
    if fake is not None:
        await fake.start()
        extra = {
            "HIREMESH_SCREENING_ENGINE": "llm",
            "HIREMESH_LLM_BASE_URL": fake.base_url,
            "HIREMESH_LLM_MODEL": "fake-model",
        }
    # A baseline: the same screening_svc code against a guardrail_svc whose findings cache is off.
    plain_guardrail = await spawn_service(
        "guardrail_svc",
        free_port(),
        {**os.environ, "HIREMESH_GUARDRAIL_PII_CACHE": "0", "HIREMESH_METRICS_PORT": "-1"},
        "hiremesh.v1.GuardrailService",
    )
    procs = [plain_guardrail]
    queued: dict[str, Any] | None = None
    try:
        variants: dict[str, Any] = {}
        for name in variant_names:
            env = screening_env(
                screening_db,
                search_addr,
                plain_guardrail.addr if name == "guardrail_cache_off" else guardrail_addr,
                HIREMESH_SCREENING_WORKERS="2" if name == "shipped" else "0",
                HIREMESH_SCREENING_EARLY_SCAN="0" if name == "early_scan_off" else "1",
                **extra,
                **({} if name == "shipped" else {"HIREMESH_METRICS_PORT": "-1"}),
            )
            procs.append(await spawn_service("screening_svc", free_port(), env, SCREENING_HEALTH))
            variants[name] = screening_stub(procs[-1].addr)
        engine = pb.ENGINE_LLM if llm else pb.ENGINE_EVIDENCE
        sync = await bench_sync(variants, engine, job_id, cands, rounds, concurrency=4)
        sync["guardrail_pii_cache"] = cache_delta(cache_before, await guardrail_cache_counts(guardrail_addr))
        if not llm:  # the queue figures are the evidence engine's throughput
            queued = await bench_queue(variants["shipped"], queue_job_id, len(queue_cands))
    finally:
        for proc in reversed(procs):
            await proc.stop()
        if fake is not None:
            await fake.stop()
        await drop_database(base_url, screening_db)
    report: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "engine": args.engine,
        "screen": sync,
    }
    if llm:
        report["llm_delays_s"] = LLM_DELAYS
    else:
        queue_db = await new_database(base_url, "bench_queue")
        try:
            report["queue_only"] = await bench_queue_only(queue_db, queue_only)
        finally:
            await drop_database(base_url, queue_db)
        report["queue_pipeline"] = queued
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
