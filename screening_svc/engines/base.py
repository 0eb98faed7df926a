"""The one interface every analysis engine implements, and the values that cross it.

Engines know nothing of gRPC: they take a `ScreeningInput` (a candidate and a job as plain dataclasses) and
return an `EngineResult` holding a validated `Analysis` shaped like the `ScreeningAnalysis` proto message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hiremesh.errors import Unavailable

DEFAULT_QUESTIONS = 5


@dataclass(frozen=True)
class CandidateInfo:
    id: str
    name: str = ""
    headline: str = ""
    resume_text: str = ""
    skills: tuple[str, ...] = ()
    years_experience: float = 0.0
    location: str = ""


@dataclass(frozen=True)
class JobInfo:
    id: str
    title: str = ""
    description: str = ""
    required_skills: tuple[str, ...] = ()
    min_experience: float = 0.0
    max_experience: float = 0.0
    location: str = ""
    company: str = ""


@dataclass(frozen=True)
class TextMatch:
    """How the resume's words and meaning match the job's, scored by search_svc against its whole catalog
    (ScoreCandidates): both similarities, how many standard deviations each stands above a typical
    candidate for this job, and their fusion as hybrid search orders candidates."""

    lexical_similarity: float
    cosine_similarity: float
    lexical_z: float
    semantic_z: float
    fused_z: float
    lexical_weight: float


@dataclass(frozen=True)
class ScreeningInput:
    candidate: CandidateInfo
    job: JobInfo
    questions: int = DEFAULT_QUESTIONS
    match: TextMatch | None = None  # None when search could not score the pair; engines then do without


class Question(BaseModel):
    model_config = ConfigDict(extra="ignore")

    question: str = Field(min_length=5)
    rationale: str = ""
    skill: str = ""

    @field_validator("question")
    @classmethod
    def _ends_with_question_mark(cls, value: str) -> str:
        text = value.strip()
        return text if text.endswith("?") else text.rstrip(".!:;,") + "?"


class Analysis(BaseModel):
    """ScreeningAnalysis as a validated model; scores are clamped rather than rejected."""

    model_config = ConfigDict(extra="ignore")

    match_score: int = Field(ge=0, le=100)
    summary: str = Field(min_length=1)
    strengths: list[str] = Field(default_factory=list)
    weaknesses: list[str] = Field(default_factory=list)
    missing_skills: list[str] = Field(default_factory=list)
    interview_questions: list[Question] = Field(default_factory=list)
    skills_score: float = Field(default=0.0, ge=0, le=100)
    experience_score: float = Field(default=0.0, ge=0, le=100)
    semantic_score: float = Field(default=0.0, ge=0, le=100)
    lexical_score: float = Field(default=0.0, ge=0, le=100)
    confidence: float = Field(default=0.0, ge=0, le=1)
    matched_skills: list[str] = Field(default_factory=list)
    recommendation: str = ""

    @field_validator("match_score", mode="before")
    @classmethod
    def _clamp_score(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return round(min(max(float(value), 0.0), 100.0))
        return value

    @field_validator("skills_score", "experience_score", "semantic_score", "lexical_score", mode="before")
    @classmethod
    def _clamp_sub_score(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return min(max(float(value), 0.0), 100.0)
        return value

    @field_validator("confidence", mode="before")
    @classmethod
    def _clamp_confidence(cls, value: object) -> object:
        if isinstance(value, int | float) and not isinstance(value, bool):
            number = float(value)
            if 1 < number <= 100:  # a percentage
                number /= 100
            return min(max(number, 0.0), 1.0)
        return value


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens


@dataclass
class EngineResult:
    """An analysis and where it came from. `degraded`/`reason` say when another engine stood in."""

    analysis: Analysis
    engine: str
    engine_version: str
    model: str = ""
    degraded: bool = False
    reason: str = ""
    usage: Usage = field(default_factory=Usage)
    tool_calls: list[str] = field(default_factory=list)


@dataclass
class QuestionsResult:
    questions: list[Question]
    engine: str
    degraded: bool = False
    reason: str = ""
    usage: Usage = field(default_factory=Usage)
    tool_calls: list[str] = field(default_factory=list)


class LLMOutputError(Unavailable):
    """The LLM answered, but the answer is unusable. `kind`: "truncated", "invalid_output" or "empty"."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind


class Engine(Protocol):
    """An analysis engine. Both calls may raise hiremesh.errors exceptions (Unavailable, DeadlineExceeded...)."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    async def analyze(self, inp: ScreeningInput) -> EngineResult: ...

    async def interview_questions(self, inp: ScreeningInput) -> QuestionsResult: ...
