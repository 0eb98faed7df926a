"""The guardrail checks over texts and JSON documents, with the request limits the service enforces.

Synchronous and CPU-bound: the service runs it in a bounded executor. One call batches its texts through
every model (spaCy `pipe`, one toxicity call for all sentences).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from guardrail_svc import metrics
from guardrail_svc.bias import find_bias
from guardrail_svc.jsondoc import parse_document, string_leaves
from guardrail_svc.pii import SUPPORTED_ENTITIES, PiiDetector, PiiMode, RedactionStyle
from guardrail_svc.report import (
    BiasFinding,
    PiiFinding,
    SafetyReport,
    ToxicityFinding,
    ToxicityResult,
    with_path,
)
from guardrail_svc.toxicity import ToxicityScorer
from hiremesh.errors import InvalidArgument

ALL_CHECKS = frozenset({"pii", "bias", "toxicity"})


@dataclass(frozen=True)
class ScanOptions:
    checks: frozenset[str] = ALL_CHECKS
    pii_mode: PiiMode = "full"
    toxicity_threshold: float = 0.0  # 0: the service default


@dataclass(frozen=True)
class Limits:
    max_text_bytes: int = 1_000_000
    max_batch_texts: int = 256


@dataclass
class _Timer:
    ms: dict[str, float] = field(default_factory=dict)

    def add(self, check: str, started: float) -> None:
        elapsed = time.perf_counter() - started
        metrics.CHECK_SECONDS.labels(check).observe(elapsed)
        self.ms[check] = round(self.ms.get(check, 0.0) + elapsed * 1000, 3)


class Guardrail:
    """PII, bias and toxicity over texts; redaction; request validation."""

    def __init__(self, pii: PiiDetector, toxicity: ToxicityScorer, limits: Limits = Limits()) -> None:
        self.pii = pii
        self.toxicity = toxicity
        self.limits = limits

    # --- request checks -------------------------------------------------------------------------------
    def check_text(self, text: str, field_name: str) -> None:
        if not text.strip():
            raise InvalidArgument(field_name, "must not be empty")
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > self.limits.max_text_bytes:
            raise InvalidArgument(field_name, f"is {size} bytes; at most {self.limits.max_text_bytes} bytes")

    def check_options(self, options: ScanOptions, field_name: str = "options") -> None:
        if not 0.0 <= options.toxicity_threshold <= 1.0:
            raise InvalidArgument(f"{field_name}.toxicity_threshold", "must be between 0 and 1")
        unknown = options.checks - ALL_CHECKS
        if unknown:
            raise InvalidArgument(f"{field_name}.checks", f"unknown check(s): {', '.join(sorted(unknown))}")

    # --- scans ----------------------------------------------------------------------------------------
    def scan_text(self, text: str, options: ScanOptions = ScanOptions()) -> SafetyReport:
        self.check_text(text, "text")
        self.check_options(options)
        return self._scan([text], options)[0]

    def scan_batch(self, texts: Sequence[str], options: ScanOptions = ScanOptions()) -> list[SafetyReport]:
        if not texts:
            raise InvalidArgument("texts", "must not be empty")
        if len(texts) > self.limits.max_batch_texts:
            raise InvalidArgument("texts", f"has {len(texts)} texts; at most {self.limits.max_batch_texts}")
        for i, text in enumerate(texts):
            self.check_text(text, f"texts[{i}]")
        self.check_options(options)
        return self._scan(list(texts), options)

    def scan_json(self, document: str, options: ScanOptions = ScanOptions()) -> SafetyReport:
        """One report for a JSON document; every finding carries the JSON path of its string."""
        self.check_text(document, "json_document")
        self.check_options(options)
        leaves = [(path, value) for path, value in string_leaves(parse_document(document)) if value.strip()]
        merged = SafetyReport()
        if not leaves:
            if "toxicity" in options.checks:
                merged.toxicity = self.toxicity.score("", options.toxicity_threshold or None)
            return merged
        reports = self._scan([value for _, value in leaves], options)
        for (path, _), report in zip(leaves, reports, strict=True):
            merged.pii.extend(with_path(report.pii, path))
            merged.bias.extend(with_path(report.bias, path))
            if report.toxicity is not None:
                merged.toxicity = _merge_toxicity(merged.toxicity, report.toxicity, path)
        merged.timings_ms = reports[0].timings_ms
        return merged

    def _scan(self, texts: list[str], options: ScanOptions) -> list[SafetyReport]:
        reports = [SafetyReport() for _ in texts]
        timer = _Timer()
        metrics.TEXTS.labels(options.pii_mode).inc(len(texts))
        if "pii" in options.checks:
            started = time.perf_counter()
            for report, found in zip(reports, self.pii.analyze_many(texts, options.pii_mode), strict=True):
                report.pii = found
                for f in found:
                    metrics.FINDINGS.labels("pii", f.entity_type).inc()
            timer.add("pii", started)
        if "bias" in options.checks:
            started = time.perf_counter()
            for report, text in zip(reports, texts, strict=True):
                report.bias = find_bias(text)
                for b in report.bias:
                    metrics.FINDINGS.labels("bias", b.category).inc()
            timer.add("bias", started)
        if "toxicity" in options.checks:
            started = time.perf_counter()
            threshold = options.toxicity_threshold or None
            for report, result in zip(reports, self.toxicity.score_many(texts, threshold), strict=True):
                report.toxicity = result
                for t in result.findings:
                    metrics.FINDINGS.labels("toxicity", t.category).inc()
            timer.add("toxicity", started)
        for report in reports:
            report.timings_ms = dict(timer.ms)
        return reports

    # --- redaction ------------------------------------------------------------------------------------
    def redact(
        self, text: str, style: RedactionStyle = "tag", entity_types: Sequence[str] = (), mode: PiiMode = "full"
    ) -> tuple[str, list[PiiFinding]]:
        self.check_text(text, "text")
        for i, entity in enumerate(entity_types):
            if entity not in SUPPORTED_ENTITIES:
                raise InvalidArgument(
                    f"entity_types[{i}]", f"unknown entity type {entity!r}; supported: {', '.join(SUPPORTED_ENTITIES)}"
                )
        findings = self.pii.analyze(text, mode, entity_types)
        return self.pii.redact(text, findings, style), findings


def _merge_toxicity(acc: ToxicityResult | None, new: ToxicityResult, path: str) -> ToxicityResult:
    findings: list[ToxicityFinding] = with_path(new.findings, path)
    if acc is None:
        return ToxicityResult(new.score, new.toxic, new.backend, dict(new.dimensions), new.threshold, findings)
    dims = dict(acc.dimensions)
    for dim, value in new.dimensions.items():
        dims[dim] = max(dims.get(dim, 0.0), value)
    return ToxicityResult(
        max(acc.score, new.score), acc.toxic or new.toxic, acc.backend, dims, acc.threshold, acc.findings + findings
    )


__all__ = ["ALL_CHECKS", "BiasFinding", "Guardrail", "Limits", "ScanOptions"]
