"""The pipeline's ports over gRPC: search_svc as the Catalog, embedding_svc as Embed, guardrail_svc as the Guard.

Each adapter translates protobuf at the edge, so screening_svc.agents and screening_svc.pipeline see only the
domain types of screening_svc.engines; a failed call becomes a domain error (hiremesh.errors).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

import grpc

from hiremesh.errors import HiremeshError
from hiremesh.rpc_errors import code_of, from_rpc_error
from hiremesh.v1 import common_pb2, embedding_pb2, guardrail_pb2, search_pb2
from screening_svc.agents import Embed, SimilarCandidate
from screening_svc.engines import CandidateInfo, JobInfo
from screening_svc.engines.base import DEFAULT_QUESTIONS, TextMatch

if TYPE_CHECKING:
    from hiremesh.v1.embedding_pb2_grpc import EmbeddingServiceAsyncStub
    from hiremesh.v1.guardrail_pb2_grpc import GuardrailServiceAsyncStub
    from hiremesh.v1.search_pb2_grpc import SearchServiceAsyncStub
    from screening_svc.pipeline import PipelineOutcome

log = logging.getLogger("screening_svc.adapters")

EMBED_BATCH = 256


# --- search_svc: the catalog the retriever reads ---------------------------------------------------------


def _rpc_error(exc: grpc.aio.AioRpcError, what: str) -> HiremeshError:
    return from_rpc_error(exc, backend="search", during=f"fetching the {what}")


class SearchCatalog:
    """Catalog over search_svc's gRPC API."""

    def __init__(self, stub: SearchServiceAsyncStub, timeout: float) -> None:
        self._stub = stub
        self._timeout = timeout

    async def get_candidate(self, candidate_id: str) -> CandidateInfo:
        try:
            resp = await self._stub.GetCandidate(search_pb2.GetCandidateRequest(id=candidate_id), timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise _rpc_error(exc, f"candidate {candidate_id}") from None
        c = resp.candidate
        return CandidateInfo(
            id=c.id,
            name=c.name,
            headline=c.headline,
            resume_text=c.resume_text,
            skills=tuple(c.skills),
            years_experience=c.years_experience,
            location=c.location,
        )

    async def get_job(self, job_id: str) -> JobInfo:
        try:
            resp = await self._stub.GetJob(search_pb2.GetJobRequest(id=job_id), timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise _rpc_error(exc, f"job {job_id}") from None
        j = resp.job
        return JobInfo(
            id=j.id,
            title=j.title,
            description=j.description,
            required_skills=tuple(j.required_skills),
            min_experience=j.min_experience,
            max_experience=j.max_experience,
            location=j.location,
            company=j.company,
        )

    async def similar_candidates(self, job_id: str, k: int) -> list[SimilarCandidate]:
        request = search_pb2.SearchCandidatesRequest(job_id=job_id, options=search_pb2.SearchOptions(top_k=k))
        try:
            resp = await self._stub.SearchCandidates(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise _rpc_error(exc, f"candidates similar to job {job_id}") from None
        return [
            SimilarCandidate(h.candidate.id, h.candidate.name, h.match.score, tuple(h.match.matched_skills))
            for h in resp.hits
        ]

    async def text_match(self, job_id: str, candidate_id: str) -> TextMatch:
        request = search_pb2.ScoreCandidatesRequest(job_id=job_id, candidate_ids=[candidate_id])
        try:
            resp = await self._stub.ScoreCandidates(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise _rpc_error(exc, f"score of candidate {candidate_id} for job {job_id}") from None
        m = resp.scores[0].match
        return TextMatch(
            m.lexical_similarity, m.cosine_similarity, m.lexical_z, m.semantic_z, m.score, m.lexical_weight
        )


# --- embedding_svc: the evidence engine's embeddings -----------------------------------------------------


def grpc_embedder(stub: EmbeddingServiceAsyncStub, timeout: float) -> Embed:
    """An `embed(texts)` callable over embedding_svc's Embed RPC."""

    async def embed(texts: list[str]) -> list[list[float]]:
        vectors: list[list[float]] = []
        for i in range(0, len(texts), EMBED_BATCH):
            try:
                resp = await stub.Embed(embedding_pb2.EmbedRequest(texts=texts[i : i + EMBED_BATCH]), timeout=timeout)
            except grpc.aio.AioRpcError as exc:
                raise from_rpc_error(exc, backend="embedding") from None
            vectors += [list(e.values) for e in resp.embeddings]
        return vectors

    return embed


# --- guardrail_svc: the checks after the pipeline --------------------------------------------------------


class GuardrailGuard:
    """The runner's Guard over guardrail_svc's Scan and ValidateOutput RPCs."""

    def __init__(self, stub: GuardrailServiceAsyncStub, *, scan_timeout: float, check_timeout: float) -> None:
        self._stub = stub
        self._scan_timeout = scan_timeout
        self._check_timeout = check_timeout

    async def check(self, outcome: PipelineOutcome, expected_questions: int = 0) -> common_pb2.SafetyReport:
        """Scan the analysis (PII, bias, toxicity) and validate it, as one SafetyReport.

        A failed Scan raises Unavailable with guardrail_svc's message (the caller decides to store unchecked);
        a failing ValidateOutput only loses the validation part of the report."""
        document = json.dumps(outcome.analysis)
        expected = expected_questions or len(outcome.analysis.get("interview_questions", [])) or DEFAULT_QUESTIONS
        timeout = self._check_timeout
        scan = self._stub.Scan(guardrail_pb2.ScanRequest(json_document=document), timeout=timeout)
        validate = self._stub.ValidateOutput(
            guardrail_pb2.ValidateOutputRequest(result_json=document, expected_questions=expected), timeout=timeout
        )
        scanned, validated = await asyncio.gather(scan, validate, return_exceptions=True)
        if isinstance(scanned, grpc.aio.AioRpcError):
            raise from_rpc_error(scanned, backend="guardrail", during="scanning the result") from scanned
        if isinstance(scanned, BaseException):
            raise scanned
        report = common_pb2.SafetyReport()
        report.CopyFrom(scanned.report)
        if isinstance(validated, BaseException):
            log.warning("ValidateOutput failed; report without validation: %s", validated)
        else:
            report.validation.extend(validated.issues)
            if not validated.valid:
                report.has_issues = True
        return report

    async def scan_questions(self, questions: list[dict[str, Any]]) -> bool:
        """Scan the interviewer's questions ahead of the result; False (logged) when the scan failed."""
        document = json.dumps({"interview_questions": questions})
        try:
            await self._stub.Scan(guardrail_pb2.ScanRequest(json_document=document), timeout=self._scan_timeout)
        except Exception as exc:  # the caller scans everything again at the guarding stage
            code = code_of(exc)
            detail = code.name if code is not None else type(exc).__name__
            log.debug("early scan of the interview questions failed: %s", detail)
            return False
        return True
