"""The screening pipeline: retriever → (analyzer ‖ interviewer) → merge, with the LLM-vs-evidence cross-check.

Plain typed Python over the ports of screening_svc.agents (Catalog, Embed via the engines, Tool): no gRPC, no
protobuf and no environment, so it runs in a test with in-memory ports. screening_svc.__main__ builds it from
ScreeningConfig and the gRPC adapters (screening_svc.adapters). A failed interviewer keeps the analysis (with its
own questions); a failed analyzer fails the run, since there is nothing to store without it. Guardrails run after
the pipeline (screening_svc.runner).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hiremesh.errors import FailedPrecondition, InvalidArgument
from screening_svc import metrics, score_check
from screening_svc.agents import (
    AgentTrace,
    AnalyzerAgent,
    Catalog,
    InterviewerAgent,
    RetrieverAgent,
    SharedState,
    Tool,
    now_iso,
    traced,
)
from screening_svc.engines import Engine, EngineResult
from screening_svc.engines.base import DEFAULT_QUESTIONS
from screening_svc.score_check import ScoreGap

OnStage = Callable[[str, float, str], Awaitable[None]]
# Told the interviewer's questions (as result JSON) when they are ready before the analysis is.
OnQuestions = Callable[[list[dict[str, Any]]], None]


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
    score_issue: ScoreGap | None = None


class Pipeline:
    """retriever → (analyzer ‖ interviewer), reporting stages through `on_stage`."""

    def __init__(
        self,
        catalog: Catalog,
        engines: Mapping[str, Engine],
        *,
        questions: int = DEFAULT_QUESTIONS,
        peers_k: int = 5,
        tools: Mapping[str, Tool] | None = None,
        score_gap: int = score_check.DEFAULT_GAP,
    ) -> None:
        self.engines = dict(engines)
        self.score_gap = score_gap
        self.questions = questions
        self.retriever = RetrieverAgent(catalog, peers_k=peers_k, tools=tools)
        self.analyzer = AnalyzerAgent(self.engines)
        self.interviewer = InterviewerAgent(self.engines)

    async def run(
        self, candidate_id: str, job_id: str, engine: str, on_stage: OnStage, on_questions: OnQuestions | None = None
    ) -> PipelineOutcome:
        """Screen one candidate for one job. Raises the retriever's or analyzer's error when it fails (and
        whatever `on_stage` raises, e.g. when the task was cancelled). `on_questions` hears the interviewer's
        questions when they are ready while the analyzer still runs (the merge may still set them aside)."""
        if engine not in self.engines:
            raise InvalidArgument("engine", f"unknown engine {engine!r}; one of {', '.join(sorted(self.engines))}")
        state = SharedState(candidate_id, job_id, engine, self.questions)
        traces: list[AgentTrace] = []

        await on_stage("retrieving", 5.0, "fetching the candidate and the job from search")
        trace, error = await traced(self.retriever.name, lambda t: self.retriever.run(state, t))
        traces.append(trace)
        if error is not None:
            raise error
        await on_stage("analyzing", 30.0, f"analyzing the resume with the {engine} engine")

        analyzer = asyncio.create_task(traced(self.analyzer.name, lambda t: self.analyzer.run(state, t)))
        interviewer = asyncio.create_task(traced(self.interviewer.name, lambda t: self.interviewer.run(state, t)))
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
            outcome.score_issue = score_check.gap_issue(
                int(outcome.analysis["match_score"]), evidence_score, self.score_gap
            )
        await on_stage(
            "interviewing", 80.0, f"{len(outcome.analysis['interview_questions'])} interview questions ready"
        )
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

    async def _cross_score(
        self, cross: asyncio.Task[EngineResult] | None, result: EngineResult
    ) -> tuple[int | None, AgentTrace | None]:
        """The evidence score to compare with an LLM's analysis (None when evidence wrote it, or it failed),
        and the trace of that check (its own agent entry, `score_check`)."""
        if cross is None:
            return None, None
        if result.engine == "evidence":  # the LLM fell back: nothing to compare
            cross.cancel()
            return None, None
        trace = AgentTrace(agent="score_check", started_at=now_iso())
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
        if (
            interview is not None
            and len(interview.questions) == self.questions
            and (not interview.degraded or result.degraded)
        ):
            analysis.interview_questions = list(interview.questions)
        metrics.ENGINE_RUNS.labels(result.engine, str(result.degraded).lower()).inc()
        return PipelineOutcome(
            analysis=analysis.model_dump(mode="json"),
            engine=result.engine,
            engine_version=result.engine_version,
            model=result.model,
            degraded=result.degraded,
            reason=result.reason,
            traces=traces,
            context=state.context,
        )
