"""Start the search service: bind (NOT_SERVING), open the pool, migrate, then SERVING plus the catch-up loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from hiremesh.clients import embedding_stub
from hiremesh.db import migrate, open_pool, watch_database
from hiremesh.errors import HiremeshError
from hiremesh.server import MeshServer, run
from hiremesh.v1 import search_pb2_grpc
from search_svc import term_stats
from search_svc.applications import Applications
from search_svc.candidates import Candidates
from search_svc.config import SearchConfig
from search_svc.embedder import Embedder
from search_svc.jobs import Jobs
from search_svc.outbox import Outbox
from search_svc.parse_pool import ParserPool
from search_svc.ranking import Ranker
from search_svc.reembed import Reembedder
from search_svc.servicer import SERVICE_NAME, Backend, SearchServicer

log = logging.getLogger("search_svc")
MIGRATIONS = Path(__file__).parent / "migrations"


async def main() -> None:
    config = SearchConfig.from_env()
    parsers = ParserPool(config.parse_limits, config.parse_workers)
    server = MeshServer("search", config.port, [SERVICE_NAME])
    servicer = SearchServicer()
    search_pb2_grpc.add_SearchServiceServicer_to_server(servicer, server.grpc)
    await server.start()  # health answers NOT_SERVING while the database and the parser workers come up
    # The workers are fresh interpreters (fork+exec, see parse_pool), so starting them next to a live gRPC
    # server is safe; they load while the migrations run, and the service is SERVING only once they are up.
    parsers_ready = asyncio.create_task(parsers.start(), name="search-parsers")
    try:
        applied = await migrate(config.database_url, "catalog", MIGRATIONS)
        pool = await open_pool(config.database_url, min_size=1, max_size=config.pool_max, timeout=60, name="search")
    except HiremeshError as exc:
        log.error("cannot start: %s", exc.message)
        await server.stop(0)
        with contextlib.suppress(BaseException):
            await parsers_ready
        await parsers.close()
        raise SystemExit(1) from None
    try:
        await parsers_ready
    except RuntimeError as exc:
        log.error("cannot start the resume parser workers: %s", exc)
        await server.stop(0)
        await pool.close()
        await parsers.close()
        raise SystemExit(1) from None
    log.info("catalog schema ready (%s)", ", ".join(applied) if applied else "up to date")
    log.info("candidate e-mail templates from %s", config.mail_templates.source)
    embedder = Embedder(embedding_stub(config.embedding_addr), timeout=config.embed_timeout, batch=config.embed_batch)
    with contextlib.suppress(OSError):  # the folder operators drop files in for ImportCandidates.folder
        config.import_root.mkdir(parents=True, exist_ok=True)
    candidates = Candidates(pool, embedder, parsers)
    jobs = Jobs(pool, embedder)
    reembedder = Reembedder(candidates, jobs)
    outbox = Outbox(pool, config.mail_templates)
    servicer.attach(
        Backend(
            candidates,
            jobs,
            Applications(pool, outbox),
            outbox,
            Ranker(pool, embedder, config.fusion, config.lexical_budget),
            reembedder,
            config.import_root,
        )
    )

    catchup: asyncio.Task[None] | None = None
    if config.catchup_interval > 0:
        catchup = asyncio.create_task(
            reembedder.run(config.catchup_interval, config.catchup_batch), name="search-catchup"
        )

    watcher = asyncio.create_task(watch_database(pool, server.set_serving), name="search-db-watch")
    folder = asyncio.create_task(term_stats.run(pool, config.term_stats_interval), name="search-term-stats")

    async def shutdown() -> None:
        for task in (catchup, watcher, folder):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await pool.close()
        await parsers.close()

    server.on_shutdown(shutdown)
    server.set_serving(True)
    log.info("search service ready on port %d", server.port)
    await server.wait()


if __name__ == "__main__":
    run(main())
