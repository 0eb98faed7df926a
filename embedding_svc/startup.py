"""Loading the model the configuration asks for; for `auto`, deciding between fp32 and int8 on this CPU first.

Blocking and CPU-bound (checksums, session builds, the calibration runs): call it from a thread.
"""

from __future__ import annotations

import logging

from embedding_svc import metrics
from embedding_svc.artifacts import INT8_FILE, Manifest
from embedding_svc.config import EmbeddingConfig
from embedding_svc.model import MiniLM
from embedding_svc.variant import (
    Calibration,
    Choice,
    calibrate,
    calibration_batch,
    choose,
    cpu_flags,
    needs_calibration,
)

log = logging.getLogger("embedding_svc")


def read_flags(config: EmbeddingConfig) -> frozenset[str]:
    try:
        return cpu_flags(config.cpuinfo.read_text())
    except OSError as exc:  # not Linux, or a sandbox without /proc: decide as if nothing were known
        log.warning(
            "cannot read CPU features from %s (%s); HIREMESH_EMBEDDING_VARIANT=auto will run fp32", config.cpuinfo, exc
        )
        return frozenset()


def load_model(config: EmbeddingConfig) -> tuple[MiniLM, Choice]:
    """The loaded, warmed model and why it is that variant (logged, and exported as metrics)."""

    def load(variant: str) -> MiniLM:
        model = MiniLM(
            config.model_dir,
            threads=config.threads,
            token_budget=config.token_budget,
            max_rows=config.max_batch_texts,
            spin=config.spin,
            variant=variant,
        )
        model.warm_up()
        return model

    if config.variant != "auto":
        model = load(config.variant)
        choice = choose(config.variant, frozenset(), int8_built=True)
    else:
        flags = read_flags(config)
        try:
            int8_built = INT8_FILE in Manifest.read(config.model_dir).files
        except (OSError, ValueError, KeyError):
            int8_built = False  # loading fp32 below reports what is wrong with the build
        fp32 = load("fp32")
        models = {"fp32": fp32}
        calibration: Calibration | None = None
        if needs_calibration("auto", flags, int8_built):
            models["int8"] = int8 = load("int8")
            batch = calibration_batch()
            calibration = calibrate(lambda: fp32.embed(batch), lambda: int8.embed(batch))
        choice = choose("auto", flags, int8_built, calibration, config.int8_min_speedup)
        model = models[choice.variant]  # the other session is dropped here
    log.info("embedding variant %s (requested %s): %s", choice.variant, choice.requested, choice.reason)
    metrics.VARIANT.labels(choice.variant, choice.requested, choice.basis).set(1)
    metrics.INT8_SPEEDUP.set(choice.speedup)
    return model, choice
