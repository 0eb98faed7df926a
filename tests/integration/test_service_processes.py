"""Every service as a real process: health, reflection, per-method metrics, clean SIGTERM, bad config."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from hiremesh.clients import channel
from hiremesh.config import HEALTH_NAMES
from hiremesh_ops.probe import check
from tests.fixtures.procs import REPO, free_port, spawn_service


async def _reflected_services(addr: str) -> list[str]:
    async with channel(addr) as chan:
        stub = reflection_pb2_grpc.ServerReflectionStub(chan)
        call = stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
        async for reply in call:
            return [s.name for s in reply.list_services_response.service]
    return []


async def _check_process(service: str, env: dict[str, str]) -> None:
    """Health SERVING, reflection lists the service, per-method metrics, then SIGTERM -> exit 0."""
    health_name = HEALTH_NAMES[service]
    # Reflection is opt-in outside `hiremesh up`: turned on here to check it works when asked for.
    proc = await spawn_service(f"{service}_svc", free_port(), {**env, "HIREMESH_GRPC_REFLECTION": "true"}, health_name)
    try:
        assert await check(proc.addr, health_name) == "SERVING"
        assert await check(proc.addr, "") == "SERVING"
        assert health_name in await _reflected_services(proc.addr)

        url = f"http://127.0.0.1:{proc.metrics_port}/metrics"
        body = await asyncio.to_thread(lambda: urllib.request.urlopen(url, timeout=5).read().decode())
        assert 'method="/grpc.health.v1.Health/Check"' in body
        assert f'service="{service}"' in body

        started = time.monotonic()
        code = await proc.stop(signal.SIGTERM, timeout=30)
        assert code == 0, proc.log_tail()
        assert time.monotonic() - started < 30
    finally:
        proc.kill()


async def test_embedding_process() -> None:
    await _check_process("embedding", {})


async def test_guardrail_process() -> None:
    await _check_process("guardrail", {})


async def test_search_process(module_db_url: str, embedding_addr: str) -> None:
    await _check_process("search", {"HIREMESH_DATABASE_URL": module_db_url, "HIREMESH_EMBEDDING_ADDR": embedding_addr})


async def test_analytics_process(module_db_url: str, tmp_path: Path) -> None:
    await _check_process("analytics", {"HIREMESH_DATABASE_URL": module_db_url, "HIREMESH_HOME": str(tmp_path)})


async def test_screening_process(
    module_db_url: str, embedding_addr: str, search_addr: str, guardrail_addr: str
) -> None:
    await _check_process(
        "screening",
        {
            "HIREMESH_DATABASE_URL": module_db_url,
            "HIREMESH_SCREENING_ENGINE": "evidence",
            "HIREMESH_EMBEDDING_ADDR": embedding_addr,
            "HIREMESH_SEARCH_ADDR": search_addr,
            "HIREMESH_GUARDRAIL_ADDR": guardrail_addr,
        },
    )


async def test_gateway_process_healthz_and_sigterm(module_db_url: str, tmp_path: Path) -> None:
    port = free_port()
    env = {"HIREMESH_DATABASE_URL": module_db_url, "HIREMESH_GATEWAY_PORT": str(port), "HIREMESH_HOME": str(tmp_path)}
    from tests.fixtures.procs import start_process

    proc = start_process("gateway", port, env)
    try:
        deadline = time.monotonic() + 120
        status = 0
        while time.monotonic() < deadline and proc.alive():
            try:
                status = await asyncio.to_thread(
                    lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status
                )
                break
            except OSError:
                await asyncio.sleep(0.3)
        assert status == 200, proc.log_tail()
        assert await proc.stop(signal.SIGTERM, timeout=30) == 0, proc.log_tail()
    finally:
        proc.kill()


@pytest.mark.parametrize("service", ["embedding", "guardrail", "search", "screening", "analytics", "gateway"])
def test_bad_config_value_exits_non_zero_naming_the_variable(service: str) -> None:
    module = service if service == "gateway" else f"{service}_svc"
    variable = f"HIREMESH_{service.upper()}_PORT"
    result = subprocess.run(
        [sys.executable, "-m", module],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", variable: "not-a-port", "HIREMESH_DATABASE_URL": "postgresql://127.0.0.1:1/x"},
    )
    assert result.returncode != 0
    assert variable in result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
