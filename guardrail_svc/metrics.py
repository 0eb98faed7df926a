"""Guardrail domain metrics (hiremesh_guardrail_*), next to the shared per-RPC metrics."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

CHECK_SECONDS = Histogram(
    "hiremesh_guardrail_check_duration_seconds",
    "Time spent in one guardrail check over one request's texts.",
    ["check"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
FINDINGS = Counter(
    "hiremesh_guardrail_findings_total",
    "Findings reported, by check and type (PII entity, bias category, toxicity category).",
    ["check", "type"],
)
TEXTS = Counter("hiremesh_guardrail_texts_total", "Texts scanned.", ["mode"])
PII_CACHE = Counter(
    "hiremesh_guardrail_pii_cache_total",
    "PII lookups of short texts answered from the findings cache (hit) or by the models (miss).",
    ["result"],
)
