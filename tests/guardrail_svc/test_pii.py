"""PII with the real spaCy model and Presidio: planted values are found, redaction removes them."""

from __future__ import annotations

import pytest

from guardrail_svc.nlp import uses_blis
from guardrail_svc.pii import PiiDetector, _may_name_someone
from tests import real_resumes
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
    text = (
        "Experienced with Python, Kafka, Docker, React, Go, Flask, Redis, Helm, Grafana, Prometheus and "
        "Snowflake. Led migrations from Java Spring to Django at Globex Ltd."
    )
    findings = detector.analyze(text)
    assert [(f.entity_type, text[f.start : f.end]) for f in findings] == []


def test_no_noisy_dates_or_organisations(detector: PiiDetector) -> None:
    text = "Worked at Acme Corp from 2015 to 2019 for 4 years, then at Microsoft for a year."
    types = {f.entity_type for f in detector.analyze(text)}
    assert not types & {"DATE_TIME", "ORGANIZATION", "NRP"}


def test_non_us_phone_formats(detector: PiiDetector) -> None:
    for phone in [
        "+44 20 7946 0958",
        "020 7946 0958",
        "+49 30 90182012",
        "+33 1 42 68 53 00",
        "+91 98765 43210",
        "+61 2 9374 4000",
    ]:
        text = f"Call me on {phone} after six."
        found = [text[f.start : f.end] for f in detector.analyze(text) if f.entity_type == "PHONE_NUMBER"]
        assert found == [phone], phone


def test_year_ranges_are_not_phone_numbers(detector: PiiDetector) -> None:
    text = "Software Engineer 2015-2019, Lead 2019 - 2023, 40% faster, 3.5 million users."
    assert [f for f in detector.analyze(text) if f.entity_type == "PHONE_NUMBER"] == []


def test_street_address_and_postcodes(detector: PiiDetector) -> None:
    text = "Lives at 42 Harbour Way, Leeds LS1 4DY. Previously 1600 Pennsylvania Avenue, Washington, DC 20500."
    found = {(f.entity_type, text[f.start : f.end]) for f in detector.analyze(text)}
    assert ("STREET_ADDRESS", "42 Harbour Way") in found
    assert ("POSTAL_CODE", "LS1 4DY") in found
    assert ("STREET_ADDRESS", "1600 Pennsylvania Avenue") in found
    assert ("POSTAL_CODE", "20500") in found


def test_all_caps_header_name(detector: PiiDetector) -> None:
    text = "MARGUERITE OYELARAN-BROOKS\nData Engineer\nSpark, Airflow, dbt\n\nEXPERIENCE\nBuilt pipelines."
    found = [(f.entity_type, text[f.start : f.end]) for f in detector.analyze(text)]
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
    assert 0 < finding.score <= 1 and text[finding.start : finding.end] == "jo.kim@mailbox.org"


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
    texts = [
        "Maria Gonzalez is a strong backend engineer.",
        "gap: kubernetes",
        "Kubernetes",
        "reach her at maria@gonzalez.dev",
        "based in Madrid, Spain",
        "claimed: django",
        "Node.js",
        "gap: call +44 20 7946 0958 first",
    ]
    batch = detector.analyze_many(texts)
    assert batch[6] == []  # a bare skill name, URL-shaped or not
    assert [f.entity_type for f in batch[7]] == ["PHONE_NUMBER"]  # no capital letter: rules still run
    assert {texts[0][f.start : f.end] for f in batch[0]} == {"Maria Gonzalez"}
    assert batch[1] == [] and batch[2] == [] and batch[5] == []
    assert [f.entity_type for f in batch[3]] == ["EMAIL_ADDRESS"]
    assert {f.entity_type for f in batch[4]} == {"LOCATION"}


# --- real resumes (public samples in tests/real_resumes.py) ----------------------------------------------------


def found(detector: PiiDetector, text: str) -> set[tuple[str, str]]:
    return {(f.entity_type, text[f.start : f.end]) for f in detector.analyze(text)}


def test_a_real_header_gives_the_person_and_the_city_not_the_title(detector: PiiDetector) -> None:
    text = real_resumes.INDEED_ABHISHEK
    hits = found(detector, text)
    assert ("PERSON", "Abhishek Jha") in hits  # not "Abhishek Jha\nApplication Development Associate"
    assert ("LOCATION", "Bengaluru, Karnataka") in hits and ("LOCATION", "Bangalore, Karnataka") in hits
    people = {value for kind, value in hits if kind == "PERSON"}
    assert people == {"Abhishek Jha"}, people  # no title, company, skill or school taken for a person


def test_person_spans_never_cross_a_line_break(detector: PiiDetector) -> None:
    for text in (real_resumes.INDEED_ABHISHEK, real_resumes.INDEED_ARJUN, real_resumes.INDEED_JITENDRA):
        for f in detector.analyze(text):
            if f.entity_type in ("PERSON", "LOCATION"):
                assert "\n" not in text[f.start : f.end], text[f.start : f.end]


def test_a_lower_case_header_name_spelled_by_the_profile_link(detector: PiiDetector) -> None:
    assert ("PERSON", "arjun ks") in found(detector, real_resumes.INDEED_ARJUN)


def test_the_region_after_a_city_is_not_a_person(detector: PiiDetector) -> None:
    hits = found(detector, real_resumes.INDEED_JITENDRA)
    assert ("LOCATION", "Chennai, Tamil Nadu") in hits
    assert not any(kind == "PERSON" and "Tamil" in value for kind, value in hits)


@pytest.mark.parametrize(
    "text",
    [
        "SKILLS\nservicenow (1 year), Mainframe (3 years), cobol (3 years), Jcl (3 years), Teradata (3 years)\n",
        "Tools: Jenkins, Hibernate, Teradata, Ajax, Jackson\n",
        "Principal Consultant at Oracle\nSenior Analyst - Cisco\n",
        "Associate network engineer - TATA Communications Ltd\nWorked for Tata Communications in projects.\n",
    ],
)
def test_skills_tools_companies_and_titles_are_not_people_or_places(detector: PiiDetector, text: str) -> None:
    hits = {(k, v) for k, v in found(detector, text) if k in ("PERSON", "LOCATION")}
    assert hits == set(), hits


def test_a_town_that_is_a_word_needs_context(detector: PiiDetector) -> None:
    assert not any(k == "LOCATION" for k, _ in found(detector, "Reading books and travelling.\nMobile apps.\n"))
    assert ("LOCATION", "Reading") in found(detector, "She lives in Reading and commutes.")
    assert ("LOCATION", "Erode, Tamil Nadu") in found(detector, "Erode, Tamil Nadu - 638001\n")


def test_a_typing_slip_in_a_city_region_line(detector: PiiDetector) -> None:
    assert ("LOCATION", "Banglore, Karnataka") in found(detector, "Madhuri S\nBanglore, Karnataka - Email me\n")


def test_redaction_hides_the_cities_and_keeps_the_skills(detector: PiiDetector) -> None:
    text = real_resumes.INDEED_ABHISHEK
    redacted = detector.redact(text, detector.analyze(text))
    for city in ("Bengaluru", "Bangalore", "Abhishek Jha"):
        assert city not in redacted
    for kept in (
        "Application Development Associate",
        "Accenture",
        "Database Management",
        "Oracle PeopleSoft",
        "Kendriya Vidyalaya",
        "March 2013",
    ):
        assert kept in redacted, kept
