from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hiremesh import config
from hiremesh.config import ConfigError


def test_int_out_of_range_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIREMESH_SEARCH_PORT", "99999")
    with pytest.raises(ConfigError, match="HIREMESH_SEARCH_PORT"):
        config.service_port("search")


def test_not_a_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIREMESH_X", "abc")
    with pytest.raises(ConfigError, match="HIREMESH_X: expected an integer"):
        config.env_int("HIREMESH_X", 1)
    with pytest.raises(ConfigError, match="HIREMESH_X"):
        config.env_float("HIREMESH_X", 1.0)
    with pytest.raises(ConfigError, match="HIREMESH_X"):
        config.env_bool("HIREMESH_X", True)


def test_defaults_and_addresses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HIREMESH_EMBEDDING_ADDR", raising=False)
    monkeypatch.delenv("HIREMESH_EMBEDDING_PORT", raising=False)
    assert config.service_addr("embedding") == "127.0.0.1:50051"
    monkeypatch.setenv("HIREMESH_EMBEDDING_ADDR", "dns:///embedding:50051")
    assert config.service_addr("embedding") == "dns:///embedding:50051"
    monkeypatch.setenv("HIREMESH_EMBEDDING_ADDR", "nocolon")
    with pytest.raises(ConfigError, match="HIREMESH_EMBEDDING_ADDR"):
        config.service_addr("embedding")


def test_database_url_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HIREMESH_DATABASE_URL", raising=False)
    with pytest.raises(ConfigError, match="HIREMESH_DATABASE_URL"):
        config.database_url()
    monkeypatch.setenv("HIREMESH_DATABASE_URL", "mysql://x")
    with pytest.raises(ConfigError, match="postgresql://"):
        config.database_url()


def test_cli_up_rejects_a_bad_port_naming_it(tmp_path: Path) -> None:
    env = {"HIREMESH_HOME": str(tmp_path), "HIREMESH_GATEWAY_PORT": "eighty", "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-m", "hiremesh_ops.cli", "up"], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert "HIREMESH_GATEWAY_PORT" in proc.stderr


def test_cli_probe_unreachable_exits_non_zero() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hiremesh_ops.cli", "probe", "127.0.0.1:1", "--timeout", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert "UNREACHABLE" in proc.stdout
