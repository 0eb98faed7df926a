"""The analysis model is the one definition: the LLM's schema, the validator's field names and the proto agree."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import Field

from hiremesh import analysis_model as model
from hiremesh.v1 import common_pb2


def _question_schema() -> dict[str, Any]:
    # The hand-written schema the prompts used before it was generated (screening_svc/engines/prompts.py).
    return {
        "type": "object",
        "properties": {"question": {"type": "string"}, "rationale": {"type": "string"}, "skill": {"type": "string"}},
        "required": ["question", "rationale", "skill"],
        "additionalProperties": False,
    }


def hand_written_analysis_schema(n: int) -> dict[str, Any]:
    strings = {"type": "array", "items": {"type": "string"}}
    return {
        "type": "object",
        "properties": {
            "match_score": {"type": "integer", "minimum": 0, "maximum": 100},
            "summary": {"type": "string"},
            "strengths": strings,
            "weaknesses": strings,
            "missing_skills": strings,
            "interview_questions": {"type": "array", "items": _question_schema(), "minItems": n, "maxItems": n},
        },
        "required": ["match_score", "summary", "strengths", "weaknesses", "missing_skills", "interview_questions"],
        "additionalProperties": False,
    }


def hand_written_questions_schema(n: int) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "interview_questions": {"type": "array", "items": _question_schema(), "minItems": n, "maxItems": n},
        },
        "required": ["interview_questions"],
        "additionalProperties": False,
    }


@pytest.mark.parametrize("n", [1, 5, 12])
def test_generated_schemas_equal_the_hand_written_ones(n: int) -> None:
    assert model.analysis_schema(n) == hand_written_analysis_schema(n)
    assert model.questions_schema(n) == hand_written_questions_schema(n)


def test_schema_properties_follow_the_model() -> None:
    schema = model.analysis_schema(3)
    assert list(schema["properties"]) == schema["required"] == list(model.LLMAnalysis.model_fields)
    assert schema["properties"]["match_score"] == {"type": "integer", "minimum": 0, "maximum": 100}
    questions = schema["properties"]["interview_questions"]
    assert (questions["minItems"], questions["maxItems"]) == (3, 3)
    assert questions["items"]["required"] == ["question", "rationale", "skill"]


def test_a_field_added_to_the_model_reaches_the_schema() -> None:
    class Extended(model.LLMAnalysis):
        seniority: float = Field(default=0.0, ge=0, le=10)

    schema = model.object_schema(Extended)
    assert schema["properties"]["seniority"] == {"type": "number", "minimum": 0, "maximum": 10}
    assert schema["required"][-1] == "seniority"


def test_the_schema_is_accepted_by_a_json_schema_validator() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    good = {
        "match_score": 70,
        "summary": "Solid Python backend experience.",
        "strengths": ["Python"],
        "weaknesses": [],
        "missing_skills": ["Kubernetes"],
        "interview_questions": [
            {"question": "How did you scale the API?", "rationale": "claimed: APIs", "skill": "APIs"}
        ],
    }
    schema = model.analysis_schema(1)
    jsonschema.validate(good, schema)
    for bad in ({**good, "match_score": 140}, {**good, "extra": 1}, {**good, "interview_questions": []}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, schema)


def test_known_fields_are_the_proto_message_fields() -> None:
    proto_fields = {f.name for f in common_pb2.ScreeningAnalysis.DESCRIPTOR.fields}
    assert model.KNOWN_FIELDS == proto_fields
    assert model.LIST_FIELDS == ("strengths", "weaknesses", "missing_skills", "matched_skills")
    assert model.SUB_SCORES == ("skills_score", "experience_score", "semantic_score", "lexical_score")


def test_the_model_clamps_scores_and_ends_questions() -> None:
    analysis = model.Analysis.model_validate(
        {
            "match_score": 140.4,
            "summary": "ok",
            "confidence": 80,
            "skills_score": -3,
            "interview_questions": [{"question": "Which queues have you run."}],
        }
    )
    assert (analysis.match_score, analysis.confidence, analysis.skills_score) == (100, 0.8, 0.0)
    assert analysis.interview_questions[0].question == "Which queues have you run?"
