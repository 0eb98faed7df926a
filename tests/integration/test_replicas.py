"""Two replicas of search_svc and of embedding_svc behind one multi-address target: calls spread over both
and keep succeeding when one replica of each is SIGKILLed."""

from __future__ import annotations

import asyncio
import re
import signal
import urllib.request

from hiremesh.clients import search_stub
from hiremesh.config import HEALTH_NAMES
from hiremesh.v1 import common_pb2, search_pb2
from tests.fixtures.procs import ServiceProcess, free_port, spawn_service


def _calls(proc: ServiceProcess, method: str) -> float:
    """Successful calls of `method` counted by the replica's own metrics endpoint."""
    url = f"http://127.0.0.1:{proc.metrics_port}/metrics"
    body = urllib.request.urlopen(url, timeout=5).read().decode()
    pattern = rf'hiremesh_grpc_requests_total\{{code="OK",method="{re.escape(method)}",service="[a-z]+"\}} (\S+)'
    match = re.search(pattern, body)
    return float(match.group(1)) if match else 0.0


def _target(procs: list[ServiceProcess]) -> str:
    # gRPC's static resolver: every address is a subchannel, balanced round-robin by hiremesh.clients.
    return "ipv4:" + ",".join(p.addr for p in procs)


async def test_calls_spread_over_replicas_and_survive_a_replica_death(module_db_url: str) -> None:
    embed = await asyncio.gather(
        *(spawn_service("embedding_svc", free_port(), {}, HEALTH_NAMES["embedding"]) for _ in range(2))
    )
    search_env = {"HIREMESH_DATABASE_URL": module_db_url, "HIREMESH_EMBEDDING_ADDR": _target(list(embed))}
    first = await spawn_service("search_svc", free_port(), search_env, HEALTH_NAMES["search"])
    second = await spawn_service("search_svc", free_port(), search_env, HEALTH_NAMES["search"])
    searches = [first, second]
    everyone = [*embed, *searches]
    try:
        stub = search_stub(_target(searches))

        async def create(i: int) -> None:
            job = search_pb2.Job(
                title=f"Platform engineer {i}",
                description="Kubernetes, Go and PostgreSQL at scale",
                status=common_pb2.JOB_STATUS_OPEN,
            )
            reply = await stub.CreateJob(search_pb2.CreateJobRequest(job=job), timeout=60)
            assert reply.job.id and not reply.job.embedding_stale

        for i in range(12):
            await create(i)
        create_job = "/hiremesh.v1.SearchService/CreateJob"
        embed_call = "/hiremesh.v1.EmbeddingService/Embed"
        per_search = [await asyncio.to_thread(_calls, p, create_job) for p in searches]
        per_embed = [await asyncio.to_thread(_calls, p, embed_call) for p in embed]
        assert all(n >= 3 for n in per_search), per_search
        assert all(n >= 1 for n in per_embed), per_embed
        assert sum(per_search) == 12

        # Kill one replica of each tier without warning; every later call must still succeed.
        await first.stop(signal.SIGKILL)
        await embed[0].stop(signal.SIGKILL)
        for i in range(12, 24):
            await create(i)
        assert await asyncio.to_thread(_calls, second, create_job) >= per_search[1] + 12
    finally:
        for proc in everyone:
            proc.kill()
