"""A private mesh for fault injection: its own PostgreSQL cluster (so restarting it disturbs no other test),
its own embedding, search, screening (API + two worker-only processes) and gateway processes.

Every process can be SIGKILLed and started again on the same port; `Observed` records what clients and
health probes saw meanwhile.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hiremesh.config import HEALTH_NAMES
from hiremesh_ops.pg import Cluster, ClusterError
from hiremesh_ops.probe import check, wait_serving
from tests.fixtures.pg import TEST_SETTINGS, create_database
from tests.fixtures.procs import ServiceProcess, free_port, start_process
from tests.fixtures.screening import FAST_QUEUE
from tests.fixtures.search import search_env


@dataclass
class Observed:
    """Statuses health probes saw for one process across an outage, and client error codes."""

    health: list[str] = field(default_factory=list)
    client_errors: list[str] = field(default_factory=list)

    def went_down_and_back(self) -> bool:
        down = next((i for i, s in enumerate(self.health) if s != "SERVING"), None)
        return down is not None and "SERVING" in self.health[down:]


@dataclass
class Stack:
    root: Path
    cluster: Cluster
    guardrail_addr: str
    model_dir: Path
    procs: dict[str, ServiceProcess] = field(default_factory=dict)
    catalog_url: str = ""
    screening_url: str = ""
    gateway_url: str = ""
    gateway_db: str = ""
    admin_token: str = ""

    # --- processes ---------------------------------------------------------------------------------
    def env_for(self, name: str) -> tuple[str, dict[str, str], list[str]]:
        """(module, environment, args) of each process of the stack."""
        addr = {n: p.addr for n, p in self.procs.items()}
        if name == "embedding":
            return "embedding_svc", {"HIREMESH_MODEL_DIR": str(self.model_dir)}, []
        if name == "search":
            return "search_svc", search_env(self.catalog_url, addr["embedding"]), []
        # A retry budget (8 attempts, 0.5 s doubling) that outlasts a dependency's restart.
        screening = {
            **FAST_QUEUE,
            "HIREMESH_SCREENING_MAX_ATTEMPTS": "8",
            "HIREMESH_SCREENING_RETRY_WAIT_S": "0.5",
            "HIREMESH_DATABASE_URL": self.screening_url,
            "HIREMESH_SEARCH_ADDR": addr["search"],
            "HIREMESH_GUARDRAIL_ADDR": self.guardrail_addr,
            "HIREMESH_EMBEDDING_ADDR": addr["embedding"],
        }
        if name == "screening":
            return "screening_svc", {**screening, "HIREMESH_SCREENING_WORKERS": "0"}, []
        if name.startswith("worker"):
            # A stage delay keeps tasks in flight long enough for the faults to land mid-task.
            return (
                "screening_svc",
                {**screening, "HIREMESH_SCREENING_WORKERS": "2", "HIREMESH_SCREENING_TEST_STAGE_DELAY_MS": "300"},
                ["--worker-only"],
            )
        assert name == "gateway"
        return (
            "gateway",
            {
                "HIREMESH_DATABASE_URL": self.gateway_db,
                "HIREMESH_HOME": str(self.root / "gateway"),
                "HIREMESH_SEARCH_ADDR": addr["search"],
                "HIREMESH_SCREENING_ADDR": addr["screening"],
                "HIREMESH_GUARDRAIL_ADDR": self.guardrail_addr,
                "HIREMESH_ANALYTICS_ADDR": f"127.0.0.1:{free_port()}",
                "HIREMESH_GATEWAY_RATE_LIMIT": "0",
            },
            [],
        )

    async def start(self, name: str, port: int | None = None) -> ServiceProcess:
        module, env, args = self.env_for(name)
        proc = start_process(module, port or free_port(), env, args)
        self.procs[name] = proc
        await self.wait_up(name)
        return proc

    async def wait_up(self, name: str, timeout: float = 180) -> None:
        proc = self.procs[name]
        try:
            if name == "gateway":
                await wait_http(f"http://127.0.0.1:{proc.port}/healthz", proc, timeout)
            else:
                await wait_serving(proc.addr, health_name(name), timeout=timeout, alive=proc.alive)
        except (TimeoutError, RuntimeError) as exc:
            proc.kill()
            raise RuntimeError(f"{name} did not come up: {exc}\n--- log ---\n{proc.log_tail()}") from None

    def sigkill(self, name: str) -> ServiceProcess:
        proc = self.procs[name]
        proc.kill()  # SIGKILL: no shutdown hooks, no goodbye to clients
        return proc

    async def restart(self, name: str) -> None:
        """Start `name` again on the port it had (what a supervisor or Kubernetes would do)."""
        await self.start(name, self.procs[name].port)

    async def restart_database(self, down_for: float = 1.0) -> None:
        await asyncio.to_thread(self.cluster.stop, "immediate")
        await asyncio.sleep(down_for)
        await asyncio.to_thread(self.cluster.start)

    async def stop_all(self) -> None:
        for proc in reversed(list(self.procs.values())):
            await proc.stop(timeout=10)


def health_name(name: str) -> str:
    if name.startswith("worker"):
        return ""
    return HEALTH_NAMES[name]


async def probe(stack: Stack, name: str) -> str:
    proc = stack.procs[name]
    if name == "gateway":
        import aiohttp

        try:
            async with (
                aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http,
                http.get(f"http://127.0.0.1:{proc.port}/healthz") as resp,
            ):
                return "SERVING" if resp.status == 200 else f"HTTP_{resp.status}"
        except (aiohttp.ClientError, TimeoutError):
            return "UNREACHABLE"
    return await check(proc.addr, health_name(name), timeout=2)


async def wait_http(url: str, proc: ServiceProcess, timeout: float) -> None:
    import aiohttp

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while loop.time() < deadline:
            if not proc.alive():
                raise RuntimeError("exited")
            try:
                async with http.get(url) as resp:
                    if resp.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(url)


async def kill_and_restart(stack: Stack, name: str, observed: Observed, downtime: float = 0.5) -> None:
    """SIGKILL `name`, record its health while down, start it again on the same port, record SERVING."""
    observed.health.append(await probe(stack, name))
    stack.sigkill(name)
    observed.health.append(await probe(stack, name))
    await asyncio.sleep(downtime)
    observed.health.append(await probe(stack, name))
    await stack.restart(name)
    observed.health.append(await probe(stack, name))


def new_cluster(root: Path) -> Cluster:
    for attempt in range(3):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        cluster = Cluster(root / "data", port, settings=TEST_SETTINGS)
        try:
            cluster.start()
            return cluster
        except ClusterError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


async def build_stack(guardrail_addr: str, model_dir: Path) -> Stack:
    root = Path(tempfile.mkdtemp(prefix="hiremesh-faults-", dir="/tmp"))
    cluster = await asyncio.to_thread(new_cluster, root)
    server = cluster.url("postgres")
    stack = Stack(root, cluster, guardrail_addr, model_dir)
    stack.catalog_url = await asyncio.to_thread(create_database, server, "catalog")
    stack.screening_url = await asyncio.to_thread(create_database, server, "screening")
    stack.gateway_db = await asyncio.to_thread(create_database, server, "gateway")
    (root / "gateway").mkdir()
    for name in ("embedding", "search", "screening", "worker1", "worker2", "gateway"):
        await stack.start(name)
    stack.admin_token = (root / "gateway" / "admin-token").read_text().strip()
    return stack


async def destroy_stack(stack: Stack) -> None:
    await stack.stop_all()
    await asyncio.to_thread(stack.cluster.stop, "immediate")
    shutil.rmtree(stack.root, ignore_errors=True)
