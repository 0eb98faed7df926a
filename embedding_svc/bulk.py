"""Bulk embedding of a stream of texts: results come back in input order while input keeps arriving.

Texts are read ahead into chunks (whatever has arrived, up to `chunk_size`) and a few chunks are in the
batcher at once, so the model stays busy while earlier vectors are being sent. Bounded queues give
back-pressure: a client sending faster than the model embeds is slowed by HTTP/2 flow control.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from embedding_svc.batcher import MicroBatcher
from embedding_svc.model import Embedded
from embedding_svc.validation import check_text


@dataclass(frozen=True)
class BulkItem:
    index: int
    id: str
    embedding: Embedded
    done: int  # items answered so far, this one included
    received: int  # items read from the client so far
    finished_reading: bool  # the client closed its side, so `received` is the total


@dataclass(frozen=True)
class _Text:
    index: int
    id: str
    text: str


@dataclass(frozen=True)
class _Stop:
    """End of input; `error` set when reading failed (a bad text, a broken client stream)."""

    error: Exception | None = None


@dataclass(frozen=True)
class _Chunk:
    items: list[_Text]
    task: asyncio.Future[list[Embedded]]


async def embed_stream(
    items: AsyncIterator[tuple[str, str]],
    batcher: MicroBatcher,
    *,
    chunk_size: int = 64,
    in_flight: int = 4,
    remaining: Callable[[], float | None] = lambda: None,
    field: str = "requests",
) -> AsyncIterator[BulkItem]:
    """Embed `(id, text)` pairs in order. A bad text raises InvalidArgument naming `field[index].text`
    after the items before it were answered. `remaining` gives the caller's deadline in seconds."""
    inbox: asyncio.Queue[_Text | _Stop] = asyncio.Queue(maxsize=chunk_size * in_flight)
    pending: asyncio.Queue[_Chunk | _Stop] = asyncio.Queue(maxsize=in_flight)
    received = 0
    reading_done = False

    async def read() -> None:
        nonlocal received, reading_done
        try:
            async for ident, text in items:
                check_text(text, f"{field}[{received}].text")
                await inbox.put(_Text(received, ident, text))
                received += 1
            reading_done = True
            await inbox.put(_Stop())
        except Exception as exc:  # handed on in order: answered items first, then the error
            await inbox.put(_Stop(exc))

    async def dispatch() -> None:
        while True:
            first = await inbox.get()
            if isinstance(first, _Stop):
                await pending.put(first)
                return
            chunk = [first]
            stop: _Stop | None = None
            # Take what has already arrived, never wait for more: a client that sends one text and waits
            # for its vector must get it.
            while len(chunk) < chunk_size and not inbox.empty():
                entry = inbox.get_nowait()
                if isinstance(entry, _Stop):
                    stop = entry
                    break
                chunk.append(entry)
            task = asyncio.ensure_future(batcher.embed([t.text for t in chunk], remaining()))
            await pending.put(_Chunk(chunk, task))
            if stop is not None:
                await pending.put(stop)
                return

    reader = asyncio.ensure_future(read())
    dispatcher = asyncio.ensure_future(dispatch())
    done = 0
    try:
        while True:
            entry = await pending.get()
            if isinstance(entry, _Stop):
                if entry.error is not None:
                    raise entry.error
                return
            vectors = await entry.task
            for text, embedded in zip(entry.items, vectors, strict=True):
                done += 1
                yield BulkItem(text.index, text.id, embedded, done, received, reading_done)
    finally:
        reader.cancel()
        dispatcher.cancel()
        while not pending.empty():
            leftover = pending.get_nowait()
            if isinstance(leftover, _Chunk):
                leftover.task.cancel()
        for task in (reader, dispatcher):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
