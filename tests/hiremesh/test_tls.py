"""Optional mTLS between services, with certificates generated in the test."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hiremesh.clients import channel
from hiremesh.server import MeshServer
from hiremesh_ops.probe import check

SERVICE = "hiremesh.v1.SearchService"


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _cert(
    subject: str, key: ec.EllipticCurvePrivateKey, issuer_key: ec.EllipticCurvePrivateKey, issuer: str, ca: bool
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    ca_key = _key()
    ca = _cert("hiremesh-test-ca", ca_key, ca_key, "hiremesh-test-ca", ca=True)
    leaf_key = _key()
    leaf = _cert("localhost", leaf_key, ca_key, "hiremesh-test-ca", ca=False)
    paths = {"ca": tmp_path / "ca.pem", "cert": tmp_path / "svc.pem", "key": tmp_path / "svc.key"}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(_pem_key(leaf_key))
    return paths


async def test_mtls_between_services(pki: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIREMESH_TLS_CERT", str(pki["cert"]))
    monkeypatch.setenv("HIREMESH_TLS_KEY", str(pki["key"]))
    monkeypatch.setenv("HIREMESH_TLS_CA", str(pki["ca"]))
    monkeypatch.setenv("HIREMESH_TLS_CLIENT_AUTH", "true")
    server = MeshServer("tls-test", 0, [SERVICE], metrics_port=-1, grace=0.5)
    port = await server.start()
    server.set_serving(True)
    try:
        # A client holding a CA-signed certificate gets through.
        assert await check(f"localhost:{port}", SERVICE) == "SERVING"
        # A plaintext client does not.
        async with grpc.aio.insecure_channel(f"localhost:{port}") as plain:
            with pytest.raises(grpc.aio.AioRpcError) as info:
                await health_pb2_grpc.HealthStub(plain).Check(health_pb2.HealthCheckRequest(), timeout=3)
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
        # A TLS client without a client certificate is refused by mTLS.
        monkeypatch.delenv("HIREMESH_TLS_CERT")
        monkeypatch.delenv("HIREMESH_TLS_KEY")
        monkeypatch.setenv("HIREMESH_TLS_CLIENT_AUTH", "false")
        async with channel(f"localhost:{port}") as no_cert:
            with pytest.raises(grpc.aio.AioRpcError):
                await health_pb2_grpc.HealthStub(no_cert).Check(health_pb2.HealthCheckRequest(), timeout=3)
    finally:
        await server.stop(0.2)
