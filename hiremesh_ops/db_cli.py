"""`hiremesh db start|stop|status|url`: the embedded cluster (hiremesh_ops.pg) or an external HIREMESH_DATABASE_URL."""

from __future__ import annotations

import os
import subprocess
import time

from hiremesh_ops.pg import MIN_PGVECTOR, Cluster, ClusterError, version_tuple


def _external_check(url: str) -> tuple[str, str | None]:
    """(server version, pgvector version or None when not installable) of an external server."""
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        row = conn.execute(
            "SELECT coalesce(installed_version, default_version) FROM pg_available_extensions WHERE name = 'vector'"
        ).fetchone()
    return (str(version[0]) if version else "unknown"), (str(row[0]) if row else None)


def _redact(url: str) -> str:
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        params = conninfo_to_dict(url)
    except Exception:  # not parseable: show nothing rather than a secret
        return "(unparseable HIREMESH_DATABASE_URL)"
    if params.get("password"):
        params["password"] = "***"
    return make_conninfo("", **{k: v for k, v in params.items() if v is not None})


def _external_command(action: str, url: str) -> int:
    if action == "url":
        print(url)
        return 0
    if action == "stop":
        print("HIREMESH_DATABASE_URL is set: that external server is not managed by hiremesh; nothing to stop")
        return 1
    import psycopg

    try:
        version, vector = _external_check(url)
    except psycopg.Error as exc:
        print(f"external database ({_redact(url)}) is not reachable: {str(exc).strip()}")
        return 1
    if vector is None:
        print(
            f"external PostgreSQL {version} at {_redact(url)} has no pgvector extension available; "
            "install pgvector (>= 0.7) on that server"
        )
        return 1
    if version_tuple(vector) < MIN_PGVECTOR:
        print(f"external PostgreSQL {version} has pgvector {vector}; hiremesh needs >= 0.7")
        return 1
    verb = "using" if action == "start" else "reachable:"
    print(f"{verb} external PostgreSQL {version} with pgvector {vector} at {_redact(url)} (HIREMESH_DATABASE_URL)")
    return 0


def db_command(action: str) -> int:
    """`hiremesh db start|stop|status|url`: human output on stdout, exit code 0 on success."""
    external = os.environ.get("HIREMESH_DATABASE_URL", "").strip()
    if external:
        return _external_command(action, external)
    cluster = Cluster.from_env()
    try:
        if action == "url":
            print(cluster.url("hiremesh"))
            return 0
        if action == "start":
            fresh = not cluster.initialized()
            began = time.monotonic()
            cluster.start()
            cluster.ensure_database("hiremesh")
            state = cluster.status()
            what = "initialised and started" if fresh else "running"
            print(
                f"embedded PostgreSQL {state['version']} {what} (pid {state['pid']}, port {state['port']}, "
                f"{time.monotonic() - began:.1f}s)"
            )
            print(
                f"  url:  {cluster.url('hiremesh', with_password=False)} (password in {cluster.password_file}; "
                "`hiremesh db url` prints the full URL)"
            )
            print(f"  data: {cluster.data_dir}\n  log:  {cluster.log_file}")
            return 0
        if action == "stop":
            was = cluster.status()["running"]
            cluster.stop()
            print("embedded PostgreSQL stopped" if was else "embedded PostgreSQL was not running")
            return 0
        if action == "status":
            state = cluster.status()
            if state["running"]:
                print(f"embedded PostgreSQL {state['version']}: running (pid {state['pid']}, port {state['port']})")
            else:
                init = "initialised" if state["initialized"] else "not initialised"
                print(f"embedded PostgreSQL {state['version']}: stopped ({init}, port {state['port']})")
            print(f"  pgvector: {state['pgvector']}\n  data: {state['data_dir']}\n  log:  {state['log_file']}")
            if state["running"]:
                print(f"  url:  {cluster.url('hiremesh', with_password=False)} (password in {cluster.password_file})")
            return 0 if state["running"] else 1
    except (ClusterError, OSError, subprocess.SubprocessError) as exc:
        print(f"hiremesh db {action}: {exc}")
        return 1
    except Exception as exc:  # psycopg errors from ensure_database; keep the CLI message short
        print(f"hiremesh db {action}: {type(exc).__name__}: {exc}")
        return 1
    print(f"unknown action {action!r}; expected start, stop, status or url")
    return 2
