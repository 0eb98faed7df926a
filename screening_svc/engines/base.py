"""The one interface every analysis engine implements, and the values that cross it.

Engines know nothing of gRPC: they take a `ScreeningInput` (a candidate and a job as plain dataclasses) and
return an `EngineResult` holding a validated `Analysis` (hiremesh.analysis_model, shaped like the `ScreeningAnalysis`
proto message).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

# The analysis model lives with its schema and validation rules in hiremesh; engines hand it across this interface.
from hiremesh.analysis_model import DEFAULT_QUESTIONS as DEFAULT_QUESTIONS
from hiremesh.analysis_model import Analysis as Analysis
from hiremesh.analysis_model import Question as Question
from hiremesh.errors import Unavailable


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
