"""The pure pipeline core, run whole with in-memory ports: no server, no database, no LLM.

retriever → analyzer ‖ interviewer → merge, the LLM-vs-evidence cross-check, a failing agent, and the
synchronous screening stream the Screen RPC adapts, each against scripted engines and an in-memory catalog.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from hiremesh.errors import NotFound, Unavailable
from hiremesh.v1 import common_pb2
from screening_svc.config import LLMSettings, ScreeningConfig
from screening_svc.engines import (
    Analysis,
    CandidateInfo,
    EngineResult,
    JobInfo,
    Question,
    QuestionsResult,
    ScreeningInput,
    build_engines,
)
from screening_svc.engines.base import TextMatch, Usage
from screening_svc.pipeline import Pipeline, PipelineOutcome
from screening_svc.runner import Screener
from screening_svc.score_check import ScoreGap
from screening_svc.targets import Target
from screening_svc.tasks import NewResult, ResultRecord
from tests.fixtures.llm import analysis_json
from tests.screening_svc.test_agents import MemoryCatalog, Stages
from tests.screening_svc.test_engines_evidence import JOB, MATCHING, NON_MATCHING


def questions(tag: str, n: int = 5) -> list[Question]:
    return [
        Question(question=f"{tag}: how did you handle case {i} in production?", rationale=f"{tag} {i}", skill="Python")
        for i in range(1, n + 1)
    ]


def analysis(score: int, tag: str) -> Analysis:
    base = Analysis.model_validate_json(analysis_json(match_score=score))
    return base.model_copy(update={"interview_questions": questions(tag)})


@dataclass
class ScriptedEngine:
    """An Engine whose answers, failures and timing the test sets: each call waits for its gate when given."""

    name: str
    score: int = 78
    version: str = "scripted-1"
    fail_analyze: Exception | None = None
    fail_questions: Exception | None = None
    analyze_gate: asyncio.Event | None = None
    questions_gate: asyncio.Event | None = None
    analyzed: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: list[str] = field(default_factory=list)
    stopped: asyncio.Event = field(default_factory=asyncio.Event)  # set on the first cancellation
    seen: list[ScreeningInput] = field(default_factory=list)

    async def _wait(self, gate: asyncio.Event | None, call: str) -> None:
        try:
            if gate is not None:
                await gate.wait()
        except asyncio.CancelledError:
            self.cancelled.append(call)
            self.stopped.set()
            raise

    async def analyze(self, inp: ScreeningInput) -> EngineResult:
        self.seen.append(inp)
        await self._wait(self.analyze_gate, "analyze")
        self.analyzed.set()
        if self.fail_analyze is not None:
            raise self.fail_analyze
        return EngineResult(
            analysis(self.score, f"{self.name} analysis"),
            self.name,
            self.version,
            model="m-1",
            usage=Usage(120, 60),
            tool_calls=[f"{self.name}.analyze"],
        )

    async def interview_questions(self, inp: ScreeningInput) -> QuestionsResult:
        await self._wait(self.questions_gate, "questions")
        if self.fail_questions is not None:
            raise self.fail_questions
        return QuestionsResult(
            questions(f"{self.name} interviewer", inp.questions),
            self.name,
            usage=Usage(30, 40),
            tool_calls=[f"{self.name}.questions"],
        )


def scripted(llm: ScriptedEngine, evidence: ScriptedEngine | None = None, **kw: Any) -> Pipeline:
    engines = {"llm": llm, "evidence": evidence or ScriptedEngine("evidence", score=70)}
    return Pipeline(MemoryCatalog([MATCHING, NON_MATCHING], [JOB]), engines, **kw)


async def test_the_whole_pipeline_runs_on_in_memory_ports() -> None:
    async def title_success(candidate: CandidateInfo, job: JobInfo) -> dict[str, Any]:
        return {"title": job.title, "hire_rate": 0.4}

    analysis_reported = asyncio.Event()  # the interviewer answers once the ready analysis was reported
    llm = ScriptedEngine("llm", score=82, questions_gate=analysis_reported)
    seen: list[tuple[str, float]] = []

    async def on_stage(stage: str, percent: float, message: str) -> None:
        seen.append((stage, percent))
        if message.startswith("analysis ready"):
            analysis_reported.set()

    outcome = await scripted(llm, tools={"analytics.job_title_success": title_success}).run(
        MATCHING.id, JOB.id, "llm", on_stage
    )
    assert isinstance(outcome, PipelineOutcome)
    assert seen == [("retrieving", 5.0), ("analyzing", 30.0), ("interviewing", 55.0), ("interviewing", 80.0)]
    # The retriever's input reached the engine, with the catalog's text scores.
    assert llm.seen[0].candidate == MATCHING and llm.seen[0].job == JOB
    assert llm.seen[0].match == TextMatch(0.21, 0.62, 3.6, 3.2, 3.4, 0.4)
    assert (outcome.engine, outcome.engine_version, outcome.model, outcome.degraded) == (
        "llm",
        "scripted-1",
        "m-1",
        False,
    )
    assert outcome.analysis["match_score"] == 82
    # Merge: the interviewer's dedicated questions replace the analyzer's own.
    assert all(q["question"].startswith("llm interviewer") for q in outcome.analysis["interview_questions"])
    assert [t.agent for t in outcome.traces] == ["retriever", "analyzer", "interviewer", "score_check"]
    analyzer, interviewer = outcome.traces[1], outcome.traces[2]
    assert (analyzer.prompt_tokens, analyzer.completion_tokens, analyzer.tool_calls) == (120, 60, ["llm.analyze"])
    assert (interviewer.prompt_tokens, interviewer.tool_calls) == (30, ["llm.questions"])
    assert outcome.context["analytics.job_title_success"] == {"title": JOB.title, "hire_rate": 0.4}
    assert outcome.context["search_rank"] == 1
    assert [p["candidate_id"] for p in outcome.context["similar_candidates"]] == [MATCHING.id, NON_MATCHING.id]


@pytest.mark.parametrize(("llm_score", "evidence_score", "flagged"), [(95, 20, True), (80, 60, False)])
async def test_the_cross_check_flags_a_gap_over_the_limit(llm_score: int, evidence_score: int, flagged: bool) -> None:
    llm, evidence = ScriptedEngine("llm", score=llm_score), ScriptedEngine("evidence", score=evidence_score)
    outcome = await scripted(llm, evidence, score_gap=35).run(MATCHING.id, JOB.id, "llm", Stages())
    assert outcome.evidence_score == evidence_score
    assert outcome.score_issue == (ScoreGap(llm_score, evidence_score, 35) if flagged else None)
    check = outcome.traces[-1]
    assert check.agent == "score_check"
    assert check.tool_calls == [f"EvidenceEngine.analyze (match_score {evidence_score})"]
    if flagged:
        assert outcome.score_issue is not None
        assert "75 points above" in outcome.score_issue.message


async def test_a_failed_cross_check_is_noted_and_never_fails_the_screening() -> None:
    evidence = ScriptedEngine("evidence", fail_analyze=Unavailable("skills index not loaded"))
    outcome = await scripted(ScriptedEngine("llm"), evidence).run(MATCHING.id, JOB.id, "llm", Stages())
    assert outcome.evidence_score is None and outcome.score_issue is None
    assert "Unavailable: skills index not loaded" in outcome.traces[-1].error


async def test_evidence_writes_its_own_analysis_without_a_cross_check() -> None:
    outcome = await scripted(ScriptedEngine("llm")).run(MATCHING.id, JOB.id, "evidence", Stages())
    assert outcome.engine == "evidence" and outcome.evidence_score is None
    assert [t.agent for t in outcome.traces] == ["retriever", "analyzer", "interviewer"]


async def test_a_failing_interviewer_keeps_the_analysis_and_its_questions() -> None:
    llm = ScriptedEngine("llm", fail_questions=Unavailable("LLM overloaded"))
    outcome = await scripted(llm).run(MATCHING.id, JOB.id, "llm", Stages())
    assert outcome.analysis["match_score"] == 78
    assert all(q["question"].startswith("llm analysis") for q in outcome.analysis["interview_questions"])
    assert outcome.traces[2].agent == "interviewer" and "Unavailable: LLM overloaded" in outcome.traces[2].error
    assert not outcome.traces[1].error


async def test_a_failing_analyzer_fails_the_run_and_stops_the_cross_check() -> None:
    never = asyncio.Event()
    evidence = ScriptedEngine("evidence", analyze_gate=never)
    llm = ScriptedEngine("llm", fail_analyze=Unavailable("LLM down"))
    run = scripted(llm, evidence)
    with pytest.raises(Unavailable, match="LLM down"):
        await run.run(MATCHING.id, JOB.id, "llm", Stages())
    await asyncio.wait_for(evidence.stopped.wait(), 5)  # the cancellation lands on a following loop turn
    assert evidence.cancelled == ["analyze"]


async def test_a_missing_candidate_fails_in_the_retriever() -> None:
    llm = ScriptedEngine("llm")
    stages = Stages()
    with pytest.raises(NotFound, match="candidate nobody"):
        await scripted(llm).run("nobody", JOB.id, "llm", stages)
    assert [s for s, _, _ in stages.seen] == ["retrieving"] and llm.seen == []


async def test_questions_ready_first_are_handed_over_before_the_analysis() -> None:
    gate = asyncio.Event()
    llm = ScriptedEngine("llm", analyze_gate=gate)
    handed: list[list[dict[str, Any]]] = []

    def early(qs: list[dict[str, Any]]) -> None:
        handed.append(qs)
        gate.set()  # the analysis finishes only once the questions were handed over

    outcome = await scripted(llm).run(MATCHING.id, JOB.id, "llm", Stages(), on_questions=early)
    assert handed == [outcome.analysis["interview_questions"]]


async def test_the_evidence_engine_runs_in_memory_too() -> None:
    def vector(text: str) -> list[float]:
        counts = [0.0] * 64
        for word in re.findall(r"\w+", text.lower()):
            counts[hashlib.blake2b(word.encode(), digest_size=2).digest()[0] % 64] += 1
        norm = math.sqrt(sum(c * c for c in counts)) or 1.0
        return [c / norm for c in counts]

    async def embed(texts: list[str]) -> list[list[float]]:
        return [vector(t) for t in texts]

    engines = build_engines(LLMSettings(base_url=""), embed)
    good = await Pipeline(MemoryCatalog([MATCHING, NON_MATCHING], [JOB]), engines).run(
        MATCHING.id, JOB.id, "evidence", Stages()
    )
    poor = await Pipeline(MemoryCatalog([MATCHING, NON_MATCHING], [JOB]), engines).run(
        NON_MATCHING.id, JOB.id, "evidence", Stages()
    )
    assert good.analysis["missing_skills"] == ["Kubernetes"]
    assert good.analysis["match_score"] > poor.analysis["match_score"]


class MemoryGuard:
    """The runner's Guard over a canned report."""

    def __init__(self) -> None:
        self.scanned: list[list[dict[str, Any]]] = []

    async def check(self, outcome: PipelineOutcome, expected_questions: int = 0) -> common_pb2.SafetyReport:
        return common_pb2.SafetyReport(summary="clean")

    async def scan_questions(self, questions: list[dict[str, Any]]) -> bool:
        self.scanned.append(questions)
        return True


class MemoryResults:
    """The one TaskStore call a synchronous screening makes."""

    def __init__(self) -> None:
        self.saved: list[NewResult] = []

    async def save_result(self, result: NewResult) -> ResultRecord:
        self.saved.append(result)
        return ResultRecord(
            id="result-1",
            task_id="",
            application_id="",
            candidate_id=result.candidate_id,
            job_id=result.job_id,
            engine=result.engine,
            engine_version=result.engine_version,
            model=result.model,
            analysis=result.analysis,
            degraded=result.degraded,
            degraded_reason=result.degraded_reason,
            safety=result.safety,
            safety_checked=result.safety_checked,
            traces=result.traces,
            duration_ms=result.duration_ms,
            created_at=datetime.now(UTC),
        )


def screening_config(monkeypatch: pytest.MonkeyPatch) -> ScreeningConfig:
    monkeypatch.setenv("HIREMESH_DATABASE_URL", "postgresql://unused")
    return ScreeningConfig.from_env()


async def test_the_screen_stream_yields_every_stage_then_the_stored_result(monkeypatch: pytest.MonkeyPatch) -> None:
    results = MemoryResults()
    store: Any = results
    pipeline = scripted(ScriptedEngine("llm", score=95), ScriptedEngine("evidence", score=20))
    screener = Screener(screening_config(monkeypatch), pipeline, MemoryGuard(), store)
    events = [item async for item in screener.stream_now(Target(MATCHING.id, JOB.id), "llm")]
    stages = [e.stage for e, _ in events]
    assert stages[:2] == ["retrieving", "analyzing"] and stages[-3:] == ["interviewing", "guarding", "done"]
    assert [e.version for e, _ in events] == list(range(1, len(events) + 1))
    assert all(e.state == "running" and stored is None for e, stored in events[:-1])
    final, stored = events[-1]
    assert (final.state, final.percent, final.result_id) == ("succeeded", 100.0, "result-1")
    assert stored is not None and stored.id == "result-1"
    [saved] = results.saved
    # The cross-check's gap stands in the stored safety report; the traces end with the guardrail's.
    assert saved.has_safety_issues and any(i["code"] == "SCORE_GAP" for i in saved.safety["validation"])
    assert [t["agent"] for t in saved.traces] == ["retriever", "analyzer", "interviewer", "score_check", "guardrail"]
    assert saved.traces[0]["context"]["search_rank"] == 1


async def test_a_failing_screening_raises_through_the_stream_after_its_stages(monkeypatch: pytest.MonkeyPatch) -> None:
    store: Any = MemoryResults()
    llm = ScriptedEngine("llm", fail_analyze=Unavailable("LLM down"))
    screener = Screener(screening_config(monkeypatch), scripted(llm), MemoryGuard(), store)
    seen: list[str] = []
    with pytest.raises(Unavailable, match="LLM down"):
        async for event, _ in screener.stream_now(Target(MATCHING.id, JOB.id), "llm"):
            seen.append(event.stage)
    assert seen == ["retrieving", "analyzing"]


async def test_closing_the_stream_early_cancels_the_screening(monkeypatch: pytest.MonkeyPatch) -> None:
    never = asyncio.Event()
    llm = ScriptedEngine("llm", analyze_gate=never, questions_gate=never)
    store: Any = MemoryResults()
    screener = Screener(screening_config(monkeypatch), scripted(llm), MemoryGuard(), store)
    stream = screener.stream_now(Target(MATCHING.id, JOB.id), "llm")
    async for event, _ in stream:
        if event.stage == "analyzing":
            break
    await stream.aclose()
    assert sorted(llm.cancelled) == ["analyze", "questions"]
    assert store.saved == []


def test_the_pure_core_imports_no_grpc_protobuf_or_environment() -> None:
    from tests import import_graph as graph

    banned = ("grpc", "google.protobuf", "hiremesh.v1", "os", "hiremesh.config")
    for name in ("screening_svc.agents", "screening_svc.pipeline", "screening_svc.score_check"):
        imports = graph.modules()[name].imports
        assert not {i for i in imports if any(i == b or i.startswith(b + ".") for b in banned)}, name
