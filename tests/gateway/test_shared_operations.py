"""Gateway operations shared by replicas through PostgreSQL: any replica reads, lists and follows any operation.

Two `Operations` registries with their own journals over one real database stand for two gateway replicas;
the last test does the same through two gateway apps over REST.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp.test_utils import TestClient, TestServer

from gateway.app import build_app, create_gateway
from gateway.operation_journal import OperationJournal, storable
from gateway.operations import Operations
from gateway.tokens import Role
from gateway.users import UserStore
from hiremesh.v1 import analytics_pb2, common_pb2, search_pb2
from tests.fixtures.mesh import gateway_database
from tests.gateway.conftest import GatewayClient, auth, unit_config

T = 20.0


@pytest_asyncio.fixture(loop_scope="session")
async def store(pg_url: str) -> AsyncIterator[UserStore]:
    opened = await UserStore.open(await gateway_database(pg_url))
    await opened.add_user("tester", Role.ADMIN)  # the user behind conftest's JWTs: the gateway checks it exists
    try:
        yield opened
    finally:
        await opened.close()


class Replica:
    def __init__(self, store: UserStore, **journal: float) -> None:
        self.ops = Operations()
        self.ops.journal = OperationJournal(store.pool, str(store.pool.conninfo), running=self.ops.running, **journal)

    async def __aenter__(self) -> Operations:
        assert self.ops.journal is not None
        await self.ops.journal.start()
        return self.ops

    async def __aexit__(self, *_: object) -> None:
        await self.ops.close()


class Stream:
    """A sync-shaped stream the test moves on step by step."""

    def __init__(self) -> None:
        self.steps: asyncio.Queue[float | None] = asyncio.Queue()

    async def __call__(self) -> AsyncIterator[analytics_pb2.SyncResponse]:
        while (percent := await self.steps.get()) is not None:
            yield analytics_pb2.SyncResponse(progress=common_pb2.Progress(stage="loading", percent=percent))
        yield analytics_pb2.SyncResponse(summary=analytics_pb2.SyncSummary(duration_ms=7.0))


async def until(check: Any, timeout: float = T) -> None:
    """Poll `check` (state lives in another replica and in PostgreSQL: there is no event to wait on)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, f"{check.__name__} still false after {timeout} s"
        await asyncio.sleep(0.05)


async def test_another_replica_reads_lists_and_follows_an_operation(store: UserStore) -> None:
    stream = Stream()
    async with Replica(store) as a, Replica(store) as b:
        op = a.start("sync", "ana", stream, "analytics")
        await until(lambda: b.get(op.id))
        seen = await b.get(op.id)
        assert seen is not None and seen.kind == "sync" and seen.owner == "ana" and not seen.done

        messages: list[dict[str, Any]] = []
        assert await b.subscribe(op.id, messages.append) is not None
        assert messages and messages[0]["task_id"] == op.id  # the current state first
        await stream.steps.put(40.0)

        async def reached_40() -> bool:
            return any(m["progress"] == 40.0 and m["stage"] == "loading" for m in messages)

        await until(reached_40)
        await stream.steps.put(None)

        async def finished() -> bool:
            return bool(messages) and messages[-1]["status"] == "completed"

        await until(finished)
        assert messages[-1]["result"]["summary"]["duration_ms"] == 7.0
        assert next(o.id for o in await b.recent(10)) == op.id
        done = await b.get(op.id)
        assert done is not None and done.done and done.progress == 100.0


async def test_a_late_watcher_on_another_replica_gets_the_final_state(store: UserStore) -> None:
    stream = Stream()
    async with Replica(store) as a, Replica(store) as b:
        op = a.start("train", "ana", stream, "analytics")
        await stream.steps.put(None)

        async def stored_done() -> bool:
            got = await b.get(op.id)
            return got is not None and got.done

        await until(stored_done)
        messages: list[dict[str, Any]] = []
        await b.subscribe(op.id, messages.append)
        assert [m["status"] for m in messages] == ["completed"]
        assert b.journal is not None and op.id not in b.journal._followers


async def test_an_operation_whose_replica_died_is_reported_failed(store: UserStore) -> None:
    stream = Stream()
    async with Replica(store, heartbeat_s=0.2, lost_after_s=1.0) as b:
        a = Replica(store, heartbeat_s=0.2, lost_after_s=1.0)
        assert a.ops.journal is not None  # a replica with a user store journals its operations
        await a.ops.journal.start()
        op = a.ops.start("export", "ana", stream, "analytics")
        await a.ops.journal.flush()
        messages: list[dict[str, Any]] = []
        await b.subscribe(op.id, messages.append)
        # The replica vanishes without a last word: its tasks stop, nothing records a final state.
        for task in [*a.ops._tasks, *a.ops.journal._tasks]:
            task.cancel()
        await asyncio.sleep(1.5)  # no heartbeat for longer than lost_after_s, while b is still running

        async def failed() -> bool:
            return bool(messages) and messages[-1]["status"] == "failed"

        await until(failed)
        assert "stopped before it finished" in messages[-1]["error"]
        lost = await b.get(op.id)
        assert lost is not None and lost.status == "failed" and lost.error is not None
        assert lost.error["status"] == "UNAVAILABLE"


async def test_a_running_operation_with_a_heartbeat_is_not_reported_lost(store: UserStore) -> None:
    stream = Stream()
    async with (
        Replica(store, heartbeat_s=0.2, lost_after_s=1.0) as a,
        Replica(store, heartbeat_s=0.2, lost_after_s=1.0) as b,
    ):
        op = a.start("export", "ana", stream, "analytics")
        await asyncio.sleep(2.0)  # quiet for twice lost_after_s, but a keeps beating
        still = await b.get(op.id)
        assert still is not None and still.status == "started"
        await stream.steps.put(None)


async def test_caller_text_postgresql_cannot_hold_is_replaced_and_blocks_nothing(store: UserStore) -> None:
    # An uploaded file named "bad<NUL>name.doc" (aiohttp decodes filename*=UTF-8''bad%00name.doc) ends up in
    # the import's summary; jsonb refuses \u0000, and a refused state used to be retried forever with every
    # later operation's states behind it in the same batch: no replica listed a new operation again.
    async def refused_file() -> AsyncIterator[search_pb2.ImportCandidatesResponse]:
        error = search_pb2.ImportRecordError(source="bad\x00name.doc", reason="binary data, not text")
        yield search_pb2.ImportCandidatesResponse(summary=search_pb2.ImportSummary(total=1, failed=1, errors=[error]))

    async with Replica(store) as a, Replica(store) as b:
        poisoned = a.start("import", "ana", refused_file, "search")
        stream = Stream()
        later = a.start("sync", "ana", stream, "analytics")
        await stream.steps.put(None)

        async def both_stored_done() -> bool:
            got = [await b.get(op.id) for op in (poisoned, later)]
            return all(op is not None and op.done for op in got)

        await until(both_stored_done)
        assert {poisoned.id, later.id} <= {op.id for op in await b.recent(10)}
        stored = await b.get(poisoned.id)
        assert stored is not None and stored.status == "completed" and stored.result is not None
        assert stored.result["summary"]["errors"][0]["source"] == "bad\ufffdname.doc"


async def test_the_replica_running_an_operation_lists_it_before_the_journal_wrote_it(store: UserStore) -> None:
    a = Replica(store)  # its journal's writer is not started: no state of a's reaches PostgreSQL
    stream = Stream()
    try:
        op = a.ops.start("sync", "ana", stream, "analytics")
        listed = await a.ops.recent(10)
        assert listed[0].id == op.id and listed[0].owner == "ana"
        assert op.id not in {o.id for o in await Replica(store).ops.recent(10)}  # (it really is not stored)
    finally:
        await stream.steps.put(None)
        await a.ops.close()


def test_storable_replaces_only_what_postgresql_refuses() -> None:
    assert storable({"a": ["x\x00y", "caf\u00e9 \U0001f600"], "n": 3, "lone": "\ud800!"}) == {
        "a": ["x\ufffdy", "caf\u00e9 \U0001f600"],
        "n": 3,
        "lone": "\ufffd\ufffd\ufffd!",
    }


@pytest.mark.parametrize("path", ["/api/v1/analytics/sync"])
async def test_rest_any_replica_answers_for_an_operation(store: UserStore, path: str) -> None:
    clients: list[GatewayClient] = []
    try:
        for _ in range(2):
            gw = await create_gateway(unit_config(), users=store)
            client = TestClient(TestServer(build_app(gw)))
            await client.start_server()
            clients.append(client)
        first, second = clients
        resp = await first.post(path, json={"mode": "full"}, headers=auth())
        assert resp.status == 202, await resp.text()
        op_id = (await resp.json())["id"]

        async def failed_everywhere() -> bool:
            got = await second.get(f"/api/v1/operations/{op_id}", headers=auth())
            return got.status == 200 and (await got.json())["status"] == "failed"

        await until(failed_everywhere)  # analytics is on a closed port: the operation fails with 503
        body = await (await second.get(f"/api/v1/operations/{op_id}", headers=auth())).json()
        assert body["error_detail"]["http_status"] == 503 and body["kind"] == "sync"
        listed = await (await second.get("/api/v1/operations", headers=auth())).json()
        assert op_id in [o["id"] for o in listed["operations"]]
        async with second.ws_connect(f"/ws/tasks/{op_id}", headers=auth()) as ws:
            message = await ws.receive_json(timeout=T)
            while message["type"] != "task_update":  # a "connected" greeting comes first
                message = await ws.receive_json(timeout=T)
        assert message["task_id"] == op_id and message["status"] == "failed"
        missing = await second.get("/api/v1/operations/op_0000000000000000", headers=auth())
        assert missing.status == 404
    finally:
        for client in clients:
            await client.close()


async def test_a_replica_shutting_down_leaves_its_operations_failed_not_running(store: UserStore) -> None:
    stream = Stream()
    async with Replica(store) as b:
        a = Replica(store)
        async with a as ops:
            op = ops.start("import", "ana", stream, "search")
            await stream.steps.put(10.0)
        # `a` closed (SIGTERM): its operation's last state was written before its pool could go away.
        stored = await b.get(op.id)
        assert stored is not None and stored.status == "failed"
        assert stored.error is not None and stored.error["status"] == "CANCELLED"


async def test_the_operations_store_down_is_a_503_naming_it(pg_url: str) -> None:
    own = await UserStore.open(await gateway_database(pg_url))
    gw = await create_gateway(unit_config(), users=own)
    client = TestClient(TestServer(build_app(gw)))
    await client.start_server()
    try:
        await own.pool.close()  # PostgreSQL gone for this replica
        for path in ("/api/v1/operations/op_0123456789abcdef", "/api/v1/operations"):
            resp = await client.get(path, headers=auth())
            assert resp.status == 503, await resp.text()
            assert "operations store (PostgreSQL) is unavailable" in (await resp.json())["message"]
        async with client.ws_connect("/ws/tasks/op_0123456789abcdef", headers=auth()) as ws:
            message = await ws.receive_json(timeout=T)
            while message["type"] != "error":
                message = await ws.receive_json(timeout=T)
        assert message["code"] == 503
    finally:
        await client.close()
