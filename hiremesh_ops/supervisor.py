"""`hiremesh up`: run the database, the five services and the gateway as supervised children.

Children start in dependency order and each must report SERVING before its dependents start; a child
that dies is restarted with exponential backoff; SIGINT/SIGTERM stops them in reverse order and then
the embedded cluster. Children get PR_SET_PDEATHSIG so a killed supervisor leaves no orphans.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import logging
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from hiremesh import config
from hiremesh_ops.probe import check

log = logging.getLogger("hiremesh.up")

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class ChildSpec:
    name: str
    module: str
    port: int
    health_service: str | None  # None: HTTP /healthz (the gateway)
    depends_on: tuple[str, ...] = ()
    args: tuple[str, ...] = ()


@dataclass
class Child:
    spec: ChildSpec
    log_path: Path
    env: dict[str, str]
    proc: asyncio.subprocess.Process | None = None
    restarts: int = 0
    started_at: float = 0.0
    watcher: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def addr(self) -> str:
        return f"127.0.0.1:{self.spec.port}"

    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None


def default_specs() -> list[ChildSpec]:
    port = config.service_port
    return [
        ChildSpec("embedding", "embedding_svc", port("embedding"), config.HEALTH_NAMES["embedding"]),
        ChildSpec("guardrail", "guardrail_svc", port("guardrail"), config.HEALTH_NAMES["guardrail"]),
        ChildSpec("search", "search_svc", port("search"), config.HEALTH_NAMES["search"], ("embedding",)),
        ChildSpec("analytics", "analytics_svc", port("analytics"), config.HEALTH_NAMES["analytics"]),
        ChildSpec(
            "screening", "screening_svc", port("screening"), config.HEALTH_NAMES["screening"], ("search", "guardrail")
        ),
        ChildSpec(
            "gateway", "gateway", port("gateway"), None, ("embedding", "guardrail", "search", "analytics", "screening")
        ),
    ]


async def child_health(child: Child, timeout: float = 2.0) -> str:
    if child.spec.health_service is None:
        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http,
                http.get(f"http://{child.addr}/healthz") as resp,
            ):
                return "SERVING" if resp.status == 200 else f"HTTP {resp.status}"
        except (aiohttp.ClientError, TimeoutError):
            return "UNREACHABLE"
    return await check(child.addr, child.spec.health_service, timeout=timeout)


class Supervisor:
    """Starts, watches, restarts and stops the mesh's processes."""

    def __init__(self, home: Path, specs: list[ChildSpec], env: dict[str, str], start_timeout: float = 300) -> None:
        self.home = home
        self.logs = home / "logs"
        self.specs = specs
        self.env = env
        self.start_timeout = start_timeout
        self.children: dict[str, Child] = {}
        self._stopping = False

    async def _spawn(self, child: Child) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        # closed below; the child keeps its own descriptor
        out = await asyncio.to_thread(open, child.log_path, "ab")
        try:
            child.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                child.spec.module,
                *child.spec.args,
                env=child.env,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        finally:
            out.close()
        child.started_at = time.monotonic()
        self._write_state()

    async def _wait_serving(self, child: Child) -> None:
        deadline = time.monotonic() + self.start_timeout
        status = "UNREACHABLE"
        while time.monotonic() < deadline:
            if not child.alive():
                raise RuntimeError(
                    f"{child.spec.name} exited with {child.proc.returncode if child.proc else '?'} "
                    f"while starting; see {child.log_path}"
                )
            status = await child_health(child)
            if status == "SERVING":
                return
            await asyncio.sleep(0.25)
        raise TimeoutError(
            f"{child.spec.name} not SERVING after {self.start_timeout:.0f}s (last {status}); see {child.log_path}"
        )

    async def start(self) -> None:
        """Start every child, each after its dependencies are SERVING; independent ones in parallel."""
        for spec in self.specs:
            env = {**self.env, f"HIREMESH_{spec.name.upper()}_PORT": str(spec.port), "PYTHONUNBUFFERED": "1"}
            self.children[spec.name] = Child(spec, self.logs / f"{spec.name}.log", env)
        started: dict[str, asyncio.Task[None]] = {}

        async def bring_up(name: str) -> None:
            child = self.children[name]
            for dep in child.spec.depends_on:
                await started[dep]
            await self._spawn(child)
            await self._wait_serving(child)
            print(f"  {name:<10} SERVING  {child.addr}  (pid {child.proc.pid if child.proc else '?'})", flush=True)
            child.watcher = asyncio.create_task(self._watch(child))

        for spec in self.specs:
            started[spec.name] = asyncio.create_task(bring_up(spec.name))
        try:
            await asyncio.gather(*started.values())
        except BaseException:
            for task in started.values():
                task.cancel()
            raise

    async def _watch(self, child: Child) -> None:
        """Restart a child that exits unexpectedly, backing off 1, 2, 4 ... 30 s."""
        backoff = 1.0
        while not self._stopping:
            assert child.proc is not None
            code = await child.proc.wait()
            if self._stopping:
                return
            if time.monotonic() - child.started_at > 60:
                backoff = 1.0  # it ran fine for a while: this is a fresh failure
            log.warning(
                "%s exited with %s; restarting in %.0fs (see %s)", child.spec.name, code, backoff, child.log_path
            )
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
            if self._stopping:
                return
            child.restarts += 1
            await self._spawn(child)

    async def stop(self, grace: float = 10.0) -> None:
        """Stop children in reverse dependency order: SIGTERM, then SIGKILL after `grace`."""
        self._stopping = True
        for spec in reversed(self.specs):
            child = self.children.get(spec.name)
            if child is None:
                continue
            if child.watcher is not None:
                child.watcher.cancel()
            if child.alive() and child.proc is not None:
                child.proc.terminate()
                try:
                    await asyncio.wait_for(child.proc.wait(), grace)
                except TimeoutError:
                    child.proc.kill()
                    await child.proc.wait()
        with contextlib.suppress(FileNotFoundError):
            (self.home / "run" / "up.json").unlink()

    def _write_state(self) -> None:
        state: dict[str, Any] = {"pid": os.getpid(), "children": {}}
        for name, child in self.children.items():
            state["children"][name] = {
                "pid": child.proc.pid if child.proc else None,
                "addr": child.addr,
                "module": child.spec.module,
                "health_service": child.spec.health_service,
                "log": str(child.log_path),
                "restarts": child.restarts,
            }
        run_dir = self.home / "run"
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "up.json").write_text(json.dumps(state, indent=2))


def read_state(home: Path) -> dict[str, Any] | None:
    try:
        state: dict[str, Any] = json.loads((home / "run" / "up.json").read_text())
    except (OSError, ValueError):
        return None
    return state
