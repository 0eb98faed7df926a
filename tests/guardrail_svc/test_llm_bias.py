"""The optional LLM bias review: parsing, merging, and the real HTTP path against scripted and real servers."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from guardrail_svc.bias import find_bias
from guardrail_svc.llm_bias import LlmBiasChecker, merge, parse_llm_findings
from guardrail_svc.report import Severity
from hiremesh.clients import guardrail_stub
from hiremesh.v1 import guardrail_pb2
from tests.fixtures.llm import FakeOpenAI, Reply
from tests.fixtures.procs import free_port, spawn_service

# "fresh blood" is coded age language the lexicon does not list; "young" and "salesman" it does.
AD = "We are a young team looking for fresh blood to join our sales floor. The ideal salesman thrives under pressure."


def llm_answer(*findings: Any) -> str:
    return json.dumps({"findings": list(findings)})


def coded(term: str = "fresh blood", category: str = "age", severity: str = "medium") -> dict[str, Any]:
    return {
        "term": term,
        "category": category,
        "severity": severity,
        "alternative": "new team members",
        "explanation": "signals a preference for younger applicants",
    }


def test_findings_are_located_in_the_text() -> None:
    [finding] = parse_llm_findings(AD, "Sure! " + llm_answer(coded("Fresh Blood")) + " hope that helps")
    assert AD[finding.start : finding.end] == "fresh blood"
    assert finding.term == "fresh blood" and finding.category == "age"
    assert finding.severity == Severity.MEDIUM and finding.explanation.startswith("LLM review:")


def test_invented_terms_unknown_categories_and_garbage_are_dropped() -> None:
    answer = llm_answer(coded("rockstar ninja"), coded("sales floor", category="zodiac"), {"term": 3}, "x")
    assert parse_llm_findings(AD, answer) == []
    assert parse_llm_findings(AD, "no JSON here") == []
    assert parse_llm_findings(AD, "{not json}") == []
    assert parse_llm_findings(AD, '["a list"]') == []


def test_unknown_severity_becomes_medium() -> None:
    [finding] = parse_llm_findings(AD, llm_answer(coded(severity="apocalyptic")))
    assert finding.severity == Severity.MEDIUM


def test_merge_keeps_lexicon_findings_and_adds_only_new_spans() -> None:
    lexicon = find_bias(AD)
    assert any(f.term.lower() == "young" for f in lexicon)
    llm = parse_llm_findings(AD, llm_answer(coded("young"), coded("fresh blood")))
    merged = merge(lexicon, llm)
    assert [f.start for f in merged] == sorted(f.start for f in merged)
    assert sum(1 for f in merged if AD[f.start : f.end].lower() == "young") == 1
    assert any(f.term == "fresh blood" for f in merged)


async def test_checker_calls_the_server_with_the_text(fake_llm: FakeOpenAI) -> None:
    fake_llm.default = Reply(llm_answer(coded()))
    checker = LlmBiasChecker(fake_llm.base_url, "fake-model", "not-needed", timeout_s=5)
    try:
        findings = await checker.check(AD)
    finally:
        await checker.close()
    assert [f.term for f in findings] == ["fresh blood"]
    [request] = fake_llm.requests
    assert request["messages"][1]["content"] == AD and request["temperature"] == 0


async def test_a_failing_llm_costs_nothing_but_a_warning(
    fake_llm: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    fake_llm.default = Reply(status=500)
    checker = LlmBiasChecker(fake_llm.base_url, "fake-model", "not-needed", timeout_s=5)
    try:
        with caplog.at_level(logging.WARNING, logger="guardrail_svc.llm_bias"):
            assert await checker.check(AD) == []
    finally:
        await checker.close()
    assert "LLM bias check failed" in caplog.text


async def test_checker_against_the_real_llama_cpp_server(llm_base_url: str, caplog: pytest.LogCaptureFixture) -> None:
    # SmolLM2-135M is too small to judge bias reliably; what must hold is the round trip and that every
    # finding it returns points at words that are really in the text.
    checker = LlmBiasChecker(llm_base_url, "default", "not-needed", timeout_s=120)
    try:
        with caplog.at_level(logging.WARNING, logger="guardrail_svc.llm_bias"):
            findings = await checker.check(AD)
    finally:
        await checker.close()
    assert "LLM bias check failed" not in caplog.text
    for f in findings:
        assert AD[f.start : f.end].lower() == f.term.lower()


async def test_scan_over_grpc_merges_llm_findings_when_the_flag_is_on(fake_llm: FakeOpenAI) -> None:
    fake_llm.default = Reply(llm_answer(coded()))
    env = {
        "HIREMESH_GUARDRAIL_LLM_BIAS": "1",
        "HIREMESH_LLM_BASE_URL": fake_llm.base_url,
        "HIREMESH_GUARDRAIL_WORKERS": "1",
    }
    svc = await spawn_service("guardrail_svc", free_port(), env, "hiremesh.v1.GuardrailService")
    try:
        stub = guardrail_stub(svc.addr)
        report = (await stub.Scan(guardrail_pb2.ScanRequest(text=AD), timeout=60)).report
        terms = {b.term.lower(): b for b in report.bias}
        assert "young" in terms  # the lexicon's finding stays
        assert terms["fresh blood"].explanation.startswith("LLM review:")
        assert len(fake_llm.requests) == 1

        # The LLM down: the scan still answers, with the lexicon's findings only.
        fake_llm.default = Reply(status=503)
        report = (await stub.Scan(guardrail_pb2.ScanRequest(text=AD), timeout=60)).report
        assert "young" in {b.term.lower() for b in report.bias}
        assert "fresh blood" not in {b.term.lower() for b in report.bias}

        # Only bias asks the LLM: a PII-only scan makes no request.
        before = len(fake_llm.requests)
        options = guardrail_pb2.ScanOptions(checks=[guardrail_pb2.CHECK_PII])
        await stub.Scan(guardrail_pb2.ScanRequest(text=AD, options=options), timeout=60)
        assert len(fake_llm.requests) == before
    finally:
        await svc.stop()


def test_flag_without_llm_url_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from guardrail_svc.config import GuardrailConfig
    from hiremesh.config import ConfigError

    monkeypatch.setenv("HIREMESH_GUARDRAIL_LLM_BIAS", "1")
    monkeypatch.delenv("HIREMESH_LLM_BASE_URL", raising=False)
    with pytest.raises(ConfigError, match="HIREMESH_LLM_BASE_URL"):
        GuardrailConfig.from_env()
