"""Warehouse sync: full rebuild with an atomic swap, or incremental upsert by per-source watermarks.

PostgreSQL is read in one READ ONLY, REPEATABLE READ transaction so the four sources come from a single
snapshot. Syncs are serialised by an asyncio lock in the process and a file lock across processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import duckdb
import psycopg
from psycopg import IsolationLevel

from analytics_svc import metrics
from analytics_svc.extract import load_source
from analytics_svc.sources import SOURCES, Source
from analytics_svc.warehouse import STAGING, TABLES, Warehouse, candidate_rollup, fact_select, scalar, set_watermarks
from hiremesh.errors import Unavailable

log = logging.getLogger("analytics_svc.etl")

Mode = Literal["full", "incremental"]
MIN_US = -62135596800000000  # 0001-01-01: "everything"

# Transactions still open elsewhere may commit rows stamped before our snapshot; the watermark must not
# pass their start, or those rows would never be read.
_OPEN_TX_SQL = """
SELECT (extract(epoch FROM min(xact_start)) * 1000000)::bigint FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
  AND xact_start IS NOT NULL
"""


@dataclass(frozen=True)
class SyncProgress:
    stage: str
    done: int
    total: int
    message: str = ""


@dataclass(frozen=True)
class TableStat:
    table: str
    rows: int
    duration_ms: float


@dataclass
class SyncResult:
    mode: Mode
    tables: list[TableStat] = field(default_factory=list)
    watermark: datetime | None = None
    duration_ms: float = 0.0

    def rows(self, table: str) -> int:
        return next((t.rows for t in self.tables if t.table == table), 0)


def _us_to_dt(us: int | None) -> datetime | None:
    return None if us is None else datetime.fromtimestamp(us / 1e6, UTC)


class Syncer:
    """Runs syncs of `warehouse` from the PostgreSQL at `database_url`, one at a time."""

    def __init__(self, warehouse: Warehouse, database_url: str, *, batch_bytes: int = 8 << 20) -> None:
        self._wh = warehouse
        self._url = database_url
        self._batch_bytes = batch_bytes
        self._lock = asyncio.Lock()
        self._lock_path = Path(str(warehouse.path) + ".sync.lock")

    @property
    def running(self) -> bool:
        return self._lock.locked()

    async def sync(self, mode: Mode) -> AsyncIterator[SyncProgress | SyncResult]:
        """Stream progress, then the SyncResult. Unavailable when PostgreSQL cannot be reached."""
        if self._lock.locked():
            yield SyncProgress("waiting", 0, 0, "another sync is running")
        async with self._lock:
            fd = await self._file_lock()
            try:
                async for event in self._sync_locked(mode):
                    yield event
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    async def _file_lock(self) -> int:
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                await asyncio.sleep(0.1)
            except BaseException:
                os.close(fd)
                raise

    async def _connect(self) -> psycopg.AsyncConnection:
        try:
            conn = await psycopg.AsyncConnection.connect(
                self._url, connect_timeout=5, application_name="hiremesh-analytics"
            )
        except psycopg.OperationalError as exc:
            metrics.SYNCS.labels("unavailable").inc()
            log.warning("PostgreSQL unavailable, warehouse not synced: %s", str(exc).strip())
            raise Unavailable("PostgreSQL unavailable, warehouse not synced (details in the service log)") from None
        await conn.set_read_only(True)
        await conn.set_isolation_level(IsolationLevel.REPEATABLE_READ)
        return conn

    async def _sync_locked(self, mode: Mode) -> AsyncIterator[SyncProgress | SyncResult]:
        started = time.perf_counter()
        started_at = datetime.now(UTC)
        result = SyncResult(mode)
        conn = await self._connect()
        cur = self._wh.cursor()
        try:
            async with conn.transaction():
                open_tx = (await (await conn.execute(_OPEN_TX_SQL)).fetchone() or [None])[0]
                marks = {} if mode == "full" else self._wh.watermarks()
                loaded: dict[str, int] = {}
                for source in SOURCES:
                    since = marks.get(source.name, MIN_US)
                    target = self._prepare_target(cur, source, mode)
                    total = int((await (await conn.execute(source.count_sql(), (since,))).fetchone())[0])  # type: ignore[index]
                    t0 = time.perf_counter()
                    yield SyncProgress(source.name, 0, total, f"reading {source.pg_table}")
                    rows = 0
                    async for rows in load_source(conn, source, since, cur, target, batch_bytes=self._batch_bytes):
                        yield SyncProgress(source.name, rows, total, f"reading {source.pg_table}")
                    loaded[source.name] = rows
                    metrics.ROWS_READ.labels(source.name).inc(rows)
                    result.tables.append(TableStat(source.name, rows, (time.perf_counter() - t0) * 1000))
                    new_mark = await asyncio.to_thread(_max_updated, cur, target)
                    marks[source.name] = _advance(marks.get(source.name), new_mark, open_tx)
                yield SyncProgress("facts", 0, 1, "building fact_applications")
                t0 = time.perf_counter()
                if mode == "full":
                    facts = await asyncio.to_thread(self._swap_full, cur, marks, started_at)
                else:
                    deleted = await self._deleted_keys(conn, cur)
                    facts = await asyncio.to_thread(
                        self._apply_incremental, cur, marks, started_at, sum(loaded.values()), deleted
                    )
                result.tables.append(TableStat("fact_applications", facts, (time.perf_counter() - t0) * 1000))
                yield SyncProgress("facts", 1, 1, f"{facts} facts rebuilt")
        except psycopg.OperationalError as exc:
            metrics.SYNCS.labels("unavailable").inc()
            await asyncio.to_thread(_log_run, cur, started_at, mode, "failed", 0, str(exc))
            log.warning("PostgreSQL unavailable during sync: %s", str(exc).strip())
            raise Unavailable("PostgreSQL unavailable during sync (details in the service log)") from None
        except BaseException as exc:
            metrics.SYNCS.labels("failed").inc()
            with contextlib.suppress(Exception):
                await asyncio.to_thread(_log_run, cur, started_at, mode, "failed", 0, repr(exc)[:500])
            raise
        finally:
            await conn.close()
            cur.close()
        result.watermark = _us_to_dt(max(marks.values(), default=None))
        result.duration_ms = (time.perf_counter() - started) * 1000
        metrics.SYNCS.labels("ok").inc()
        metrics.SYNC_SECONDS.labels(mode).observe(result.duration_ms / 1000)
        metrics.LAST_SYNC.set(time.time())
        log.info(
            "%s sync done in %.0f ms: %s",
            mode,
            result.duration_ms,
            ", ".join(f"{t.table}={t.rows}" for t in result.tables),
        )
        yield result

    def _prepare_target(self, cur: duckdb.DuckDBPyConnection, source: Source, mode: Mode) -> str:
        if mode == "full":
            target = source.table + STAGING
            cur.execute(f"CREATE OR REPLACE TABLE {target} ({TABLES[source.table]})")
        else:
            target = f"chg_{source.name}"
            cur.execute(f"CREATE OR REPLACE TEMP TABLE {target} AS SELECT * FROM {source.table} LIMIT 0")  # noqa: S608
        return target

    def _swap_full(self, cur: duckdb.DuckDBPyConnection, marks: dict[str, int], started_at: datetime) -> int:
        fact = "fact_applications" + STAGING
        cur.execute(f"CREATE OR REPLACE TABLE {fact} ({TABLES['fact_applications']})")
        cur.execute(f"INSERT INTO {fact} {fact_select(suffix=STAGING)}")
        rows = int(scalar(cur, f"SELECT count(*) FROM {fact}"))  # noqa: S608
        agg = "agg_candidates" + STAGING
        cur.execute(f"CREATE OR REPLACE TABLE {agg} ({TABLES['agg_candidates']})")
        cur.execute(f"INSERT INTO {agg} {candidate_rollup(fact)}")
        # The swap is one short transaction: readers see the old tables or the new ones, never a mix.
        cur.execute("BEGIN TRANSACTION")
        try:
            for table in TABLES:
                cur.execute(f"DROP TABLE IF EXISTS {table}")
                cur.execute(f"ALTER TABLE {table}{STAGING} RENAME TO {table}")
            cur.execute("DELETE FROM _watermarks")
            set_watermarks(cur, marks)
            _log_run(cur, started_at, "full", "ok", rows, "")
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        cur.execute("CHECKPOINT")
        return rows

    async def _deleted_keys(self, conn: psycopg.AsyncConnection, cur: duckdb.DuckDBPyConnection) -> dict[str, int]:
        """Rows deleted in PostgreSQL leave no updated_at behind: when a count differs, diff the ids."""
        removed: dict[str, int] = {}
        for source in SOURCES:
            pg_count = int((await (await conn.execute(f"SELECT count(*) FROM {source.pg_table}")).fetchone())[0])  # type: ignore[index]  # noqa: S608
            wh_count = await asyncio.to_thread(_count_after_upsert, cur, source)
            if wh_count == pg_count:
                continue
            ids = [str(r[0]) for r in await (await conn.execute(f"SELECT id FROM {source.pg_table}")).fetchall()]  # noqa: S608
            removed[source.name] = await asyncio.to_thread(_store_live_ids, cur, source, ids)
        return removed

    def _apply_incremental(
        self,
        cur: duckdb.DuckDBPyConnection,
        marks: dict[str, int],
        started_at: datetime,
        rows_read: int,
        deleted: dict[str, int],
    ) -> int:
        cur.execute("BEGIN TRANSACTION")
        try:
            for source in SOURCES:
                chg = f"chg_{source.name}"
                cur.execute(f"DELETE FROM {source.table} WHERE {source.key} IN (SELECT {source.key} FROM {chg})")  # noqa: S608
                cur.execute(f"INSERT INTO {source.table} SELECT * FROM {chg}")  # noqa: S608
            gone_pairs = (
                "SELECT candidate_id, job_id FROM gone_pairs"
                if deleted.get("results")
                else "SELECT NULL::UUID, NULL::UUID WHERE false"
            )
            if deleted.get("results"):
                cur.execute("""CREATE OR REPLACE TEMP TABLE gone_pairs AS SELECT candidate_id, job_id
                               FROM src_screening_results WHERE result_id NOT IN (SELECT id FROM live_results)""")
            for source in SOURCES:
                if deleted.get(source.name):
                    cur.execute(
                        f"DELETE FROM {source.table} WHERE {source.key} NOT IN "  # noqa: S608
                        f"(SELECT id FROM live_{source.name})"
                    )
            cur.execute(f"""
                CREATE OR REPLACE TEMP TABLE affected AS
                SELECT application_id FROM src_applications
                WHERE application_id IN (SELECT application_id FROM chg_applications)
                   OR candidate_id IN (SELECT candidate_id FROM chg_candidates)
                   OR job_id IN (SELECT job_id FROM chg_jobs)
                   OR (candidate_id, job_id) IN (SELECT candidate_id, job_id FROM chg_results)
                   OR (candidate_id, job_id) IN ({gone_pairs})""")  # noqa: S608
            cur.execute("""DELETE FROM fact_applications WHERE application_id IN (SELECT application_id FROM affected)
                           OR application_id NOT IN (SELECT application_id FROM src_applications)""")
            cur.execute(
                "INSERT INTO fact_applications "  # noqa: S608
                + fact_select("WHERE application_id IN (SELECT application_id FROM affected)")
            )
            cur.execute("""CREATE OR REPLACE TEMP TABLE affected_candidates AS
                           SELECT candidate_id FROM src_applications WHERE application_id IN (SELECT * FROM affected)
                           UNION SELECT candidate_id FROM chg_candidates
                           UNION SELECT candidate_id FROM agg_candidates
                                 WHERE candidate_id NOT IN (SELECT candidate_id FROM dim_candidates)""")
            cur.execute("DELETE FROM agg_candidates WHERE candidate_id IN (SELECT * FROM affected_candidates)")
            cur.execute(
                "INSERT INTO agg_candidates "  # noqa: S608
                + candidate_rollup("fact_applications", "WHERE candidate_id IN (SELECT * FROM affected_candidates)")
            )
            rows = int(scalar(cur, "SELECT count(*) FROM affected"))
            set_watermarks(cur, marks)
            _log_run(cur, started_at, "incremental", "ok", rows_read, "")
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return rows


def _max_updated(cur: duckdb.DuckDBPyConnection, table: str) -> int | None:
    value = scalar(cur, f"SELECT epoch_us(max(updated_at)) FROM {table}")  # noqa: S608
    return None if value is None else int(value)


def _advance(old: int | None, seen: int | None, open_tx: int | None) -> int:
    """The next watermark: the newest row read, held back before any transaction still open."""
    mark = old if old is not None else MIN_US
    if seen is not None:
        candidate = seen if open_tx is None else min(seen, int(open_tx) - 1)
        mark = max(mark, candidate)
    return mark


def _count_after_upsert(cur: duckdb.DuckDBPyConnection, source: Source) -> int:
    chg = f"chg_{source.name}"
    return int(
        scalar(
            cur,
            f"""SELECT (SELECT count(*) FROM {source.table} WHERE {source.key} NOT IN
                                  (SELECT {source.key} FROM {chg})) + (SELECT count(*) FROM {chg})""",  # noqa: S608
        )
    )


def _store_live_ids(cur: duckdb.DuckDBPyConnection, source: Source, ids: list[str]) -> int:
    import pyarrow as pa

    cur.register("live_ids", pa.table({"id": pa.array(ids, pa.string())}))
    try:
        cur.execute(f"CREATE OR REPLACE TEMP TABLE live_{source.name} AS SELECT CAST(id AS UUID) AS id FROM live_ids")  # noqa: S608
    finally:
        cur.unregister("live_ids")
    return int(
        scalar(
            cur,
            f"SELECT count(*) FROM {source.table} WHERE {source.key} NOT IN "  # noqa: S608
            f"(SELECT id FROM live_{source.name})",
        )
    )


def _log_run(
    cur: duckdb.DuckDBPyConnection, started_at: datetime, mode: str, status: str, rows: int, message: str
) -> None:
    cur.execute(
        "INSERT INTO _sync_log VALUES (?, ?, ?, ?, ?, ?)", [started_at, datetime.now(UTC), mode, status, rows, message]
    )
