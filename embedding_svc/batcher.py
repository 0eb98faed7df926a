"""Dynamic micro-batching: concurrent embed calls share one model run.

Calls queue up; an idle batcher waits up to `max_wait` for company, a busy one takes whatever queued
while the previous batch ran. A batch holds up to `max_batch_texts` texts (a single larger call runs
alone), runs in a one-thread executor — onnxruntime already uses every core, so two batches at once
would only fight over them — and each caller gets its own slice back. Callers whose deadline passed
or who cancelled are dropped before their batch runs; a full queue refuses new work at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Protocol

from embedding_svc import metrics
from embedding_svc.model import Embedded
from hiremesh.errors import DeadlineExceeded, ResourceExhausted, Unavailable

log = logging.getLogger("embedding_svc.batcher")


class Embedder(Protocol):
    def embed(self, texts: Sequence[str]) -> list[Embedded]: ...


@dataclass
class _Job:
    texts: Sequence[str]
    future: asyncio.Future[list[Embedded]]
    deadline: float | None  # loop.time() after which nobody waits for the answer
    enqueued: float = field(default=0.0)


class MicroBatcher:
    """Gathers concurrent `embed` calls into batches and runs them off the event loop."""

    def __init__(
        self, embedder: Embedder, *, max_batch_texts: int = 64, max_wait: float = 0.004, max_queue_texts: int = 4096
    ) -> None:
        self._embedder = embedder
        self.max_batch_texts = max_batch_texts
        self.max_wait = max_wait
        self.max_queue_texts = max_queue_texts
        self._queue: deque[_Job] = deque()
        self._queued_texts = 0
        self._wakeup = asyncio.Event()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed")
        self._worker: asyncio.Task[None] | None = None
        self._closed = False

    @property
    def queued_texts(self) -> int:
        return self._queued_texts

    def start(self) -> None:
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._run(), name="embedding-batcher")

    async def close(self) -> None:
        """Stop taking work, fail what still waits with UNAVAILABLE, and release the executor thread."""
        self._closed = True
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        while self._queue:
            job = self._queue.popleft()
            if not job.future.done():
                job.future.set_exception(Unavailable("embedding service is shutting down"))
        self._set_queued(0)
        self._executor.shutdown(wait=True)

    async def embed(self, texts: Sequence[str], timeout: float | None = None) -> list[Embedded]:
        """Vectors for `texts` in order. `timeout` (seconds) is the caller's remaining deadline.

        Raises ResourceExhausted when the queue is full, DeadlineExceeded when the deadline passes before
        the batch runs, Unavailable when the batcher is closed.
        """
        if self._closed or self._worker is None:
            raise Unavailable("embedding batcher is not running")
        if not texts:
            return []
        if self._queued_texts + len(texts) > self.max_queue_texts:
            metrics.REJECTED.inc()
            raise ResourceExhausted(
                f"embedding queue is full ({self._queued_texts} texts waiting, limit {self.max_queue_texts}); "
                "retry with backoff"
            )
        loop = asyncio.get_running_loop()
        now = loop.time()
        job = _Job(texts, loop.create_future(), None if timeout is None else now + timeout, now)
        self._queue.append(job)
        self._set_queued(self._queued_texts + len(texts))
        self._wakeup.set()
        # Cancelling this await (the caller gave up) cancels the future; the batcher then skips the job.
        return await job.future

    def _set_queued(self, count: int) -> None:
        self._queued_texts = count
        metrics.QUEUE_DEPTH.set(count)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            await self._gather_window(loop)
            batch = self._take_batch(loop.time())
            if batch:
                await self._execute(loop, batch)

    async def _gather_window(self, loop: asyncio.AbstractEventLoop) -> None:
        """Give a lone request `max_wait` to find company; requests that queued during a model run go now."""
        first = self._queue[0]
        while self._queued_texts < self.max_batch_texts:
            remaining = first.enqueued + self.max_wait - loop.time()
            if remaining <= 0:
                return
            self._wakeup.clear()
            try:
                await asyncio.wait_for(self._wakeup.wait(), remaining)
            except TimeoutError:
                return

    def _take_batch(self, now: float) -> list[_Job]:
        batch: list[_Job] = []
        size = 0
        while self._queue:
            job = self._queue[0]
            if job.future.done():  # cancelled by its caller
                self._pop()
                metrics.DROPPED.labels("cancelled").inc()
                continue
            if job.deadline is not None and job.deadline <= now:
                self._pop()
                metrics.DROPPED.labels("deadline").inc()
                job.future.set_exception(DeadlineExceeded("deadline passed while waiting for a model run"))
                continue
            if batch and size + len(job.texts) > self.max_batch_texts:
                break
            self._pop()
            batch.append(job)
            size += len(job.texts)
        return batch

    def _pop(self) -> _Job:
        job = self._queue.popleft()
        self._set_queued(self._queued_texts - len(job.texts))
        return job

    async def _execute(self, loop: asyncio.AbstractEventLoop, batch: list[_Job]) -> None:
        texts = [text for job in batch for text in job.texts]
        started = loop.time()
        for job in batch:
            metrics.QUEUE_WAIT_SECONDS.observe(started - job.enqueued)
        metrics.BATCH_SIZE.observe(len(texts))
        clock = time.perf_counter()
        try:
            results = await loop.run_in_executor(self._executor, self._embedder.embed, texts)
        except Exception as exc:
            log.exception("model run failed for a batch of %d texts", len(texts))
            for job in batch:
                if not job.future.done():
                    job.future.set_exception(exc)
            return
        elapsed = time.perf_counter() - clock
        tokens = sum(item.token_count for item in results)
        metrics.INFERENCE_SECONDS.observe(elapsed)
        metrics.TOKENS.inc(tokens)
        metrics.TEXTS.inc(len(results))
        metrics.TRUNCATED.inc(sum(1 for item in results if item.truncated))
        if elapsed > 0:
            metrics.TOKENS_PER_SECOND.set(tokens / elapsed)
        offset = 0
        for job in batch:
            part = results[offset : offset + len(job.texts)]
            offset += len(job.texts)
            if not job.future.done():
                job.future.set_result(part)
