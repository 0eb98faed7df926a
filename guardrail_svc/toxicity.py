"""Toxicity scoring: Detoxify when a checkpoint is configured, else alt-profanity-check, plus rules.

Texts are split into sentences and every sentence of every text is scored in one model call. The result
names the backend that scored and carries only the dimensions it really measures: profanity-check has one
score ("profanity"); the rules add "threat", "identity_attack" and "self_harm".
"""

from __future__ import annotations

import importlib
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from guardrail_svc.report import ToxicityFinding, ToxicityResult
from guardrail_svc.toxicity_rules import RULE_DIMENSIONS, mask_jargon, rule_findings

log = logging.getLogger("guardrail_svc.toxicity")

_SEGMENT = re.compile(r"[^\n.!?]+(?:[.!?]+|$)", re.MULTILINE)


class ToxicityBackendError(RuntimeError):
    """The configured backend cannot be used (missing package or checkpoint)."""


class Backend(Protocol):
    name: str
    dimensions: tuple[str, ...]

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]: ...


class ProfanityCheckBackend:
    """alt-profanity-check: TF-IDF + linear SVM with sigmoid calibration, one probability per text.

    The calibrated ensemble is evaluated as one sparse matrix product (scikit-learn's `predict_proba` spends
    ~4 ms per resume in per-estimator validation); the fast path is checked against the library at start-up
    and the library is used as is if they ever disagree.
    """

    name = "profanity-check"
    dimensions: tuple[str, ...] = ("profanity",)

    def __init__(self) -> None:
        from profanity_check import profanity_check as pc

        self._vectorizer = pc.vectorizer
        self._library = pc.predict_prob
        self._fast = self._compile(pc.model)
        if self._fast is not None:
            probe = ["what the hell is this shit", "Strong Python developer", "you idiot", "kill"]
            if not np.allclose(self._fast_predict(probe), self._library(probe), atol=1e-9):
                log.warning("profanity-check fast path disagrees with the library; using the library")
                self._fast = None

    @staticmethod
    def _compile(model: Any) -> tuple[Any, Any, Any, Any] | None:
        try:
            members = model.calibrated_classifiers_
            if model.method != "sigmoid" or list(model.classes_) != [0, 1]:
                return None
            weights = np.vstack([m.estimator.coef_.ravel() for m in members]).T
            intercepts = np.array([float(np.ravel(m.estimator.intercept_)[0]) for m in members])
            a = np.array([m.calibrators[0].a_ for m in members], dtype=float)
            b = np.array([m.calibrators[0].b_ for m in members], dtype=float)
        except (AttributeError, IndexError, ValueError):
            return None
        return weights, intercepts, a, b

    def _fast_predict(self, texts: Sequence[str]) -> Any:
        assert self._fast is not None
        weights, intercepts, a, b = self._fast
        decision = self._vectorizer.transform(texts) @ weights + intercepts
        return (1.0 / (1.0 + np.exp(a * decision + b))).mean(axis=1)

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        if not texts:
            return []
        probs = self._fast_predict(texts) if self._fast is not None else self._library(list(texts))
        return [{"profanity": float(p)} for p in probs]


class DetoxifyBackend:
    """Detoxify from a checkpoint on disk (it cannot be downloaded here); every head is a real dimension."""

    name = "detoxify"

    def __init__(self, checkpoint: Path, model_type: str = "original", config_dir: Path | None = None) -> None:
        if not checkpoint.is_file():
            raise ToxicityBackendError(f"HIREMESH_DETOXIFY_CHECKPOINT: no file at {checkpoint}")
        try:
            detoxify: Any = importlib.import_module("detoxify")
        except ImportError:
            raise ToxicityBackendError(
                "HIREMESH_DETOXIFY_CHECKPOINT is set but the detoxify package is not installed "
                "(pip install detoxify torch==2.13.0, or unset the variable to use profanity-check)"
            ) from None
        kwargs: dict[str, Any] = {"model_type": model_type, "checkpoint": str(checkpoint), "device": "cpu"}
        if config_dir is not None:
            kwargs["huggingface_config_path"] = str(config_dir)
        self._model = detoxify.Detoxify(**kwargs)
        probe = self._model.predict(["hello"])
        self.dimensions = tuple(sorted(probe))

    def score(self, texts: Sequence[str]) -> list[dict[str, float]]:
        if not texts:
            return []
        raw = self._model.predict(list(texts))
        return [{dim: float(raw[dim][i]) for dim in self.dimensions} for i in range(len(texts))]


def load_backend(checkpoint: Path | None, model_type: str = "original", config_dir: Path | None = None) -> Backend:
    if checkpoint is not None:
        return DetoxifyBackend(checkpoint, model_type, config_dir)
    return ProfanityCheckBackend()


def _segments(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in _SEGMENT.finditer(text) if m.group(0).strip()]


class ToxicityScorer:
    """Scores texts sentence by sentence; a text is toxic when any sentence or rule reaches the threshold."""

    def __init__(self, backend: Backend, threshold: float = 0.7) -> None:
        self.backend = backend
        self.threshold = threshold
        self.score_many(["warm-up sentence."])

    def score(self, text: str, threshold: float | None = None) -> ToxicityResult:
        return self.score_many([text], threshold)[0]

    def score_many(self, texts: Sequence[str], threshold: float | None = None) -> list[ToxicityResult]:
        limit = self.threshold if threshold is None or threshold <= 0 else threshold
        spans = [_segments(t) for t in texts]
        flat = [mask_jargon(texts[i][s:e]) for i, segs in enumerate(spans) for s, e in segs]
        scores = self.backend.score(flat)
        results: list[ToxicityResult] = []
        cursor = 0
        for text, segs in zip(texts, spans, strict=True):
            per_segment = scores[cursor : cursor + len(segs)]
            cursor += len(segs)
            results.append(self._result(text, segs, per_segment, limit))
        return results

    def _result(
        self, text: str, segs: list[tuple[int, int]], scores: list[dict[str, float]], limit: float
    ) -> ToxicityResult:
        dims = {d: 0.0 for d in self.backend.dimensions}
        for d in RULE_DIMENSIONS:
            dims.setdefault(d, 0.0)
        findings: list[ToxicityFinding] = []
        for (start, end), seg_scores in zip(segs, scores, strict=True):
            for dim, value in seg_scores.items():
                dims[dim] = max(dims[dim], value)
            top_dim, top = max(seg_scores.items(), key=lambda kv: kv[1])
            if top >= limit:
                findings.append(ToxicityFinding(top_dim, round(top, 4), start, end, self.backend.name))
        for category, start, end, value in rule_findings(text):
            dims[category] = max(dims[category], value)
            findings.append(ToxicityFinding(category, value, start, end, "rules"))
        findings.sort(key=lambda f: f.start)
        score = max(dims.values(), default=0.0)
        return ToxicityResult(
            round(score, 4),
            score >= limit,
            self.backend.name,
            {k: round(v, 4) for k, v in dims.items()},
            limit,
            findings,
        )
