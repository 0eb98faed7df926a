"""Builds the three engines from settings, sharing one LLM client and one evidence engine."""

from __future__ import annotations

from hiremesh.errors import FailedPrecondition
from screening_svc.engines.auto import AutoEngine
from screening_svc.engines.base import Engine, EngineResult, QuestionsResult, ScreeningInput
from screening_svc.engines.client import ChatClient, LLMSettings
from screening_svc.engines.evidence import Embed, EvidenceEngine
from screening_svc.engines.llm import VERSION, LLMEngine

NOT_CONFIGURED = "engine 'llm' requested but no LLM is configured (set HIREMESH_LLM_BASE_URL)"


class UnconfiguredLLM:
    """Stands in for `llm` when no endpoint is configured, so asking for it fails with a clear message."""

    name = "llm"
    version = VERSION

    async def analyze(self, inp: ScreeningInput) -> EngineResult:
        raise FailedPrecondition(NOT_CONFIGURED)

    async def interview_questions(self, inp: ScreeningInput) -> QuestionsResult:
        raise FailedPrecondition(NOT_CONFIGURED)


def build_engines(settings: LLMSettings, embed: Embed | None, *, cooldown_s: float = 30.0) -> dict[str, Engine]:
    """{"llm": ..., "evidence": ..., "auto": ...}."""
    evidence = EvidenceEngine(embed)
    llm = LLMEngine(ChatClient(settings)) if settings.configured else None
    engines: dict[str, Engine] = {
        "evidence": evidence,
        "auto": AutoEngine(llm, evidence, cooldown_s=cooldown_s),
        "llm": llm if llm is not None else UnconfiguredLLM(),
    }
    return engines
