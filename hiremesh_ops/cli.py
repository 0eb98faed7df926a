"""The `hiremesh` command: run the mesh, manage the embedded database, probe health."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hiremesh import config
from hiremesh.config import ConfigError

if TYPE_CHECKING:
    from hiremesh_ops.mailsink import MailSink


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hiremesh", description="hiremesh: AI recruitment as a gRPC mesh")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start the database, the five services and the gateway")
    up.add_argument("--local-llm", action="store_true", help="also serve the bundled SmolLM2 with llama.cpp")
    up.add_argument("--timeout", type=float, default=300, help="seconds each process may take to be SERVING")

    sub.add_parser("status", help="show each process of `hiremesh up` and its health")

    db = sub.add_parser("db", help="manage the embedded PostgreSQL cluster")
    db.add_argument("action", choices=["start", "stop", "status", "url"])

    probe = sub.add_parser("probe", help="exit 0 only when ADDR's health says SERVING")
    probe.add_argument("addr")
    probe.add_argument("service", nargs="?", default="")
    probe.add_argument("--timeout", type=float, default=3.0)

    from hiremesh_ops import ops_args

    ops_args.add_parsers(sub)

    for name, text in (
        ("users", "manage gateway users and tokens"),
        ("analytics", "warehouse sync, model training, export, info"),
        ("tasks", "the task queue live (depth, workers, jobs); cancel or retry a job"),
        ("secrets", "generate the deployment's secrets (service token, JWT secret, passwords)"),
    ):
        extra = sub.add_parser(name, help=text, add_help=False)
        extra.add_argument("rest", nargs=argparse.REMAINDER)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    # These own their argument parsing (incl. --help); argparse's REMAINDER would swallow a leading option.
    if argv and argv[0] in _DELEGATED:
        module, function = _DELEGATED[argv[0]]
        try:
            return _delegate(module, function, argv[1:])
        except ConfigError as exc:
            print(f"hiremesh: configuration error: {exc}", file=sys.stderr)
            return 2
    args = _parser().parse_args(argv)
    try:
        if args.command == "up":
            return asyncio.run(_up(args.local_llm, args.timeout))
        if args.command == "status":
            return asyncio.run(_status())
        if args.command == "db":
            from hiremesh_ops.db_cli import db_command

            return db_command(args.action)
        if args.command == "probe":
            return asyncio.run(_probe(args.addr, args.service, args.timeout))
        if args.command in {"seed-demo", "import", "search", "screen", "migrate"}:
            from hiremesh_ops import ops_cli

            return ops_cli.run(args)
    except ConfigError as exc:
        print(f"hiremesh: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 1


_DELEGATED = {
    "users": ("hiremesh_ops.users_cli", "users_command"),
    "analytics": ("hiremesh_ops.analytics_cli", "analytics_command"),
    "tasks": ("hiremesh_ops.tasks_cli", "tasks_command"),
    "secrets": ("hiremesh_ops.secrets_cli", "secrets_command"),
}


def _delegate(module: str, function: str, argv: list[str]) -> int:
    command = getattr(importlib.import_module(module), function)
    return int(command(argv))


async def _probe(addr: str, service: str, timeout: float) -> int:
    from hiremesh_ops.probe import check

    status = await check(addr, service, timeout=timeout)
    print(status)
    return 0 if status == "SERVING" else 1


async def _status() -> int:
    from hiremesh_ops.supervisor import Child, ChildSpec, child_health, read_state

    home = config.home()
    state = read_state(home)
    if state is None:
        print(f"hiremesh is not running (no state in {home / 'run'})")
        return 1
    print(f"supervisor pid {state['pid']}")
    worst = 0
    for name, info in state["children"].items():
        port = info["addr"].rpartition(":")[2]
        child = Child(ChildSpec(name, info["module"], int(port), info["health_service"]), Path(info["log"]), {})
        health = await child_health(child)
        alive = _pid_alive(info["pid"])
        worst = worst if health == "SERVING" and alive else 1
        print(
            f"  {name:<10} pid {info['pid']!s:<8} {'running' if alive else 'DEAD':<8} {health:<12} "
            f"{info['addr']:<18} restarts {info['restarts']}  log {info['log']}"
        )
    return worst


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _start_mail_sink(home: Path) -> MailSink | None:
    """The local SMTP server candidate e-mails go to, unless HIREMESH_SMTP_HOST names a real one."""
    from hiremesh_ops.mailsink import DEFAULT_PORT, MailSink

    if os.environ.get("HIREMESH_SMTP_HOST"):
        print(f"mail: SMTP server {os.environ['HIREMESH_SMTP_HOST']} (HIREMESH_SMTP_HOST)")
        return None
    port = config.env_int("HIREMESH_SMTP_PORT", DEFAULT_PORT, min=1, max=65535)
    sink = MailSink(home / "mail", "127.0.0.1", port)
    try:
        sink.start()
    except OSError as exc:
        raise ConfigError(
            "HIREMESH_SMTP_PORT",
            f"cannot run the local SMTP server on 127.0.0.1:{port}: {exc}; pick a free port or set HIREMESH_SMTP_HOST",
        ) from None
    print(f"mail: local SMTP server on 127.0.0.1:{port}, messages in {home / 'mail'} (Maildir)")
    return sink


async def _up(local_llm: bool, timeout: float) -> int:
    from hiremesh_ops.supervisor import Supervisor, default_specs

    home = config.home()
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    # The whole mesh runs here, analytics included: let the screening retriever use its tools.
    env.setdefault("HIREMESH_SCREENING_ANALYTICS_TOOLS", "on")
    # A developer's mesh on 127.0.0.1: grpcurl and friends may list the services (with the credential).
    env.setdefault("HIREMESH_GRPC_REFLECTION", "true")
    env["HIREMESH_HOME"] = str(home)
    from hiremesh.credentials import ensure_secret_file
    from hiremesh.service_auth import default_token_file, load_token

    if load_token() is None:  # first start: the services' shared credential, 0600 under $HIREMESH_HOME
        ensure_secret_file(default_token_file())
    for port_name in ("embedding", "search", "screening", "guardrail", "analytics", "gateway"):
        config.service_port(port_name)  # fail now, naming the variable, not in a child

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    cluster = None
    llm = None
    sink = None
    supervisor = Supervisor(home, default_specs(), env, start_timeout=timeout)
    try:
        if os.environ.get("HIREMESH_DATABASE_URL"):
            print("database: external (HIREMESH_DATABASE_URL)")
        else:
            from hiremesh_ops.pg import Cluster

            cluster = Cluster.from_env()
            await asyncio.to_thread(cluster.start)
            await asyncio.to_thread(cluster.ensure_database, "hiremesh")
            env["HIREMESH_DATABASE_URL"] = cluster.url("hiremesh")
            print(
                f"database: embedded PostgreSQL at {cluster.url('hiremesh', with_password=False)} "
                f"(password in {cluster.password_file})"
            )
        sink = _start_mail_sink(home)
        if local_llm:
            from hiremesh_ops.llm_server import LocalLLM

            llm = LocalLLM.from_env()
            await llm.start()
            env["HIREMESH_LLM_BASE_URL"] = llm.base_url
            env.setdefault("HIREMESH_LLM_MODEL", llm.model_name)
            # ~13 tokens/s on 2 cores: a shorter answer keeps two agent calls inside the screening deadline.
            env.setdefault("HIREMESH_LLM_MAX_TOKENS", "384")
            print(f"llm: local llama.cpp at {llm.base_url}")
        print(f"starting services (first start builds caches; logs in {home / 'logs'})", flush=True)
        starting = asyncio.create_task(supervisor.start())
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({starting, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if starting not in done:
            starting.cancel()
            with contextlib.suppress(BaseException):
                await starting
            return 130
        starting.result()
        gateway_port = config.service_port("gateway")
        print(f"\nhiremesh is up: http://127.0.0.1:{gateway_port}/", flush=True)
        token_file = home / "admin-token"
        if token_file.exists():
            print(f"first admin token (also in {token_file}):\n  {token_file.read_text().strip()}")
        print(f"logs: {home / 'logs'}   status: hiremesh status   stop: Ctrl-C", flush=True)
        await stopper
        return 0
    except (RuntimeError, TimeoutError, OSError) as exc:
        print(f"hiremesh up failed: {exc}", file=sys.stderr)
        return 1
    finally:
        print("stopping ...", flush=True)
        await supervisor.stop()
        if sink is not None:
            await asyncio.to_thread(sink.stop)
        if llm is not None:
            await llm.stop()
        if cluster is not None:
            await asyncio.to_thread(cluster.stop)
        print("stopped", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
