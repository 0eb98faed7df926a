"""GuardrailService over gRPC against the real `python -m guardrail_svc` process and its real models."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio

from hiremesh.clients import guardrail_stub
from hiremesh.v1 import common_pb2, guardrail_pb2, guardrail_pb2_grpc
from tests.guardrail_svc.resumes import make_resume

TIMEOUT = 60


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stub(guardrail_addr: str) -> AsyncIterator[guardrail_pb2_grpc.GuardrailServiceAsyncStub]:
    client = guardrail_stub(guardrail_addr)
    yield client


async def test_scan_resume_finds_planted_pii(stub: guardrail_pb2_grpc.GuardrailServiceAsyncStub) -> None:
    resume = make_resume(7)
    response = await stub.Scan(guardrail_pb2.ScanRequest(text=resume.text), timeout=TIMEOUT)
    report = response.report
    found = {(f.entity_type, resume.text[f.start : f.end]) for f in report.pii}
    for entity, values in resume.planted.items():
        for value in values:
            assert (entity, value) in found, (entity, value)
    assert report.has_critical_issues and report.summary.startswith("CRITICAL")
    assert set(report.timings_ms) == {"pii", "bias", "toxicity"}
    assert report.toxicity.backend == "profanity-check" and "profanity" in report.toxicity.dimensions


async def test_scan_json_document_reports_paths(stub: guardrail_pb2_grpc.GuardrailServiceAsyncStub) -> None:
    doc = {"summary": "A young salesman.", "strengths": ["Go", "Contact: leo.marsh@mailbox.org"]}
    response = await stub.Scan(guardrail_pb2.ScanRequest(json_document=json.dumps(doc)), timeout=TIMEOUT)
    assert [(f.entity_type, f.json_path) for f in response.report.pii] == [("EMAIL_ADDRESS", "$.strengths[1]")]
    assert {(b.term, b.json_path, b.severity) for b in response.report.bias} == {
        ("young", "$.summary", common_pb2.SEVERITY_MEDIUM),
        ("salesman", "$.summary", common_pb2.SEVERITY_MEDIUM),
    }


async def test_scan_batch_and_options(stub: guardrail_pb2_grpc.GuardrailServiceAsyncStub) -> None:
    texts = ["You are a fucking idiot.", "Strong Go developer.", make_resume(2).text]
    options = guardrail_pb2.ScanOptions(
        checks=[guardrail_pb2.CHECK_TOXICITY, guardrail_pb2.CHECK_PII],
        pii_mode=guardrail_pb2.PII_MODE_FAST,
        toxicity_threshold=0.5,
    )
    response = await stub.ScanBatch(guardrail_pb2.ScanBatchRequest(texts=texts, options=options), timeout=TIMEOUT)
    toxic = [r.toxicity.toxic for r in response.reports]
    assert toxic == [True, False, False]
    assert response.reports[0].toxicity.threshold == pytest.approx(0.5)
    assert not any(f.entity_type in {"PERSON", "LOCATION"} for f in response.reports[2].pii)
    assert response.reports[2].pii and not response.reports[2].bias


async def test_redact(stub: guardrail_pb2_grpc.GuardrailServiceAsyncStub) -> None:
    resume = make_resume(4)
    response = await stub.Redact(guardrail_pb2.RedactRequest(text=resume.text), timeout=TIMEOUT)
    for values in resume.planted.values():
        for value in values:
            assert value not in response.text
    hashed = await stub.Redact(
        guardrail_pb2.RedactRequest(text="Mail zoe@mailbox.org", style=guardrail_pb2.REDACTION_STYLE_HASH),
        timeout=TIMEOUT,
    )
    assert hashed.text.startswith("Mail <EMAIL_ADDRESS:") and "zoe@" not in hashed.text


async def test_validate_output_with_auto_fix(stub: guardrail_pb2_grpc.GuardrailServiceAsyncStub) -> None:
    result = {
        "match_score": 120,
        "summary": "Strong Python engineer with solid Kafka experience overall.",
        "strengths": ["Python", "TODO"],
        "interview_questions": [f"How do you test service {i}" for i in range(6)],
    }
    plain = await stub.ValidateOutput(
        guardrail_pb2.ValidateOutputRequest(result_json=json.dumps(result)), timeout=TIMEOUT
    )
    assert not plain.valid and not plain.HasField("fixed")
    assert {"out_of_range", "placeholder", "not_a_question", "count"} <= {i.code for i in plain.issues}
    fixed = await stub.ValidateOutput(
        guardrail_pb2.ValidateOutputRequest(result_json=json.dumps(result), expected_questions=5, auto_fix=True),
        timeout=TIMEOUT,
    )
    assert fixed.valid and fixed.fixed.match_score == 100 and list(fixed.fixed.strengths) == ["Python"]
    assert len(fixed.fixed.interview_questions) == 5
    assert all(q.question.endswith("?") for q in fixed.fixed.interview_questions)
    assert fixed.changes and all(i.fixed for i in fixed.issues)


@pytest.mark.parametrize(
    ("request_factory", "field"),
    [
        (lambda: ("Scan", guardrail_pb2.ScanRequest(text="")), "text"),
        (lambda: ("Scan", guardrail_pb2.ScanRequest()), "content"),
        (lambda: ("Scan", guardrail_pb2.ScanRequest(json_document='{"a": ')), "json_document"),
        (lambda: ("Scan", guardrail_pb2.ScanRequest(text="x" * 1_000_001)), "text"),
        (lambda: ("ScanBatch", guardrail_pb2.ScanBatchRequest(texts=["ok"] * 257)), "texts"),
        (lambda: ("ValidateOutput", guardrail_pb2.ValidateOutputRequest(result_json="[1, 2]")), "result_json"),
        (lambda: ("Redact", guardrail_pb2.RedactRequest(text="ok", entity_types=["NOPE"])), "entity_types[0]"),
    ],
)
async def test_bad_input_is_invalid_argument_naming_the_field(
    stub: guardrail_pb2_grpc.GuardrailServiceAsyncStub, request_factory: Callable[[], tuple[str, Any]], field: str
) -> None:
    method, request = request_factory()
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await getattr(stub, method)(request, timeout=TIMEOUT)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (err.value.details() or "").startswith(f"{field}:")


def test_detoxify_checkpoint_without_package_fails_start_up(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from tests.fixtures.procs import REPO, free_port

    checkpoint = tmp_path / "toxic.ckpt"
    checkpoint.write_bytes(b"x")
    env = {
        **os.environ,
        "HIREMESH_DETOXIFY_CHECKPOINT": str(checkpoint),
        "HIREMESH_GUARDRAIL_PORT": str(free_port()),
        "HIREMESH_METRICS_PORT": "-1",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "guardrail_svc"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2
    assert "detoxify package is not installed" in proc.stderr
