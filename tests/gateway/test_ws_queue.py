"""The per-client send queue: a lagging client loses stale progress, never a final update, and a client
that does not read at all is disconnected instead of growing memory."""

from __future__ import annotations

import asyncio
from typing import Any

from gateway.app import create_gateway
from gateway.ws import Client
from hiremesh.v1 import screening_pb2 as spb
from tests.gateway.conftest import unit_config


# Stands in for aiohttp's WebSocketResponse (only `closed` and `close` are used): Client(gw, sock, ...) takes a
# `type: ignore[arg-type]`.
class StalledSocket:
    """A socket whose peer never reads: sends are never drained (the writer task is not started)."""

    closed = False

    def __init__(self) -> None:
        self.close_code: int | None = None

    async def close(self, code: int = 1000, message: bytes = b"") -> None:
        self.close_code = code


def update(task: str, status: str, progress: float) -> dict[str, Any]:
    return {"type": "task_update", "task_id": task, "status": status, "progress": progress}


async def test_full_queue_drops_stale_progress_and_keeps_final_updates() -> None:
    gw = await create_gateway(unit_config(ws_queue_size=4))
    sock = StalledSocket()
    client = Client(gw, sock, "u")  # type: ignore[arg-type]
    for i in range(10):
        client.send(update("a", "progress", i * 10))
    client.send(update("a", "completed", 100))
    client.send(update("b", "failed", 40))
    queued = list(client._queue)
    assert len(queued) == 4
    assert queued[-2:] == [update("a", "completed", 100), update("b", "failed", 40)]
    assert [m["progress"] for m in queued[:2]] == [80, 90]  # the newest progress survived
    assert sock.close_code is None
    await gw.backends.close()


async def test_client_that_never_reads_is_disconnected() -> None:
    gw = await create_gateway(unit_config(ws_queue_size=4))
    sock = StalledSocket()
    client = Client(gw, sock, "u")  # type: ignore[arg-type]
    for i in range(6):
        client.send(update(f"t{i}", "completed", 100))
    await asyncio.sleep(0)
    assert sock.close_code == 1013
    await gw.backends.close()


def test_screening_events_map_to_task_updates() -> None:
    from gateway.ws import screening_update

    running = screening_update(
        spb.ScreeningEvent(task_id="t", state=spb.TASK_STATE_RUNNING, stage=spb.SCREENING_STAGE_ANALYZING, percent=42.5)
    )
    assert running["status"] == "progress" and running["stage"] == "analyzing" and running["progress"] == 42.5
    done = screening_update(
        spb.ScreeningEvent(task_id="t", state=spb.TASK_STATE_SUCCEEDED, percent=97, result=spb.ScreeningResult(id="r"))
    )
    assert done["status"] == "completed" and done["progress"] == 100 and done["result"]["id"] == "r"
    failed = screening_update(spb.ScreeningEvent(task_id="t", state=spb.TASK_STATE_FAILED, error="boom"))
    assert failed["status"] == "failed" and failed["error"] == "boom"
    queued = screening_update(spb.ScreeningEvent(task_id="t", state=spb.TASK_STATE_QUEUED))
    assert queued["status"] == "started" and queued["timestamp"]
