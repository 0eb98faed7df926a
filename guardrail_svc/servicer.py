"""GuardrailService: proto -> domain call (on the worker pool) -> proto."""

from __future__ import annotations

from typing import Any

import grpc

from guardrail_svc import convert
from guardrail_svc.llm_bias import LlmBiasChecker, merge
from guardrail_svc.offload import Offloader
from guardrail_svc.report import SafetyReport
from guardrail_svc.scanner import Guardrail, ScanOptions
from hiremesh.analysis import validate_analysis
from hiremesh.errors import InvalidArgument
from hiremesh.pending import Pending
from hiremesh.v1 import guardrail_pb2, guardrail_pb2_grpc


class GuardrailServicer(guardrail_pb2_grpc.GuardrailServiceServicer):
    """Registered before the server starts; calls are refused (UNAVAILABLE) until `attach` hands it the models."""

    def __init__(self, offload: Offloader) -> None:
        self._offload = offload
        self._ready: Pending[Guardrail] = Pending("guardrail models are still loading")
        self._llm: LlmBiasChecker | None = None

    def attach(self, guardrail: Guardrail, llm: LlmBiasChecker | None = None) -> None:
        self._llm = llm
        self._ready.set(guardrail)

    @property
    def _guardrail(self) -> Guardrail:
        return self._ready.get()

    async def Scan(
        self, request: guardrail_pb2.ScanRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> guardrail_pb2.ScanResponse:
        options = convert.scan_options(request.options)
        content = request.WhichOneof("content")
        if content == "json_document":
            report = await self._offload.run(self._guardrail.scan_json, request.json_document, options)
        elif content == "text":
            report = await self._offload.run(self._guardrail.scan_text, request.text, options)
            await self._llm_bias(report, request.text, options)
        else:
            raise InvalidArgument("content", "set text or json_document")
        return guardrail_pb2.ScanResponse(report=convert.safety_report(report))

    async def ScanBatch(
        self, request: guardrail_pb2.ScanBatchRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> guardrail_pb2.ScanBatchResponse:
        options = convert.scan_options(request.options)
        reports = await self._offload.run(self._guardrail.scan_batch, list(request.texts), options)
        return guardrail_pb2.ScanBatchResponse(reports=[convert.safety_report(r) for r in reports])

    async def Redact(
        self, request: guardrail_pb2.RedactRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> guardrail_pb2.RedactResponse:
        style = convert.redaction_style(request.style)
        mode = convert.pii_mode(request.pii_mode, "pii_mode")
        text, findings = await self._offload.run(
            self._guardrail.redact, request.text, style, list(request.entity_types), mode
        )
        return guardrail_pb2.RedactResponse(text=text, findings=[convert.pii_finding(f) for f in findings])

    async def ValidateOutput(
        self, request: guardrail_pb2.ValidateOutputRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> guardrail_pb2.ValidateOutputResponse:
        if request.expected_questions < 0:
            raise InvalidArgument("expected_questions", "must not be negative")
        if len(request.result_json.encode()) > self._guardrail.limits.max_text_bytes:
            raise InvalidArgument("result_json", f"larger than {self._guardrail.limits.max_text_bytes} bytes")
        outcome = await self._offload.run(
            validate_analysis,
            request.result_json,
            expected_questions=request.expected_questions,
            auto_fix=request.auto_fix,
        )
        return convert.validate_response(outcome)

    async def _llm_bias(self, report: SafetyReport, text: str, options: ScanOptions) -> None:
        if self._llm is None or "bias" not in options.checks:
            return
        report.bias = merge(report.bias, await self._llm.check(text))
