"""The agent pipeline: retrieval, parallel analyzer and interviewer, traces, partial results, guardrails."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import replace
from typing import Any

import pytest

from hiremesh.clients import embedding_stub, guardrail_stub, search_stub
from hiremesh.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from hiremesh.v1 import common_pb2, search_pb2
from screening_svc.adapters import GuardrailGuard, SearchCatalog, grpc_embedder
from screening_svc.agents import SimilarCandidate
from screening_svc.config import ScreeningConfig
from screening_svc.engines import CandidateInfo, JobInfo, build_engines
from screening_svc.engines.base import TextMatch
from screening_svc.engines.client import LLMSettings
from screening_svc.engines.evidence import Embed
from screening_svc.pipeline import Pipeline, PipelineOutcome
from screening_svc.runner import Screener
from screening_svc.targets import Target
from tests.fixtures.llm import FakeOpenAI, Reply, analysis_json, questions_json
from tests.screening_svc.test_engines_evidence import JOB, MATCHING, NON_MATCHING


class MemoryCatalog:
    """The Catalog protocol over dicts: the pipeline's own logic without a database."""

    def __init__(self, candidates: list[CandidateInfo], jobs: list[JobInfo]) -> None:
        self.candidates = {c.id: c for c in candidates}
        self.jobs = {j.id: j for j in jobs}
        self.similar_fails = False
        self.match_fails = False

    async def get_candidate(self, candidate_id: str) -> CandidateInfo:
        if candidate_id not in self.candidates:
            raise NotFound(f"candidate {candidate_id} not found")
        return self.candidates[candidate_id]

    async def get_job(self, job_id: str) -> JobInfo:
        if job_id not in self.jobs:
            raise NotFound(f"job {job_id} not found")
        return self.jobs[job_id]

    async def similar_candidates(self, job_id: str, k: int) -> list[SimilarCandidate]:
        if self.similar_fails:
            raise FailedPrecondition("search is reindexing")
        return [SimilarCandidate(c.id, c.name, 1.0 / (i + 1)) for i, c in enumerate(self.candidates.values())][:k]

    async def text_match(self, job_id: str, candidate_id: str) -> TextMatch:
        if self.match_fails:
            raise Unavailable("search_svc unavailable while scoring")
        # As search_svc would see them: the backend engineer far above the catalog, the chef below it.
        if candidate_id == MATCHING.id:
            return TextMatch(0.21, 0.62, 3.6, 3.2, 3.4, 0.4)
        return TextMatch(0.01, 0.08, -0.4, -0.9, -0.7, 0.4)


class Stages:
    def __init__(self) -> None:
        self.seen: list[tuple[str, float, str]] = []

    async def __call__(self, stage: str, percent: float, message: str) -> None:
        self.seen.append((stage, percent, message))


@pytest.fixture(scope="module")
def embed(embedding_addr: str) -> Embed:
    return grpc_embedder(embedding_stub(embedding_addr), timeout=30)


def pipeline(embed: Embed | None, llm_url: str = "", **kw: Any) -> Pipeline:
    settings = LLMSettings(base_url=llm_url, model="fake-model", max_retries=1, backoff_s=0.01, backoff_max_s=0.02)
    return Pipeline(MemoryCatalog([MATCHING, NON_MATCHING], [JOB]), build_engines(settings, embed), **kw)


async def test_evidence_run_reports_stages_and_traces_every_agent(embed: Embed) -> None:
    stages = Stages()
    outcome = await pipeline(embed).run(MATCHING.id, JOB.id, "evidence", stages)
    assert outcome.engine == "evidence" and outcome.engine_version == "evidence-2" and not outcome.degraded
    assert outcome.analysis["missing_skills"] == ["Kubernetes"]
    assert len(outcome.analysis["interview_questions"]) == 5
    assert [s for s, _, _ in stages.seen][:2] == ["retrieving", "analyzing"]
    assert stages.seen[-1][0] == "interviewing"
    percents = [p for _, p, _ in stages.seen]
    assert percents == sorted(percents)
    assert [t.agent for t in outcome.traces] == ["retriever", "analyzer", "interviewer"]
    assert all(not t.error and t.started_at.endswith("Z") for t in outcome.traces)
    assert "SearchService.GetCandidate" in outcome.traces[0].tool_calls
    assert "SearchService.ScoreCandidates" in outcome.traces[0].tool_calls
    assert outcome.traces[1].tool_calls == ["skills.gazetteer", "search.ScoreCandidates"]
    assert outcome.analysis["lexical_score"] > 80 and outcome.analysis["semantic_score"] > 70
    assert outcome.context["search_rank"] == 1


async def test_without_catalog_scores_the_analysis_falls_back_to_embeddings(embed: Embed) -> None:
    run = pipeline(embed)
    run.retriever.catalog.match_fails = True  # type: ignore[attr-defined]  # the in-memory catalog's switch
    outcome = await run.run(MATCHING.id, JOB.id, "evidence", Stages())
    retriever, analyzer = outcome.traces[0], outcome.traces[1]
    assert not retriever.error  # a missing score is noted, never fatal
    assert any(c.startswith("SearchService.ScoreCandidates (failed: ") for c in retriever.tool_calls)
    assert analyzer.tool_calls == ["skills.gazetteer", "embedding.Embed"]
    assert outcome.analysis["lexical_score"] == 0 and outcome.analysis["semantic_score"] > 0
    with_scores = await pipeline(embed).run(MATCHING.id, JOB.id, "evidence", Stages())
    assert outcome.analysis["confidence"] < with_scores.analysis["confidence"]


async def test_unknown_ids_and_engines_fail_cleanly(embed: Embed) -> None:
    with pytest.raises(NotFound, match="job nope"):
        await pipeline(embed).run(MATCHING.id, "nope", "evidence", Stages())
    with pytest.raises(InvalidArgument, match="engine"):
        await pipeline(embed).run(MATCHING.id, JOB.id, "magic", Stages())
    with pytest.raises(FailedPrecondition, match="HIREMESH_LLM_BASE_URL"):
        await pipeline(embed).run(MATCHING.id, JOB.id, "llm", Stages())


def call_name(body: dict[str, Any]) -> str:
    return str(body["response_format"]["json_schema"]["name"])


async def test_llm_analyzer_and_interviewer_run_in_parallel_and_merge(embed: Embed, fake_llm: FakeOpenAI) -> None:
    # Each answer is slow: run one after the other, the server would never hold two requests at once.
    fake_llm.responder = lambda body: (
        Reply(questions_json(), delay=0.5)
        if call_name(body) == "interview_questions"
        else Reply(analysis_json(), delay=0.5)
    )
    outcome = await pipeline(embed, fake_llm.base_url).run(MATCHING.id, JOB.id, "llm", Stages())
    assert len(fake_llm.requests) == 2 and fake_llm.max_active == 2
    assert outcome.engine == "llm" and outcome.model == "fake-model" and not outcome.degraded
    questions = outcome.analysis["interview_questions"]
    assert all("Kubernetes" in q["question"] for q in questions)  # the interviewer's, not the analyzer's
    analyzer, interviewer = outcome.traces[1], outcome.traces[2]
    assert analyzer.prompt_tokens == 100 and interviewer.completion_tokens == 50
    assert analyzer.tool_calls == ["llm.chat.completions(json_schema)"]


@pytest.mark.parametrize(("engine", "trace_error"), [("llm", "Unavailable"), ("auto", "degraded to evidence")])
async def test_a_failing_interviewer_keeps_the_analysis(
    embed: Embed, fake_llm: FakeOpenAI, engine: str, trace_error: str
) -> None:
    fake_llm.responder = lambda body: (
        Reply(status=500) if call_name(body) == "interview_questions" else Reply(analysis_json())
    )
    outcome = await pipeline(embed, fake_llm.base_url).run(MATCHING.id, JOB.id, engine, Stages())
    assert outcome.engine == "llm" and outcome.analysis["match_score"] == 78 and not outcome.degraded
    questions = outcome.analysis["interview_questions"]
    assert [q["question"] for q in questions] == [
        q["question"] for q in json.loads(analysis_json())["interview_questions"]
    ]  # the analyzer's own questions
    interviewer = outcome.traces[2]
    assert interviewer.agent == "interviewer" and trace_error in interviewer.error
    assert not outcome.traces[1].error


async def test_auto_degrades_to_evidence_with_the_reason(embed: Embed, fake_llm: FakeOpenAI) -> None:
    fake_llm.default = Reply("The candidate seems fine.")  # no JSON: fails validation
    outcome = await pipeline(embed, fake_llm.base_url).run(MATCHING.id, JOB.id, "auto", Stages())
    assert outcome.engine == "evidence" and outcome.degraded
    assert "invalid_output" in outcome.reason
    assert outcome.analysis["missing_skills"] == ["Kubernetes"]
    assert "degraded to evidence" in outcome.traces[1].error


async def test_optional_tools_fail_softly(embed: Embed) -> None:
    async def hire_probability(candidate: CandidateInfo, job: JobInfo) -> dict[str, float]:
        return {"probability": 0.7}

    async def broken(candidate: CandidateInfo, job: JobInfo) -> None:
        raise ConnectionError("analytics down")

    p = pipeline(embed, tools={"analytics.PredictHire": hire_probability, "analytics.Broken": broken})
    p.retriever.catalog.similar_fails = True  # type: ignore[attr-defined]  # the in-memory catalog's switch
    outcome = await p.run(MATCHING.id, JOB.id, "evidence", Stages())
    assert outcome.context["analytics.PredictHire"] == {"probability": 0.7}
    calls = outcome.traces[0].tool_calls
    assert any(c.startswith("analytics.Broken (failed: analytics down") for c in calls)
    assert any(c.startswith("SearchService.SearchCandidates (failed") for c in calls)
    assert not outcome.traces[0].error


class RendezvousCatalog(MemoryCatalog):
    """Every lookup waits until all four retrieval calls have started: only a concurrent retriever finishes."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.started = 0
        self.all_started = asyncio.Event()

    async def _meet(self) -> None:
        self.started += 1
        if self.started == 4:
            self.all_started.set()
        await self.all_started.wait()

    async def get_candidate(self, candidate_id: str) -> CandidateInfo:
        await self._meet()
        return await super().get_candidate(candidate_id)

    async def get_job(self, job_id: str) -> JobInfo:
        await self._meet()
        return await super().get_job(job_id)

    async def similar_candidates(self, job_id: str, k: int) -> list[SimilarCandidate]:
        await self._meet()
        return await super().similar_candidates(job_id, k)

    async def text_match(self, job_id: str, candidate_id: str) -> TextMatch:
        await self._meet()
        return await super().text_match(job_id, candidate_id)


async def test_retriever_runs_its_four_lookups_and_its_tools_concurrently(embed: Embed) -> None:
    both = asyncio.Event()
    entered: list[str] = []

    def tool(name: str) -> Any:
        async def call(candidate: CandidateInfo, job: JobInfo) -> str:
            entered.append(name)
            if len(entered) == 2:
                both.set()
            await both.wait()
            return name

        return call

    p = pipeline(embed, tools={"a": tool("a"), "b": tool("b")})
    p.retriever.catalog = RendezvousCatalog([MATCHING, NON_MATCHING], [JOB])
    async with asyncio.timeout(20):  # a serial retriever waits here for ever
        outcome = await p.run(MATCHING.id, JOB.id, "evidence", Stages())
    assert outcome.context["a"] == "a" and outcome.context["b"] == "b"
    assert outcome.context["search_rank"] == 1
    assert outcome.traces[0].tool_calls[:4] == [
        "SearchService.GetCandidate",
        "SearchService.GetJob",
        "SearchService.ScoreCandidates",
        "SearchService.SearchCandidates",
    ]


async def test_a_failed_lookup_cancels_the_peer_search(embed: Embed) -> None:
    catalog = MemoryCatalog([MATCHING], [JOB])
    peer_search_cancelled = asyncio.Event()

    async def slow_peers(job_id: str, k: int) -> list[SimilarCandidate]:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            peer_search_cancelled.set()
            raise
        return []

    catalog.similar_candidates = slow_peers  # type: ignore[method-assign]  # a slow peer look-up, on purpose
    p = pipeline(embed)
    p.retriever.catalog = catalog
    with pytest.raises(NotFound):
        await p.run("no-such-candidate", JOB.id, "evidence", Stages())
    await asyncio.wait_for(peer_search_cancelled.wait(), 5)


async def test_a_late_peer_search_failure_is_noted_on_its_own_call(embed: Embed) -> None:
    async def ok_tool(candidate: CandidateInfo, job: JobInfo) -> str:
        return "fine"

    async def late_failure(job_id: str, k: int) -> list[SimilarCandidate]:
        await asyncio.sleep(0.2)  # fails after the tools have added their names to the trace
        raise ConnectionError("search went away")

    p = pipeline(embed, tools={"analytics.ok": ok_tool})
    p.retriever.catalog.similar_candidates = late_failure  # type: ignore[method-assign]  # fails late, on purpose
    outcome = await p.run(MATCHING.id, JOB.id, "evidence", Stages())
    calls = outcome.traces[0].tool_calls
    assert calls[3].startswith("SearchService.SearchCandidates (failed: search went away")
    assert "analytics.ok" in calls and outcome.context["analytics.ok"] == "fine"
    assert "similar_candidates" not in outcome.context


async def test_a_cancelling_on_stage_stops_the_agents(embed: Embed, fake_llm: FakeOpenAI) -> None:
    fake_llm.default = Reply(analysis_json(), delay=30)

    class Stop(Exception):
        pass

    calls: list[str] = []

    async def on_stage(stage: str, percent: float, message: str) -> None:
        calls.append(stage)
        if stage == "analyzing":
            raise Stop

    with pytest.raises(Stop):
        await asyncio.wait_for(pipeline(embed, fake_llm.base_url).run(MATCHING.id, JOB.id, "llm", on_stage), 10)
    assert calls == ["retrieving", "analyzing"]


async def test_search_catalog_reads_search_svc(search_addr: str) -> None:
    stub = search_stub(search_addr)
    tag = uuid.uuid4().hex[:8]
    cand = (
        await stub.CreateCandidate(
            search_pb2.CreateCandidateRequest(
                candidate=search_pb2.Candidate(
                    name=f"Ana {tag}",
                    email=f"ana-{tag}@example.com",
                    years_experience=7,
                    skills=["Python", "Django"],
                    resume_text=MATCHING.resume_text + f" ref {tag}",
                )
            ),
            timeout=60,
        )
    ).candidate
    job = (
        await stub.CreateJob(
            search_pb2.CreateJobRequest(
                job=search_pb2.Job(
                    title=JOB.title,
                    description=JOB.description,
                    required_skills=list(JOB.required_skills),
                    min_experience=5,
                )
            ),
            timeout=60,
        )
    ).job
    catalog = SearchCatalog(stub, timeout=30)
    got = await catalog.get_candidate(cand.id)
    assert got.name == f"Ana {tag}" and got.years_experience == 7 and "Python" in got.skills
    got_job = await catalog.get_job(job.id)
    assert got_job.required_skills == JOB.required_skills and got_job.min_experience == 5
    similar = await catalog.similar_candidates(job.id, 5)
    assert cand.id in [s.candidate_id for s in similar]
    with pytest.raises(NotFound):
        await catalog.get_job(str(uuid.uuid4()))


async def test_guard_scans_and_validates_the_analysis(guardrail_addr: str, embed: Embed) -> None:
    outcome = await pipeline(embed).run(MATCHING.id, JOB.id, "evidence", Stages())
    guard = GuardrailGuard(guardrail_stub(guardrail_addr), scan_timeout=30, check_timeout=30)
    clean = await guard.check(outcome)
    assert isinstance(clean, common_pb2.SafetyReport)
    assert not clean.pii and not any(i.severity >= common_pb2.SEVERITY_MEDIUM for i in clean.validation)

    leaky = PipelineOutcome(
        **{
            **outcome.__dict__,
            "analysis": {
                **outcome.analysis,
                "summary": "Call Ana Lopez at ana.lopez@example.com or +1 415 555 0100 to schedule.",
                "interview_questions": outcome.analysis["interview_questions"][:2],
            },
        }
    )
    report = await guard.check(leaky, expected_questions=5)
    assert {"EMAIL_ADDRESS"} <= {p.entity_type for p in report.pii}
    assert any(p.json_path.startswith("$.summary") or "summary" in p.json_path for p in report.pii)
    assert any(i.field == "interview_questions" for i in report.validation)
    assert report.has_issues


@pytest.mark.parametrize(("questions_delay", "analysis_delay", "early"), [(0.05, 0.6, True), (0.6, 0.05, False)])
async def test_questions_ready_before_the_analysis_are_handed_over_early(
    embed: Embed, fake_llm: FakeOpenAI, questions_delay: float, analysis_delay: float, early: bool
) -> None:
    fake_llm.responder = lambda body: (
        Reply(questions_json(), delay=questions_delay)
        if call_name(body) == "interview_questions"
        else Reply(analysis_json(), delay=analysis_delay)
    )
    handed: list[list[dict[str, Any]]] = []
    outcome = await pipeline(embed, fake_llm.base_url).run(
        MATCHING.id, JOB.id, "llm", Stages(), on_questions=handed.append
    )
    if early:
        assert handed == [outcome.analysis["interview_questions"]]  # exactly what the result carries
    else:
        assert handed == []


async def test_the_screener_scans_early_questions_and_reports_the_same_safety(
    embed: Embed, fake_llm: FakeOpenAI, guardrail_addr: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIREMESH_DATABASE_URL", "postgresql://unused")
    leaky = json.dumps(
        {
            "interview_questions": [
                {
                    "question": f"Ask Maria Gonzalez (maria.gonzalez@example.org) how she ran release {i} in Lisbon?",
                    "rationale": "claimed: go",
                    "skill": "Go",
                }
                for i in range(1, 6)
            ]
        }
    )
    fake_llm.responder = lambda body: (
        Reply(leaky, delay=0.05) if call_name(body) == "interview_questions" else Reply(analysis_json(), delay=0.6)
    )
    stub = guardrail_stub(guardrail_addr)
    reports = {}
    for early in (True, False):
        cfg = replace(ScreeningConfig.from_env(), early_scan=early)
        guard = GuardrailGuard(stub, scan_timeout=cfg.call_timeout_s, check_timeout=cfg.guard_timeout_s)
        screener = Screener(cfg, pipeline(embed, fake_llm.base_url), guard, None)  # type: ignore[arg-type]  # no store: Screen only

        async def progress(stage: str, percent: float, message: str) -> bool:
            return True

        result = await screener.screen(Target(MATCHING.id, JOB.id), "llm", progress)
        guard_trace = result.traces[-1]
        assert guard_trace["agent"] == "guardrail"
        assert any("while the analyzer ran" in call for call in guard_trace["tool_calls"]) == early
        reports[early] = sorted(
            (p["entity_type"], p["json_path"], p["start"], p["end"]) for p in result.safety.get("pii", [])
        )
    assert reports[True] == reports[False]
    assert {t for t, *_ in reports[True]} >= {"PERSON", "EMAIL_ADDRESS", "LOCATION"}


class FirstScanFails:
    """A guardrail stub whose first Scan (the early one) fails as a dropped connection would; the rest pass."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.scans = 0

    async def Scan(self, request: Any, timeout: float | None = None) -> Any:
        self.scans += 1
        if self.scans == 1:
            raise ConnectionResetError("peer went away")
        return await self.real.Scan(request, timeout=timeout)

    def ValidateOutput(self, request: Any, timeout: float | None = None) -> Any:
        return self.real.ValidateOutput(request, timeout=timeout)


async def test_a_failed_early_scan_costs_nothing_but_the_saving(
    embed: Embed, fake_llm: FakeOpenAI, guardrail_addr: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIREMESH_DATABASE_URL", "postgresql://unused")
    fake_llm.responder = lambda body: (
        Reply(questions_json(), delay=0.05)
        if call_name(body) == "interview_questions"
        else Reply(analysis_json(), delay=0.6)
    )
    stub = FirstScanFails(guardrail_stub(guardrail_addr))
    unused_store: Any = None  # screen() stores nothing; run_task/run_now do
    as_stub: Any = stub
    guard = GuardrailGuard(as_stub, scan_timeout=30, check_timeout=30)
    screener = Screener(ScreeningConfig.from_env(), pipeline(embed, fake_llm.base_url), guard, unused_store)

    async def progress(stage: str, percent: float, message: str) -> bool:
        return True

    result = await screener.screen(Target(MATCHING.id, JOB.id), "llm", progress)
    assert stub.scans == 2 and result.safety_checked
    assert any("while the analyzer ran" in c and "failed" in c for c in result.traces[-1]["tool_calls"])
