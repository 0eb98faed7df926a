"""`POST /imports`: resume files streamed from the request to search_svc in batches, as one operation.

The form is read part by part (gateway.uploads, one byte budget for the whole request); every
`import_batch_bytes` of files become one `ImportCandidates` call. A bounded queue between the request and
the operation holds at most two batches, so the gateway never holds more than a few batches of a large
import however big the request is: the upload simply slows to the pace search_svc imports at. Progress and
the final summary add up every batch. The first batch is read before the operation starts, so a form
without files is still a plain 400. A request that fails part-way (a file over the limit, a broken part,
a dropped connection) is answered with that error and the operation ends failed with it; the files before
it are imported (imports are idempotent by sha256, so sending the corrected request again is safe).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiohttp import web

from gateway.errors import ApiError, bad_request
from gateway.protojson import json_response
from gateway.state import gateway_of, principal_of
from gateway.uploads import FormLimits, UploadedFile, iter_form
from hiremesh.v1 import common_pb2
from hiremesh.v1 import search_pb2 as pb

MAX_IMPORT_FILES = 50
SUMMARY_ERRORS = 1000  # failed files repeated in the final summary, as search_svc's importer does
_END = object()

Batch = list[pb.ResumeFile]


def _resume(upload: UploadedFile) -> pb.ResumeFile:
    return pb.ResumeFile(file_name=upload.file_name, media_type=upload.media_type, content=upload.content)


class ImportFeed:
    """Batches from the request handler to the operation's stream, at most `depth` waiting."""

    def __init__(self, call: Callable[[pb.ImportCandidatesRequest], Any], depth: int = 1) -> None:
        self._call = call
        self._queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=depth)
        self.consumer_done = asyncio.Event()
        self.error: ApiError | None = None
        self._failed = asyncio.Event()

    def fail(self, error: ApiError) -> None:
        """End the operation with `error` once the batches already queued are imported (never blocks)."""
        self.error = error
        self._failed.set()

    async def _next(self) -> Any:
        if not self._queue.empty():
            return self._queue.get_nowait()
        if self.error is not None:
            return self.error
        getter = asyncio.ensure_future(self._queue.get())
        failed = asyncio.ensure_future(self._failed.wait())
        try:
            await asyncio.wait({getter, failed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            failed.cancel()
            if not getter.done():
                getter.cancel()
        return getter.result() if getter.done() and not getter.cancelled() else self.error

    async def put(self, item: Any) -> bool:
        """Queue a batch (or the end, or an ApiError); False once the operation stopped taking any."""
        if self.consumer_done.is_set():
            return False
        put = asyncio.ensure_future(self._queue.put(item))
        stopped = asyncio.ensure_future(self.consumer_done.wait())
        await asyncio.wait({put, stopped}, return_when=asyncio.FIRST_COMPLETED)
        if not put.done():
            put.cancel()
        stopped.cancel()
        return put.done() and not put.cancelled()

    async def replies(self) -> AsyncIterator[pb.ImportCandidatesResponse]:
        try:
            async for reply in self._replies():
                yield reply
        finally:
            self.consumer_done.set()

    async def _replies(self) -> AsyncIterator[pb.ImportCandidatesResponse]:
        done = failed = received = created = duplicates = 0
        ids: list[str] = []
        errors: list[pb.ImportRecordError] = []  # every batch's failures, so the operation's result names them
        while True:
            item = await self._next()
            if item is _END:
                break
            if isinstance(item, ApiError):
                raise item
            received += len(item)
            batch_total = batch_failed = 0
            async for reply in self._call(pb.ImportCandidatesRequest(files=item)):
                p = reply.progress
                out = pb.ImportCandidatesResponse(errors=reply.errors)
                at = done + p.done
                out.progress.CopyFrom(
                    common_pb2.Progress(
                        stage=p.stage if not reply.HasField("summary") else "importing",
                        done=at,
                        total=received,
                        failed=failed + p.failed,
                        percent=round(100.0 * at / received, 2) if received else 0.0,
                        message=f"imported {at}/{received} file(s) received so far",
                    )
                )
                if reply.HasField("summary"):
                    s = reply.summary
                    batch_total, batch_failed = s.total, s.failed
                    created, duplicates = created + s.created, duplicates + s.duplicates
                    ids += list(s.candidate_ids)
                    errors += list(s.errors)[: max(0, SUMMARY_ERRORS - len(errors))]
                yield out
            done += batch_total
            failed += batch_failed
        final = pb.ImportCandidatesResponse(
            summary=pb.ImportSummary(
                total=done,
                created=created,
                duplicates=duplicates,
                failed=failed,
                candidate_ids=list(dict.fromkeys(ids)),
                errors=errors,
            )
        )
        final.progress.CopyFrom(
            common_pb2.Progress(
                stage="done",
                done=done,
                total=done,
                failed=failed,
                percent=100.0,
                message=f"done: {created} created, {duplicates} duplicates, {failed} failed",
            )
        )
        yield final


async def import_candidates(request: web.Request) -> web.Response:
    gw = gateway_of(request)
    cfg = gw.config
    limits = FormLimits(cfg.max_upload_bytes, cfg.max_import_bytes, MAX_IMPORT_FILES, cfg.max_form_fields)
    fields: dict[str, str] = {}
    parts = iter_form(request, limits, fields)
    timeout = cfg.operation_timeout
    feed = ImportFeed(lambda req: gw.backends.search.ImportCandidates(req, timeout=timeout))
    batch: Batch = []
    size = 0
    op = None
    try:
        async for upload in parts:
            batch.append(_resume(upload))
            size += len(upload.content)
            if size < cfg.import_batch_bytes:
                continue
            if op is None:
                op = gw.operations.start("import", principal_of(request).user, feed.replies, "search")
            if not await feed.put(batch):
                break  # the operation failed (search_svc down...): it says why; stop reading the upload
            batch, size = [], 0
        if op is None and not batch:
            raise bad_request("files", "attach at least one resume file")
        if op is None:
            op = gw.operations.start("import", principal_of(request).user, feed.replies, "search")
        if batch:
            await feed.put(batch)
        await feed.put(_END)
    except BaseException as exc:
        if op is None:
            raise
        feed.fail(exc if isinstance(exc, ApiError) else ApiError(400, "the upload ended before the form did"))
        if isinstance(exc, ApiError):
            raise ApiError(
                exc.http_status,
                f"{exc.message} (files before it are imported by operation {op.id})",
                code=exc.code,
                details=exc.details,
                headers=exc.headers,
            ) from None
        raise
    return json_response(op.resource(), 202, {"Location": f"/api/v1/operations/{op.id}"})
