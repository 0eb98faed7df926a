"""procrastinate workers that keep running and say who they are.

`WorkerRunner` runs one `procrastinate.Worker` for a set of queues until cancelled, restarting it when a side
task (listener, heartbeat) dies with the database, and records the worker's id with its name, role and
queues in `screening.queue_workers` (procrastinate's table has only an id and a heartbeat) for the monitor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from dataclasses import dataclass
from typing import Any

from procrastinate import App
from procrastinate.worker import Worker
from psycopg_pool import AsyncConnectionPool

log = logging.getLogger("screening_svc.workers")


def worker_name(role: str) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{role}"


@dataclass(frozen=True)
class WorkerOptions:
    queues: tuple[str, ...]
    role: str
    concurrency: int
    heartbeat_s: float
    stalled_after_s: float
    poll_s: float
    shutdown_grace_s: float


class WorkerRunner:
    """Runs a worker forever (until cancelled) and keeps its row in `screening.queue_workers`."""

    def __init__(self, app: App, pool: AsyncConnectionPool[Any], options: WorkerOptions) -> None:
        self._app = app
        self._pool = pool
        self._options = options
        self.name = worker_name(options.role)

    def _worker(self) -> Worker:
        o = self._options
        # Finished jobs stay (the monitor shows them); `prune_finished` removes old ones.
        return Worker(
            app=self._app,
            queues=list(o.queues),
            name=self.name,
            concurrency=o.concurrency,
            install_signal_handlers=False,
            update_heartbeat_interval=o.heartbeat_s,
            stalled_worker_timeout=o.stalled_after_s,
            fetch_job_polling_interval=o.poll_s,
            abort_job_polling_interval=o.poll_s,
            shutdown_graceful_timeout=o.shutdown_grace_s,
            delete_jobs="never",
        )

    async def run(self) -> None:
        while True:
            worker = self._worker()
            announce = asyncio.create_task(self._announce(worker))
            try:
                await worker.run()
                return
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("%s worker stopped; restarting in 2s", self._options.role)
                await asyncio.sleep(2)
            finally:
                announce.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await announce

    async def _announce(self, worker: Worker) -> None:
        # Worker.run registers itself first thing; its id is known a moment later (procrastinate has no event).
        while worker.worker_id is None:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        o = self._options
        try:
            async with self._pool.connection() as conn:
                await conn.execute(
                    "INSERT INTO screening.queue_workers (worker_id, name, queues, concurrency) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (worker_id) DO UPDATE SET name = EXCLUDED.name, "
                    "queues = EXCLUDED.queues, concurrency = EXCLUDED.concurrency",
                    (worker.worker_id, self.name, list(o.queues), o.concurrency),
                )
        except Exception as exc:  # the monitor then shows the worker by id only
            log.warning("cannot record the name of worker %s: %s", worker.worker_id, exc)


async def forget_departed(pool: AsyncConnectionPool[Any]) -> int:
    """Drop names of workers procrastinate no longer knows (unregistered or pruned as stalled)."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "DELETE FROM screening.queue_workers w WHERE NOT EXISTS "
            "(SELECT 1 FROM procrastinate.procrastinate_workers p WHERE p.id = w.worker_id)"
        )
        return int(cur.rowcount)
