"""SearchService: proto in, one domain call, proto out. Domain errors map to status codes in hiremesh.server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hiremesh.errors import InvalidArgument
from hiremesh.idempotency import request_id
from hiremesh.pending import Pending
from hiremesh.v1 import search_pb2 as pb
from hiremesh.v1 import search_pb2_grpc
from search_svc import convert, importer
from search_svc.applications import Applications
from search_svc.candidates import Candidates
from search_svc.jobs import Jobs
from search_svc.mail_templates import PLACEHOLDERS
from search_svc.outbox import Outbox
from search_svc.ranking import Ranker
from search_svc.reembed import Reembedder

SERVICE_NAME = "hiremesh.v1.SearchService"
MAX_REINDEX_BATCH = 256


@dataclass(frozen=True)
class Backend:
    candidates: Candidates
    jobs: Jobs
    applications: Applications
    outbox: Outbox
    ranker: Ranker
    reembedder: Reembedder
    import_root: Path


class SearchServicer(search_pb2_grpc.SearchServiceServicer):
    """Registered before the server starts (gRPC requires it); answers UNAVAILABLE until `attach`."""

    def __init__(self) -> None:
        self._backend: Pending[Backend] = Pending("search service is starting (database not ready yet)")

    def attach(self, backend: Backend) -> None:
        self._backend.set(backend)

    @property
    def _b(self) -> Backend:
        return self._backend.get()

    # --- candidates ---------------------------------------------------------------------------------------

    async def CreateCandidate(self, request: pb.CreateCandidateRequest, context: Any) -> pb.CreateCandidateResponse:
        resume = convert.resume_in(request.resume) if request.HasField("resume") else None
        cand, dedup = await self._b.candidates.create(
            convert.candidate_in(request.candidate), resume, request_id(request.request_id)
        )
        return pb.CreateCandidateResponse(candidate=convert.candidate_out(cand), deduplicated=dedup)

    async def GetCandidate(self, request: pb.GetCandidateRequest, context: Any) -> pb.GetCandidateResponse:
        return pb.GetCandidateResponse(candidate=convert.candidate_out(await self._b.candidates.get(request.id)))

    async def UpdateCandidate(self, request: pb.UpdateCandidateRequest, context: Any) -> pb.UpdateCandidateResponse:
        cand = await self._b.candidates.update(request.candidate.id, convert.candidate_changes(request))
        return pb.UpdateCandidateResponse(candidate=convert.candidate_out(cand))

    async def DeleteCandidate(self, request: pb.DeleteCandidateRequest, context: Any) -> pb.DeleteCandidateResponse:
        await self._b.candidates.delete(request.id)
        return pb.DeleteCandidateResponse()

    async def ListCandidates(self, request: pb.ListCandidatesRequest, context: Any) -> pb.ListCandidatesResponse:
        page = await self._b.candidates.list(
            request.page_size, request.page_token, request.location, request.skill, request.min_years_experience
        )
        return pb.ListCandidatesResponse(
            candidates=[convert.candidate_out(c) for c in page.items],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    async def ImportCandidates(
        self, request: pb.ImportCandidatesRequest, context: Any
    ) -> AsyncIterator[pb.ImportCandidatesResponse]:
        # Listing a folder (and reading its JSONL files) is disk work: keep it off the event loop.
        sources = await asyncio.to_thread(
            importer.sources_from,
            [convert.resume_in(f) for f in request.files],
            request.folder,
            list(request.jsonl_records),
            self._b.import_root,
            self._b.candidates.parser.limits.max_file_bytes,
        )
        if not sources:
            raise InvalidArgument("files", "nothing to import: give files, a folder or jsonl_records")
        async for event in importer.run_import(self._b.candidates, sources, request.batch_size):
            reply = pb.ImportCandidatesResponse(
                progress=convert.progress(
                    "importing" if not event.final else "done", event.done, event.total, event.failed, event.message
                ),
                errors=[pb.ImportRecordError(source=s, reason=r) for s, r in event.errors],
            )
            if event.final:
                reply.summary.CopyFrom(
                    pb.ImportSummary(
                        total=event.total,
                        created=event.created,
                        duplicates=event.duplicates,
                        failed=event.failed,
                        candidate_ids=event.candidate_ids,
                        errors=[pb.ImportRecordError(source=s, reason=r) for s, r in event.summary_errors],
                    )
                )
            yield reply

    # --- jobs ---------------------------------------------------------------------------------------------

    async def CreateJob(self, request: pb.CreateJobRequest, context: Any) -> pb.CreateJobResponse:
        job = await self._b.jobs.create(convert.job_in(request.job), request_id(request.request_id))
        return pb.CreateJobResponse(job=convert.job_out(job))

    async def GetJob(self, request: pb.GetJobRequest, context: Any) -> pb.GetJobResponse:
        return pb.GetJobResponse(job=convert.job_out(await self._b.jobs.get(request.id)))

    async def UpdateJob(self, request: pb.UpdateJobRequest, context: Any) -> pb.UpdateJobResponse:
        job = await self._b.jobs.update(request.job.id, convert.job_changes(request))
        return pb.UpdateJobResponse(job=convert.job_out(job))

    async def DeleteJob(self, request: pb.DeleteJobRequest, context: Any) -> pb.DeleteJobResponse:
        await self._b.jobs.delete(request.id)
        return pb.DeleteJobResponse()

    async def ListJobs(self, request: pb.ListJobsRequest, context: Any) -> pb.ListJobsResponse:
        page = await self._b.jobs.list(
            request.page_size,
            request.page_token,
            convert.job_status(request.status, "status"),
            request.location,
            request.skill,
        )
        return pb.ListJobsResponse(
            jobs=[convert.job_out(j) for j in page.items],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    # --- applications -------------------------------------------------------------------------------------

    async def CreateApplication(
        self, request: pb.CreateApplicationRequest, context: Any
    ) -> pb.CreateApplicationResponse:
        a = request.application
        app, created = await self._b.applications.create(
            a.candidate_id,
            a.job_id,
            convert.application_status(a.status, "application.status"),
            a.notes,
            reuse_existing=request.reuse_existing,
            opened_for_candidate=request.skip_created_email,
            request_id=request_id(request.request_id),
        )
        return pb.CreateApplicationResponse(application=convert.application_out(app), created=created)

    async def GetApplication(self, request: pb.GetApplicationRequest, context: Any) -> pb.GetApplicationResponse:
        app = await self._b.applications.get(request.id)
        return pb.GetApplicationResponse(application=convert.application_out(app))

    async def UpdateApplication(
        self, request: pb.UpdateApplicationRequest, context: Any
    ) -> pb.UpdateApplicationResponse:
        app = await self._b.applications.update(request.application.id, convert.application_changes(request))
        return pb.UpdateApplicationResponse(application=convert.application_out(app))

    async def DeleteApplication(
        self, request: pb.DeleteApplicationRequest, context: Any
    ) -> pb.DeleteApplicationResponse:
        await self._b.applications.delete(request.id)
        return pb.DeleteApplicationResponse()

    async def ListApplications(self, request: pb.ListApplicationsRequest, context: Any) -> pb.ListApplicationsResponse:
        page = await self._b.applications.list(
            request.page_size,
            request.page_token,
            request.job_id,
            request.candidate_id,
            convert.application_status(request.status, "status"),
        )
        return pb.ListApplicationsResponse(
            applications=[convert.application_out(a) for a in page.items],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    # --- search -------------------------------------------------------------------------------------------

    async def SearchCandidates(self, request: pb.SearchCandidatesRequest, context: Any) -> pb.SearchCandidatesResponse:
        options = convert.search_options(request.options, for_jobs=False)
        which = request.WhichOneof("query")
        if which == "job_id":
            result = await self._b.ranker.candidates_for_job(request.job_id, options)
        elif which == "text":
            result = await self._b.ranker.candidates_for_text(request.text, options)
        else:
            raise InvalidArgument("query", "give job_id or text")
        reply = pb.SearchCandidatesResponse(mode=convert.mode_out(result.mode), ef_search=result.ef_search)
        convert.candidate_hits_out(reply, result.hits)
        return reply

    async def SearchJobs(self, request: pb.SearchJobsRequest, context: Any) -> pb.SearchJobsResponse:
        options = convert.search_options(request.options, for_jobs=True)
        which = request.WhichOneof("query")
        if which == "candidate_id":
            result = await self._b.ranker.jobs_for_candidate(request.candidate_id, options)
        elif which == "text":
            result = await self._b.ranker.jobs_for_text(request.text, options)
        else:
            raise InvalidArgument("query", "give candidate_id or text")
        reply = pb.SearchJobsResponse(mode=convert.mode_out(result.mode), ef_search=result.ef_search)
        convert.job_hits_out(reply, result.hits)
        return reply

    async def ScoreCandidates(self, request: pb.ScoreCandidatesRequest, context: Any) -> pb.ScoreCandidatesResponse:
        weight = request.lexical_weight if request.HasField("lexical_weight") else None
        hits = await self._b.ranker.score_candidates(request.job_id, list(request.candidate_ids), weight)
        return pb.ScoreCandidatesResponse(
            scores=[pb.CandidateScore(candidate_id=h.record.id, match=convert.match_out(h)) for h in hits]
        )

    # --- candidate e-mails (the outbox) ----------------------------------------------------------------

    async def ListNotifications(
        self, request: pb.ListNotificationsRequest, context: Any
    ) -> pb.ListNotificationsResponse:
        page = await self._b.outbox.list(
            request.page_size,
            request.page_token,
            application_id=request.application_id,
            candidate_id=request.candidate_id,
            job_id=request.job_id,
            state=convert.notification_state(request.state, "state"),
            application_status=convert.application_status(request.application_status, "application_status"),
        )
        return pb.ListNotificationsResponse(
            notifications=[convert.notification_out(n) for n in page.items],
            next_page_token=page.next_page_token,
            total_size=page.total_size,
        )

    async def GetNotification(self, request: pb.GetNotificationRequest, context: Any) -> pb.GetNotificationResponse:
        return pb.GetNotificationResponse(notification=convert.notification_out(await self._b.outbox.get(request.id)))

    async def ResendNotification(
        self, request: pb.ResendNotificationRequest, context: Any
    ) -> pb.ResendNotificationResponse:
        return pb.ResendNotificationResponse(
            notification=convert.notification_out(await self._b.outbox.resend(request.id))
        )

    async def PreviewNotification(
        self, request: pb.PreviewNotificationRequest, context: Any
    ) -> pb.PreviewNotificationResponse:
        status = convert.application_status(request.application_status, "application_status")
        if not status:
            raise InvalidArgument("application_status", "required (pending, reviewing, accepted, rejected, hired)")
        preview = await self._b.outbox.preview(
            status, request.subject_template, request.body_template, request.application_id
        )
        return pb.PreviewNotificationResponse(
            subject=preview.subject, body=preview.body, recipient=preview.recipient, placeholders=list(PLACEHOLDERS)
        )

    async def Reindex(self, request: pb.ReindexRequest, context: Any) -> AsyncIterator[pb.ReindexResponse]:
        batch = request.batch_size or 64
        if not 1 <= batch <= MAX_REINDEX_BATCH:
            raise InvalidArgument("batch_size", f"must be between 1 and {MAX_REINDEX_BATCH} (0 means 64)")
        async for event in self._b.reembedder.reindex(request.only_stale, batch):
            yield pb.ReindexResponse(
                progress=convert.progress(event.stage, event.done, event.total, event.failed, event.message)
            )
