"""The `llm` engine: a recruiter screening prompt and an interviewer prompt over ChatClient.

The answer is parsed leniently by hiremesh.analysis (code fences and prose around the JSON object are tolerated),
repaired and checked by it (the rules guardrail's ValidateOutput applies too), then validated by the `Analysis` model.
Anything unusable raises LLMOutputError("invalid_output", ...) naming what was wrong.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

# What guardrail applies too, shared: JSON extraction and the repairs (clamping, '?' endings, dedup, generic questions).
from hiremesh.analysis import NoJSONObject, extract_json_object
from hiremesh.analysis import validate_analysis as guardrail_validate
from hiremesh.analysis_text import is_generic_question
from screening_svc.engines import prompts
from screening_svc.engines.base import Analysis, EngineResult, LLMOutputError, Question, QuestionsResult, ScreeningInput
from screening_svc.engines.client import ChatClient

VERSION = "llm-1"


def parse_json_object(text: str) -> dict[str, Any]:
    """The JSON object in an LLM answer (hiremesh.analysis.extract_json_object, the extraction guardrail uses);
    LLMOutputError("invalid_output") when there is none."""
    try:
        return extract_json_object(text)[0]
    except NoJSONObject:
        # Never quote the answer: it can repeat the candidate's name, e-mail and phone, and this message is logged.
        size = len(text.strip())
        raise LLMOutputError("invalid_output", f"no JSON object in the answer ({size} characters)") from None


def validate_llm_analysis(data: dict[str, Any], questions: int) -> Analysis:
    """Repair and check an LLM's analysis; LLMOutputError("invalid_output") listing the problems."""
    outcome = guardrail_validate(data, expected_questions=questions, auto_fix=True)
    if not outcome.valid or outcome.repaired is None:
        problems = "; ".join(f"{i.field}: {i.message}" for i in outcome.issues if not i.fixed)
        raise LLMOutputError("invalid_output", problems or "failed validation")
    data = outcome.repaired
    try:
        analysis = Analysis.model_validate(data)
    except ValidationError as exc:
        raise LLMOutputError("invalid_output", _pydantic_problems(exc)) from None
    if len(analysis.interview_questions) != questions:
        raise LLMOutputError(
            "invalid_output", f"{len(analysis.interview_questions)} interview questions; exactly {questions} required"
        )
    return analysis


def validate_llm_questions(data: dict[str, Any], questions: int) -> list[Question]:
    raw = data.get("interview_questions")
    if not isinstance(raw, list):
        raise LLMOutputError("invalid_output", "interview_questions must be a list")
    out: list[Question] = []
    seen: set[str] = set()
    for item in raw:
        try:
            q = Question.model_validate({"question": item} if isinstance(item, str) else item)
        except ValidationError:
            continue
        if is_generic_question(q.question):
            continue
        key = re.sub(r"\W+", " ", q.question.lower()).strip()
        if key not in seen:
            seen.add(key)
            out.append(q)
    if len(out) < questions:
        raise LLMOutputError("invalid_output", f"{len(out)} usable interview questions; {questions} required")
    return out[:questions]


def _pydantic_problems(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:6])


class LLMEngine:
    """Screens with an LLM; raises instead of guessing when the LLM is down or its answer unusable."""

    name = "llm"
    version = VERSION

    def __init__(self, client: ChatClient) -> None:
        self.client = client

    async def analyze(self, inp: ScreeningInput) -> EngineResult:
        completion = await self.client.complete_json(
            prompts.analysis_messages(inp),
            prompts.analysis_schema(inp.questions),
            "screening_analysis",
            call="analysis",
        )
        analysis = validate_llm_analysis(parse_json_object(completion.text), inp.questions)
        return EngineResult(
            analysis=analysis,
            engine=self.name,
            engine_version=self.version,
            model=completion.model or await self.client.model(),
            usage=completion.usage,
            tool_calls=[f"llm.chat.completions({completion.spelling})"],
        )

    async def interview_questions(self, inp: ScreeningInput) -> QuestionsResult:
        completion = await self.client.complete_json(
            prompts.questions_messages(inp),
            prompts.questions_schema(inp.questions),
            "interview_questions",
            call="questions",
        )
        questions = validate_llm_questions(parse_json_object(completion.text), inp.questions)
        return QuestionsResult(
            questions=questions,
            engine=self.name,
            usage=completion.usage,
            tool_calls=[f"llm.chat.completions({completion.spelling})"],
        )
