"""`hiremesh analytics ...` against the real analytics_svc process."""

from __future__ import annotations

import asyncio

import pytest

from hiremesh_ops.analytics_cli import analytics_command
from tests.fixtures.analytics import AnalyticsService


async def test_cli_sync_info_export(analytics_service: AnalyticsService, capsys: pytest.CaptureFixture[str]) -> None:
    addr = ["--addr", analytics_service.addr]
    assert await asyncio.to_thread(analytics_command, [*addr, "sync", "--full"]) == 0
    out = capsys.readouterr().out
    assert "fact_applications" in out and "900" in out
    assert await asyncio.to_thread(analytics_command, [*addr, "info", "--report", "funnel"]) == 0
    out = capsys.readouterr().out
    assert "applied" in out and "incremental" in out  # the funnel, then the schedules
    assert await asyncio.to_thread(analytics_command, [*addr, "export", "--folder", "cli"]) == 0
    assert (analytics_service.home / "exports" / "cli" / "fact_applications.parquet").exists()
    assert await asyncio.to_thread(analytics_command, [*addr, "info", "--report", "nope"]) == 1
    # The operator reads the error policy's account: code, reason, and the message naming the bad field.
    err = capsys.readouterr().err
    assert "INVALID_ARGUMENT (FIELD_INVALID): name: unknown report" in err, err
