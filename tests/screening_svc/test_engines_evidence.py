"""The evidence engine with real embeddings from a real embedding_svc process."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hiremesh.analysis import validate_analysis
from hiremesh.analysis_text import is_generic_question
from hiremesh.clients import embedding_stub
from screening_svc.adapters import grpc_embedder
from screening_svc.engines import CandidateInfo, JobInfo, ScreeningInput
from screening_svc.engines.base import TextMatch
from screening_svc.engines.evidence import Embed, EvidenceEngine

JOB = JobInfo(
    id="job-backend",
    title="Senior Backend Engineer",
    company="Acme",
    description=(
        "We are looking for a backend engineer to design and build REST APIs in Python with Django, backed by "
        "PostgreSQL. You will deploy services on Kubernetes in AWS and own their reliability.\n\n"
        "Requirements: 5+ years of backend development experience, strong SQL, experience with containers. "
        "Nice to have: Redis, Kafka."
    ),
    required_skills=("Python", "Django", "PostgreSQL", "Kubernetes", "AWS"),
    min_experience=5,
)
MATCHING = CandidateInfo(
    id="cand-match",
    name="Ana",
    headline="Backend engineer, Python and Django",
    resume_text=(
        "Backend engineer with 7 years of experience building REST APIs in Python and Django.\n\n"
        "Acme Payments (2019-2024): designed a PostgreSQL schema for 40M transactions, wrote Django services "
        "deployed with Docker on AWS, cut p99 latency by 60% with Redis caching.\n\n"
        "Skills: Python, Django, PostgreSQL, Docker, AWS, Redis, SQL."
    ),
    skills=("python", "django", "postgres"),
    years_experience=7,
)
NON_MATCHING = CandidateInfo(
    id="cand-chef",
    name="Bo",
    headline="Pastry chef",
    resume_text=(
        "Pastry chef with 4 years of experience in French patisserie.\n\n"
        "Le Petit Four (2020-2024): created seasonal dessert menus, managed a team of three bakers, "
        "ran wedding cake orders and kept food-safety records."
    ),
    years_experience=4,
)


@pytest.fixture(scope="module")
def embed(embedding_addr: str) -> Embed:
    return grpc_embedder(embedding_stub(embedding_addr), timeout=30)


async def test_matching_resume_ranks_above_non_matching_and_gaps_are_named(embed: Embed) -> None:
    engine = EvidenceEngine(embed)
    good = (await engine.analyze(ScreeningInput(MATCHING, JOB))).analysis
    bad = (await engine.analyze(ScreeningInput(NON_MATCHING, JOB))).analysis
    assert good.match_score > bad.match_score + 30
    assert good.missing_skills == ["Kubernetes"]
    assert set(bad.missing_skills) == {"Python", "Django", "PostgreSQL", "Kubernetes", "AWS"}
    assert {"Python", "Django", "PostgreSQL", "AWS"} <= set(good.matched_skills)
    # Every part of the score is explained by a sub-score, and the text similarity really separates them.
    assert good.semantic_score > bad.semantic_score
    # Preferred (mentioned, not required): REST APIs, SQL, Docker, Redis, Kafka; all but Kafka are on the resume.
    assert good.skills_score == pytest.approx(100 * (4 + 0.5 * 4) / (5 + 0.5 * 5), abs=0.1)
    assert good.experience_score == 100 and bad.experience_score == pytest.approx(80)
    assert any("Kubernetes" in w for w in good.weaknesses)
    assert good.confidence >= 0.65  # no catalog scores here: see the next test


async def test_catalog_scores_lead_the_text_relevance_and_raise_confidence(embed: Embed) -> None:
    # What search_svc's ScoreCandidates says of them: far above a typical candidate, and below one.
    strong = TextMatch(0.21, 0.62, lexical_z=3.6, semantic_z=3.2, fused_z=3.4, lexical_weight=0.4)
    weak = TextMatch(0.01, 0.08, lexical_z=-0.4, semantic_z=-0.9, fused_z=-0.7, lexical_weight=0.4)
    engine = EvidenceEngine(embed)
    good = await engine.analyze(ScreeningInput(MATCHING, JOB, match=strong))
    bad = await engine.analyze(ScreeningInput(NON_MATCHING, JOB, match=weak))
    assert good.tool_calls == ["skills.gazetteer", "search.ScoreCandidates"]  # no embedding call of its own
    g, b = good.analysis, bad.analysis
    assert g.lexical_score > 90 and g.semantic_score > 80 and b.lexical_score < 10
    assert g.match_score > 85 and b.match_score < 15
    alone = (await engine.analyze(ScreeningInput(MATCHING, JOB))).analysis
    assert g.confidence > alone.confidence and b.confidence > alone.confidence - 0.1
    assert "better than 99.9% of the catalog" in g.summary and "better than 24% of the catalog" in b.summary
    # Where the parts come from is the score: the same resume with a weaker text match scores lower.
    middling = await engine.analyze(ScreeningInput(MATCHING, JOB, match=TextMatch(0.1, 0.4, 1.0, 1.0, 1.0, 0.4)))
    assert b.match_score < middling.analysis.match_score < g.match_score


async def test_experience_is_neutral_when_the_job_states_no_years(embed: Embed) -> None:
    job = replace(JOB, min_experience=0, description=JOB.description.replace("5+ years of ", ""))
    senior = (await EvidenceEngine(embed).analyze(ScreeningInput(MATCHING, job))).analysis
    unknown = (await EvidenceEngine(embed).analyze(ScreeningInput(replace(MATCHING, years_experience=0), job))).analysis
    assert senior.experience_score == unknown.experience_score == 100
    assert senior.match_score == unknown.match_score  # years nobody asked for move nothing


async def test_questions_are_exactly_n_specific_and_probe_the_gaps(embed: Embed) -> None:
    for n in (3, 5, 8):
        result = await EvidenceEngine(embed).analyze(ScreeningInput(MATCHING, JOB, questions=n))
        questions = result.analysis.interview_questions
        assert len(questions) == n
        assert all(q.question.endswith("?") and not is_generic_question(q.question) for q in questions)
        assert len({q.question for q in questions}) == n
        assert questions[0].rationale == "gap: kubernetes"
        assert any(q.rationale.startswith("claimed: ") for q in questions)


async def test_output_passes_the_guardrail_validator(embed: Embed) -> None:
    for cand in (MATCHING, NON_MATCHING):
        analysis = (await EvidenceEngine(embed).analyze(ScreeningInput(cand, JOB))).analysis
        outcome = validate_analysis(analysis.model_dump(mode="json"))
        assert outcome.valid, [(i.field, i.message) for i in outcome.issues]


async def test_without_embeddings_the_score_is_still_explained_with_less_confidence(embed: Embed) -> None:
    with_vectors = (await EvidenceEngine(embed).analyze(ScreeningInput(MATCHING, JOB))).analysis

    async def broken(texts: list[str]) -> list[list[float]]:
        raise ConnectionError("embedding service down")

    without = (await EvidenceEngine(broken).analyze(ScreeningInput(MATCHING, JOB))).analysis
    assert without.confidence < with_vectors.confidence
    assert "not scored (the embedding service is unavailable)" in without.summary
    assert "ConnectionError" not in without.summary  # the recruiter sees the cause, not the exception
    assert without.missing_skills == ["Kubernetes"] and without.match_score > 60


async def test_years_come_from_the_resume_when_the_catalog_has_none() -> None:
    cand = CandidateInfo(id="c", resume_text="Python developer with 2 years of professional experience.")
    analysis = (await EvidenceEngine().analyze(ScreeningInput(cand, JOB))).analysis
    assert analysis.experience_score == pytest.approx(40)
    assert any("below the 5-year minimum" in w for w in analysis.weaknesses)
    assert any(q.rationale == "gap: experience below the minimum" for q in analysis.interview_questions)


async def test_a_job_without_known_skills_still_yields_n_questions() -> None:
    job = JobInfo(id="j", title="Office Manager", description="Keep our office running smoothly.")
    cand = CandidateInfo(id="c", resume_text="Ran a front desk for a dental practice.")
    result = await EvidenceEngine().interview_questions(ScreeningInput(cand, job, questions=5))
    assert len(result.questions) == 5
    assert all("Office Manager" in q.question for q in result.questions)
