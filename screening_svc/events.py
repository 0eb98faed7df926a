"""Task progress fan-out: one LISTEN connection per process, any number of local watchers.

Workers on any replica NOTIFY `screening_task_<id>` in the statement that changes the task (see
`tasks.py`), so a watcher connected to another replica still sees every stage. A watcher LISTENs before it
reads the current row; notifications it has already seen in that row are dropped by `version`. If the
listening connection drops, watchers re-read the row (and also do so when nothing arrived for a while), so
a lost notification can delay an event but never hang a stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import psycopg
from psycopg import sql

from screening_svc.tasks import TERMINAL, TaskRecord, TaskStore, channel_for

log = logging.getLogger("screening_svc.events")


@dataclass(frozen=True)
class TaskEvent:
    """One observed state of a task (a stage change, or the end with `result_id` / `error`)."""

    task_id: str
    version: int
    state: str
    stage: str
    percent: float
    message: str
    error: str
    result_id: str
    time: datetime

    @property
    def final(self) -> bool:
        return self.state in TERMINAL

    @classmethod
    def from_task(cls, task: TaskRecord) -> TaskEvent:
        return cls(
            task.id,
            task.version,
            task.state,
            task.stage,
            task.percent,
            task.message,
            task.error,
            task.result_id,
            task.updated_at,
        )

    @classmethod
    def from_payload(cls, task_id: str, payload: str) -> TaskEvent:
        data = json.loads(payload)
        try:
            when = datetime.fromisoformat(data["time"])
        except (TypeError, ValueError):
            when = datetime.now(UTC)
        return cls(
            task_id,
            int(data["version"]),
            data["state"],
            data["stage"],
            float(data["percent"]),
            data.get("message", ""),
            data.get("error", ""),
            data.get("result_id", ""),
            when,
        )


@dataclass
class _Subscription:
    task_id: str
    channel: str
    queue: asyncio.Queue[TaskEvent | None] = field(default_factory=asyncio.Queue)
    listening: asyncio.Event = field(default_factory=asyncio.Event)

    async def next(self, timeout: float) -> TaskEvent | None:
        """The next notified event; None after `timeout` or when the hub lost events (re-read the row)."""
        try:
            return await asyncio.wait_for(self.queue.get(), timeout)
        except TimeoutError:
            return None


class EventHub:
    """Holds one LISTEN connection and routes each task channel's notifications to its subscribers."""

    def __init__(self, url: str, *, poll_s: float = 0.2) -> None:
        self._url = url
        self._poll_s = poll_s
        self._subs: dict[str, list[_Subscription]] = {}
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="screening-event-hub")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @contextlib.asynccontextmanager
    async def subscribe(self, task_id: str, timeout: float = 10.0) -> AsyncIterator[_Subscription]:
        """Subscribe to a task's events; entered only once the channel is LISTENed (nothing is missed)."""
        sub = _Subscription(task_id, channel_for(task_id))
        self._subs.setdefault(sub.channel, []).append(sub)
        try:
            try:
                await asyncio.wait_for(sub.listening.wait(), timeout)
            except TimeoutError:
                # The database is unreachable: carry on, the watcher falls back to re-reading the row.
                log.warning("LISTEN for task %s not confirmed after %.0fs", task_id, timeout)
            yield sub
        finally:
            subs = self._subs.get(sub.channel, [])
            if sub in subs:
                subs.remove(sub)
            if not subs:
                self._subs.pop(sub.channel, None)

    async def _run(self) -> None:
        backoff = 0.2
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(self._url, autocommit=True)
            except psycopg.Error as exc:
                log.warning("event hub cannot connect (%s); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.2
            try:
                async with conn:
                    await self._serve(conn)
            except psycopg.Error as exc:
                log.warning("event hub connection lost (%s); watchers will re-read their tasks", exc)
                self._resync_all()

    async def _serve(self, conn: psycopg.AsyncConnection[object]) -> None:
        listening: set[str] = set()
        while True:
            wanted = set(self._subs)
            for channel in sorted(wanted - listening):
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
            for channel in sorted(listening - wanted):
                await conn.execute(sql.SQL("UNLISTEN {}").format(sql.Identifier(channel)))
            listening = wanted
            for channel in listening:
                for sub in self._subs.get(channel, []):
                    sub.listening.set()
            # Short waits so new subscriptions are LISTENed promptly; notifications arriving between two
            # waits are buffered by psycopg and returned by the next one.
            async for note in conn.notifies(timeout=self._poll_s):
                self._dispatch(note.channel, note.payload)

    def _dispatch(self, channel: str, payload: str) -> None:
        subs = self._subs.get(channel)
        if not subs:
            return
        try:
            event = TaskEvent.from_payload(subs[0].task_id, payload)
        except (ValueError, KeyError, TypeError):
            log.warning("malformed notification on %s: %r", channel, payload[:200])
            return
        for sub in subs:
            sub.queue.put_nowait(event)

    def _resync_all(self) -> None:
        for subs in self._subs.values():
            for sub in subs:
                sub.listening.clear()
                sub.queue.put_nowait(None)


async def watch_task(
    store: TaskStore, hub: EventHub, task_id: str, *, reread_s: float = 5.0
) -> AsyncIterator[TaskEvent]:
    """The task's current state, then each later change, ending after the final one."""
    async with hub.subscribe(task_id) as sub:
        last = TaskEvent.from_task(await store.get(task_id))
        yield last
        while not last.final:
            event = await sub.next(reread_s)
            if event is None:
                event = TaskEvent.from_task(await store.get(task_id))
            if event.version <= last.version:
                continue
            last = event
            yield event
