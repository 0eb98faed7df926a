"""PII with the real spaCy model and Presidio: planted values are found, redaction removes them."""

from __future__ import annotations

import pytest

from guardrail_svc.nlp import uses_blis
from guardrail_svc.pii import PiiDetector, _may_name_someone
from tests.guardrail_svc.resumes import make_resume

SEEDS = list(range(12))


@pytest.mark.parametrize("seed", SEEDS)
def test_every_planted_entity_is_found_with_its_type(detector: PiiDetector, seed: int) -> None:
    resume = make_resume(seed)
    findings = detector.analyze(resume.text)
    for entity, values in resume.planted.items():
        for value in values:
            start = resume.text.index(value)
            end = start + len(value)
            hits = [f for f in findings if f.start < end and f.end > start]
            assert hits, f"{entity} {value!r} not found in seed {seed}"
            assert any(f.entity_type == entity for f in hits), (value, [(f.entity_type, f.recognizer) for f in hits])


@pytest.mark.parametrize("seed", SEEDS)
def test_redaction_leaves_no_planted_value(detector: PiiDetector, seed: int) -> None:
    resume = make_resume(seed)
    redacted = detector.redact(resume.text, detector.analyze(resume.text))
    for values in resume.planted.values():
        for value in values:
            assert value not in redacted
    assert "<EMAIL_ADDRESS>" in redacted and "<PERSON>" in redacted


def test_hash_redaction_is_stable_per_value(detector: PiiDetector) -> None:
    text = "Contact ana.silva@mailbox.org or ana.silva@mailbox.org, not bo.li@mailbox.org."
    redacted = detector.redact(text, detector.analyze(text), style="hash")
    tokens = [t for t in redacted.replace(",", " ").split() if t.startswith("<EMAIL_ADDRESS:")]
    assert len(tokens) == 3 and tokens[0] == tokens[1] != tokens[2]
    assert "mailbox.org" not in redacted


def test_technology_names_are_not_people_or_places(detector: PiiDetector) -> None:
    text = ("Experienced with Python, Kafka, Docker, React, Go, Flask, Redis, Helm, Grafana, Prometheus and "
            "Snowflake. Led migrations from Java Spring to Django at Globex Ltd.")
    findings = detector.analyze(text)
    assert [(f.entity_type, text[f.start:f.end]) for f in findings] == []


def test_no_noisy_dates_or_organisations(detector: PiiDetector) -> None:
    text = "Worked at Acme Corp from 2015 to 2019 for 4 years, then at Microsoft for a year."
    types = {f.entity_type for f in detector.analyze(text)}
    assert not types & {"DATE_TIME", "ORGANIZATION", "NRP"}


def test_non_us_phone_formats(detector: PiiDetector) -> None:
    for phone in ["+44 20 7946 0958", "020 7946 0958", "+49 30 90182012", "+33 1 42 68 53 00", "+91 98765 43210",
                  "+61 2 9374 4000"]:
        text = f"Call me on {phone} after six."
        found = [text[f.start:f.end] for f in detector.analyze(text) if f.entity_type == "PHONE_NUMBER"]
        assert found == [phone], phone


def test_year_ranges_are_not_phone_numbers(detector: PiiDetector) -> None:
    text = "Software Engineer 2015-2019, Lead 2019 - 2023, 40% faster, 3.5 million users."
    assert [f for f in detector.analyze(text) if f.entity_type == "PHONE_NUMBER"] == []


def test_street_address_and_postcodes(detector: PiiDetector) -> None:
    text = "Lives at 42 Harbour Way, Leeds LS1 4DY. Previously 1600 Pennsylvania Avenue, Washington, DC 20500."
    found = {(f.entity_type, text[f.start:f.end]) for f in detector.analyze(text)}
    assert ("STREET_ADDRESS", "42 Harbour Way") in found
    assert ("POSTAL_CODE", "LS1 4DY") in found
    assert ("STREET_ADDRESS", "1600 Pennsylvania Avenue") in found
    assert ("POSTAL_CODE", "20500") in found


def test_all_caps_header_name(detector: PiiDetector) -> None:
    text = "MARGUERITE OYELARAN-BROOKS\nData Engineer\nSpark, Airflow, dbt\n\nEXPERIENCE\nBuilt pipelines."
    found = [(f.entity_type, text[f.start:f.end]) for f in detector.analyze(text)]
    assert ("PERSON", "MARGUERITE OYELARAN-BROOKS") in found


def test_fast_mode_has_no_names_or_places(detector: PiiDetector) -> None:
    resume = make_resume(3)
    fast = detector.analyze(resume.text, "fast")
    types = {f.entity_type for f in fast}
    assert "EMAIL_ADDRESS" in types and "PHONE_NUMBER" in types
    assert not types & {"PERSON", "LOCATION"}
    assert all(f.recognizer != "SpacyRecognizer" for f in fast)


def test_batch_matches_single(detector: PiiDetector) -> None:
    texts = [make_resume(s).text for s in (1, 2, 3)]
    assert detector.analyze_many(texts) == [detector.analyze(t) for t in texts]


def test_findings_carry_recogniser_and_score(detector: PiiDetector) -> None:
    text = "Mail jo.kim@mailbox.org"
    (finding,) = detector.analyze(text)
    assert finding.entity_type == "EMAIL_ADDRESS" and finding.recognizer == "EmailRecognizer"
    assert 0 < finding.score <= 1 and text[finding.start:finding.end] == "jo.kim@mailbox.org"


def test_ner_multiplies_through_numpy_not_blis(detector: PiiDetector) -> None:
    # blis falls back to its generic reference kernel on CPUs it does not know (Zen 4 here), ~5x slower.
    assert detector.nlp.nlp is not None
    assert not uses_blis(detector.nlp.nlp["en"])


def test_strings_ner_cannot_matter_for_skip_it() -> None:
    assert not _may_name_someone("gap: python")
    assert not _may_name_someone("reach me at someone@example.com")
    assert _may_name_someone("Strong fit; John Smith led the Kafka migration")
    assert _may_name_someone("Lives in Berlin")


def test_skipping_ner_keeps_every_finding_of_a_screening_document(detector: PiiDetector) -> None:
    texts = ["Maria Gonzalez is a strong backend engineer.", "gap: kubernetes", "Kubernetes",
             "reach her at maria@gonzalez.dev", "based in Madrid, Spain", "claimed: django", "Node.js",
             "gap: call +44 20 7946 0958 first"]
    batch = detector.analyze_many(texts)
    assert batch[6] == []  # a bare skill name, URL-shaped or not
    assert [f.entity_type for f in batch[7]] == ["PHONE_NUMBER"]  # no capital letter: rules still run
    assert {texts[0][f.start:f.end] for f in batch[0]} == {"Maria Gonzalez"}
    assert batch[1] == [] and batch[2] == [] and batch[5] == []
    assert [f.entity_type for f in batch[3]] == ["EMAIL_ADDRESS"]
    assert {f.entity_type for f in batch[4]} == {"LOCATION"}
