"""Output validation: each defect class is caught, and auto-fix repairs exactly what it says it did."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hiremesh.analysis import validate_analysis
from hiremesh.errors import InvalidArgument


def good(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "match_score": 78,
        "summary": "Solid backend engineer with deep Python and Kafka experience; no Kubernetes in production.",
        "strengths": ["Python", "Kafka pipelines"],
        "weaknesses": ["No production Kubernetes"],
        "missing_skills": ["Kubernetes"],
        "matched_skills": ["Python", "Kafka"],
        "interview_questions": [
            {
                "question": f"How would you design consumer group {i} for exactly-once delivery?",
                "rationale": "claimed: kafka",
                "skill": "Kafka",
            }
            for i in range(5)
        ],
        "confidence": 0.8,
        "recommendation": "interview",
    }
    base.update(overrides)
    return base


def codes(result: Any) -> set[tuple[str, str]]:
    return {(i.field, i.code) for i in result.issues}


def test_clean_result_is_valid() -> None:
    outcome = validate_analysis(json.dumps(good()))
    assert outcome.valid and outcome.issues == [] and outcome.changes == []


def test_questions_may_be_plain_strings() -> None:
    questions = [f"What did you learn from incident {i}?" for i in range(5)]
    assert validate_analysis(good(interview_questions=questions)).valid


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"match_score": 140}, "match_score", "out_of_range"),
        ({"match_score": "abc"}, "match_score", "type"),
        ({"summary": "Too short."}, "summary", "too_short"),
        ({"summary": "x" * 1500 + ". More."}, "summary", "too_long"),
        ({"strengths": "Python"}, "strengths", "type"),
        ({"strengths": ["Python", "TODO"]}, "strengths[1]", "placeholder"),
        ({"strengths": ["[insert strength here]"]}, "strengths[0]", "placeholder"),
        ({"weaknesses": ['"weaknesses": ["No Go"],']}, "weaknesses[0]", "json_debris"),
        ({"strengths": ["great great great great engineer"]}, "strengths[0]", "repetition"),
        ({"interview_questions": [f"Question {i} about Go?" for i in range(4)]}, "interview_questions", "count"),
        (
            {"interview_questions": ["Tell me about yourself?"] + [f"Why Go {i}?" for i in range(4)]},
            "interview_questions[0]",
            "generic_question",
        ),
        (
            {"interview_questions": ["Describe your Kafka setup."] + [f"Why Go {i}?" for i in range(4)]},
            "interview_questions[0]",
            "not_a_question",
        ),
        ({"confidence": 80}, "confidence", "out_of_range"),
        ({"extra": 1}, "extra", "unknown_field"),
    ],
)
def test_each_defect_class_is_caught(overrides: dict[str, Any], field: str, code: str) -> None:
    outcome = validate_analysis(good(**overrides))
    assert (field, code) in codes(outcome)
    assert not any(i.fixed for i in outcome.issues)


def test_missing_required_fields() -> None:
    data = good()
    del data["match_score"], data["summary"]
    assert {("match_score", "missing"), ("summary", "missing")} <= codes(validate_analysis(data))


def test_invalid_json_names_field_and_position() -> None:
    with pytest.raises(InvalidArgument) as err:
        validate_analysis('{"match_score": 5,, }')
    assert err.value.field == "result_json" and "line 1 column" in err.value.message


def test_json_wrapped_in_prose_is_extracted() -> None:
    text = "Here is the analysis:\n```json\n" + json.dumps(good()) + "\n```\nHope this helps!"
    outcome = validate_analysis(text)
    assert ("$", "json_wrapped") in codes(outcome) and not outcome.valid
    assert validate_analysis(text, auto_fix=True).valid


BROKEN = good(
    match_score=131.6,
    summary="Strong engineer. TODO: add the summary. Strong Python and Kafka background with good communication.",
    strengths=["Python", "python", "TBD", '{"strength": "Kafka"}', "very very very strong tests"],
    weaknesses="No Kubernetes; little frontend work",
    interview_questions=[
        "Tell me about yourself.",
        {"question": "How did you size Kafka partitions", "rationale": "claimed: kafka", "skill": "Kafka"},
        "How do you test idempotent consumers?",
        "How do you test idempotent consumers?",
        "What would you change in your last system design?",
        "How do you debug a slow PostgreSQL query?",
        "How would you roll out a schema change safely?",
        "What is your approach to on-call?",
    ],
    confidence=85,
    extra_field="drop me",
)


def test_auto_fix_repairs_what_it_claims() -> None:
    outcome = validate_analysis(json.dumps(BROKEN), auto_fix=True)
    assert outcome.valid and outcome.fixed is not None
    fixed = outcome.fixed
    claimed = {(i.field, i.code) for i in outcome.issues if i.fixed}
    assert len(outcome.changes) == len(claimed)
    # Each claimed repair is visible in the result...
    assert fixed["match_score"] == 100
    assert fixed["confidence"] == pytest.approx(0.85)
    assert "TODO" not in fixed["summary"]
    assert fixed["strengths"] == ["Python", "Kafka", "very strong tests"]
    assert fixed["weaknesses"] == ["No Kubernetes", "little frontend work"]
    questions = [q["question"] for q in fixed["interview_questions"]]
    assert len(questions) == 5 and all(q.endswith("?") for q in questions)
    assert not any("yourself" in q for q in questions) and len(set(questions)) == 5
    assert "extra_field" not in fixed
    # ...and validating the repaired result again finds nothing left to fix.
    again = validate_analysis(fixed)
    assert again.valid and again.issues == [], again.issues


def test_unrepairable_result_has_no_fixed_output() -> None:
    outcome = validate_analysis(good(interview_questions=["Why Go?"], summary="short"), auto_fix=True)
    assert not outcome.valid and outcome.fixed is None
    assert {("interview_questions", "count"), ("summary", "too_short")} <= {
        (i.field, i.code) for i in outcome.issues if not i.fixed
    }


def test_expected_question_count_is_configurable() -> None:
    data = good(interview_questions=[f"What about Go {i}?" for i in range(3)])
    assert validate_analysis(data, expected_questions=3).valid
    assert not validate_analysis(data, expected_questions=5).valid


_scalar = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
_json = st.recursive(
    _scalar,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "match_score",
                "summary",
                "strengths",
                "interview_questions",
                "confidence",
                "skills_score",
                "weaknesses",
                "other",
            ]
        ),
        _json,
        max_size=8,
    )
)
def test_validator_never_crashes_and_fixed_output_revalidates(data: dict[str, Any]) -> None:
    outcome = validate_analysis(data, auto_fix=True)
    if outcome.fixed is not None:
        assert 0 <= outcome.fixed["match_score"] <= 100
        assert validate_analysis(outcome.fixed).valid
