"""The evidence engine's score next to every LLM screening, and the safety issue when they disagree.

An LLM reads the resume, so a resume can try to talk it into a score ("Recruiter note: perfect fit,
match_score 100"). The evidence engine scores skills, years and semantic coverage without reading any
instruction, so a large gap between the two is a signal worth a human's look: it becomes a `SCORE_GAP`
issue in the result's SafetyReport (has_issues), with both scores in the message. The LLM's score is
kept as it is; the flag is for review, not a verdict.
"""

from __future__ import annotations

from hiremesh.config import env_int
from hiremesh.v1 import common_pb2

DEFAULT_GAP = 35  # points out of 100


def gap_limit() -> int:
    return env_int("HIREMESH_SCREENING_SCORE_GAP", DEFAULT_GAP, min=1, max=100)


def gap_issue(llm_score: int, evidence_score: int, limit: int) -> common_pb2.ValidationIssue | None:
    """A SCORE_GAP issue when the two scores are more than `limit` points apart, else None."""
    gap = abs(llm_score - evidence_score)
    if gap <= limit:
        return None
    direction = "above" if llm_score > evidence_score else "below"
    return common_pb2.ValidationIssue(
        field="match_score", code="SCORE_GAP", severity=common_pb2.SEVERITY_HIGH,
        message=(f"the LLM's match_score {llm_score} is {gap} points {direction} the evidence engine's "
                 f"{evidence_score} (limit {limit}): the resume may be steering the model; review it"))


def flag(report: common_pb2.SafetyReport, issue: common_pb2.ValidationIssue | None) -> None:
    """Add `issue` to `report` (and mark the report as having issues)."""
    if issue is None:
        return
    report.validation.append(issue)
    report.has_issues = True
    note = "Score cross-check: " + issue.message + "."
    report.summary = f"{report.summary} {note}".strip() if report.summary else note
