"""Periodic jobs run by the service itself: incremental/full sync, training, export.

Each schedule is an interval ("15m", "1h", "1d", "7d") or a cron expression ("0 3 * * *", "@daily"), or
"off". Last runs are kept in the warehouse so a restart keeps the cadence; the scheduler is one owned
asyncio task, cancelled on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from croniter import croniter

from analytics_svc import metrics
from hiremesh.errors import FailedPrecondition, HiremeshError

log = logging.getLogger("analytics_svc.schedules")

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_ALIASES = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@weekly": "0 0 * * 0"}


@dataclass(frozen=True)
class Schedule:
    name: str
    spec: str
    interval: timedelta | None = None
    cron: str | None = None

    @property
    def enabled(self) -> bool:
        return self.interval is not None or self.cron is not None

    def next_after(self, moment: datetime) -> datetime | None:
        if self.interval is not None:
            return moment + self.interval
        if self.cron is not None:
            nxt: datetime = croniter(self.cron, moment).get_next(datetime)
            return nxt
        return None


def parse_schedule(name: str, text: str) -> Schedule:
    spec = text.strip().lower()
    if spec in {"off", "never", "disabled", "0"}:
        return Schedule(name, "off")
    match = re.fullmatch(r"(\d+)\s*([smhdw])", spec)
    if match:
        seconds = int(match.group(1)) * _UNITS[match.group(2)]
        if seconds < 10:
            raise ValueError(f"interval {text!r} is too short (minimum 10s)")
        return Schedule(name, spec, interval=timedelta(seconds=seconds))
    cron = _ALIASES.get(spec, spec)
    if croniter.is_valid(cron):
        return Schedule(name, spec, cron=cron)
    raise ValueError(f"expected an interval like 15m, 1h, 1d, a cron expression like '0 3 * * *', or off; got {text!r}")


@dataclass
class ScheduleState:
    schedule: Schedule
    last_run: datetime | None = None
    next_run: datetime | None = None
    last_status: str = "never run"
    running: bool = False


Job = Callable[[], Awaitable[str]]
Store = Callable[[str, datetime, str], Awaitable[None]]


class Scheduler:
    """Runs each enabled job when due, one at a time, and records how it went."""

    def __init__(
        self,
        schedules: dict[str, Schedule],
        jobs: dict[str, Job],
        last_runs: dict[str, tuple[datetime, str]],
        store: Store,
        *,
        run_now: set[str] | None = None,
    ) -> None:
        now = datetime.now(UTC)
        self._jobs = jobs
        self._store = store
        self._states: dict[str, ScheduleState] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        for name, schedule in schedules.items():
            state = ScheduleState(schedule)
            if name in last_runs:
                state.last_run, state.last_status = last_runs[name]
            base = state.last_run or now
            state.next_run = now if name in (run_now or set()) else schedule.next_after(base)
            if state.next_run is not None and state.next_run < now:
                state.next_run = now  # missed while the service was down
            self._states[name] = state

    def states(self) -> list[ScheduleState]:
        return list(self._states.values())

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="analytics-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _loop(self) -> None:
        while True:
            due = [s for s in self._states.values() if s.next_run is not None]
            if not due:
                return
            now = datetime.now(UTC)
            ready = sorted((s for s in due if s.next_run <= now), key=lambda s: s.next_run)  # type: ignore[arg-type,return-value,operator]
            if not ready:
                wait = min((s.next_run - now).total_seconds() for s in due)  # type: ignore[operator]
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=min(max(wait, 0.05), 60))
                continue
            await self._run(ready[0])

    async def _run(self, state: ScheduleState) -> None:
        name = state.schedule.name
        started = datetime.now(UTC)
        state.running = True
        try:
            detail = await self._jobs[name]()
            status = f"ok: {detail}" if detail else "ok"
            metrics.SCHEDULE_RUNS.labels(name, "ok").inc()
        except asyncio.CancelledError:
            raise
        except FailedPrecondition as exc:
            status = f"skipped: {exc.message}"
            metrics.SCHEDULE_RUNS.labels(name, "skipped").inc()
        except HiremeshError as exc:
            status = f"failed: {exc.message}"
            metrics.SCHEDULE_RUNS.labels(name, "failed").inc()
        except Exception as exc:
            log.exception("scheduled %s failed", name)
            status = f"failed: {type(exc).__name__}: {exc}"
            metrics.SCHEDULE_RUNS.labels(name, "failed").inc()
        finally:
            state.running = False
        state.last_run, state.last_status = started, status[:500]
        state.next_run = state.schedule.next_after(datetime.now(UTC))
        log.info("scheduled %s: %s (next %s)", name, state.last_status, state.next_run)
        try:
            await self._store(name, started, state.last_status)
        except Exception:
            log.exception("cannot record the run of %s", name)
