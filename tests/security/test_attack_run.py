"""The scripted attack run of issue 17's Targets, against a mesh started by `hiremesh up` on free ports.

`hiremesh up` gets no credential from its environment: it must create the service token itself. Then,
from the outside: every RPC without the credential is refused (health and probes still work), no
placeholder secret mints a working admin JWT, nested JSON / multipart bombs / chunked bodies are 4xx,
the embedded PostgreSQL wants its password, a revoked user's JWT and WebSocket stop within the cache
time, a repeated create makes one row, and 1,000 random API keys in a burst from one address are
throttled before the database.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import signal
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import grpc
import psycopg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.tokens import Role, issue_jwt
from hiremesh.config import HEALTH_NAMES
from hiremesh.service_auth import HEADER
from hiremesh.v1 import search_pb2
from tests.fixtures.procs import REPO, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

SERVICES = ("embedding", "search", "screening", "guardrail", "analytics")
PROBE_CALLS = {
    "embedding": "/hiremesh.v1.EmbeddingService/GetModelInfo",
    "search": "/hiremesh.v1.SearchService/ListCandidates",
    "screening": "/hiremesh.v1.ScreeningService/ListScreeningResults",
    "guardrail": "/hiremesh.v1.GuardrailService/Redact",
    "analytics": "/hiremesh.v1.AnalyticsService/GetReport",
}
PLACEHOLDER_SECRETS = ["change-me", "change-me-to-64-random-bytes", "changeme", "secret", "hiremesh", ""]


@dataclass
class Up:
    home: Path
    ports: dict[str, int]
    env: dict[str, str]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['GATEWAY']}"

    def addr(self, service: str) -> str:
        return f"127.0.0.1:{self.ports[service.upper()]}"

    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {(self.home / 'admin-token').read_text().strip()}"}

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "hiremesh_ops.cli", *args],
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()


@pytest.fixture(scope="module")
def up() -> Iterator[Up]:
    home = Path(tempfile.mkdtemp(prefix="hiremesh-attack-", dir="/tmp"))
    home.chmod(0o755)
    ports = {
        name: free_port() for name in ("EMBEDDING", "SEARCH", "SCREENING", "GUARDRAIL", "ANALYTICS", "GATEWAY", "PG")
    }
    env = {
        **os.environ,
        "HIREMESH_HOME": str(home),
        "HIREMESH_SCREENING_ENGINE": "evidence",
        "HIREMESH_MODEL_DIR": os.environ.get("HIREMESH_MODEL_DIR", str(REPO / ".hiremesh" / "models")),
        "HIREMESH_GATEWAY_AUTH_CACHE_SECONDS": "1",
        **{f"HIREMESH_{k}_PORT": str(v) for k, v in ports.items()},
    }
    for name in (
        "HIREMESH_DATABASE_URL",
        "HIREMESH_SERVICE_TOKEN",
        "HIREMESH_SERVICE_TOKEN_FILE",
        "HIREMESH_GATEWAY_JWT_SECRET",
        "HIREMESH_METRICS_PORT",
    ):
        env.pop(name, None)
    out = open(home / "up.out", "w+b")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hiremesh_ops.cli", "up"], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 500
        while time.monotonic() < deadline and proc.poll() is None:
            if b"hiremesh is up" in (home / "up.out").read_bytes():
                break
            time.sleep(0.5)
        assert b"hiremesh is up" in (home / "up.out").read_bytes(), (home / "up.out").read_text()
        # The operator's shell has no token either: the CLI finds the file `hiremesh up` made.
        yield Up(home, ports, {**env, "HIREMESH_HOME": str(home)})
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        out.close()
        subprocess.run(
            [sys.executable, "-m", "hiremesh_ops.cli", "db", "stop"], cwd=REPO, env=env, capture_output=True, timeout=60
        )


def _token(up: Up) -> str:
    return (up.home / "secrets" / "service-token").read_text().strip()


async def _call(addr: str, method: str, metadata: tuple[tuple[str, str], ...] = ()) -> grpc.StatusCode:
    async with grpc.aio.insecure_channel(addr) as chan:
        rpc = chan.unary_unary(method, request_serializer=lambda b: b, response_deserializer=lambda b: b)
        try:
            await rpc(b"", timeout=60, metadata=metadata)  # every request message may be empty
        except grpc.aio.AioRpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


async def test_1_the_credential_was_made_on_first_start_and_every_rpc_needs_it(up: Up) -> None:
    token_file = up.home / "secrets" / "service-token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600 and len(_token(up)) >= 32
    for service in SERVICES:
        addr = up.addr(service)
        assert await _call(addr, PROBE_CALLS[service]) == grpc.StatusCode.UNAUTHENTICATED, service
        assert (
            await _call(addr, PROBE_CALLS[service], ((HEADER, "guess-" + secrets.token_urlsafe(32)),))
            == grpc.StatusCode.UNAUTHENTICATED
        ), service
        assert (
            await _call(addr, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
            == grpc.StatusCode.UNAUTHENTICATED
        ), service
        async with grpc.aio.insecure_channel(addr) as chan:  # probes keep working
            health = await health_pb2_grpc.HealthStub(chan).Check(
                health_pb2.HealthCheckRequest(service=HEALTH_NAMES[service]), timeout=10
            )
        assert health.status == health_pb2.HealthCheckResponse.SERVING, service
    # `hiremesh status` probes health, the CLI finds the token itself.
    assert up.cli("status").count("SERVING") == 6
    # With the credential, a real call: and ImportCandidates may not walk the file system.
    meta = ((HEADER, _token(up)),)
    assert await _call(up.addr("search"), PROBE_CALLS["search"], meta) == grpc.StatusCode.OK
    async with grpc.aio.insecure_channel(up.addr("search")) as chan:
        walk = chan.unary_stream(
            "/hiremesh.v1.SearchService/ImportCandidates",
            request_serializer=search_pb2.ImportCandidatesRequest.SerializeToString,
            response_deserializer=search_pb2.ImportCandidatesResponse.FromString,
        )
        for folder in ("/", "/etc", "../../.."):
            with pytest.raises(grpc.aio.AioRpcError) as refused:
                async for _ in walk(search_pb2.ImportCandidatesRequest(folder=folder), timeout=30, metadata=meta):
                    pass
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "folder" in (refused.value.details() or "")


def test_2_the_embedded_postgresql_wants_its_password(up: Up) -> None:
    port = up.ports["PG"]
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(f"postgresql://postgres@127.0.0.1:{port}/hiremesh", connect_timeout=5).close()
    password = (up.home / "secrets" / "pg-password").read_text().strip()
    with psycopg.connect(f"postgresql://postgres:{password}@127.0.0.1:{port}/hiremesh", connect_timeout=5) as c:
        assert c.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # weak on purpose: it is the attack
async def test_3_no_placeholder_secret_mints_an_admin_token(up: Up) -> None:
    async with aiohttp.ClientSession() as http:
        for secret in PLACEHOLDER_SECRETS:
            forged = issue_jwt(secret or "x", "admin", Role.ADMIN, 600)
            async with http.get(f"{up.url}/api/v1/me", headers={"Authorization": f"Bearer {forged}"}) as resp:
                assert resp.status == 401, secret
            async with http.post(
                f"{up.url}/api/v1/jobs", json={"title": "pwned"}, headers={"Authorization": f"Bearer {forged}"}
            ) as resp:
                assert resp.status == 401, secret
        none_alg = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJhZG1pbiIsInJvbGUiOiJhZG1pbiJ9."
        async with http.get(f"{up.url}/api/v1/me", headers={"Authorization": f"Bearer {none_alg}"}) as resp:
            assert resp.status == 401


async def _chunks(body: bytes) -> AsyncIterator[bytes]:
    for i in range(0, len(body), 256 * 1024):
        yield body[i : i + 256 * 1024]


async def test_4_malformed_and_oversized_bodies_are_4xx(up: Up) -> None:
    nested = b"[" * 100_000 + b"]" * 100_000
    boundary = "b" + secrets.token_hex(6)
    many_fields = (
        "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nv\r\n' for i in range(5000))
        + f"--{boundary}--\r\n"
    )
    many_files = (
        "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="r{i}.txt"\r\n'
            f"Content-Type: text/plain\r\n\r\nPerson {i}\r\n"
            for i in range(80)
        )
        + f"--{boundary}--\r\n"
    )
    huge = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="resume"; filename="x.txt"\r\n'
        "Content-Type: text/plain\r\n\r\n"
    ).encode() + b"a" * (11 * 1024 * 1024)
    huge += f"\r\n--{boundary}--\r\n".encode()
    form = f"multipart/form-data; boundary={boundary}"
    cases = [
        ("POST", "/api/v1/jobs", nested, "application/json", {400}),
        ("POST", "/api/v1/search/candidates", nested, "application/json", {400}),
        ("POST", "/api/v1/candidates", many_fields.encode(), form, {400, 413}),
        ("POST", "/api/v1/imports", many_files.encode(), form, {400}),
        ("POST", "/api/v1/candidates", _chunks(huge), form, {413}),
        (
            "POST",
            "/api/v1/jobs",
            _chunks(b'{"title": "' + b"a" * (12 * 1024 * 1024) + b'"}'),
            "application/json",
            {413},
        ),
    ]
    async with aiohttp.ClientSession() as http:
        for method, path, body, kind, allowed in cases:
            async with http.request(
                method, up.url + path, data=body, headers={**up.admin(), "Content-Type": kind}
            ) as resp:
                assert resp.status in allowed, (path, resp.status, (await resp.text())[:200])
        async with http.get(f"{up.url}/healthz") as resp:
            assert resp.status == 200


async def test_5_a_revoked_users_jwt_and_websocket_stop_within_the_cache_time(up: Up) -> None:
    name = f"mallory{uuid.uuid4().hex[:6]}"
    await asyncio.to_thread(up.cli, "users", "add", name, "--role", "recruiter")
    jwt = await asyncio.to_thread(up.cli, "users", "token", name, "--ttl", "600")
    headers = {"Authorization": f"Bearer {jwt}"}
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{up.url}/api/v1/me", headers=headers) as resp:
            assert resp.status == 200
        async with http.ws_connect(f"{up.url}/ws/tasks", protocols=("hiremesh.v1", f"bearer.{jwt}")) as ws:
            assert (await ws.receive_json(timeout=10))["type"] == "connection"
            await asyncio.to_thread(up.cli, "users", "revoke", name)
            closing = await ws.receive(timeout=15)
            assert closing.type == aiohttp.WSMsgType.CLOSE and closing.data == 4401
        deadline = time.monotonic() + 15
        while True:
            async with http.get(f"{up.url}/api/v1/me", headers=headers) as resp:
                if resp.status == 401:
                    break
            assert time.monotonic() < deadline, "the revoked JWT still works"
            await asyncio.sleep(0.2)


async def test_6_a_repeated_create_makes_one_row(up: Up) -> None:
    key, title = str(uuid.uuid4()), f"Attack run {uuid.uuid4().hex[:8]}"
    async with aiohttp.ClientSession() as http:
        ids = set()
        for _ in range(3):
            async with http.post(
                f"{up.url}/api/v1/jobs", json={"title": title}, headers={**up.admin(), "Idempotency-Key": key}
            ) as resp:
                assert resp.status == 201
                ids.add((await resp.json())["job"]["id"])
        async with http.get(f"{up.url}/api/v1/jobs?page_size=500", headers=up.admin()) as resp:
            rows = [j for j in (await resp.json())["jobs"] if j["title"] == title]
    assert len(ids) == 1 and len(rows) == 1


async def test_7_a_thousand_random_api_keys_are_throttled_before_the_database(up: Up) -> None:
    statuses: Counter[int] = Counter()
    gate = asyncio.Semaphore(64)
    async with aiohttp.ClientSession() as http:

        async def one() -> None:
            key = f"hmk_{secrets.token_hex(4)}_{secrets.token_urlsafe(32)}"
            async with gate, http.get(f"{up.url}/api/v1/me", headers={"Authorization": f"Bearer {key}"}) as resp:
                statuses[resp.status] += 1

        started = time.monotonic()
        await asyncio.gather(*(one() for _ in range(1000)))
        elapsed = time.monotonic() - started
        async with http.get(f"{up.url}/healthz") as resp:
            assert resp.status == 200
    assert statuses[429] >= 900, statuses
    assert statuses[401] <= 20 + elapsed + 5, (statuses, elapsed)  # look-ups that reached the database
    assert set(statuses) <= {401, 429}, statuses
    (up.home / "attack-run.json").write_text(json.dumps({"statuses": statuses, "seconds": elapsed}))
