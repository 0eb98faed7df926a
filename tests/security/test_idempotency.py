"""Issue 17 item 3: a retry never writes twice.

A real SearchServicer on a real database answers behind an interceptor that, after the handler committed,
throws the reply away and answers UNAVAILABLE, as a dropped connection would. hiremesh.clients retries
creates (they carry an AIP-155 request id it fills in) and the retry is answered with the row the first
attempt made; updates and deletes are not retried at all.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import grpc
import psycopg
import pytest
import pytest_asyncio
from google.protobuf import field_mask_pb2

from hiremesh.clients import embedding_stub, screening_stub, search_stub
from hiremesh.db import migrate, open_pool
from hiremesh.server import MeshServer
from hiremesh.v1 import screening_pb2, search_pb2, search_pb2_grpc
from search_svc.applications import Applications
from search_svc.candidates import Candidates
from search_svc.embedder import Embedder
from search_svc.jobs import Jobs
from search_svc.mail_templates import DEFAULT_PATH, Templates
from search_svc.outbox import Outbox
from search_svc.parse_pool import InlineParser
from search_svc.ranking import Ranker
from search_svc.reembed import Reembedder
from search_svc.servicer import SERVICE_NAME, Backend, SearchServicer
from tests.fixtures.mesh import Mesh

MIGRATIONS = Path(__file__).resolve().parents[2] / "search_svc" / "migrations"


# grpc's interceptor classes are generic only in grpc-stubs (not subscriptable at run time): bare as a base.
class FailAfterCommit(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Runs the handler, then (while `budget[method]` lasts) drops its reply and answers UNAVAILABLE."""

    def __init__(self) -> None:
        self.budget: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(details)
        name = details.method.rsplit("/", 1)[-1]
        if handler is None or handler.unary_unary is None:
            return handler
        # grpc-stubs types handlers for the sync server; under grpc.aio they take an aio context, return awaitables
        inner: Callable[..., Any] = handler.unary_unary

        async def lossy(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            self.calls[name] += 1
            reply = await inner(request, context)  # committed
            if self.budget[name] > 0:
                self.budget[name] -= 1
                await context.abort(grpc.StatusCode.UNAVAILABLE, "connection lost after the commit")
            return reply

        return grpc.unary_unary_rpc_method_handler(
            lossy, request_deserializer=handler.request_deserializer, response_serializer=handler.response_serializer
        )


@dataclass
class Flaky:
    addr: str
    db_url: str
    lossy: FailAfterCommit
    stub: Any = field(default=None)

    def count(self, query: str, *params: object) -> int:
        with psycopg.connect(self.db_url) as conn:
            row = conn.execute(query, params).fetchone()
        assert row is not None
        return int(row[0])


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def flaky(
    module_db_url: str, embedding_addr: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Flaky]:
    await migrate(module_db_url, "catalog", MIGRATIONS)
    pool = await open_pool(module_db_url, max_size=4)
    embedder = Embedder(embedding_stub(embedding_addr), timeout=20, batch=64)
    # The creates under test carry fields, not files: parsing in this process is enough (no worker pool).
    candidates, jobs = Candidates(pool, embedder, InlineParser()), Jobs(pool, embedder)
    outbox = Outbox(pool, Templates.load(DEFAULT_PATH))  # a new application writes its e-mail (issue 18)
    servicer = SearchServicer()
    servicer.attach(
        Backend(
            candidates,
            jobs,
            Applications(pool, outbox),
            outbox,
            Ranker(pool, embedder),
            Reembedder(candidates, jobs),
            tmp_path_factory.mktemp("imports"),
        )
    )
    lossy = FailAfterCommit()
    # The shared server (service token, error mapping) with the lossy step between them and the servicer.
    server = MeshServer("search-flaky", 0, [SERVICE_NAME], metrics_port=-1, interceptors=[lossy])
    search_pb2_grpc.add_SearchServiceServicer_to_server(servicer, server.grpc)
    port = await server.start()
    server.set_serving(True)
    try:
        yield Flaky(f"127.0.0.1:{port}", module_db_url, lossy, search_stub(f"127.0.0.1:{port}"))
    finally:
        await server.stop(0)
        await pool.close()


async def test_a_create_job_retried_after_its_commit_creates_one_row(flaky: Flaky) -> None:
    title = f"Retried Platform Engineer {uuid.uuid4().hex[:8]}"
    flaky.lossy.budget["CreateJob"] = 1
    reply = await flaky.stub.CreateJob(search_pb2.CreateJobRequest(job=search_pb2.Job(title=title)), timeout=60)
    assert flaky.lossy.calls["CreateJob"] == 2  # the first attempt committed, its reply was lost, gRPC retried
    assert flaky.count("SELECT count(*) FROM catalog.jobs WHERE title = %s", title) == 1
    assert flaky.count("SELECT count(*) FROM catalog.jobs WHERE id = %s", reply.job.id) == 1


async def test_a_create_candidate_retried_after_its_commit_creates_one_row(flaky: Flaky) -> None:
    email = f"retry-{uuid.uuid4().hex[:8]}@example.org"
    flaky.lossy.budget["CreateCandidate"] = 2
    reply = await flaky.stub.CreateCandidate(
        search_pb2.CreateCandidateRequest(
            candidate=search_pb2.Candidate(name="Rita Retry", email=email, skills=["Go"])
        ),
        timeout=60,
    )
    assert flaky.lossy.calls["CreateCandidate"] == 3
    assert flaky.count("SELECT count(*) FROM catalog.candidates WHERE email = %s", email) == 1
    assert not reply.deduplicated  # the answer the first attempt would have had


async def test_a_create_application_retried_after_its_commit_is_not_a_conflict(flaky: Flaky) -> None:
    job = (await flaky.stub.CreateJob(search_pb2.CreateJobRequest(job=search_pb2.Job(title="Any")), timeout=60)).job
    cand = (
        await flaky.stub.CreateCandidate(
            search_pb2.CreateCandidateRequest(candidate=search_pb2.Candidate(name="Apply Once")), timeout=60
        )
    ).candidate
    flaky.lossy.budget["CreateApplication"] = 1
    reply = await flaky.stub.CreateApplication(
        search_pb2.CreateApplicationRequest(application=search_pb2.Application(candidate_id=cand.id, job_id=job.id)),
        timeout=60,
    )
    assert reply.application.candidate_id == cand.id  # not ALREADY_EXISTS from its own first attempt
    assert flaky.count("SELECT count(*) FROM catalog.applications WHERE job_id = %s", job.id) == 1


async def test_updates_and_deletes_are_not_retried(flaky: Flaky) -> None:
    job = (await flaky.stub.CreateJob(search_pb2.CreateJobRequest(job=search_pb2.Job(title="Once")), timeout=60)).job
    flaky.lossy.calls.clear()
    flaky.lossy.budget["UpdateJob"] = 1
    with pytest.raises(grpc.aio.AioRpcError) as lost:
        await flaky.stub.UpdateJob(
            search_pb2.UpdateJobRequest(
                job=search_pb2.Job(id=job.id, title="Twice?"), update_mask=field_mask_pb2.FieldMask(paths=["title"])
            ),
            timeout=60,
        )
    assert lost.value.code() == grpc.StatusCode.UNAVAILABLE and flaky.lossy.calls["UpdateJob"] == 1
    flaky.lossy.budget["DeleteJob"] = 1
    with pytest.raises(grpc.aio.AioRpcError):
        await flaky.stub.DeleteJob(search_pb2.DeleteJobRequest(id=job.id), timeout=60)
    assert flaky.lossy.calls["DeleteJob"] == 1
    # Reads are retried: a lost reply costs nothing but the retry.
    flaky.lossy.budget["ListJobs"] = 1
    await flaky.stub.ListJobs(search_pb2.ListJobsRequest(page_size=1), timeout=60)
    assert flaky.lossy.calls["ListJobs"] == 2


async def test_a_request_id_answers_with_what_it_created(flaky: Flaky) -> None:
    rid = str(uuid.uuid4())
    first = await flaky.stub.CreateJob(
        search_pb2.CreateJobRequest(job=search_pb2.Job(title="Keyed"), request_id=rid), timeout=60
    )
    again = await flaky.stub.CreateJob(
        search_pb2.CreateJobRequest(job=search_pb2.Job(title="Keyed, changed"), request_id=rid), timeout=60
    )
    other = await flaky.stub.CreateJob(search_pb2.CreateJobRequest(job=search_pb2.Job(title="Keyed")), timeout=60)
    assert again.job.id == first.job.id and again.job.title == "Keyed" and other.job.id != first.job.id
    # Two attempts racing each other still make one row (the id is locked while it is checked and stored).
    rid = str(uuid.uuid4())
    raced = await asyncio.gather(
        *(
            flaky.stub.CreateJob(
                search_pb2.CreateJobRequest(job=search_pb2.Job(title=f"Raced {rid}"), request_id=rid), timeout=60
            )
            for _ in range(6)
        )
    )
    assert len({r.job.id for r in raced}) == 1
    assert flaky.count("SELECT count(*) FROM catalog.jobs WHERE title = %s", f"Raced {rid}") == 1
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await flaky.stub.CreateJob(
            search_pb2.CreateJobRequest(job=search_pb2.Job(title="x"), request_id="a b/../"), timeout=60
        )
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "request_id" in (bad.value.details() or "")


async def test_submit_screening_with_a_request_id_queues_one_task(search_addr: str, screening_addr: str) -> None:
    search = search_stub(search_addr)
    job = (
        await search.CreateJob(search_pb2.CreateJobRequest(job=search_pb2.Job(title="Screened Once")), timeout=60)
    ).job
    cand = (
        await search.CreateCandidate(
            search_pb2.CreateCandidateRequest(
                candidate=search_pb2.Candidate(name="Sam Screen", resume_text="Python developer, 5 years.")
            ),
            timeout=60,
        )
    ).candidate
    app = (
        await search.CreateApplication(
            search_pb2.CreateApplicationRequest(
                application=search_pb2.Application(candidate_id=cand.id, job_id=job.id)
            ),
            timeout=60,
        )
    ).application
    screening = screening_stub(screening_addr)
    rid = str(uuid.uuid4())
    replies = await asyncio.gather(
        *(
            screening.SubmitScreening(
                screening_pb2.SubmitScreeningRequest(application_id=app.id, request_id=rid), timeout=60
            )
            for _ in range(4)
        )
    )
    assert len({r.task.id for r in replies}) == 1
    other = await screening.SubmitScreening(screening_pb2.SubmitScreeningRequest(application_id=app.id), timeout=60)
    assert other.task.id != replies[0].task.id


async def test_idempotency_key_header_over_rest(mesh: Mesh) -> None:
    key = str(uuid.uuid4())
    title = f"REST keyed {key[:8]}"
    ids = []
    async with aiohttp.ClientSession() as http:
        for _ in range(3):
            async with http.post(
                f"{mesh.url}/api/v1/jobs",
                json={"title": title},
                headers={**mesh.headers("recruiter"), "Idempotency-Key": key},
            ) as resp:
                assert resp.status == 201, await resp.text()
                ids.append((await resp.json())["job"]["id"])
        async with http.post(
            f"{mesh.url}/api/v1/jobs",
            json={"title": title},
            headers={**mesh.headers("recruiter"), "Idempotency-Key": "not a key!"},
        ) as resp:
            assert resp.status == 400 and "Idempotency-Key" in (await resp.json())["message"]
        async with http.get(f"{mesh.url}/api/v1/jobs?page_size=500", headers=mesh.headers()) as resp:
            listed = [j for j in (await resp.json())["jobs"] if j["title"] == title]
    assert len(set(ids)) == 1 and len(listed) == 1
