"""Migrations and the connection pool against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import socket
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

from hiremesh.db import MigrationError, migrate, open_pool, wait_for_db
from hiremesh.errors import FailedPrecondition, Unavailable
from tests.fixtures.pg import database_url, drop_database

REPO = Path(__file__).resolve().parents[2]


def _dead_url() -> str:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    # Neither file can run twice: a second CREATE TABLE fails, a second INSERT doubles the row.
    _write(
        folder,
        "0001_things.sql",
        "CREATE SCHEMA IF NOT EXISTS demo;\n"
        "CREATE TABLE demo.things (id int PRIMARY KEY, v vector(3));\n"
        "CREATE TABLE demo.ran (file text);\n"
        "INSERT INTO demo.ran VALUES ('0001');\n",
    )
    _write(
        folder,
        "0002_more.sql",
        "ALTER TABLE demo.things ADD COLUMN label text NOT NULL DEFAULT '100%';\n"
        "INSERT INTO demo.ran VALUES ('0002');\n",
    )
    _write(folder, "README.txt", "not a migration")
    return folder


async def _recorded(url: str, schema: str) -> list[str]:
    async with await psycopg.AsyncConnection.connect(url) as conn:
        cur = await conn.execute(
            "SELECT name FROM public.hiremesh_migrations WHERE schema = %s ORDER BY name", (schema,)
        )
        return [row[0] for row in await cur.fetchall()]


async def test_migrate_applies_files_in_order_once(fresh_db_url: str, migrations: Path) -> None:
    assert await migrate(fresh_db_url, "demo", migrations) == ["0001_things.sql", "0002_more.sql"]
    assert await migrate(fresh_db_url, "demo", migrations) == []
    _write(
        migrations,
        "0003_index.sql",
        "CREATE INDEX ON demo.things USING hnsw (v vector_cosine_ops);\nINSERT INTO demo.ran VALUES ('0003');\n",
    )
    assert await migrate(fresh_db_url, "demo", migrations) == ["0003_index.sql"]
    async with await psycopg.AsyncConnection.connect(fresh_db_url) as conn:
        ran = await (await conn.execute("SELECT file FROM demo.ran")).fetchall()
    assert ran == [("0001",), ("0002",), ("0003",)]
    assert await _recorded(fresh_db_url, "demo") == ["0001_things.sql", "0002_more.sql", "0003_index.sql"]


async def test_concurrent_migrate_calls_apply_each_file_once(fresh_db_url: str, migrations: Path) -> None:
    results = await asyncio.gather(*(migrate(fresh_db_url, "demo", migrations) for _ in range(3)))
    assert sorted(results, key=len) == [[], [], ["0001_things.sql", "0002_more.sql"]]
    async with await psycopg.AsyncConnection.connect(fresh_db_url) as conn:
        ran = await (await conn.execute("SELECT file FROM demo.ran ORDER BY file")).fetchall()
        rows = await (await conn.execute("SELECT count(*) FROM public.hiremesh_migrations")).fetchone()
    assert ran == [("0001",), ("0002",)]
    assert rows == (2,)


async def test_the_real_service_schemas_migrate_side_by_side(fresh_db_url: str) -> None:
    folders = {
        "catalog": REPO / "search_svc" / "migrations",
        "screening": REPO / "screening_svc" / "migrations",
        "auth": REPO / "gateway" / "migrations",
    }
    applied = await asyncio.gather(*(migrate(fresh_db_url, schema, folder) for schema, folder in folders.items()))
    for (schema, folder), names in zip(folders.items(), applied, strict=True):
        assert names == sorted(p.name for p in folder.glob("[0-9][0-9][0-9][0-9]_*.sql")), schema
        assert await _recorded(fresh_db_url, schema) == names


async def test_an_edited_applied_migration_is_refused(fresh_db_url: str, migrations: Path) -> None:
    await migrate(fresh_db_url, "demo", migrations)
    edited = migrations / "0001_things.sql"
    edited.write_text(edited.read_text() + "-- an innocent-looking edit\n")
    _write(migrations, "0003_next.sql", "INSERT INTO demo.ran VALUES ('0003');\n")
    with pytest.raises(MigrationError, match=r"demo/0001_things\.sql .*edited after it was applied") as caught:
        await migrate(fresh_db_url, "demo", migrations)
    assert isinstance(caught.value, FailedPrecondition)
    assert await _recorded(fresh_db_url, "demo") == ["0001_things.sql", "0002_more.sql"]  # 0003 not applied


async def test_a_failing_migration_is_rolled_back_and_not_recorded(fresh_db_url: str, migrations: Path) -> None:
    _write(migrations, "0003_broken.sql", "CREATE TABLE demo.half (id int);\nSELECT no_such_function();\n")
    with pytest.raises(MigrationError, match=r"0003_broken\.sql"):
        await migrate(fresh_db_url, "demo", migrations)
    assert await _recorded(fresh_db_url, "demo") == ["0001_things.sql", "0002_more.sql"]
    async with await psycopg.AsyncConnection.connect(fresh_db_url) as conn:
        half = await (await conn.execute("SELECT to_regclass('demo.half')")).fetchone()
    assert half == (None,)


async def test_duplicate_migration_numbers_are_refused(fresh_db_url: str, migrations: Path) -> None:
    _write(migrations, "0002_other.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match="two migrations numbered 0002"):
        await migrate(fresh_db_url, "demo", migrations)


async def test_pool_round_trips_vectors_in_autocommit(fresh_db_url: str) -> None:
    pool = await open_pool(fresh_db_url, min_size=2, max_size=4)
    try:
        async with pool.connection() as conn:
            assert conn.autocommit
            await conn.execute("CREATE TABLE v (id int, e vector(3))")
            await conn.execute("INSERT INTO v VALUES (1, %s)", (np.array([0.5, 1.0, 2.0], dtype=np.float32),))
            row = await (await conn.execute("SELECT e FROM v")).fetchone()
            assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert row is not None
        assert np.allclose(row[0].to_numpy(), [0.5, 1.0, 2.0])
    finally:
        await pool.close()


async def test_pool_works_on_a_database_without_pgvector(pg_url: str) -> None:
    name = f"novector_{uuid.uuid4().hex[:10]}"
    async with await psycopg.AsyncConnection.connect(pg_url, autocommit=True) as conn:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    url = database_url(pg_url, name)
    try:
        pool = await open_pool(url, min_size=1, max_size=2)
        async with pool.connection() as conn:
            assert await (await conn.execute("SELECT 42")).fetchone() == (42,)
        await pool.close()
    finally:
        drop_database(pg_url, url)


async def test_a_down_database_is_unavailable() -> None:
    url = _dead_url()
    with pytest.raises(Unavailable, match=r"127\.0\.0\.1:\d+/postgres"):
        await open_pool(url, timeout=0.5)
    with pytest.raises(Unavailable):
        await wait_for_db(url, timeout=0.3)
    with pytest.raises(Unavailable, match="unavailable"):
        await migrate(url, "demo", REPO / "gateway" / "migrations")


async def test_wait_for_db_returns_once_the_database_answers(pg_url: str) -> None:
    await wait_for_db(pg_url, timeout=5)


async def _backend_pids(pool: Any) -> set[int]:
    pids = set()
    conns = [await pool.getconn() for _ in range(pool.max_size)]
    for conn in conns:
        pids.add((await (await conn.execute("SELECT pg_backend_pid()")).fetchone())[0])
    for conn in conns:
        await pool.putconn(conn)
    return pids


async def test_connections_the_server_closed_are_replaced_before_use(fresh_db_url: str) -> None:
    # What a database restart does to a pool: every idle connection is closed by the server. No caller may see
    # the broken ones; the checkout check finds them without a query on the healthy path.
    pool = await open_pool(fresh_db_url, min_size=3, max_size=3)
    try:
        old = await _backend_pids(pool)
        assert len(old) == 3
        async with await psycopg.AsyncConnection.connect(fresh_db_url, autocommit=True) as admin:
            await admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) pid", (sorted(old),))
            for _ in range(100):  # terminate only signals: wait until the backends are gone
                left = await (
                    await admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (sorted(old),))
                ).fetchone()
                if left == (0,):
                    break
                await asyncio.sleep(0.05)
        for _ in range(6):
            async with pool.connection() as conn:
                row = await (await conn.execute("SELECT pg_backend_pid()")).fetchone()
                assert row is not None and row[0] not in old
        assert pool.get_stats()["connections_lost"] == 3
    finally:
        await pool.close()


async def test_checking_out_a_healthy_connection_costs_no_round_trip(fresh_db_url: str, tmp_path: Path) -> None:
    pool = await open_pool(fresh_db_url, min_size=1, max_size=1)
    try:
        trace = tmp_path / "libpq.trace"
        with trace.open("w") as out:
            async with pool.connection() as conn:
                conn.pgconn.trace(out.fileno())
            async with pool.connection() as again:  # the same, now idle, connection
                assert again is conn
                out.flush()
                before = trace.read_text()
                await again.execute("SELECT 1")
            conn.pgconn.untrace()
        assert before == ""  # nothing went over the wire for the checkout and its check
        assert "SELECT 1" in trace.read_text()  # while the trace did see the query itself
    finally:
        await pool.close()
