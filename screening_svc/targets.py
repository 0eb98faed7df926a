"""Who is screened against what: applications (opened on demand), candidates and jobs in search_svc.

Unknown ids come back NOT_FOUND from search_svc and travel up unchanged; search_svc down becomes UNAVAILABLE
and slow DEADLINE_EXCEEDED, naming it (hiremesh.rpc_errors), so callers can tell a bad id from an outage.
"""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from hiremesh.errors import HiremeshError, InvalidArgument, NotFound
from hiremesh.rpc_errors import from_rpc_error
from hiremesh.v1 import search_pb2, search_pb2_grpc


@dataclass(frozen=True)
class Target:
    candidate_id: str
    job_id: str
    application_id: str = ""


def _mapped(exc: grpc.aio.AioRpcError, what: str) -> HiremeshError:
    return from_rpc_error(exc, backend="search", during=f"looking up {what}")


class Targets:
    """Resolves screening targets through search_svc, with a deadline on every call."""

    def __init__(self, search: search_pb2_grpc.SearchServiceAsyncStub, timeout: float) -> None:
        self._search = search
        self._timeout = timeout

    async def resolve(self, application_id: str, candidate_id: str, job_id: str) -> Target:
        """An application's candidate and job, or the candidate's application to the job (see application_for)."""
        if application_id:
            try:
                reply = await self._search.GetApplication(
                    search_pb2.GetApplicationRequest(id=application_id), timeout=self._timeout
                )
            except grpc.aio.AioRpcError as exc:
                raise _mapped(exc, f"application {application_id}") from None
            app = reply.application
            if candidate_id and candidate_id != app.candidate_id:
                raise InvalidArgument("candidate_id", f"does not match application {application_id}")
            if job_id and job_id != app.job_id:
                raise InvalidArgument("job_id", f"does not match application {application_id}")
            return Target(app.candidate_id, app.job_id, application_id)
        return await self.application_for(candidate_id, job_id)

    async def application_for(self, candidate_id: str, job_id: str) -> Target:
        """The candidate's application to the job, opened now if there is none.

        A screening is always of an application, so the warehouse, reports, funnel and hire model count it.
        One opened here is the recruiter's doing, not the candidate applying: its 'pending' e-mail is recorded
        as skipped. Unknown ids come back NOT_FOUND naming the candidate or the job."""
        request = search_pb2.CreateApplicationRequest(
            application=search_pb2.Application(candidate_id=candidate_id, job_id=job_id),
            reuse_existing=True,
            skip_created_email=True,
        )
        try:
            reply = await self._search.CreateApplication(request, timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            err = _mapped(exc, f"the application of candidate {candidate_id} to job {job_id}")
            # search names its own field (application.job_id) and, in the ErrorInfo, the missing resource: name ours
            which = err.metadata.get("resource") if isinstance(err, NotFound) else None
            if which in ("job", "candidate"):
                what = f"job {job_id}" if which == "job" else f"candidate {candidate_id}"
                raise NotFound(f"{which}_id: {what} not found", metadata=err.metadata) from None
            raise err from None
        return Target(candidate_id, job_id, reply.application.id)

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
                    timeout=self._timeout,
                )
            except grpc.aio.AioRpcError as exc:
                raise _mapped(exc, f"applications of job {job_id}") from None
            out.extend(Target(a.candidate_id, a.job_id, a.id) for a in reply.applications)
            token = reply.next_page_token
            if not token:
                return out
