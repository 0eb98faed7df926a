"""The bias lexicon: real findings on a biased ad, silence on neutral text and on its common false alarms."""

from __future__ import annotations

from guardrail_svc.bias import find_bias
from guardrail_svc.report import Severity

BIASED_AD = """Senior Python Developer
We want a young, energetic salesman who is a native English speaker and under 30.
He must be able-bodied and clean-shaven; recent graduates preferred. Married applicants with no kids are ideal.
Christian values and an attractive appearance matter here."""

NEUTRAL_AD = """Senior Python Developer
We are hiring a Senior Python Developer to build data pipelines with Kafka and PostgreSQL.
You will mentor engineers, review designs and own services end to end. Senior engineers on our team lead
architecture discussions. Hence the theme of this role: help others ship. Avoid race conditions in async code.
We offer a highly attractive salary package, flexible hours and a learning budget."""

EEO = (
    '"We are an equal opportunity employer and do not discriminate on the basis of race, religion, gender, '
    'age, disability, marital status or pregnancy."'
)


def _terms(text: str) -> dict[str, tuple[str, Severity]]:
    return {f.term.lower(): (f.category, f.severity) for f in find_bias(text)}


def test_biased_ad_is_flagged_in_every_category() -> None:
    found = _terms(BIASED_AD)
    expected = {
        "young": "age",
        "salesman": "gender",
        "native english speaker": "race_ethnicity",
        "under 30": "age",
        "he": "gender",
        "able-bodied": "disability",
        "clean-shaven": "appearance",
        "recent graduates": "age",
        "married": "family_status",
        "no kids": "family_status",
        "christian": "religion",
        "attractive": "appearance",
    }
    for term, category in expected.items():
        assert term in found, term
        assert found[term][0] == category
    assert found["under 30"][1] == Severity.CRITICAL


def test_findings_carry_span_alternative_and_explanation() -> None:
    for f in find_bias(BIASED_AD):
        assert BIASED_AD[f.start : f.end] == f.term
        assert f.alternative and f.explanation
    salesman = next(f for f in find_bias(BIASED_AD) if f.term == "salesman")
    assert salesman.alternative == "salesperson"


def test_neutral_ad_with_senior_title_has_no_findings() -> None:
    assert find_bias(NEUTRAL_AD) == []


def test_pronoun_inside_words_does_not_fire() -> None:
    assert find_bias("The theme helps them; together they achieve heroic results.") == []


def test_quoted_equal_opportunity_statement_is_exempt() -> None:
    assert find_bias(EEO) == []
    assert find_bias("We do not discriminate on the basis of age or religion.") == []
    # ...but the same words outside the statement still count.
    assert [f.term for f in find_bias(EEO + " Applicants must be under 35.")] == ["under 35"]


def test_lemmas_match_inflected_forms() -> None:
    assert {f.term for f in find_bias("Ideal for mothers and salesmen.")} == {"mothers", "salesmen"}


def test_years_of_experience_is_not_an_age_limit() -> None:
    assert find_bias("Over 10 years of experience with Go; under 50 ms latency; over 30 countries.") == []
