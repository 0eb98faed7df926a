"""ScreeningConfig reads screening_svc's environment, pipeline and LLM settings included (that it is the only
reader is tests/test_architecture.py's rule for every service)."""

from __future__ import annotations

import pytest

from hiremesh.config import ConfigError
from screening_svc.config import LLMSettings, ScreeningConfig


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("HIREMESH_DATABASE_URL", "postgresql://unused")
    for name in (
        "HIREMESH_LLM_BASE_URL",
        "HIREMESH_SCREENING_QUESTIONS",
        "HIREMESH_SCREENING_PEERS",
        "HIREMESH_SCREENING_SCORE_GAP",
        "HIREMESH_SCREENING_ANALYTICS_TOOLS",
        "HIREMESH_LLM_COOLDOWN_S",
        "HIREMESH_SCREENING_TOOL_TIMEOUT_S",
        "HIREMESH_SCREENING_GUARD_TIMEOUT_S",
        "HIREMESH_EMBEDDING_ADDR",
        "HIREMESH_ANALYTICS_ADDR",
    ):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_pipeline_settings_have_their_documented_defaults(env: pytest.MonkeyPatch) -> None:
    cfg = ScreeningConfig.from_env()
    assert (cfg.questions, cfg.peers_k, cfg.score_gap, cfg.analytics_tools) == (5, 5, 35, False)
    assert (cfg.llm_cooldown_s, cfg.tool_timeout_s, cfg.guard_timeout_s) == (30.0, 2.0, 30.0)
    assert cfg.embedding_addr == "127.0.0.1:50051" and cfg.analytics_addr == "127.0.0.1:50055"
    assert cfg.llm == LLMSettings(base_url="") and not cfg.llm.configured


def test_the_pipeline_settings_come_from_their_variables(env: pytest.MonkeyPatch) -> None:
    env.setenv("HIREMESH_LLM_BASE_URL", "http://127.0.0.1:9/v1/")
    env.setenv("HIREMESH_LLM_MODEL", "smol")
    env.setenv("HIREMESH_SCREENING_QUESTIONS", "7")
    env.setenv("HIREMESH_SCREENING_PEERS", "0")
    env.setenv("HIREMESH_SCREENING_SCORE_GAP", "20")
    env.setenv("HIREMESH_SCREENING_ANALYTICS_TOOLS", "on")
    env.setenv("HIREMESH_SCREENING_TOOL_TIMEOUT_S", "0.5")
    env.setenv("HIREMESH_SCREENING_GUARD_TIMEOUT_S", "12")
    cfg = ScreeningConfig.from_env()
    assert cfg.llm.base_url == "http://127.0.0.1:9/v1" and cfg.llm.model == "smol" and cfg.llm.configured
    assert (cfg.questions, cfg.peers_k, cfg.score_gap, cfg.analytics_tools, cfg.tool_timeout_s) == (7, 0, 20, True, 0.5)
    assert cfg.guard_timeout_s == 12.0


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HIREMESH_SCREENING_QUESTIONS", "21"),
        ("HIREMESH_SCREENING_PEERS", "51"),
        ("HIREMESH_SCREENING_SCORE_GAP", "0"),
        ("HIREMESH_LLM_COOLDOWN_S", "-1"),
        ("HIREMESH_SCREENING_TOOL_TIMEOUT_S", "0.01"),
        ("HIREMESH_SCREENING_GUARD_TIMEOUT_S", "0"),
        ("HIREMESH_LLM_MAX_TOKENS", "8"),
    ],
)
def test_an_out_of_bounds_setting_fails_at_start_up_naming_its_variable(
    env: pytest.MonkeyPatch, name: str, value: str
) -> None:
    env.setenv(name, value)
    with pytest.raises(ConfigError) as raised:
        ScreeningConfig.from_env()
    assert raised.value.name == name
