"""Schedule parsing and the service's own scheduler loop."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from analytics_svc.schedules import Scheduler, parse_schedule
from hiremesh.errors import FailedPrecondition


@pytest.mark.parametrize(
    ("text", "interval"),
    [("15m", timedelta(minutes=15)), ("1d", timedelta(days=1)), ("7d", timedelta(days=7)), ("2h", timedelta(hours=2))],
)
def test_intervals(text: str, interval: timedelta) -> None:
    assert parse_schedule("x", text).interval == interval


def test_cron_and_off() -> None:
    daily = parse_schedule("full", "0 3 * * *")
    nxt = daily.next_after(datetime(2025, 1, 1, 12, tzinfo=UTC))
    assert nxt == datetime(2025, 1, 2, 3, tzinfo=UTC)
    assert parse_schedule("x", "@weekly").cron == "0 0 * * 0"
    off = parse_schedule("x", "off")
    assert not off.enabled and off.next_after(datetime.now(UTC)) is None


@pytest.mark.parametrize("text", ["soon", "5x", "1s", "61 * * * *"])
def test_bad_schedules_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match=r"expected|too short"):
        parse_schedule("x", text)


async def test_due_jobs_run_and_record_their_status() -> None:
    ran = asyncio.Event()
    stored: list[tuple[str, str]] = []

    async def sync() -> str:
        ran.set()
        return "3 rows read"

    async def train() -> str:
        raise FailedPrecondition("too little data")

    both_stored = asyncio.Event()

    async def store(name: str, when: datetime, status: str) -> None:
        stored.append((name, status))
        if len(stored) == 2:
            both_stored.set()

    schedules = {
        "incremental": parse_schedule("incremental", "15m"),
        "train": parse_schedule("train", "7d"),
        "export": parse_schedule("export", "off"),
    }
    scheduler = Scheduler(
        schedules,
        {"incremental": sync, "train": train, "export": sync},
        {"train": (datetime.now(UTC) - timedelta(days=8), "ok")},
        store,
        run_now={"incremental"},
    )
    scheduler.start()
    try:
        await asyncio.wait_for(ran.wait(), 10)
        await asyncio.wait_for(both_stored.wait(), 10)
    finally:
        await scheduler.stop()
    assert dict(stored) == {"incremental": "ok: 3 rows read", "train": "skipped: too little data"}
    states = {s.schedule.name: s for s in scheduler.states()}
    assert states["incremental"].next_run is not None and states["incremental"].last_run is not None
    assert states["incremental"].next_run - states["incremental"].last_run >= timedelta(minutes=14)
    assert states["export"].next_run is None and states["export"].last_status == "never run"


def test_the_warehouse_syncs_on_its_schedule_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18: with nothing configured the warehouse is kept fresh (the page shows when it last synced)."""
    import os

    from analytics_svc.config import AnalyticsConfig

    for name in list(os.environ):
        if name.startswith("HIREMESH_ANALYTICS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HIREMESH_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    cfg = AnalyticsConfig.from_env()
    assert cfg.schedules["incremental"].enabled and cfg.sync_on_start
