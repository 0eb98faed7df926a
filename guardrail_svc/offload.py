"""Runs CPU-bound guardrail work on a bounded thread pool, never on the event loop."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from hiremesh.errors import ResourceExhausted

P = ParamSpec("P")
T = TypeVar("T")


class Offloader:
    """`workers` threads; at most `max_pending` calls queued or running, the rest refused (RESOURCE_EXHAUSTED)."""

    def __init__(self, workers: int, max_pending: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="guardrail")
        self._max_pending = max_pending
        self._pending = 0

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self._pending >= self._max_pending:
            raise ResourceExhausted(f"guardrail busy: {self._pending} calls pending")
        self._pending += 1
        try:
            ctx = contextvars.copy_context()
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, lambda: ctx.run(fn, *args, **kwargs))
        finally:
            self._pending -= 1

    async def close(self) -> None:
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)
