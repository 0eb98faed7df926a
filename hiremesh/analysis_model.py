"""The screening analysis as one typed model: the shape of `ScreeningAnalysis` (common.proto) in Python.

Everything else about the analysis is derived from these classes: the JSON schema the LLM is asked to answer
in (`analysis_schema`, `questions_schema`), the field names the validator knows (`KNOWN_FIELDS`,
`LIST_FIELDS`, `SUB_SCORES`, used by hiremesh.analysis), and the validated value engines return (`Analysis`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, get_args, get_origin

import annotated_types
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.fields import FieldInfo

__all__ = [
    "DEFAULT_QUESTIONS",
    "KNOWN_FIELDS",
    "LIST_FIELDS",
    "SUB_SCORES",
    "Analysis",
    "LLMAnalysis",
    "Question",
    "analysis_schema",
    "object_schema",
    "questions_schema",
]

DEFAULT_QUESTIONS = 5


class Question(BaseModel):
    """One interview question (InterviewQuestion); it always ends with "?"."""

    model_config = ConfigDict(extra="ignore")

    question: str = Field(min_length=5)
    rationale: str = ""
    skill: str = ""

    @field_validator("question")
    @classmethod
    def _ends_with_question_mark(cls, value: str) -> str:
        text = value.strip()
        return text if text.endswith("?") else text.rstrip(".!:;,") + "?"


def _clamped(value: object, low: float, high: float) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return min(max(float(value), low), high)
    return value


class LLMAnalysis(BaseModel):
    """The part of an analysis a language model writes: the screening prompt's response schema."""

    model_config = ConfigDict(extra="ignore")

    match_score: int = Field(ge=0, le=100)
    summary: str = Field(min_length=1)
    strengths: list[str] = Field(default_factory=list)
    weaknesses: list[str] = Field(default_factory=list)
    missing_skills: list[str] = Field(default_factory=list)
    interview_questions: list[Question] = Field(default_factory=list)

    @field_validator("match_score", mode="before")
    @classmethod
    def _clamp_score(cls, value: object) -> object:
        clamped = _clamped(value, 0.0, 100.0)
        return round(clamped) if isinstance(clamped, float) else clamped


class Analysis(LLMAnalysis):
    """ScreeningAnalysis as a validated model: what the LLM writes plus what the engines compute.

    Scores are clamped rather than rejected."""

    skills_score: float = Field(default=0.0, ge=0, le=100)
    experience_score: float = Field(default=0.0, ge=0, le=100)
    semantic_score: float = Field(default=0.0, ge=0, le=100)
    lexical_score: float = Field(default=0.0, ge=0, le=100)
    confidence: float = Field(default=0.0, ge=0, le=1)
    matched_skills: list[str] = Field(default_factory=list)
    recommendation: str = ""

    @field_validator("skills_score", "experience_score", "semantic_score", "lexical_score", mode="before")
    @classmethod
    def _clamp_sub_score(cls, value: object) -> object:
        return _clamped(value, 0.0, 100.0)

    @field_validator("confidence", mode="before")
    @classmethod
    def _clamp_confidence(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool) and 1 < value <= 100:
            value = float(value) / 100  # a percentage
        return _clamped(value, 0.0, 1.0)


class InterviewQuestions(BaseModel):
    """The interviewer prompt's answer: only the questions."""

    model_config = ConfigDict(extra="ignore")

    interview_questions: list[Question] = Field(default_factory=list)


def _bounds(info: FieldInfo) -> tuple[float | None, float | None]:
    """A numeric field's `ge`/`le` limits (the only constraints the models use on numbers)."""
    low = high = None
    for constraint in info.metadata:
        if isinstance(constraint, annotated_types.Ge) and isinstance(constraint.ge, int | float):
            low = float(constraint.ge)
        elif isinstance(constraint, annotated_types.Le) and isinstance(constraint.le, int | float):
            high = float(constraint.le)
    return low, high


KNOWN_FIELDS = frozenset(Analysis.model_fields)
LIST_FIELDS = tuple(name for name, info in Analysis.model_fields.items() if info.annotation == list[str])
SUB_SCORES = tuple(
    name for name, info in Analysis.model_fields.items() if info.annotation is float and _bounds(info) == (0.0, 100.0)
)

_JSON_TYPES: dict[Any, str] = {int: "integer", float: "number", str: "string", bool: "boolean"}


def _type_schema(annotation: Any, info: FieldInfo | None = None) -> dict[str, Any]:
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        return {"type": "array", "items": _type_schema(item)}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return object_schema(annotation)
    schema: dict[str, Any] = {"type": _JSON_TYPES[annotation]}
    # Numeric bounds go into the schema (the LLM server turns it into a grammar, so the model cannot write 140).
    # Length limits stay out on purpose: a grammar would force filler characters, while the validator reports a
    # too-short summary or question with the field's name.
    low, high = _bounds(info) if info is not None else (None, None)
    if low is not None:
        schema["minimum"] = int(low) if low.is_integer() else low
    if high is not None:
        schema["maximum"] = int(high) if high.is_integer() else high
    return schema


def object_schema(model: type[BaseModel], counts: Mapping[str, int] | None = None) -> dict[str, Any]:
    """The strict JSON schema of `model` an LLM is asked to fill: every field required, no other key, and the
    lists named in `counts` holding exactly that many items."""
    properties = {name: _type_schema(info.annotation, info) for name, info in model.model_fields.items()}
    for name, n in (counts or {}).items():
        properties[name] = {**properties[name], "minItems": n, "maxItems": n}
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def analysis_schema(questions: int) -> dict[str, Any]:
    """The screening call's response schema: an `LLMAnalysis` with exactly `questions` interview questions."""
    return object_schema(LLMAnalysis, {"interview_questions": questions})


def questions_schema(questions: int) -> dict[str, Any]:
    """The interviewer call's response schema: exactly `questions` interview questions."""
    return object_schema(InterviewQuestions, {"interview_questions": questions})
