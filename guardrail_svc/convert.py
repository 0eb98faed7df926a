"""Proto messages <-> guardrail domain objects."""

from __future__ import annotations

from typing import Any

from guardrail_svc.pii import PiiMode, RedactionStyle
from guardrail_svc.report import BiasFinding, PiiFinding, SafetyReport, ToxicityResult, ValidationIssue
from guardrail_svc.scanner import ALL_CHECKS, ScanOptions
from hiremesh.analysis import ValidationOutcome
from hiremesh.errors import InvalidArgument
from hiremesh.v1 import common_pb2, guardrail_pb2

_CHECKS = {guardrail_pb2.CHECK_PII: "pii", guardrail_pb2.CHECK_BIAS: "bias", guardrail_pb2.CHECK_TOXICITY: "toxicity"}


def pii_mode(value: int, field: str) -> PiiMode:
    if value in (guardrail_pb2.PII_MODE_UNSPECIFIED, guardrail_pb2.PII_MODE_FULL):
        return "full"
    if value == guardrail_pb2.PII_MODE_FAST:
        return "fast"
    raise InvalidArgument(field, f"unknown PII mode {value}")


def redaction_style(value: int) -> RedactionStyle:
    if value in (guardrail_pb2.REDACTION_STYLE_UNSPECIFIED, guardrail_pb2.REDACTION_STYLE_TAG):
        return "tag"
    if value == guardrail_pb2.REDACTION_STYLE_HASH:
        return "hash"
    raise InvalidArgument("style", f"unknown redaction style {value}")


def scan_options(options: guardrail_pb2.ScanOptions, field: str = "options") -> ScanOptions:
    checks: set[str] = set()
    for i, check in enumerate(options.checks):
        if check == guardrail_pb2.CHECK_UNSPECIFIED:
            continue
        if check not in _CHECKS:
            raise InvalidArgument(f"{field}.checks[{i}]", f"unknown check {check}")
        checks.add(_CHECKS[check])
    threshold = options.toxicity_threshold
    if not 0.0 <= threshold <= 1.0:
        raise InvalidArgument(f"{field}.toxicity_threshold", "must be between 0 and 1")
    return ScanOptions(frozenset(checks) or ALL_CHECKS, pii_mode(options.pii_mode, f"{field}.pii_mode"), threshold)


def pii_finding(f: PiiFinding) -> common_pb2.PiiFinding:
    return common_pb2.PiiFinding(
        entity_type=f.entity_type,
        start=f.start,
        end=f.end,
        score=f.score,
        recognizer=f.recognizer,
        json_path=f.json_path,
    )


def bias_finding(f: BiasFinding) -> common_pb2.BiasFinding:
    return common_pb2.BiasFinding(
        term=f.term,
        category=f.category,
        severity=int(f.severity),  # type: ignore[arg-type]
        start=f.start,
        end=f.end,
        alternative=f.alternative,
        json_path=f.json_path,
        explanation=f.explanation,
    )


def toxicity(result: ToxicityResult) -> common_pb2.ToxicityResult:
    return common_pb2.ToxicityResult(
        score=result.score,
        toxic=result.toxic,
        backend=result.backend,
        dimensions=result.dimensions,
        threshold=result.threshold,
        findings=[
            common_pb2.ToxicityFinding(
                category=f.category, score=f.score, start=f.start, end=f.end, json_path=f.json_path, source=f.source
            )
            for f in result.findings
        ],
    )


def issue(i: ValidationIssue) -> common_pb2.ValidationIssue:
    return common_pb2.ValidationIssue(
        field=i.field,
        code=i.code,
        message=i.message,
        severity=int(i.severity),  # type: ignore[arg-type]
        fixed=i.fixed,
    )


def safety_report(report: SafetyReport) -> common_pb2.SafetyReport:
    msg = common_pb2.SafetyReport(
        pii=[pii_finding(f) for f in report.pii],
        bias=[bias_finding(f) for f in report.bias],
        validation=[issue(i) for i in report.validation],
        summary=report.summary,
        has_issues=report.has_issues,
        has_critical_issues=report.has_critical_issues,
        timings_ms=report.timings_ms,
    )
    if report.toxicity is not None:
        msg.toxicity.CopyFrom(toxicity(report.toxicity))
    return msg


def _float(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def analysis(data: dict[str, Any]) -> common_pb2.ScreeningAnalysis:
    """A repaired (hence well-typed) result dict as ScreeningAnalysis."""
    return common_pb2.ScreeningAnalysis(
        match_score=int(_float(data.get("match_score"))),
        summary=str(data.get("summary") or ""),
        strengths=[str(s) for s in data.get("strengths", [])],
        weaknesses=[str(s) for s in data.get("weaknesses", [])],
        missing_skills=[str(s) for s in data.get("missing_skills", [])],
        matched_skills=[str(s) for s in data.get("matched_skills", [])],
        interview_questions=[
            common_pb2.InterviewQuestion(
                question=q["question"], rationale=q.get("rationale", ""), skill=q.get("skill", "")
            )
            for q in data.get("interview_questions", [])
        ],
        skills_score=_float(data.get("skills_score")),
        experience_score=_float(data.get("experience_score")),
        semantic_score=_float(data.get("semantic_score")),
        confidence=_float(data.get("confidence")),
        recommendation=str(data.get("recommendation") or ""),
    )


def validate_response(outcome: ValidationOutcome) -> guardrail_pb2.ValidateOutputResponse:
    response = guardrail_pb2.ValidateOutputResponse(
        valid=outcome.valid, issues=[issue(i) for i in outcome.issues], changes=outcome.changes
    )
    if outcome.fixed is not None:
        response.fixed.CopyFrom(analysis(outcome.fixed))
    return response
