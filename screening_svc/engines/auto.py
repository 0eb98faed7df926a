"""The `auto` engine: the LLM when it is configured and healthy, otherwise the evidence engine.

A failed LLM call (endpoint down, erroring, over its deadline, or output that fails validation) falls back to
evidence at once, marking the result `degraded` with the reason. After an endpoint failure the LLM is skipped
for `cooldown_s` (a small circuit breaker), so a dead endpoint does not add its full retry budget to every
screening; output failures do not open the circuit, since the next answer may well be fine.
"""

from __future__ import annotations

import logging
import time

from hiremesh.errors import HiremeshError
from screening_svc import metrics
from screening_svc.engines.base import EngineResult, LLMOutputError, QuestionsResult, ScreeningInput
from screening_svc.engines.evidence import EvidenceEngine
from screening_svc.engines.llm import LLMEngine

log = logging.getLogger("screening_svc.auto")


def failure_cause(exc: BaseException) -> str:
    if isinstance(exc, LLMOutputError):
        return exc.kind
    return type(exc).__name__.lower() if isinstance(exc, HiremeshError) else "error"


class AutoEngine:
    """LLM first, evidence as the fallback; never raises for an LLM failure."""

    name = "auto"

    def __init__(self, llm: LLMEngine | None, evidence: EvidenceEngine, *, cooldown_s: float = 30.0) -> None:
        self.llm = llm
        self.evidence = evidence
        self.cooldown_s = cooldown_s
        self._open_until = 0.0
        self._open_reason = ""

    @property
    def version(self) -> str:
        return self.llm.version if self.llm is not None else self.evidence.version

    def _skip_reason(self) -> str | None:
        if self.llm is None:
            return None
        if time.monotonic() < self._open_until:
            return f"LLM skipped after a recent failure ({self._open_reason})"
        return ""

    def _failed(self, exc: Exception) -> str:
        cause = failure_cause(exc)
        metrics.ENGINE_FALLBACKS.labels(cause).inc()
        if not isinstance(exc, LLMOutputError):
            self._open_until = time.monotonic() + self.cooldown_s
            self._open_reason = str(exc)[:200]
        log.warning("LLM failed (%s: %s); using the evidence engine", cause, exc)
        return f"LLM {cause}: {str(exc)[:300]}"

    async def analyze(self, inp: ScreeningInput) -> EngineResult:
        skip = self._skip_reason()
        if skip is None:  # no LLM configured: evidence is the plan, not a fallback
            return await self.evidence.analyze(inp)
        if skip:
            metrics.ENGINE_FALLBACKS.labels("circuit_open").inc()
            return self._degraded(await self.evidence.analyze(inp), skip)
        assert self.llm is not None
        try:
            return await self.llm.analyze(inp)
        except Exception as exc:  # any LLM failure means fall back; cancellation is not an Exception
            reason = self._failed(exc)
        return self._degraded(await self.evidence.analyze(inp), reason)

    async def interview_questions(self, inp: ScreeningInput) -> QuestionsResult:
        skip = self._skip_reason()
        if skip is None:
            return await self.evidence.interview_questions(inp)
        if not skip:
            assert self.llm is not None
            try:
                return await self.llm.interview_questions(inp)
            except Exception as exc:
                skip = self._failed(exc)
        result = await self.evidence.interview_questions(inp)
        result.degraded, result.reason = True, skip
        return result

    @staticmethod
    def _degraded(result: EngineResult, reason: str) -> EngineResult:
        result.degraded = True
        result.reason = reason
        return result
