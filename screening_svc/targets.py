"""Who is screened against what: applications, candidates and jobs looked up in search_svc.

Unknown ids come back NOT_FOUND from search_svc and travel up unchanged; search_svc down or slow becomes
UNAVAILABLE naming it, so callers can tell a bad id from an outage.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import grpc

from hiremesh.errors import InvalidArgument, NotFound, Unavailable
from hiremesh.v1 import search_pb2, search_pb2_grpc

_DOWN = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


@dataclass(frozen=True)
class Target:
    candidate_id: str
    job_id: str
    application_id: str = ""


def _mapped(exc: grpc.aio.AioRpcError, what: str) -> Exception:
    if exc.code() in _DOWN:
        return Unavailable(f"search_svc unavailable while looking up {what}: {exc.details()}")
    if exc.code() == grpc.StatusCode.NOT_FOUND:
        return NotFound(f"{what} not found")
    return exc


class Targets:
    """Resolves screening targets through search_svc, with a deadline on every call."""

    def __init__(self, search: search_pb2_grpc.SearchServiceAsyncStub, timeout: float) -> None:
        self._search = search
        self._timeout = timeout

    async def resolve(self, application_id: str, candidate_id: str, job_id: str) -> Target:
        """An application's candidate and job, or check that the candidate and job both exist."""
        if application_id:
            try:
                reply = await self._search.GetApplication(
                    search_pb2.GetApplicationRequest(id=application_id), timeout=self._timeout)
            except grpc.aio.AioRpcError as exc:
                raise _mapped(exc, f"application {application_id}") from None
            app = reply.application
            if candidate_id and candidate_id != app.candidate_id:
                raise InvalidArgument("candidate_id", f"does not match application {application_id}")
            if job_id and job_id != app.job_id:
                raise InvalidArgument("job_id", f"does not match application {application_id}")
            return Target(app.candidate_id, app.job_id, application_id)
        await asyncio.gather(self.check_candidate(candidate_id), self.check_job(job_id))
        return Target(candidate_id, job_id)

    async def check_candidate(self, candidate_id: str) -> None:
        try:
            await self._search.GetCandidate(search_pb2.GetCandidateRequest(id=candidate_id), timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise _mapped(exc, f"candidate {candidate_id}") from None

    async def check_job(self, job_id: str) -> None:
        try:
            await self._search.GetJob(search_pb2.GetJobRequest(id=job_id), timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            raise _mapped(exc, f"job {job_id}") from None

    async def applications(self, job_id: str) -> list[Target]:
        """Every application of a job (all pages)."""
        await self.check_job(job_id)
        out: list[Target] = []
        token = ""
        while True:
            try:
                reply = await self._search.ListApplications(
                    search_pb2.ListApplicationsRequest(job_id=job_id, page_size=500, page_token=token),
                    timeout=self._timeout)
            except grpc.aio.AioRpcError as exc:
                raise _mapped(exc, f"applications of job {job_id}") from None
            out.extend(Target(a.candidate_id, a.job_id, a.id) for a in reply.applications)
            token = reply.next_page_token
            if not token:
                return out
