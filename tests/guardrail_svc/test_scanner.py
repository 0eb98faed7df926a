"""Scans of texts and JSON documents: reports, JSON paths, request limits."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from guardrail_svc.scanner import Guardrail, ScanOptions
from hiremesh.errors import InvalidArgument
from tests.guardrail_svc.resumes import make_resume


def test_json_document_findings_carry_paths(guardrail: Guardrail) -> None:
    doc: dict[str, Any] = {
        "summary": "Candidate Maria Lopez is strong; reach her at maria.lopez@mailbox.org.",
        "strengths": ["Python", "Kafka", "Ideal for a young team of salesmen"],
        "interview_questions": [{"question": "Why is this code shit?", "skill": "Go"}],
        "meta": {"odd key": "Call +44 20 7946 0958"},
        "match_score": 80,
    }
    report = guardrail.scan_json(json.dumps(doc))
    pii_paths = {(f.entity_type, f.json_path) for f in report.pii}
    assert ("EMAIL_ADDRESS", "$.summary") in pii_paths
    assert ("PHONE_NUMBER", '$.meta["odd key"]') in pii_paths
    assert {(f.term, f.json_path) for f in report.bias} >= {("young", "$.strengths[2]"), ("salesmen", "$.strengths[2]")}
    assert report.toxicity is not None and report.toxicity.toxic
    assert [f.json_path for f in report.toxicity.findings] == ["$.interview_questions[0].question"]
    # Offsets are relative to the string at the path.
    email = next(f for f in report.pii if f.entity_type == "EMAIL_ADDRESS")
    assert doc["summary"][email.start : email.end] == "maria.lopez@mailbox.org"


def test_report_summary_flags_and_timings(guardrail: Guardrail) -> None:
    report = guardrail.scan_text(make_resume(5).text)
    assert report.has_issues and report.has_critical_issues  # credit card and SSN are planted
    assert report.summary.startswith("CRITICAL:") and "PII" in report.summary
    assert set(report.timings_ms) == {"pii", "bias", "toxicity"}
    clean = guardrail.scan_text("Built reliable data pipelines with Python and Airflow.")
    assert not clean.has_issues and clean.summary == "no issues found"


def test_checks_can_be_selected(guardrail: Guardrail) -> None:
    report = guardrail.scan_text("Email ana@mailbox.org, young salesman.", ScanOptions(frozenset({"bias"})))
    assert report.pii == [] and report.toxicity is None and report.bias
    assert set(report.timings_ms) == {"bias"}


def test_batch_returns_one_report_per_text(guardrail: Guardrail) -> None:
    texts = [make_resume(i).text for i in range(3)] + ["Neutral text about Go services."]
    reports = guardrail.scan_batch(texts, ScanOptions(pii_mode="fast"))
    assert len(reports) == 4 and all(r.pii for r in reports[:3]) and not reports[3].has_issues


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda g: g.scan_text("   "), "text"),
        (lambda g: g.scan_text("x" * 1_000_001), "text"),
        (lambda g: g.scan_batch([]), "texts"),
        (lambda g: g.scan_batch(["ok"] * 257), "texts"),
        (lambda g: g.scan_batch(["ok", ""]), "texts[1]"),
        (lambda g: g.scan_json('{"a": [1, 2'), "json_document"),
        (lambda g: g.scan_text("ok", ScanOptions(toxicity_threshold=1.5)), "options.toxicity_threshold"),
        (lambda g: g.redact("ok", entity_types=["SHOE_SIZE"]), "entity_types[0]"),
    ],
)
def test_bad_input_names_the_field(guardrail: Guardrail, call: Callable[[Guardrail], object], field: str) -> None:
    with pytest.raises(InvalidArgument) as err:
        call(guardrail)
    assert err.value.field == field


def test_invalid_json_error_has_position(guardrail: Guardrail) -> None:
    with pytest.raises(InvalidArgument, match=r"line 2 column \d+"):
        guardrail.scan_json('{"a": 1,\n "b": }')


def test_redact_only_selected_types(guardrail: Guardrail) -> None:
    text = "Jane Doe, jane.doe@mailbox.org, +44 20 7946 0958"
    redacted, findings = guardrail.redact(text, entity_types=["EMAIL_ADDRESS"])
    assert redacted == "Jane Doe, <EMAIL_ADDRESS>, +44 20 7946 0958"
    assert [f.entity_type for f in findings] == ["EMAIL_ADDRESS"]
