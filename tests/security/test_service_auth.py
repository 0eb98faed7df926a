"""Issue 17 item 1: the internal gRPC services authenticate their callers.

Every RPC but health needs the deployment's service token (or mTLS); reflection is off unless asked for;
a server without a credential does not start; ImportCandidates.folder stays inside its root; the embedded
PostgreSQL wants a password over TCP.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import grpc
import psycopg
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2_grpc

from hiremesh.clients import channel
from hiremesh.config import HEALTH_NAMES, ConfigError
from hiremesh.errors import InvalidArgument
from hiremesh.server import MeshServer
from hiremesh.service_auth import HEADER
from hiremesh.v1 import analytics_pb2, embedding_pb2, guardrail_pb2, screening_pb2, search_pb2
from hiremesh_ops.pg import Cluster
from search_svc import importer
from search_svc.candidates import Candidates
from search_svc.config import SearchConfig
from search_svc.parse_pool import InlineParser
from tests.fixtures.procs import spawn_service

# One cheap real RPC per service: (service, method path, request).
CALLS = {
    "embedding": ("/hiremesh.v1.EmbeddingService/GetModelInfo", embedding_pb2.GetModelInfoRequest()),
    "search": ("/hiremesh.v1.SearchService/ListCandidates", search_pb2.ListCandidatesRequest(page_size=1)),
    "guardrail": ("/hiremesh.v1.GuardrailService/Redact", guardrail_pb2.RedactRequest(text="call 555 0100")),
    "screening": (
        "/hiremesh.v1.ScreeningService/ListScreeningResults",
        screening_pb2.ListScreeningResultsRequest(page_size=1),
    ),
    "analytics": ("/hiremesh.v1.AnalyticsService/GetReport", analytics_pb2.GetReportRequest(name="funnel")),
}


@pytest.fixture(scope="module")
def addrs(
    embedding_addr: str, search_addr: str, guardrail_addr: str, screening_addr: str, analytics_addr: str
) -> dict[str, str]:
    return {
        "embedding": embedding_addr,
        "search": search_addr,
        "guardrail": guardrail_addr,
        "screening": screening_addr,
        "analytics": analytics_addr,
    }


async def _raw_call(
    addr: str, method: str, request: object, metadata: tuple[tuple[str, str], ...] = ()
) -> grpc.StatusCode:
    async with grpc.aio.insecure_channel(addr) as chan:  # what anyone on the network can open
        rpc = chan.unary_unary(
            method, request_serializer=lambda m: m.SerializeToString(), response_deserializer=lambda b: b
        )
        try:
            await rpc(request, timeout=60, metadata=metadata)
        except grpc.aio.AioRpcError as exc:
            return exc.code()
    return grpc.StatusCode.OK


async def test_every_service_refuses_a_call_without_the_credential(addrs: dict[str, str]) -> None:
    outcomes = {}
    for name, (method, request) in CALLS.items():
        outcomes[name] = (
            await _raw_call(addrs[name], method, request),
            await _raw_call(addrs[name], method, request, ((HEADER, "x" * 43),)),
        )
    assert outcomes == {name: (grpc.StatusCode.UNAUTHENTICATED,) * 2 for name in CALLS}, outcomes
    # The same calls through hiremesh.clients (which sends the session's token) go through.
    for name, (method, request) in CALLS.items():
        async with channel(addrs[name]) as chan:
            rpc = chan.unary_unary(
                method, request_serializer=lambda m: m.SerializeToString(), response_deserializer=lambda b: b
            )
            await rpc(request, timeout=120)


async def test_health_needs_no_credential_so_probes_keep_working(addrs: dict[str, str]) -> None:
    for name, addr in addrs.items():
        async with grpc.aio.insecure_channel(addr) as chan:
            reply = await health_pb2_grpc.HealthStub(chan).Check(
                health_pb2.HealthCheckRequest(service=HEALTH_NAMES[name]), timeout=10
            )
        assert reply.status == health_pb2.HealthCheckResponse.SERVING, name


async def test_the_refusal_names_the_credential(search_addr: str) -> None:
    async with grpc.aio.insecure_channel(search_addr) as chan:
        stub = chan.unary_unary(
            "/hiremesh.v1.SearchService/DeleteCandidate",
            request_serializer=search_pb2.DeleteCandidateRequest.SerializeToString,
            response_deserializer=search_pb2.DeleteCandidateResponse.FromString,
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub(search_pb2.DeleteCandidateRequest(id="00000000-0000-0000-0000-000000000000"), timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert "service credential" in (refused.value.details() or "")


async def test_reflection_is_off_outside_hiremesh_up(search_addr: str) -> None:
    # The server answers an unknown method from the call's headers alone, so the call sends no message: an
    # aio client writing into a stream the server has already closed as UNIMPLEMENTED sometimes reports
    # INTERNAL "execute_batch" instead (grpc/grpc#36066), which says nothing about reflection. Were reflection
    # on, the server would wait for a request and the call would end DEADLINE_EXCEEDED, failing this test.
    async with channel(search_addr) as chan:  # even with the credential
        call = reflection_pb2_grpc.ServerReflectionStub(chan).ServerReflectionInfo(timeout=20)
        code = await call.code()
    assert code == grpc.StatusCode.UNIMPLEMENTED, (code, await call.details())


def test_a_server_without_any_credential_refuses_to_start(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HIREMESH_SERVICE_TOKEN", raising=False)
    monkeypatch.delenv("HIREMESH_SERVICE_TOKEN_FILE", raising=False)
    monkeypatch.setenv("HIREMESH_HOME", str(tmp_path))  # no secrets/service-token there
    with pytest.raises(ConfigError) as refused:
        MeshServer("t", 0, [], metrics_port=-1)
    assert refused.value.name == "HIREMESH_SERVICE_TOKEN"
    for placeholder in ("change-me", "change-me-to-64-random-bytes", "a" * 64, "short-but-random-9Xq"):
        monkeypatch.setenv("HIREMESH_SERVICE_TOKEN", placeholder)
        with pytest.raises(ConfigError, match="HIREMESH_SERVICE_TOKEN"):
            MeshServer("t", 0, [], metrics_port=-1)


async def test_a_service_process_without_a_credential_exits_naming_it(tmp_path: Path) -> None:
    env = {"HIREMESH_SERVICE_TOKEN": "", "HIREMESH_HOME": str(tmp_path), "HIREMESH_MODEL_DIR": "/nonexistent"}
    with pytest.raises(RuntimeError) as failed:
        await spawn_service("embedding_svc", _free_port(), env, HEALTH_NAMES["embedding"], timeout=60)
    assert "HIREMESH_SERVICE_TOKEN" in str(failed.value)


# --- ImportCandidates.folder ---------------------------------------------------------------------------


def test_the_import_root_defaults_to_home_imports(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HIREMESH_HOME", str(tmp_path))
    monkeypatch.setenv("HIREMESH_DATABASE_URL", "postgresql://u@127.0.0.1:1/db")
    monkeypatch.delenv("HIREMESH_SEARCH_IMPORT_ROOT", raising=False)
    assert SearchConfig.from_env().import_root == tmp_path / "imports"


async def test_folders_outside_the_import_root_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "imports"
    (root / "batch").mkdir(parents=True)
    (root / "batch" / "a.txt").write_text("Ada Lovelace\nPython developer\n")
    (root / "escape").symlink_to("/etc")
    (root / "batch" / "passwd.txt").symlink_to("/etc/passwd")
    for folder in ("/", "/etc", "../..", "batch/../..", str(root / ".." / ".."), "escape"):
        with pytest.raises(InvalidArgument) as refused:
            importer.sources_from([], folder, [], root)
        assert refused.value.field == "folder", folder
    sources = importer.sources_from([], "batch", [], root)  # relative to the root
    assert [s.name for s in sources] == ["a.txt", "passwd.txt"]
    # Loaders read files through the store's parser (issue 16.1); no database is needed for that (no pool: the
    # arg-type ignore).
    files_only = Candidates(None, None, InlineParser())  # type: ignore[arg-type]
    assert (await sources[0].load(files_only)).name == "Ada Lovelace"
    with pytest.raises(InvalidArgument, match="outside the import root"):
        await sources[1].load(files_only)  # a link out of the root inside an allowed folder is a failed record
    assert next(s.name for s in importer.sources_from([], str(root / "batch"), [], root)) == "a.txt"


# --- the embedded PostgreSQL -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _without_password(url: str) -> str:
    return re.sub(r"//([^:@/]+):[^@]*@", r"//\1@", url)


@pytest.fixture
def scratch() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="hiremesh-sec-pg-", dir="/tmp"))
    root.chmod(0o711)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.skipif(bool(os.environ.get("HIREMESH_TEST_DATABASE_URL")), reason="tests the embedded cluster")
def test_the_embedded_cluster_wants_a_password_over_tcp(pg_cluster: Cluster) -> None:
    url = pg_cluster.url("postgres")
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(_without_password(url), connect_timeout=5).close()
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(
            url.replace(pg_cluster.password(), "wrong-" + pg_cluster.password()[6:]), connect_timeout=5
        ).close()
    with psycopg.connect(url, connect_timeout=5) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    assert pg_cluster.password_file.stat().st_mode & 0o077 == 0  # the operator's alone
    assert len(pg_cluster.password()) >= 32


@pytest.mark.skipif(bool(os.environ.get("HIREMESH_TEST_DATABASE_URL")), reason="tests the embedded cluster")
def test_a_cluster_that_trusted_tcp_is_migrated_to_a_password(scratch: Path) -> None:
    cluster = Cluster(scratch / "pg" / "data", _free_port(), settings={"shared_buffers": "32MB"})
    try:
        cluster.start()
        # What an older hiremesh made: `trust` on TCP and no password at all.
        with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
            conn.execute("ALTER ROLE postgres PASSWORD NULL")
        hba = cluster.data_dir / "pg_hba.conf"
        hba.write_text(hba.read_text().replace("scram-sha-256", "trust"))
        cluster.stop()
        cluster.start()
        open_url = _without_password(cluster.url("postgres"))
        cluster.stop()
        cluster.start()  # a restart must not need anything by hand either
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(open_url, connect_timeout=5).close()
        with psycopg.connect(cluster.url("postgres"), connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert "trust" not in "".join(line for line in hba.read_text().splitlines() if line.strip().startswith("host"))
    finally:
        cluster.stop("immediate")
