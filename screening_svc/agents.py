"""The screening agents and the pipeline that runs them.

RetrieverAgent fetches the candidate and the job; then AnalyzerAgent and InterviewerAgent run in parallel on
that shared state, while the retriever's optional context (similar candidates, analytics tools), which no
engine reads, is gathered alongside them and lands in the outcome. Every agent leaves a trace
(duration, tokens, tool calls, error). A failed interviewer keeps the analysis (with its own questions); a
failed analyzer fails the run, since there is nothing to store without it. Guardrails run after the pipeline
through `guard`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

import grpc

from hiremesh.clients import embedding_stub
from hiremesh.config import env_bool, env_float, env_int, service_addr
from hiremesh.errors import (
    FailedPrecondition,
    HiremeshError,
    InvalidArgument,
)
from hiremesh.rpc_errors import from_rpc_error
from hiremesh.v1 import common_pb2, embedding_pb2, guardrail_pb2, search_pb2
from screening_svc import metrics, score_check
from screening_svc.engines import (
    CandidateInfo,
    Engine,
    EngineResult,
    JobInfo,
    QuestionsResult,
    ScreeningInput,
    build_engines,
)
from screening_svc.engines.base import DEFAULT_QUESTIONS, TextMatch
from screening_svc.engines.client import LLMSettings
from screening_svc.engines.evidence import Embed

if TYPE_CHECKING:
    from hiremesh.v1.embedding_pb2_grpc import EmbeddingServiceAsyncStub
    from hiremesh.v1.guardrail_pb2_grpc import GuardrailServiceAsyncStub
    from hiremesh.v1.search_pb2_grpc import SearchServiceAsyncStub

log = logging.getLogger("screening_svc.agents")

OnStage = Callable[[str, float, str], Awaitable[None]]
# Told the interviewer's questions (as result JSON) when they are ready before the analysis is.
OnQuestions = Callable[[list[dict[str, Any]]], None]
# An optional retrieval tool, e.g. an analytics prediction: (candidate, job) -> JSON-able context.
Tool = Callable[[CandidateInfo, JobInfo], Awaitable[Any]]
EMBED_BATCH = 256


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


def _rpc_error(exc: grpc.aio.AioRpcError, what: str) -> HiremeshError:
    return from_rpc_error(exc, backend="search", during=f"fetching the {what}")


class SearchCatalog:
    """Catalog over search_svc's gRPC API."""

    def __init__(self, stub: SearchServiceAsyncStub, timeout: float) -> None:
        self._stub = stub
        self._timeout = timeout

    async def get_candidate(self, candidate_id: str) -> CandidateInfo:
        try:
            resp = await self._stub.GetCandidate(search_pb2.GetCandidateRequest(id=candidate_id),
                                                 timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise _rpc_error(exc, f"candidate {candidate_id}") from None
        c = resp.candidate
        return CandidateInfo(id=c.id, name=c.name, headline=c.headline, resume_text=c.resume_text,
                             skills=tuple(c.skills), years_experience=c.years_experience, location=c.location)

    async def get_job(self, job_id: str) -> JobInfo:
        try:
            resp = await self._stub.GetJob(search_pb2.GetJobRequest(id=job_id), timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise _rpc_error(exc, f"job {job_id}") from None
        j = resp.job
        return JobInfo(id=j.id, title=j.title, description=j.description, required_skills=tuple(j.required_skills),
                       min_experience=j.min_experience, max_experience=j.max_experience, location=j.location,
                       company=j.company)

    async def similar_candidates(self, job_id: str, k: int) -> list[SimilarCandidate]:
        request = search_pb2.SearchCandidatesRequest(job_id=job_id, options=search_pb2.SearchOptions(top_k=k))
        try:
            resp = await self._stub.SearchCandidates(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise _rpc_error(exc, f"candidates similar to job {job_id}") from None
        return [SimilarCandidate(h.candidate.id, h.candidate.name, h.match.score, tuple(h.match.matched_skills))
                for h in resp.hits]

    async def text_match(self, job_id: str, candidate_id: str) -> TextMatch:
        request = search_pb2.ScoreCandidatesRequest(job_id=job_id, candidate_ids=[candidate_id])
        try:
            resp = await self._stub.ScoreCandidates(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise _rpc_error(exc, f"score of candidate {candidate_id} for job {job_id}") from None
        m = resp.scores[0].match
        return TextMatch(m.lexical_similarity, m.cosine_similarity, m.lexical_z, m.semantic_z, m.score,
                         m.lexical_weight)


def grpc_embedder(stub: EmbeddingServiceAsyncStub, timeout: float) -> Embed:
    """An `embed(texts)` callable over embedding_svc's Embed RPC."""

    async def embed(texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for i in range(0, len(texts), EMBED_BATCH):
            try:
                resp = await stub.Embed(embedding_pb2.EmbedRequest(texts=texts[i:i + EMBED_BATCH]), timeout=timeout)
            except grpc.aio.AioRpcError as exc:
                raise from_rpc_error(exc, backend="embedding") from None
            vectors += [list(e.values) for e in resp.embeddings]
        return vectors

    return embed


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


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def _traced(name: str, step: Callable[[AgentTrace], Awaitable[None]]) -> tuple[AgentTrace, Exception | None]:
    """Run one agent step; its exception is returned with the trace, not raised."""
    trace = AgentTrace(agent=name, started_at=_now())
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
            candidate, job, match = await asyncio.gather(self.catalog.get_candidate(state.candidate_id),
                                                         self.catalog.get_job(state.job_id),
                                                         self._text_match(state, trace))
        except BaseException:
            if peers is not None:
                peers.cancel()
            raise
        state.inp = ScreeningInput(candidate=candidate, job=job, questions=state.questions, match=match)
        # No engine reads the context, so the analysis does not wait for it: the pipeline collects it at
        # the end (Pipeline.run) and it lands in the outcome.
        state.background = asyncio.ensure_future(self._context(state, candidate, job, peers, trace))

    async def _context(self, state: SharedState, candidate: CandidateInfo, job: JobInfo,
                       peers: asyncio.Future[list[SimilarCandidate] | None] | None, trace: AgentTrace) -> None:
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
            state.context["similar_candidates"] = [{"candidate_id": p.candidate_id, "score": p.score}
                                                   for p in found]
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


# --- the pipeline ----------------------------------------------------------------------------------------

@dataclass
class PipelineOutcome:
    """A run's result. `analysis` is ScreeningAnalysis-shaped JSON; `engine` the engine that produced it."""

    analysis: dict[str, Any]
    engine: str
    engine_version: str
    model: str
    degraded: bool
    reason: str
    traces: list[AgentTrace]
    context: dict[str, Any] = field(default_factory=dict)
    # The evidence engine's score of the same pair when an LLM wrote the analysis (None otherwise), and
    # the SCORE_GAP issue when the two disagree by more than the limit (screening_svc.score_check).
    evidence_score: int | None = None
    score_issue: common_pb2.ValidationIssue | None = None


class Pipeline:
    """retriever → (analyzer ‖ interviewer), reporting stages through `on_stage`."""

    def __init__(self, catalog: Catalog, engines: Mapping[str, Engine], *, questions: int = DEFAULT_QUESTIONS,
                 peers_k: int = 5, tools: Mapping[str, Tool] | None = None,
                 score_gap: int = score_check.DEFAULT_GAP) -> None:
        self.engines = dict(engines)
        self.score_gap = score_gap
        self.questions = questions
        self.retriever = RetrieverAgent(catalog, peers_k=peers_k, tools=tools)
        self.analyzer = AnalyzerAgent(self.engines)
        self.interviewer = InterviewerAgent(self.engines)

    @classmethod
    def from_env(cls, *, search: SearchServiceAsyncStub, timeout: float,
                 embedding: EmbeddingServiceAsyncStub | None = None) -> Pipeline:
        """Engines from HIREMESH_LLM_* settings; embeddings from HIREMESH_EMBEDDING_ADDR."""
        stub = embedding if embedding is not None else embedding_stub(service_addr("embedding"))
        engines = build_engines(LLMSettings.from_env(), grpc_embedder(stub, timeout),
                                cooldown_s=env_float("HIREMESH_LLM_COOLDOWN_S", 30.0, min=0, max=3600))
        tools = None
        if env_bool("HIREMESH_SCREENING_ANALYTICS_TOOLS", False):
            from screening_svc.context_tools import analytics_tools

            tools = analytics_tools(service_addr("analytics"),
                                    env_float("HIREMESH_SCREENING_TOOL_TIMEOUT_S", 2.0, min=0.05, max=60))
        return cls(SearchCatalog(search, timeout), engines,
                   questions=env_int("HIREMESH_SCREENING_QUESTIONS", DEFAULT_QUESTIONS, min=1, max=20),
                   peers_k=env_int("HIREMESH_SCREENING_PEERS", 5, min=0, max=50), tools=tools,
                   score_gap=score_check.gap_limit())

    async def run(self, candidate_id: str, job_id: str, engine: str, on_stage: OnStage,
                  on_questions: OnQuestions | None = None) -> PipelineOutcome:
        """Screen one candidate for one job. Raises the retriever's or analyzer's error when it fails (and
        whatever `on_stage` raises, e.g. when the task was cancelled). `on_questions` hears the interviewer's
        questions when they are ready while the analyzer still runs (the merge may still set them aside)."""
        if engine not in self.engines:
            raise InvalidArgument("engine", f"unknown engine {engine!r}; one of {', '.join(sorted(self.engines))}")
        state = SharedState(candidate_id, job_id, engine, self.questions)
        traces: list[AgentTrace] = []

        await on_stage("retrieving", 5.0, "fetching the candidate and the job from search")
        trace, error = await _traced(self.retriever.name, lambda t: self.retriever.run(state, t))
        traces.append(trace)
        if error is not None:
            raise error
        await on_stage("analyzing", 30.0, f"analyzing the resume with the {engine} engine")

        analyzer = asyncio.create_task(_traced(self.analyzer.name, lambda t: self.analyzer.run(state, t)))
        interviewer = asyncio.create_task(_traced(self.interviewer.name, lambda t: self.interviewer.run(state, t)))
        cross = self._start_cross_check(state)
        try:
            done, _ = await asyncio.wait({analyzer, interviewer}, return_when=asyncio.FIRST_COMPLETED)
            if analyzer in done and interviewer not in done:
                await on_stage("interviewing", 55.0, "analysis ready; writing interview questions")
            elif interviewer in done and analyzer not in done and on_questions is not None and state.interview:
                on_questions([q.model_dump(mode="json") for q in state.interview.questions])
            await asyncio.wait({analyzer, interviewer})
        finally:
            for task in (analyzer, interviewer):  # on_stage raised (cancelled run): stop the agents too
                if not task.done():
                    task.cancel()
            if state.background is not None and not (analyzer.done() and interviewer.done()):
                state.background.cancel()
            if cross is not None and not (analyzer.done() and interviewer.done()):
                cross.cancel()
        (a_trace, a_error), (i_trace, _) = analyzer.result(), interviewer.result()
        traces += [a_trace, i_trace]
        if a_error is not None or state.analysis is None:
            if state.background is not None:
                state.background.cancel()
            if cross is not None:
                cross.cancel()
            raise a_error or FailedPrecondition("the analyzer produced no analysis")
        evidence_score, cross_trace = await self._cross_score(cross, state.analysis)
        if state.background is not None:
            await state.background  # optional context: its own failures are already noted in the trace
        outcome = self._merge(state, traces)
        if cross_trace is not None:
            outcome.traces.append(cross_trace)
        if evidence_score is not None:
            outcome.evidence_score = evidence_score
            outcome.score_issue = score_check.gap_issue(int(outcome.analysis["match_score"]), evidence_score,
                                                        self.score_gap)
        await on_stage("interviewing", 80.0,
                       f"{len(outcome.analysis['interview_questions'])} interview questions ready")
        return outcome

    def _start_cross_check(self, state: SharedState) -> asyncio.Task[EngineResult] | None:
        """The evidence engine on the same input, alongside an engine that may answer with an LLM."""
        evidence = self.engines.get("evidence")
        chosen = self.engines[state.engine]
        may_use_llm = chosen.name == "llm" or getattr(chosen, "llm", None) is not None
        if evidence is None or chosen is evidence or not may_use_llm or state.inp is None:
            return None
        task = asyncio.create_task(evidence.analyze(state.inp))
        task.add_done_callback(lambda t: t.cancelled() or t.exception())  # a failure is reported, not leaked
        return task

    async def _cross_score(self, cross: asyncio.Task[EngineResult] | None,
                           result: EngineResult) -> tuple[int | None, AgentTrace | None]:
        """The evidence score to compare with an LLM's analysis (None when evidence wrote it, or it failed),
        and the trace of that check (its own agent entry, `score_check`)."""
        if cross is None:
            return None, None
        if result.engine == "evidence":  # the LLM fell back: nothing to compare
            cross.cancel()
            return None, None
        trace = AgentTrace(agent="score_check", started_at=_now())
        started = time.perf_counter()
        score: int | None = None
        try:
            score = int((await cross).analysis.match_score)
            trace.tool_calls.append(f"EvidenceEngine.analyze (match_score {score})")
        except Exception as exc:  # the cross-check is a safety net, never a reason to fail the screening
            trace.tool_calls.append("EvidenceEngine.analyze")
            trace.error = f"{type(exc).__name__}: {exc}"[:500]
        trace.duration_ms = round((time.perf_counter() - started) * 1000, 3)  # waited after the analyzer
        return score, trace

    def _merge(self, state: SharedState, traces: list[AgentTrace]) -> PipelineOutcome:
        result = state.analysis
        assert result is not None
        analysis = result.analysis.model_copy(deep=True)
        interview = state.interview
        # The interviewer's dedicated questions win, unless they are an evidence stand-in for an LLM analysis
        # that came with its own questions (its failure is in the interviewer's trace either way).
        if (interview is not None and len(interview.questions) == self.questions
                and (not interview.degraded or result.degraded)):
            analysis.interview_questions = list(interview.questions)
        metrics.ENGINE_RUNS.labels(result.engine, str(result.degraded).lower()).inc()
        return PipelineOutcome(
            analysis=analysis.model_dump(mode="json"), engine=result.engine, engine_version=result.engine_version,
            model=result.model, degraded=result.degraded, reason=result.reason, traces=traces,
            context=state.context,
        )


# --- guardrails ------------------------------------------------------------------------------------------

async def guard(outcome: PipelineOutcome, guardrail: GuardrailServiceAsyncStub, *,
                timeout: float = 30.0, expected_questions: int = 0) -> common_pb2.SafetyReport:
    """Scan the analysis (PII, bias, toxicity) and validate it, as one SafetyReport.

    Scan errors propagate (the caller decides to store unchecked); a failing ValidateOutput only loses the
    validation part of the report."""
    document = json.dumps(outcome.analysis)
    expected = expected_questions or len(outcome.analysis.get("interview_questions", [])) or DEFAULT_QUESTIONS
    scan = guardrail.Scan(guardrail_pb2.ScanRequest(json_document=document), timeout=timeout)
    validate = guardrail.ValidateOutput(
        guardrail_pb2.ValidateOutputRequest(result_json=document, expected_questions=expected), timeout=timeout)
    scanned, validated = await asyncio.gather(scan, validate, return_exceptions=True)
    if isinstance(scanned, BaseException):
        raise scanned
    report = common_pb2.SafetyReport()
    report.CopyFrom(scanned.report)
    if isinstance(validated, BaseException):
        log.warning("ValidateOutput failed; report without validation: %s", validated)
    else:
        report.validation.extend(validated.issues)
        if not validated.valid:
            report.has_issues = True
    return report
