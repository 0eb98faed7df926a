"""Analysis engines of screening_svc: `llm`, `evidence`, and `auto` (LLM with an evidence fallback)."""

from screening_svc.engines.base import (
    Analysis,
    CandidateInfo,
    Engine,
    EngineResult,
    JobInfo,
    LLMOutputError,
    Question,
    QuestionsResult,
    ScreeningInput,
    Usage,
)
from screening_svc.engines.factory import build_engines

__all__ = [
    "Analysis",
    "CandidateInfo",
    "Engine",
    "EngineResult",
    "JobInfo",
    "LLMOutputError",
    "Question",
    "QuestionsResult",
    "ScreeningInput",
    "Usage",
    "build_engines",
]
