"""screening_svc start-up: `python -m screening_svc [--worker-only]`.

Health stays NOT_SERVING until PostgreSQL is reachable, the `screening` migrations are applied and
procrastinate's schema is installed; until then calls answer UNAVAILABLE. `--worker-only` runs just the
queue worker (no ScreeningService; the overall health "" turns SERVING once it runs).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from hiremesh import db
from hiremesh.clients import embedding_stub, guardrail_stub, search_stub
from hiremesh.server import MeshServer, run
from hiremesh.v1 import screening_pb2_grpc
from screening_svc.config import ScreeningConfig
from screening_svc.events import EventHub
from screening_svc.mail.relay import QUEUE as MAIL_QUEUE
from screening_svc.mail.relay import MailRelay
from screening_svc.monitor import TaskMonitor
from screening_svc.queue import ScreeningQueue, ensure_schema
from screening_svc.queue_control import QueueControl
from screening_svc.runner import Screener
from screening_svc.servicer import Deps, ScreeningServicer
from screening_svc.targets import Targets
from screening_svc.tasks import TaskStore
from screening_svc.workers import WorkerOptions

if TYPE_CHECKING:
    from hiremesh.v1.search_pb2_grpc import SearchServiceAsyncStub
    from screening_svc.adapters import GuardrailGuard
    from screening_svc.pipeline import Pipeline

SERVICE = "hiremesh.v1.ScreeningService"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
log = logging.getLogger("screening_svc")


def _pipeline(cfg: ScreeningConfig, search: SearchServiceAsyncStub) -> tuple[Pipeline, GuardrailGuard]:
    """The agent pipeline over its gRPC ports and the guard of its output, every setting from `cfg`."""
    # Imported here, once the database is up: the engines load openai and more, and the server answers its
    # health checks (NOT_SERVING) meanwhile.
    from screening_svc.adapters import GuardrailGuard, SearchCatalog, grpc_embedder
    from screening_svc.context_tools import analytics_tools
    from screening_svc.engines import build_engines
    from screening_svc.pipeline import Pipeline

    embed = grpc_embedder(embedding_stub(cfg.embedding_addr), cfg.call_timeout_s)
    engines = build_engines(cfg.llm, embed, cooldown_s=cfg.llm_cooldown_s)
    tools = analytics_tools(cfg.analytics_addr, cfg.tool_timeout_s) if cfg.analytics_tools else None
    pipeline = Pipeline(
        SearchCatalog(search, cfg.call_timeout_s),
        engines,
        questions=cfg.questions,
        peers_k=cfg.peers_k,
        tools=tools,
        score_gap=cfg.score_gap,
    )
    return pipeline, GuardrailGuard(
        guardrail_stub(cfg.guardrail_addr), scan_timeout=cfg.call_timeout_s, check_timeout=cfg.guard_timeout_s
    )


def mail_worker_options(cfg: ScreeningConfig) -> WorkerOptions:
    return WorkerOptions(
        queues=(MAIL_QUEUE,),
        role="mail",
        concurrency=max(1, cfg.mail.workers),
        heartbeat_s=cfg.heartbeat_s,
        stalled_after_s=cfg.stalled_after_s,
        poll_s=cfg.poll_s,
        shutdown_grace_s=cfg.shutdown_grace_s,
    )


async def _bring_up(
    cfg: ScreeningConfig,
    server: MeshServer,
    servicer: ScreeningServicer,
    worker_only: bool,
    closers: list[Callable[[], Awaitable[None]]],
) -> None:
    """Retry until the database is usable, then wire everything and turn SERVING."""
    delay = 0.5
    while True:
        try:
            await db.migrate(cfg.database_url, "screening", MIGRATIONS)
            await ensure_schema(cfg.database_url)
            pool = await db.open_pool(cfg.database_url, min_size=1, max_size=cfg.workers + 6)
            break
        except Exception as exc:  # the database is not up yet (or not reachable): keep NOT_SERVING
            log.warning("database not ready (%s); retrying in %.1fs", exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
    closers.append(pool.close)
    store = TaskStore(pool)
    search = search_stub(cfg.search_addr)
    pipeline, guard = _pipeline(cfg, search)
    screener = Screener(cfg, pipeline, guard, store)
    queue = ScreeningQueue(cfg, store, pool, screener.run_task)
    relay = MailRelay(cfg.mail, queue.app, pool, cfg.database_url, mail_worker_options(cfg), cfg.stalled_after_s)
    await queue.open()
    closers.append(queue.close)
    closers.append(relay.close)  # closed before the queue (closers run in reverse)
    if not worker_only:
        hub = EventHub(cfg.database_url)
        await hub.start()
        closers.append(hub.close)
        monitor = TaskMonitor(pool, relay.outbox, cfg.stalled_after_s)
        control = QueueControl(queue.app, monitor, store, queue, relay)
        servicer.ready(Deps(store, queue, hub, Targets(search, cfg.call_timeout_s), screener, monitor, control))
    queue.start_background(worker=True)
    relay.start(worker=True)
    server.set_serving(True)
    watcher = asyncio.create_task(db.watch_database(pool, server.set_serving))

    async def stop_watching() -> None:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher

    closers.append(stop_watching)
    log.info(
        "screening ready (workers=%d, mail workers=%d, worker_only=%s; %r)",
        cfg.workers,
        cfg.mail.workers,
        worker_only,
        cfg.mail,
    )


async def main(worker_only: bool) -> None:
    cfg = ScreeningConfig.from_env()
    server = MeshServer("screening", cfg.port, [] if worker_only else [SERVICE])
    servicer = ScreeningServicer(cfg.default_engine)
    if not worker_only:
        screening_pb2_grpc.add_ScreeningServiceServicer_to_server(servicer, server.grpc)
    await server.start()
    closers: list[Callable[[], Awaitable[None]]] = []
    startup = asyncio.create_task(_bring_up(cfg, server, servicer, worker_only, closers))

    async def shutdown() -> None:
        startup.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await startup
        for close in reversed(closers):  # queue (lets running jobs finish or requeue) before the pool
            try:
                await close()
            except Exception:
                log.exception("error while closing")

    server.on_shutdown(shutdown)
    await server.wait()


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m screening_svc")
    parser.add_argument("--worker-only", action="store_true", help="run only the task worker (no ScreeningService)")
    args = parser.parse_args()
    run(main(args.worker_only))


if __name__ == "__main__":
    cli()
