"""Findings of every guardrail check and the safety report that gathers them (no gRPC here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

# The severity scale and validation issues are the analysis contract's (hiremesh.analysis), shared with screening.
from hiremesh.analysis import Severity, ValidationIssue

__all__ = [
    "CRITICAL_PII",
    "BiasFinding",
    "PiiFinding",
    "SafetyReport",
    "Severity",
    "ToxicityFinding",
    "ToxicityResult",
    "ValidationIssue",
    "with_path",
]


@dataclass(frozen=True)
class PiiFinding:
    entity_type: str
    start: int
    end: int
    score: float
    recognizer: str
    json_path: str = ""


@dataclass(frozen=True)
class BiasFinding:
    term: str
    category: str
    severity: Severity
    start: int
    end: int
    alternative: str
    explanation: str
    json_path: str = ""


@dataclass(frozen=True)
class ToxicityFinding:
    category: str
    score: float
    start: int
    end: int
    source: str
    json_path: str = ""


@dataclass
class ToxicityResult:
    score: float
    toxic: bool
    backend: str
    dimensions: dict[str, float]
    threshold: float
    findings: list[ToxicityFinding] = field(default_factory=list)


# PII whose leak is harmful on its own (fraud, identity theft), not merely identifying.
CRITICAL_PII = frozenset({"CREDIT_CARD", "NATIONAL_ID"})


@dataclass
class SafetyReport:
    pii: list[PiiFinding] = field(default_factory=list)
    bias: list[BiasFinding] = field(default_factory=list)
    toxicity: ToxicityResult | None = None
    validation: list[ValidationIssue] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def has_issues(self) -> bool:
        toxic = self.toxicity is not None and (self.toxicity.toxic or bool(self.toxicity.findings))
        return bool(self.pii or self.bias or toxic or any(not i.fixed for i in self.validation))

    @property
    def has_critical_issues(self) -> bool:
        """Something a human must see before the text goes further: high-severity bias, toxic content,
        payment or national-id numbers, or an unrepaired high-severity validation issue."""
        return (
            any(f.severity >= Severity.HIGH for f in self.bias)
            or (self.toxicity is not None and self.toxicity.toxic)
            or any(f.entity_type in CRITICAL_PII for f in self.pii)
            or any(i.severity >= Severity.HIGH and not i.fixed for i in self.validation)
        )

    @property
    def summary(self) -> str:
        parts: list[str] = []
        if self.pii:
            counts: dict[str, int] = {}
            for f in self.pii:
                counts[f.entity_type] = counts.get(f.entity_type, 0) + 1
            detail = ", ".join(f"{n} {t}" for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
            parts.append(f"{len(self.pii)} PII ({detail})")
        if self.bias:
            worst = max(f.severity for f in self.bias)
            cats = sorted({f.category for f in self.bias})
            parts.append(f"{len(self.bias)} bias ({', '.join(cats)}; worst {worst.name.lower()})")
        if self.toxicity is not None and (self.toxicity.toxic or self.toxicity.findings):
            parts.append(f"toxic content (score {self.toxicity.score:.2f}, {self.toxicity.backend})")
        open_issues = [i for i in self.validation if not i.fixed]
        if open_issues:
            parts.append(f"{len(open_issues)} validation issue(s)")
        if not parts:
            return "no issues found"
        return ("CRITICAL: " if self.has_critical_issues else "") + "; ".join(parts)


_F = TypeVar("_F", PiiFinding, BiasFinding, ToxicityFinding)


def with_path(items: Sequence[_F], path: str) -> list[_F]:
    """The same findings, tagged with the JSON path of the string they were found in."""
    return [replace(item, json_path=path) for item in items]
