"""Stream one PostgreSQL source into a DuckDB table: COPY → CSV bytes → Arrow batches → INSERT … SELECT.

The async side reads COPY output from psycopg and hands multi-megabyte chunks to a worker thread through a
bounded pipe; the thread parses them with pyarrow's streaming CSV reader (quoted newlines are safe) and
inserts each Arrow batch with one set-based statement. Nothing is handled row by row.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import queue
from collections.abc import AsyncIterator
from concurrent.futures import Executor

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pacsv

from analytics_svc.sources import Source

_EOF = object()
_MAX_BACKLOG = 3  # chunks waiting for the parser: bounds memory at ~3 x batch_bytes


class _Pipe(io.RawIOBase):
    """A read-only file fed from another thread; `fail()` makes the reader raise."""

    def __init__(self) -> None:
        super().__init__()
        self._q: queue.Queue[object] = queue.Queue()
        self._buf = memoryview(b"")
        self._done = False

    def put(self, data: bytes) -> None:
        self._q.put(data)

    def close_writer(self) -> None:
        self._q.put(_EOF)

    def fail(self, exc: BaseException) -> None:
        self._q.put(exc)

    def backlog(self) -> int:
        return self._q.qsize()

    def readable(self) -> bool:
        return True

    def _next(self) -> bool:
        item = self._q.get()
        if item is _EOF:
            self._done = True
            return False
        if isinstance(item, BaseException):
            raise RuntimeError("extraction aborted") from item
        assert isinstance(item, bytes)
        self._buf = memoryview(item)
        return True

    def empty(self) -> bool:
        """Block until the first chunk or the end arrives; True when the stream has no data at all."""
        return not self._buf and not self._next()

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        while not self._buf:
            if self._done or not self._next():
                return 0
        n = min(len(b), len(self._buf))
        b[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n


def _timestamps(batch: pa.RecordBatch) -> pa.Table:
    """Columns named *_us hold epoch microseconds: make them UTC timestamps."""
    arrays, names = [], []
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if name.endswith("_us"):
            column = pc.cast(column, pa.timestamp("us", tz="UTC"))
        arrays.append(column)
        names.append(name)
    return pa.Table.from_arrays(arrays, names=names)


def _consume(
    pipe: _Pipe, source: Source, cur: duckdb.DuckDBPyConnection, target: str, loaded: list[int], block_size: int
) -> None:
    if pipe.empty():
        return
    reader = pacsv.open_csv(
        pipe,
        read_options=pacsv.ReadOptions(column_names=source.column_names, block_size=block_size),
        parse_options=pacsv.ParseOptions(newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(
            column_types=source.column_types,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            true_values=["t"],
            false_values=["f"],
        ),
    )
    for batch in reader:
        cur.register("arrow_batch", _timestamps(batch))
        try:
            cur.execute(f"INSERT INTO {target} SELECT {source.transform} FROM arrow_batch")  # noqa: S608
        finally:
            cur.unregister("arrow_batch")
        loaded[0] += batch.num_rows


async def load_source(
    conn: psycopg.AsyncConnection,
    source: Source,
    since_us: int,
    cur: duckdb.DuckDBPyConnection,
    target: str,
    *,
    batch_bytes: int,
    executor: Executor | None = None,
) -> AsyncIterator[int]:
    """Copy the rows of `source` updated after `since_us` into DuckDB table `target`.

    Yields the number of rows loaded so far after each chunk, and the final count last.
    """
    loop = asyncio.get_running_loop()
    pipe = _Pipe()
    loaded = [0]
    consumer = loop.run_in_executor(executor, _consume, pipe, source, cur, target, loaded, batch_bytes)
    try:
        async with conn.cursor() as pg_cur, pg_cur.copy(source.copy_sql(), (since_us,)) as copy:
            chunk = bytearray()
            async for data in copy:
                chunk += data
                if len(chunk) < batch_bytes:
                    continue
                pipe.put(bytes(chunk))
                chunk.clear()
                # The parser thread drains the pipe; polling keeps it simple and costs ~0 at 8 MB chunks.
                while pipe.backlog() >= _MAX_BACKLOG and not consumer.done():  # noqa: ASYNC110
                    await asyncio.sleep(0.002)
                if consumer.done():
                    await consumer  # the parser stopped early: raise its error
                yield loaded[0]
            if chunk:
                pipe.put(bytes(chunk))
    except BaseException as exc:
        pipe.fail(exc)
        with contextlib.suppress(Exception):
            await consumer
        raise
    pipe.close_writer()
    await consumer
    yield loaded[0]
