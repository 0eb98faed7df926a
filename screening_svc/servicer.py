"""ScreeningService: proto ⇄ domain, nothing else."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc

from hiremesh import idempotency
from hiremesh.errors import InvalidArgument
from hiremesh.pending import Pending
from hiremesh.v1 import screening_pb2 as pb
from hiremesh.v1 import screening_pb2_grpc
from screening_svc import convert
from screening_svc.events import EventHub, watch_task
from screening_svc.monitor import TaskMonitor
from screening_svc.queue import ScreeningQueue
from screening_svc.queue_control import QueueControl
from screening_svc.runner import Screener
from screening_svc.targets import Targets
from screening_svc.tasks import ResultRecord, TaskSpec, TaskStore

Context = grpc.aio.ServicerContext[Any, Any]
WATCH_INTERVAL = (0.5, 60.0)
WATCH_KEEPALIVE_S = 30.0  # resend an unchanged snapshot this often, so idle streams show they are alive


@dataclass(frozen=True)
class Deps:
    """What the handlers need once the database, migrations and queue schema are ready."""

    store: TaskStore
    queue: ScreeningQueue
    hub: EventHub
    targets: Targets
    screener: Screener
    monitor: TaskMonitor
    control: QueueControl


class ScreeningServicer(screening_pb2_grpc.ScreeningServiceServicer):
    def __init__(self, default_engine: str) -> None:
        self._engine = default_engine
        self._deps: Pending[Deps] = Pending("screening_svc is starting: database not ready yet")

    def ready(self, deps: Deps) -> None:
        self._deps.set(deps)

    @property
    def d(self) -> Deps:
        return self._deps.get()

    async def Screen(self, request: pb.ScreenRequest, context: Context) -> AsyncIterator[pb.ScreenResponse]:
        app, cand, job = convert.target_ids(request.application_id, request.candidate_id, request.job_id)
        engine = convert.engine(request.engine, self._engine)
        deps = self.d
        target = await deps.targets.resolve(app, cand, job)
        # aclosing: a caller that hangs up stops the screening now, not when the stream is collected.
        async with contextlib.aclosing(deps.screener.stream_now(target, engine)) as stream:
            async for item, stored in stream:  # an error is mapped to a status by the interceptor
                yield pb.ScreenResponse(event=convert.event(item, stored))

    async def SubmitScreening(self, request: pb.SubmitScreeningRequest, context: Context) -> pb.SubmitScreeningResponse:
        app, cand, job = convert.target_ids(request.application_id, request.candidate_id, request.job_id)
        priority = convert.priority(request.priority)
        engine = convert.engine(request.engine, self._engine)
        request_id = idempotency.request_id(request.request_id)
        deps = self.d
        target = await deps.targets.resolve(app, cand, job)
        spec = TaskSpec(target.candidate_id, target.job_id, target.application_id, engine, priority)
        if request_id:
            task, new = await deps.store.create_once(spec, request_id)
        else:
            [task], new = await deps.store.create([spec]), True
        if new:  # a repeated request id: its task was deferred by the first request (or the orphan sweep)
            await deps.queue.defer([task], priority)
        return pb.SubmitScreeningResponse(task=convert.task(task))

    async def SubmitBatchScreening(
        self, request: pb.SubmitBatchScreeningRequest, context: Context
    ) -> pb.SubmitBatchScreeningResponse:
        job = convert.uuid_field("job_id", request.job_id)
        priority = convert.priority(request.priority)
        engine = convert.engine(request.engine, self._engine)
        deps = self.d
        targets = await deps.targets.applications(job)
        tasks = await deps.store.create(
            [TaskSpec(t.candidate_id, t.job_id, t.application_id, engine, priority) for t in targets]
        )
        await deps.queue.defer(tasks, priority)
        return pb.SubmitBatchScreeningResponse(tasks=[convert.task(t) for t in tasks])

    async def GetScreeningTask(
        self, request: pb.GetScreeningTaskRequest, context: Context
    ) -> pb.GetScreeningTaskResponse:
        task_id = convert.uuid_field("id", request.id)
        task = await self.d.store.get(task_id)
        reply = pb.GetScreeningTaskResponse(task=convert.task(task))
        if task.result_id:
            reply.result.CopyFrom(convert.result(await self.d.store.result(task.result_id)))
        return reply

    async def WatchScreeningTask(
        self, request: pb.WatchScreeningTaskRequest, context: Context
    ) -> AsyncIterator[pb.WatchScreeningTaskResponse]:
        task_id = convert.uuid_field("id", request.id)
        deps = self.d
        async for item in watch_task(deps.store, deps.hub, task_id):
            stored: ResultRecord | None = None
            if item.final and item.result_id:
                stored = await deps.store.result(item.result_id)
            yield pb.WatchScreeningTaskResponse(event=convert.event(item, stored))

    async def CancelScreeningTask(
        self, request: pb.CancelScreeningTaskRequest, context: Context
    ) -> pb.CancelScreeningTaskResponse:
        task_id = convert.uuid_field("id", request.id)
        deps = self.d
        task = await deps.store.cancel(task_id)
        await deps.queue.cancel(task)
        return pb.CancelScreeningTaskResponse(task=convert.task(task))

    async def ListScreeningResults(
        self, request: pb.ListScreeningResultsRequest, context: Context
    ) -> pb.ListScreeningResultsResponse:
        size = convert.page_size(request.page_size)
        page, token = await self.d.store.results(
            job_id=convert.uuid_field("job_id", request.job_id, required=False),
            candidate_id=convert.uuid_field("candidate_id", request.candidate_id, required=False),
            application_id=convert.uuid_field("application_id", request.application_id, required=False),
            page_size=size,
            page_token=request.page_token,
        )
        return pb.ListScreeningResultsResponse(results=[convert.result(r) for r in page], next_page_token=token)

    async def GetScreeningResult(
        self, request: pb.GetScreeningResultRequest, context: Context
    ) -> pb.GetScreeningResultResponse:
        result_id = convert.uuid_field("id", request.id)
        return pb.GetScreeningResultResponse(result=convert.result(await self.d.store.result(result_id)))

    # --- the task queue ------------------------------------------------------------------------------

    async def GetTaskQueue(self, request: pb.GetTaskQueueRequest, context: Context) -> pb.GetTaskQueueResponse:
        filters = convert.queue_filters(
            request.queue, request.state, request.task_name, request.limit, request.throughput_minutes
        )
        return pb.GetTaskQueueResponse(snapshot=convert.queue_snapshot(await self.d.monitor.snapshot(filters)))

    async def WatchTaskQueue(
        self, request: pb.WatchTaskQueueRequest, context: Context
    ) -> AsyncIterator[pb.WatchTaskQueueResponse]:
        filters = convert.queue_filters(
            request.queue, request.state, request.task_name, request.limit, request.throughput_minutes
        )
        low, high = WATCH_INTERVAL
        interval = request.interval_s or 2.0
        if not low <= interval <= high:
            raise InvalidArgument("interval_s", f"must be within {low:g}..{high:g} (0 means 2)")
        monitor = self.d.monitor
        last = b""
        sent_at = 0.0
        loop = asyncio.get_running_loop()
        while True:
            snapshot = convert.queue_snapshot(await monitor.snapshot(filters))
            stamp = snapshot.time
            snapshot.ClearField("time")
            key = snapshot.SerializeToString(deterministic=True)
            if key != last or loop.time() - sent_at >= WATCH_KEEPALIVE_S:
                snapshot.time.CopyFrom(stamp)
                yield pb.WatchTaskQueueResponse(snapshot=snapshot)
                last, sent_at = key, loop.time()
            await asyncio.sleep(interval)

    async def CancelQueueJob(self, request: pb.CancelQueueJobRequest, context: Context) -> pb.CancelQueueJobResponse:
        job = await self.d.control.cancel(convert.job_id(request.id))
        return pb.CancelQueueJobResponse(job=convert.queue_job(job))

    async def RetryQueueJob(self, request: pb.RetryQueueJobRequest, context: Context) -> pb.RetryQueueJobResponse:
        retried = await self.d.control.retry(convert.job_id(request.id))
        return pb.RetryQueueJobResponse(job=convert.queue_job(retried.job), message=retried.message)
