"""The three screening agents and the ports they read through: plain typed Python, no gRPC and no settings.

RetrieverAgent fetches the candidate and the job from a `Catalog`; then AnalyzerAgent and InterviewerAgent run
in parallel on that shared state (screening_svc.pipeline runs them), while the retriever's optional context
(similar candidates, analytics tools), which no engine reads, is gathered alongside them. Every agent leaves a
trace (duration, tokens, tool calls, error). screening_svc.adapters implements the ports over gRPC.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from screening_svc import metrics
from screening_svc.engines import CandidateInfo, Engine, EngineResult, JobInfo, QuestionsResult, ScreeningInput
from screening_svc.engines.base import TextMatch
from screening_svc.engines.evidence import Embed as Embed

# An optional retrieval tool, e.g. an analytics prediction: (candidate, job) -> JSON-able context.
Tool = Callable[[CandidateInfo, JobInfo], Awaitable[Any]]


# --- the catalog the retriever reads ---------------------------------------------------------------------


@dataclass(frozen=True)
class SimilarCandidate:
    candidate_id: str
    name: str
    score: float
    matched_skills: tuple[str, ...] = ()


class Catalog(Protocol):
    """Where candidates and jobs come from (search_svc in production)."""

    async def get_candidate(self, candidate_id: str) -> CandidateInfo: ...

    async def get_job(self, job_id: str) -> JobInfo: ...

    async def similar_candidates(self, job_id: str, k: int) -> list[SimilarCandidate]: ...

    async def text_match(self, job_id: str, candidate_id: str) -> TextMatch: ...


# --- traces and shared state -----------------------------------------------------------------------------


@dataclass
class AgentTrace:
    """What one agent did; field names match the AgentTrace proto message."""

    agent: str
    duration_ms: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tool_calls: list[str] = field(default_factory=list)
    error: str = ""
    started_at: str = ""


@dataclass
class SharedState:
    """What the agents of one run read and write."""

    candidate_id: str
    job_id: str
    engine: str
    questions: int
    inp: ScreeningInput | None = None
    context: dict[str, Any] = field(default_factory=dict)
    analysis: EngineResult | None = None
    interview: QuestionsResult | None = None
    background: asyncio.Future[None] | None = None  # the retriever's optional context, still arriving


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def traced(name: str, step: Callable[[AgentTrace], Awaitable[None]]) -> tuple[AgentTrace, Exception | None]:
    """Run one agent step; its exception is returned with the trace, not raised."""
    trace = AgentTrace(agent=name, started_at=now_iso())
    started = time.perf_counter()
    error: Exception | None = None
    try:
        await step(trace)
    except Exception as exc:  # kept in the trace; the pipeline decides whether it is fatal
        error = exc
        trace.error = f"{type(exc).__name__}: {exc}"[:500]
    trace.duration_ms = round((time.perf_counter() - started) * 1000, 3)
    metrics.AGENT_DURATION.labels(name, "error" if error else "ok").observe(trace.duration_ms / 1000)
    return trace, error


# --- agents ----------------------------------------------------------------------------------------------


class RetrieverAgent:
    name = "retriever"

    def __init__(self, catalog: Catalog, *, peers_k: int = 5, tools: Mapping[str, Tool] | None = None) -> None:
        self.catalog = catalog
        self.peers_k = peers_k
        self.tools = dict(tools or {})

    async def run(self, state: SharedState, trace: AgentTrace) -> None:
        trace.tool_calls += ["SearchService.GetCandidate", "SearchService.GetJob", "SearchService.ScoreCandidates"]
        # The peer search needs only the job id: it starts alongside the two lookups.
        peers = asyncio.ensure_future(self._peers(state.job_id, trace)) if self.peers_k > 0 else None
        try:
            candidate, job, match = await asyncio.gather(
                self.catalog.get_candidate(state.candidate_id),
                self.catalog.get_job(state.job_id),
                self._text_match(state, trace),
            )
        except BaseException:
            if peers is not None:
                peers.cancel()
            raise
        state.inp = ScreeningInput(candidate=candidate, job=job, questions=state.questions, match=match)
        # No engine reads the context, so the analysis does not wait for it: the pipeline collects it at
        # the end (Pipeline.run) and it lands in the outcome.
        state.background = asyncio.ensure_future(self._context(state, candidate, job, peers, trace))

    async def _context(
        self,
        state: SharedState,
        candidate: CandidateInfo,
        job: JobInfo,
        peers: asyncio.Future[list[SimilarCandidate] | None] | None,
        trace: AgentTrace,
    ) -> None:
        names = list(self.tools)
        trace.tool_calls += names
        outcomes = await asyncio.gather(*(self.tools[n](candidate, job) for n in names), return_exceptions=True)
        for name, outcome in zip(names, outcomes, strict=True):
            if isinstance(outcome, asyncio.CancelledError):
                raise outcome
            if isinstance(outcome, BaseException):
                i = trace.tool_calls.index(name)
                trace.tool_calls[i] += f" (failed: {str(outcome)[:120]})"
            else:
                state.context[name] = outcome
        found = await peers if peers is not None else None
        if found is not None:
            ids = [p.candidate_id for p in found]
            state.context["similar_candidates"] = [{"candidate_id": p.candidate_id, "score": p.score} for p in found]
            state.context["search_rank"] = ids.index(candidate.id) + 1 if candidate.id in ids else 0

    async def _text_match(self, state: SharedState, trace: AgentTrace) -> TextMatch | None:
        # The catalog-wide text scores sharpen the analysis but are not required: without them the evidence
        # engine scores from its own embeddings and says its confidence is lower.
        # A missing candidate or job fails the run through the lookups beside this call, with their message.
        try:
            return await self.catalog.text_match(state.job_id, state.candidate_id)
        except Exception as exc:
            at = trace.tool_calls.index("SearchService.ScoreCandidates")
            trace.tool_calls[at] += f" (failed: {str(exc)[:120]})"
            return None

    async def _peers(self, job_id: str, trace: AgentTrace) -> list[SimilarCandidate] | None:
        # Context is nice to have: a failing optional tool is noted, never fatal. The tools append their own
        # names meanwhile, so the failure is noted at this call's own position, not at the end.
        at = len(trace.tool_calls)
        trace.tool_calls.append("SearchService.SearchCandidates")
        try:
            return await self.catalog.similar_candidates(job_id, self.peers_k)
        except Exception as exc:
            trace.tool_calls[at] += f" (failed: {str(exc)[:120]})"
            return None


class AnalyzerAgent:
    name = "analyzer"

    def __init__(self, engines: Mapping[str, Engine]) -> None:
        self.engines = engines

    async def run(self, state: SharedState, trace: AgentTrace) -> None:
        assert state.inp is not None
        result = await self.engines[state.engine].analyze(state.inp)
        state.analysis = result
        trace.prompt_tokens, trace.completion_tokens = result.usage.prompt_tokens, result.usage.completion_tokens
        trace.tool_calls += result.tool_calls
        if result.degraded:
            trace.error = f"degraded to {result.engine}: {result.reason}"[:500]


class InterviewerAgent:
    name = "interviewer"

    def __init__(self, engines: Mapping[str, Engine]) -> None:
        self.engines = engines

    async def run(self, state: SharedState, trace: AgentTrace) -> None:
        assert state.inp is not None
        result = await self.engines[state.engine].interview_questions(state.inp)
        state.interview = result
        trace.prompt_tokens, trace.completion_tokens = result.usage.prompt_tokens, result.usage.completion_tokens
        trace.tool_calls += result.tool_calls
        if result.degraded:
            trace.error = f"degraded to {result.engine}: {result.reason}"[:500]
