"""The evidence engine with real embeddings from a real embedding_svc process."""

from __future__ import annotations

import pytest

from guardrail_svc.validation import validate_analysis
from guardrail_svc.validation_text import is_generic_question
from hiremesh.clients import embedding_stub
from screening_svc.agents import grpc_embedder
from screening_svc.engines import CandidateInfo, JobInfo, ScreeningInput
from screening_svc.engines.evidence import Embed, EvidenceEngine

JOB = JobInfo(
    id="job-backend", title="Senior Backend Engineer", company="Acme",
    description=(
        "We are looking for a backend engineer to design and build REST APIs in Python with Django, backed by "
        "PostgreSQL. You will deploy services on Kubernetes in AWS and own their reliability.\n\n"
        "Requirements: 5+ years of backend development experience, strong SQL, experience with containers. "
        "Nice to have: Redis, Kafka."
    ),
    required_skills=("Python", "Django", "PostgreSQL", "Kubernetes", "AWS"), min_experience=5,
)
MATCHING = CandidateInfo(
    id="cand-match", name="Ana", headline="Backend engineer, Python and Django",
    resume_text=(
        "Backend engineer with 7 years of experience building REST APIs in Python and Django.\n\n"
        "Acme Payments (2019-2024): designed a PostgreSQL schema for 40M transactions, wrote Django services "
        "deployed with Docker on AWS, cut p99 latency by 60% with Redis caching.\n\n"
        "Skills: Python, Django, PostgreSQL, Docker, AWS, Redis, SQL."
    ),
    skills=("python", "django", "postgres"), years_experience=7,
)
NON_MATCHING = CandidateInfo(
    id="cand-chef", name="Bo", headline="Pastry chef",
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
    assert good.confidence > 0.8


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
