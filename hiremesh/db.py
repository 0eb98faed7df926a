"""PostgreSQL access shared by the services: a pgvector-aware connection pool and SQL migrations.

Each service owns a schema and a `migrations/` folder of `NNNN_name.sql` files; `migrate` applies the new ones
in order at start-up, each in its own transaction, and records them in `public.hiremesh_migrations`. A
per-schema advisory lock makes replicas that start together take turns, so every file runs exactly once.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import select
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from hiremesh.errors import FailedPrecondition, Unavailable

__all__ = ["MigrationError", "configure_connection", "migrate", "open_pool", "wait_for_db", "watch_database"]

log = logging.getLogger(__name__)

MIGRATION_FILE = re.compile(r"^(\d{4})_[A-Za-z0-9_.-]+\.sql$")
# Two-int advisory lock keys: a fixed namespace plus hashtext(schema), so the keys cannot collide with the
# single-bigint locks other code takes.
_LOCK_NAMESPACE = 0x4D16  # "hiremesh migrations"
_TABLE_LOCK_KEY = 0  # guards CREATE TABLE of the bookkeeping table itself (racy even with IF NOT EXISTS)

_BOOKKEEPING = """
CREATE TABLE IF NOT EXISTS public.hiremesh_migrations (
    schema     text        NOT NULL,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schema, name)
)
"""


class MigrationError(FailedPrecondition):
    """A migration folder or an applied migration is inconsistent; the message says what to fix."""


@dataclass(frozen=True)
class Migration:
    name: str
    sql: str
    checksum: str


def describe(url: str) -> str:
    """host:port/dbname of a libpq URL or conninfo, without credentials, for error messages."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(unparseable database URL)"
    host = params.get("host") or params.get("hostaddr") or "localhost"
    return f"{host}:{params.get('port') or 5432}/{params.get('dbname') or ''}"


async def wait_for_db(url: str, timeout: float = 30.0) -> None:
    """Return once a connection to `url` succeeds; raise Unavailable with the last error after `timeout` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    delay = 0.1
    while True:
        remaining = deadline - loop.time()
        try:
            # connect_timeout is whole seconds in libpq (minimum 2); keep it inside our own deadline anyway.
            conn = await asyncio.wait_for(
                psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=max(2, int(remaining) + 1)),
                timeout=max(remaining, 0.1),
            )
        except (psycopg.OperationalError, TimeoutError) as exc:
            if loop.time() + delay >= deadline:
                reason = str(exc).strip() or type(exc).__name__
                raise Unavailable(f"database {describe(url)} unavailable after {timeout:g}s: {reason}") from exc
            await asyncio.sleep(delay)
            delay = min(delay * 2, 1.0)
            continue
        await conn.close()
        return


async def configure_connection(conn: psycopg.AsyncConnection[Any]) -> None:
    """Prepare a new pool connection (pgvector's types when the extension exists); `open_pool` passes it."""
    from pgvector.psycopg import register_vector_async

    try:
        await register_vector_async(conn)
    except psycopg.ProgrammingError:
        # This database has no `vector` extension (yet): a pool for non-vector tables still works; vectors
        # then arrive as text. Services that need vectors create the extension in their migrations first.
        log.debug("vector type not found in %s; pgvector adapters not registered", describe(conn.info.dsn))


def _has_pending_input(conn: psycopg.AsyncConnection[Any]) -> bool:
    """Whether an idle connection's socket has something to read (or is at EOF) without reading it.

    An idle, healthy connection has nothing to read: the server speaks only when asked. A server that closed
    the connection (restart, pg_terminate_backend, idle timeout) sends its FATAL error and FIN first, so the
    socket reads as ready; so does a rare asynchronous message (a NOTICE or parameter change).
    """
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


async def check_idle_connection(conn: psycopg.AsyncConnection[Any]) -> None:
    """The pool's checkout check: free for a healthy idle connection, a round trip only when in doubt.

    psycopg_pool's own `check_connection` sends an empty query on every checkout (one round trip per call on
    the hot path). Here the round trip happens only when the connection is known bad or its socket has input
    pending, which is what a server-side close looks like; raising makes the pool discard the connection and
    hand out (or open) another. A peer that vanished without closing (a cut network) is noticed by the first
    query, and the pool then drops that connection on return, as psycopg_pool does anyway.
    """
    if conn.closed or conn.broken:
        raise psycopg.OperationalError("connection is closed")
    if _has_pending_input(conn):
        await AsyncConnectionPool.check_connection(conn)


async def open_pool(
    url: str,
    *,
    min_size: int = 1,
    max_size: int = 10,
    timeout: float = 10.0,
    name: str | None = None,
    checkout_timeout: float = 5.0,
) -> AsyncConnectionPool[psycopg.AsyncConnection[Any]]:
    """An open pool of autocommit connections with pgvector types registered.

    Waits up to `timeout` seconds for the database; raises Unavailable when it does not answer in time.
    Later, a caller waits at most `checkout_timeout` seconds for a connection before PoolTimeout (UNAVAILABLE).
    """
    await wait_for_db(url, timeout)
    pool: AsyncConnectionPool[psycopg.AsyncConnection[Any]] = AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        # register_vector_async queries the catalog, which would leave a non-autocommit connection inside a
        # transaction and the pool would discard it (DESIGN pitfall).
        kwargs={"autocommit": True},
        configure=configure_connection,
        # Connections closed by the server (a database restart) are replaced on checkout, not handed out; a
        # healthy one costs no round trip (check_idle_connection).
        check=check_idle_connection,
        # Callers fail fast with Unavailable during a database outage instead of queueing for 30 s.
        timeout=checkout_timeout,
        open=False,
        name=name,
    )
    try:
        await pool.open(wait=True, timeout=timeout)
    except PoolTimeout as exc:
        await pool.close()
        raise Unavailable(
            f"database {describe(url)}: could not open {min_size} connection(s) in {timeout:g}s ({exc})"
        ) from exc
    _POOLS[pool.name] = pool
    return pool


async def watch_database(
    pool: AsyncConnectionPool[Any], on_change: Callable[[bool], None], interval: float = 2.0
) -> None:
    """Call `on_change(False)` when the database stops answering and `on_change(True)` when it is back.

    Services run this next to their gRPC server so health turns NOT_SERVING during an outage and load
    balancers / probes route around the replica instead of sending it calls that can only fail.
    """
    healthy = True
    while True:
        try:
            async with pool.connection(timeout=interval) as conn:
                await conn.execute("SELECT 1")
            ok = True
        except (psycopg.Error, PoolTimeout, OSError) as exc:
            if healthy:
                log.warning("database %s unreachable: %s", pool.name, exc)
            ok = False
        if ok != healthy:
            healthy = ok
            if ok:
                log.info("database %s reachable again", pool.name)
            on_change(ok)
        await asyncio.sleep(interval)


_POOLS: weakref.WeakValueDictionary[str, AsyncConnectionPool[Any]] = weakref.WeakValueDictionary()


class _PoolCollector(Collector):
    """Pool saturation gauges read from psycopg_pool's own statistics at scrape time."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        size = GaugeMetricFamily("hiremesh_db_pool_size", "Connections in the pool.", labels=["pool"])
        available = GaugeMetricFamily("hiremesh_db_pool_available", "Idle connections ready for use.", labels=["pool"])
        waiting = GaugeMetricFamily(
            "hiremesh_db_pool_requests_waiting", "Callers waiting for a connection.", labels=["pool"]
        )
        for name, pool in list(_POOLS.items()):
            stats = pool.get_stats()
            size.add_metric([name], stats.get("pool_size", 0))
            available.add_metric([name], stats.get("pool_available", 0))
            waiting.add_metric([name], stats.get("requests_waiting", 0))
        yield from (size, available, waiting)


REGISTRY.register(_PoolCollector())


def load_migrations(migrations_dir: Path) -> list[Migration]:
    """`NNNN_name.sql` files of `migrations_dir` in number order; other files are ignored."""
    if not migrations_dir.is_dir():
        raise MigrationError(f"migrations folder {migrations_dir} does not exist")
    found: dict[str, Path] = {}
    for path in sorted(migrations_dir.glob("*.sql")):
        match = MIGRATION_FILE.match(path.name)
        if match is None:
            log.warning("ignoring %s: migration files are named NNNN_name.sql", path)
            continue
        number = match.group(1)
        if number in found:
            raise MigrationError(
                f"two migrations numbered {number} in {migrations_dir}: {found[number].name} and {path.name}"
            )
        found[number] = path
    migrations = []
    for number in sorted(found):
        data = found[number].read_bytes()
        migrations.append(Migration(found[number].name, data.decode("utf-8"), hashlib.sha256(data).hexdigest()))
    return migrations


async def migrate(url: str, schema: str, migrations_dir: Path) -> list[str]:
    """Apply the not-yet-applied migrations of `schema` in order; return the names applied now.

    Raises MigrationError when an applied file was edited since (its checksum changed) and Unavailable when the
    database cannot be reached.
    """
    migrations = load_migrations(migrations_dir)
    try:
        conn = await psycopg.AsyncConnection.connect(url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise Unavailable(f"database {describe(url)} unavailable: {str(exc).strip()}") from exc
    applied_now: list[str] = []
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (_LOCK_NAMESPACE, _TABLE_LOCK_KEY))
            await conn.execute(_BOOKKEEPING)
        # A session lock, held across the per-file transactions and released when we are done (or when the
        # connection drops, so a crashed replica cannot wedge the others).
        await conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (_LOCK_NAMESPACE, schema))
        try:
            cur = await conn.execute(
                "SELECT name, checksum FROM public.hiremesh_migrations WHERE schema = %s", (schema,)
            )
            recorded: dict[str, str] = {name: checksum for name, checksum in await cur.fetchall()}
            _check_unchanged(schema, migrations, recorded, migrations_dir)
            for migration in migrations:
                if migration.name in recorded:
                    continue
                await _apply(conn, schema, migration)
                applied_now.append(migration.name)
        finally:
            if not conn.closed:
                await conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (_LOCK_NAMESPACE, schema))
    except psycopg.OperationalError as exc:
        raise Unavailable(f"database {describe(url)} failed during migration of {schema}: {exc}") from exc
    finally:
        await conn.close()
    if applied_now:
        log.info("schema %s: applied %s", schema, ", ".join(applied_now))
    return applied_now


def _check_unchanged(schema: str, migrations: list[Migration], recorded: dict[str, str], folder: Path) -> None:
    for migration in migrations:
        checksum = recorded.get(migration.name)
        if checksum is not None and checksum != migration.checksum:
            raise MigrationError(
                f"migration {schema}/{migration.name} in {folder} was edited after it was applied "
                f"(recorded sha256 {checksum[:12]}…, file now {migration.checksum[:12]}…): restore the file and "
                "put the change in a new NNNN_*.sql migration"
            )
    missing = sorted(set(recorded) - {m.name for m in migrations})
    if missing:
        log.warning("schema %s: applied migrations %s are no longer in %s", schema, ", ".join(missing), folder)


async def _apply(conn: psycopg.AsyncConnection[Any], schema: str, migration: Migration) -> None:
    try:
        async with conn.transaction():
            # Without parameters psycopg sends the file with the simple query protocol, so it may hold
            # several statements.
            await conn.execute(migration.sql.encode())
            await conn.execute(
                "INSERT INTO public.hiremesh_migrations (schema, name, checksum) VALUES (%s, %s, %s)",
                (schema, migration.name, migration.checksum),
            )
    except psycopg.OperationalError:
        raise
    except psycopg.Error as exc:
        raise MigrationError(
            f"migration {schema}/{migration.name} failed and was rolled back: {str(exc).strip()}"
        ) from exc
