"""Embedding service settings from `HIREMESH_*` variables, validated at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from embedding_svc.artifacts import model_path
from embedding_svc.variant import DEFAULT_MIN_SPEEDUP
from hiremesh.config import env_bool, env_choice, env_float, env_int, env_path, home, service_port


def default_threads() -> int:
    """Cores this process may run on (the container's share, not the host's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class EmbeddingConfig:
    port: int
    model_dir: Path  # the folder holding model.onnx, tokenizer.json and manifest.json
    threads: int  # onnxruntime intra-op threads; one batch runs at a time, so this is all the cores
    max_batch_texts: int  # texts gathered into one model run
    max_wait_ms: float  # how long an idle batcher waits for company before running a lone request
    max_queue_texts: int  # texts waiting beyond this are refused with RESOURCE_EXHAUSTED
    token_budget: int  # padded tokens per onnxruntime call (length buckets stay under it)
    spin: bool  # let idle onnxruntime threads busy-wait (only worth it on cores no other service uses)
    variant: str  # "fp32" (default), "int8" (see embedding_svc.artifacts.INT8_FILE) or "auto" (embedding_svc.variant)
    int8_min_speedup: float  # auto: int8 must beat fp32 by this factor in the start-up calibration
    cpuinfo: Path  # auto: where the CPU's feature flags are read (a captured file in tests)

    @classmethod
    def from_env(cls) -> EmbeddingConfig:
        models = env_path("HIREMESH_MODEL_DIR", home() / "models")
        return cls(
            port=service_port("embedding"),
            model_dir=model_path(models),
            threads=env_int("HIREMESH_EMBEDDING_THREADS", default_threads(), min=1, max=256),
            max_batch_texts=env_int("HIREMESH_EMBEDDING_MAX_BATCH", 64, min=1, max=4096),
            max_wait_ms=env_float("HIREMESH_EMBEDDING_MAX_WAIT_MS", 4.0, min=0.0, max=1000.0),
            max_queue_texts=env_int("HIREMESH_EMBEDDING_MAX_QUEUE", 4096, min=1, max=1_000_000),
            token_budget=env_int("HIREMESH_EMBEDDING_TOKEN_BUDGET", 8192, min=256, max=1_000_000),
            spin=env_bool("HIREMESH_EMBEDDING_SPIN", False),
            variant=env_choice("HIREMESH_EMBEDDING_VARIANT", "fp32", ("fp32", "int8", "auto")),
            int8_min_speedup=env_float("HIREMESH_EMBEDDING_INT8_MIN_SPEEDUP", DEFAULT_MIN_SPEEDUP, min=0.1, max=100.0),
            cpuinfo=env_path("HIREMESH_EMBEDDING_CPUINFO", Path("/proc/cpuinfo")),
        )
