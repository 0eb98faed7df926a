"""The llm engine and the auto fallback against a scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from hiremesh.errors import DeadlineExceeded, FailedPrecondition, Unavailable
from screening_svc.engines import CandidateInfo, JobInfo, LLMOutputError, ScreeningInput
from screening_svc.engines.auto import AutoEngine
from screening_svc.engines.client import ChatClient, LLMSettings, accepted_spelling
from screening_svc.engines.evidence import EvidenceEngine
from screening_svc.engines.llm import LLMEngine, parse_json_object
from tests.fixtures.llm import FakeOpenAI, Reply, analysis_json, questions_json

JOB = JobInfo(
    id="job-1",
    title="Backend Engineer",
    required_skills=("Python", "Django", "Kubernetes"),
    description="Build REST APIs in Python and Django, deploy on Kubernetes.",
    min_experience=3,
)
CANDIDATE = CandidateInfo(
    id="cand-1",
    headline="Python developer",
    skills=("Python", "Django"),
    resume_text="Seven years of Python; built Django REST APIs.",
    years_experience=7,
)
INPUT = ScreeningInput(CANDIDATE, JOB)


def engine(fake: FakeOpenAI, **settings: float) -> LLMEngine:
    defaults: dict[str, float] = {
        "backoff_s": 0.01,
        "backoff_max_s": 0.05,
        "max_retries": 3,
        "attempt_timeout_s": 10.0,
        "deadline_s": 30.0,
    }
    defaults.update(settings)
    # `defaults` mixes floats and ints, so mypy sees object values; each matches its LLMSettings field.
    return LLMEngine(ChatClient(LLMSettings(base_url=fake.base_url, model="fake-model", **defaults)))  # type: ignore[arg-type]


def retries(cause: str) -> float:
    return REGISTRY.get_sample_value("hiremesh_screening_llm_retries_total", {"cause": cause}) or 0.0


def fallbacks(cause: str) -> float:
    return REGISTRY.get_sample_value("hiremesh_screening_engine_fallbacks_total", {"cause": cause}) or 0.0


async def test_openai_spelling_is_sent_first_and_the_answer_validated(fake_llm: FakeOpenAI) -> None:
    result = await engine(fake_llm).analyze(INPUT)
    fmt = fake_llm.requests[0]["response_format"]
    assert fmt["type"] == "json_schema"
    assert fmt["json_schema"]["schema"]["required"][0] == "match_score"
    assert result.engine == "llm" and result.model == "fake-model"
    assert result.analysis.match_score == 78
    assert result.analysis.missing_skills == ["Kubernetes"]
    assert len(result.analysis.interview_questions) == 5
    assert result.usage.prompt_tokens == 100 and result.usage.completion_tokens == 50
    assert accepted_spelling(fake_llm.base_url) == "json_schema"


async def test_llama_cpp_spelling_is_detected_once_per_base_url(fake_llm: FakeOpenAI) -> None:
    fake_llm.reject_json_schema = True
    llm = engine(fake_llm)
    first = await llm.analyze(INPUT)
    second = await engine(fake_llm).analyze(INPUT)  # a new engine on the same URL learns nothing again
    kinds = [(r["response_format"]["type"], "schema" in r["response_format"]) for r in fake_llm.requests]
    assert kinds == [("json_schema", False), ("json_object", True), ("json_object", True)]
    assert accepted_spelling(fake_llm.base_url) == "json_object_schema"
    assert first.analysis.match_score == second.analysis.match_score == 78


async def test_429_and_5xx_are_retried_with_backoff(fake_llm: FakeOpenAI) -> None:
    before_429, before_5xx = retries("429"), retries("5xx")
    fake_llm.replies = [Reply(status=429, headers={"Retry-After": "0"}), Reply(status=503), Reply(status=502)]
    result = await engine(fake_llm).analyze(INPUT)
    assert result.analysis.match_score == 78
    assert len(fake_llm.requests) >= 4
    assert retries("429") == before_429 + 1
    assert retries("5xx") >= before_5xx + 2


async def test_persistent_5xx_gives_up_as_unavailable(fake_llm: FakeOpenAI) -> None:
    fake_llm.default = Reply(status=500)
    with pytest.raises(Unavailable, match="after 3 attempt"):
        await engine(fake_llm, max_retries=2).analyze(INPUT)


async def test_a_slow_attempt_times_out_and_is_retried(fake_llm: FakeOpenAI) -> None:
    before = retries("timeout")
    fake_llm.replies = [Reply(analysis_json(), delay=3.0)]
    result = await engine(fake_llm, attempt_timeout_s=0.3).analyze(INPUT)
    assert result.analysis.match_score == 78
    assert retries("timeout") == before + 1


async def test_the_whole_call_has_one_deadline(fake_llm: FakeOpenAI) -> None:
    fake_llm.default = Reply(analysis_json(), delay=3.0)
    with pytest.raises(DeadlineExceeded, match="deadline"):
        await engine(fake_llm, attempt_timeout_s=0.2, deadline_s=0.8, max_retries=50).analyze(INPUT)


async def test_unreachable_endpoint_is_unavailable() -> None:
    from tests.fixtures.procs import free_port

    settings = LLMSettings(
        base_url=f"http://127.0.0.1:{free_port()}/v1", model="m", max_retries=1, backoff_s=0.01, backoff_max_s=0.02
    )
    with pytest.raises(Unavailable, match="cannot connect"):
        await LLMEngine(ChatClient(settings)).analyze(INPUT)


async def test_a_refused_request_is_not_retried(fake_llm: FakeOpenAI) -> None:
    await engine(fake_llm).analyze(INPUT)  # learn the spelling, so a 400 is not taken for a spelling problem
    fake_llm.requests.clear()
    fake_llm.replies = [Reply(status=401)]
    with pytest.raises(FailedPrecondition, match="HTTP 401"):
        await engine(fake_llm).analyze(INPUT)
    assert len(fake_llm.requests) == 1


async def test_prose_and_code_fences_around_the_json_are_tolerated(fake_llm: FakeOpenAI) -> None:
    fake_llm.default = Reply(f"Sure! Here is my assessment:\n```json\n{analysis_json(match_score=64)}\n```\nThanks")
    result = await engine(fake_llm).analyze(INPUT)
    assert result.analysis.match_score == 64


async def test_out_of_range_scores_are_clamped(fake_llm: FakeOpenAI) -> None:
    fake_llm.default = Reply(analysis_json(match_score=140))
    result = await engine(fake_llm).analyze(INPUT)
    assert result.analysis.match_score == 100


@pytest.mark.parametrize(
    ("content", "finish", "kind"),
    [
        ("I cannot help with that.", "stop", "invalid_output"),
        (analysis_json(match_score="very high"), "stop", "invalid_output"),
        (analysis_json(interview_questions=["How do you use Django?"]), "stop", "invalid_output"),
        ('{"match_score": 80, "summary": "Strong fit for the ro', "length", "truncated"),
        ("", "stop", "empty"),
    ],
)
async def test_unusable_answers_raise_llm_output_error(
    fake_llm: FakeOpenAI, content: str, finish: str, kind: str
) -> None:
    fake_llm.default = Reply(content, finish_reason=finish)
    with pytest.raises(LLMOutputError) as caught:
        await engine(fake_llm).analyze(INPUT)
    assert caught.value.kind == kind


async def test_interview_questions_are_a_separate_call(fake_llm: FakeOpenAI) -> None:
    fake_llm.default = Reply(questions_json())
    result = await engine(fake_llm).interview_questions(INPUT)
    assert len(result.questions) == 5 and all(q.question.endswith("?") for q in result.questions)
    assert fake_llm.requests[0]["response_format"]["json_schema"]["name"] == "interview_questions"


async def test_auto_falls_back_to_evidence_with_the_reason_when_the_endpoint_fails(fake_llm: FakeOpenAI) -> None:
    fake_llm.default = Reply(status=500)
    before = fallbacks("unavailable")
    auto = AutoEngine(engine(fake_llm, max_retries=1), EvidenceEngine(), cooldown_s=60)
    result = await auto.analyze(INPUT)
    assert fallbacks("unavailable") == before + 1
    assert result.engine == "evidence" and result.degraded
    assert "unavailable" in result.reason.lower() and "HTTP 500" in result.reason
    assert result.analysis.missing_skills == ["Kubernetes"]
    # The endpoint just failed: the next screening does not wait for it again.
    calls = len(fake_llm.requests)
    again = await auto.analyze(INPUT)
    assert again.degraded and "skipped" in again.reason
    assert len(fake_llm.requests) == calls


async def test_auto_falls_back_when_the_output_fails_validation(fake_llm: FakeOpenAI) -> None:
    fake_llm.default = Reply("no json here")
    auto = AutoEngine(engine(fake_llm), EvidenceEngine(), cooldown_s=60)
    result = await auto.analyze(INPUT)
    assert result.engine == "evidence" and result.degraded and result.reason.startswith("LLM invalid_output")
    # Bad output does not mean a bad endpoint: the LLM is asked again next time, and used when it answers well.
    fake_llm.default = Reply(analysis_json())
    good = await auto.analyze(INPUT)
    assert good.engine == "llm" and not good.degraded


async def test_auto_without_an_llm_is_plain_evidence() -> None:
    result = await AutoEngine(None, EvidenceEngine()).analyze(INPUT)
    assert result.engine == "evidence" and not result.degraded and result.reason == ""


@given(
    st.dictionaries(st.text(min_size=1, max_size=8), st.integers() | st.text(max_size=20), max_size=5),
    st.sampled_from(["{}", "Here you go:\n{}\nDone.", "```json\n{}\n```", "```\n{}\n```  trailing {{x}}"]),
)
def test_parse_json_object_finds_the_object_in_any_wrapper(data: dict[str, object], wrapper: str) -> None:
    text = wrapper.replace("{}", json.dumps(data), 1) if wrapper != "{}" else json.dumps(data)
    assert parse_json_object(text) == data
