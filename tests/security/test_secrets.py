"""Issue 17 item 2: no secret has a working default, and a placeholder stops the process.

The gateway refuses `HIREMESH_GATEWAY_JWT_SECRET=change-me` (so nobody can mint an admin token for a
cluster deployed as documented); the deploy files carry no secret values at all; `hiremesh secrets`
generates them.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from hiremesh.config import ConfigError, database_url
from hiremesh.credentials import check_secret, new_secret
from tests.fixtures.mesh import gateway_database
from tests.fixtures.procs import REPO, free_port, start_process

DEPLOY = REPO / "deploy"
PLACEHOLDERS = [
    "change-me",
    "change-me-to-64-random-bytes",
    "changeme",
    "secret",
    "CHANGE_ME_PLEASE_0123456789abcdef",
    "replace-me-with-a-long-random-string-0000",
    "your-secret-here-your-secret-here-1234",
    "x" * 64,
    "not-needed-for-vllm",
]


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_placeholders_are_refused_naming_the_variable(value: str) -> None:
    with pytest.raises(ConfigError) as refused:
        check_secret("HIREMESH_GATEWAY_JWT_SECRET", value)
    assert refused.value.name == "HIREMESH_GATEWAY_JWT_SECRET"


def test_secrets_under_32_bytes_are_refused_and_generated_ones_pass() -> None:
    with pytest.raises(ConfigError, match="at least 32"):
        check_secret("HIREMESH_SERVICE_TOKEN", "Q7v-2kLpZr9xWm4TfYb8NcJd")  # 24 random-looking bytes
    generated = {new_secret() for _ in range(50)}
    assert len(generated) == 50
    assert all(check_secret("X", value) == value and len(value) >= 43 for value in generated)


def test_a_placeholder_database_password_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIREMESH_DATABASE_URL", "postgresql://hiremesh:change-me@db:5432/hiremesh")
    with pytest.raises(ConfigError, match="HIREMESH_DATABASE_URL"):
        database_url()
    monkeypatch.setenv("HIREMESH_DATABASE_URL", "postgresql://hiremesh@db:5432/hiremesh")  # PGPASSFILE: fine
    assert database_url().endswith("/hiremesh")


async def test_the_gateway_refuses_to_start_with_a_placeholder_jwt_secret(pg_url: str, tmp_path: Path) -> None:
    url = await gateway_database(pg_url)
    for secret in ("change-me", "change-me-to-64-random-bytes"):
        port = free_port()
        proc = start_process(
            "gateway",
            port,
            {"HIREMESH_DATABASE_URL": url, "HIREMESH_HOME": str(tmp_path), "HIREMESH_GATEWAY_JWT_SECRET": secret},
        )
        try:
            code = proc.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail(f"the gateway started with JWT secret {secret!r}")
        assert code == 2, proc.log_tail()
        assert "HIREMESH_GATEWAY_JWT_SECRET" in proc.log_tail()


def _deploy_texts() -> dict[str, str]:
    return {
        str(p.relative_to(REPO)): p.read_text()
        for p in sorted(DEPLOY.rglob("*"))
        if p.is_file() and p.suffix in {".yaml", ".yml", ".env", ""} and p.name != "secrets.env"
    }


def test_deploy_files_carry_no_secret_values() -> None:
    found = []
    for name, text in _deploy_texts().items():
        for needle in ("change-me", "changeme", "not-needed-for-vllm"):
            if needle in text.lower():
                found.append(f"{name}: {needle}")
        for match in re.finditer(r"postgres(?:ql)?://[^:@/\s]+:([^@\s]+)@", text):
            found.append(f"{name}: a password inside a database URL ({match.group(1)[:4]}...)")
        for match in re.finditer(r"(POSTGRES_PASSWORD|JWT_SECRET|SERVICE_TOKEN|API_KEY):\s*(\S+)", text):
            found.append(f"{name}: {match.group(1)} set to a literal value")
    assert not found, found
    docs = [d for p in (DEPLOY / "k8s").glob("*.yaml") for d in yaml.safe_load_all(p.read_text()) if d]
    assert not [d for d in docs if d.get("kind") == "Secret"], "a Secret manifest with values is committed"


def test_kubernetes_and_compose_get_generated_secrets() -> None:
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    [generator] = kustomization["secretGenerator"]
    assert generator["name"] == "hiremesh-secrets" and generator["envs"] == ["secrets.env"]
    for svc in ("embedding", "search", "screening", "guardrail", "analytics", "gateway"):
        deployment = next(
            d for d in yaml.safe_load_all((DEPLOY / "k8s" / f"{svc}.yaml").read_text()) if d["kind"] == "Deployment"
        )
        env = {e["name"]: e for e in deployment["spec"]["template"]["spec"]["containers"][0]["env"]}
        ref = env["HIREMESH_SERVICE_TOKEN"]["valueFrom"]["secretKeyRef"]
        assert ref == {"name": "hiremesh-secrets", "key": "service-token"}, svc
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert "hiremesh secrets generate" in " ".join(services["secrets"]["command"])
    for svc in ("embedding", "search", "screening", "guardrail", "analytics", "gateway"):
        assert services[svc]["depends_on"]["secrets"]["condition"] == "service_completed_successfully", svc
        env = services[svc]["environment"]
        assert env["HIREMESH_SERVICE_TOKEN_FILE"].startswith("/run/hiremesh-secrets/"), svc
    assert services["postgres"]["environment"]["POSTGRES_PASSWORD_FILE"] == "/run/hiremesh-secrets/pg-password"


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hiremesh_ops.cli", "secrets", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_hiremesh_secrets_generate_makes_private_random_files_once(tmp_path: Path) -> None:
    folder = tmp_path / "secrets"
    first = _cli("generate", "--dir", str(folder), "--pgpass", "postgres:5432:hiremesh:hiremesh")
    assert first.returncode == 0, first.stderr
    values = {p.name: p.read_text().strip() for p in folder.iterdir()}
    assert set(values) == {"service-token", "jwt-secret", "pg-password", "pgpass"}
    for name in ("service-token", "jwt-secret", "pg-password"):
        check_secret(name, values[name])
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
        assert values[name] not in first.stdout + first.stderr  # paths are printed, never values
    assert len({values["service-token"], values["jwt-secret"], values["pg-password"]}) == 3
    assert values["pgpass"] == f"postgres:5432:hiremesh:hiremesh:{values['pg-password']}"
    time.sleep(0.01)
    assert _cli("generate", "--dir", str(folder)).returncode == 0
    assert {p.name: p.read_text().strip() for p in folder.iterdir()} == values  # kept, not rotated


def test_hiremesh_secrets_k8s_writes_the_generator_env(tmp_path: Path) -> None:
    out = tmp_path / "secrets.env"
    refused = _cli("k8s", "--database-url", "postgresql://hiremesh:change-me@db/hiremesh", "--out", str(out))
    assert refused.returncode == 2 and "placeholder" in refused.stderr and not out.exists()
    made = _cli("k8s", "--database-url", "postgresql://hiremesh@db/hiremesh", "--out", str(out))
    assert made.returncode == 0, made.stderr
    values = dict(line.split("=", 1) for line in out.read_text().splitlines())
    assert set(values) == {"database-url", "jwt-secret", "service-token", "llm-api-key"}
    check_secret("jwt-secret", values["jwt-secret"])
    check_secret("service-token", values["service-token"])
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
