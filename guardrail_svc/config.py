"""Guardrail service settings from `HIREMESH_*` variables, validated at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from guardrail_svc.pii_cache import DEFAULT_CACHE_ENTRIES
from hiremesh.config import ConfigError, env_bool, env_choice, env_float, env_int, env_str, service_port


def _optional_path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser().absolute() if value else None


@dataclass(frozen=True)
class GuardrailConfig:
    port: int
    workers: int  # threads running model work; the event loop never does
    max_pending: int  # calls waiting for a worker before new ones are refused
    toxicity_threshold: float
    pii_score_threshold: float
    redaction_salt: bytes  # keys the HMAC behind hash-style redaction
    detoxify_checkpoint: Path | None
    detoxify_model_type: str
    detoxify_config_dir: Path | None
    llm_bias: bool  # ask the screening LLM for subtler bias (off by default)
    llm_base_url: str
    llm_model: str
    llm_api_key: str
    llm_timeout_s: float
    max_text_bytes: int
    max_batch_texts: int
    pii_cache_entries: int  # short texts whose PII findings are remembered (0: off)

    @classmethod
    def from_env(cls) -> GuardrailConfig:
        checkpoint = _optional_path("HIREMESH_DETOXIFY_CHECKPOINT")
        if checkpoint is not None and not checkpoint.is_file():
            raise ConfigError("HIREMESH_DETOXIFY_CHECKPOINT", f"no file at {checkpoint}")
        llm_bias = env_bool("HIREMESH_GUARDRAIL_LLM_BIAS", False)
        base_url = env_str("HIREMESH_LLM_BASE_URL", "")
        if llm_bias and not base_url:
            raise ConfigError("HIREMESH_LLM_BASE_URL", "required when HIREMESH_GUARDRAIL_LLM_BIAS is on")
        return cls(
            port=service_port("guardrail"),
            workers=env_int("HIREMESH_GUARDRAIL_WORKERS", max(1, min(4, len(os.sched_getaffinity(0)))), min=1, max=64),
            max_pending=env_int("HIREMESH_GUARDRAIL_MAX_PENDING", 256, min=1, max=100_000),
            toxicity_threshold=env_float("HIREMESH_TOXICITY_THRESHOLD", 0.7, min=0.01, max=1.0),
            pii_score_threshold=env_float("HIREMESH_PII_SCORE_THRESHOLD", 0.4, min=0.0, max=1.0),
            redaction_salt=env_str("HIREMESH_REDACTION_SALT", "hiremesh").encode(),
            detoxify_checkpoint=checkpoint,
            detoxify_model_type=env_choice(
                "HIREMESH_DETOXIFY_MODEL", "original", ("original", "unbiased", "multilingual")
            ),
            detoxify_config_dir=_optional_path("HIREMESH_DETOXIFY_CONFIG_DIR"),
            llm_bias=llm_bias,
            llm_base_url=base_url,
            llm_model=env_str("HIREMESH_LLM_MODEL", "default"),
            llm_api_key=env_str("HIREMESH_LLM_API_KEY", "not-needed"),
            llm_timeout_s=env_float("HIREMESH_GUARDRAIL_LLM_TIMEOUT", 20.0, min=0.1, max=600.0),
            max_text_bytes=env_int("HIREMESH_GUARDRAIL_MAX_TEXT_BYTES", 1_000_000, min=1_000, max=32_000_000),
            max_batch_texts=env_int("HIREMESH_GUARDRAIL_MAX_BATCH", 256, min=1, max=10_000),
            pii_cache_entries=env_int("HIREMESH_GUARDRAIL_PII_CACHE", DEFAULT_CACHE_ENTRIES, min=0, max=10_000_000),
        )
