"""The gateway's settings come through GatewayConfig alone: its environment variables, defaults and bounds."""

from __future__ import annotations

import pytest

from gateway.config import GatewayConfig
from hiremesh.config import ConfigError


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("HIREMESH_DATABASE_URL", "postgresql://unused")
    for name in ("HIREMESH_GATEWAY_PORT", "HIREMESH_METRICS_PORT"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_metrics_port_follows_the_public_port_by_default(env: pytest.MonkeyPatch) -> None:
    assert GatewayConfig.from_env().metrics_port == 9080
    env.setenv("HIREMESH_GATEWAY_PORT", "18080")
    assert GatewayConfig.from_env().metrics_port == 19080


def test_the_metrics_port_can_be_moved_or_turned_off(env: pytest.MonkeyPatch) -> None:
    env.setenv("HIREMESH_METRICS_PORT", "-1")
    assert GatewayConfig.from_env().metrics_port == -1
    env.setenv("HIREMESH_METRICS_PORT", "0")
    assert GatewayConfig.from_env().metrics_port == 0


def test_a_bad_metrics_port_fails_at_start_up_naming_its_variable(env: pytest.MonkeyPatch) -> None:
    env.setenv("HIREMESH_METRICS_PORT", "70000")
    with pytest.raises(ConfigError, match="HIREMESH_METRICS_PORT"):
        GatewayConfig.from_env()
