"""Resume parsing in worker processes, so a hostile or huge file costs a worker, never the service.

Each worker is a fresh interpreter, `python -m search_svc.parse_pool`, started by fork+exec with no Python code
between the two (nothing of the parent's gRPC state is inherited: DESIGN's "never fork after creating a
channel or server"). That is multiprocessing's `spawn` without its re-import of the parent's `__main__` in
every child, which breaks any unguarded script that parses files and costs each worker the service's own
imports. A worker sets RLIMIT_AS on itself, loads the parsers and the OCR models once, then reads one file at
a time from a socket pair. The parent hands a file to an
idle worker and waits on the pipe from a thread of its own (never on the event loop) for at most the time
limit; a worker that overruns is killed and replaced, one that dies (a parser crashing past the memory
limit) is replaced, and the caller gets InvalidArgument naming the file and the limit either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from hiremesh.errors import HiremeshError, InvalidArgument, Unavailable
from search_svc import ingest, metrics
from search_svc.formats.limits import ParseLimits

log = logging.getLogger("search_svc.parse_pool")

_START_TIMEOUT_S = 120.0  # importing the parsers and loading the OCR models on a busy machine


@dataclass(frozen=True)
class ParseJob:
    content: bytes
    media_type: str
    file_name: str
    field: str


class ResumeParser:
    """Resume bytes to ExtractedResume off the event loop (the interface Candidates and the importer use)."""

    limits: ParseLimits = ingest.DEFAULT_LIMITS
    workers: int = 1  # files it reads at the same time

    async def extract(self, job: ParseJob) -> ingest.ExtractedResume:
        raise NotImplementedError

    async def close(self) -> None:
        return None


class InlineParser(ResumeParser):
    """ingest.extract in a thread of this process: every structural limit, but no time or memory limit.
    For tests of code around parsing and for tools; the service runs ParserPool."""

    def __init__(self, limits: ParseLimits = ingest.DEFAULT_LIMITS) -> None:
        self.limits = limits

    async def extract(self, job: ParseJob) -> ingest.ExtractedResume:
        return await asyncio.to_thread(
            ingest.extract, job.content, job.media_type, job.file_name, job.field, self.limits
        )


# --- the worker process ----------------------------------------------------------------------------------


def _worker_main(fd: int) -> None:
    """Entry point of a worker: read the limits, limit itself, load everything, then parse jobs until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent decides
    conn = Connection(fd)
    limits, ocr_threads = conn.recv()
    if limits.memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    from search_svc.formats import ocr

    ocr.configure(ocr_threads)
    ingest._parsers()  # import every parser and its libraries now, not inside the first file's time limit
    import olefile  # noqa: F401
    import pypdf  # noqa: F401
    from PIL import Image  # noqa: F401

    if limits.ocr and (problem := ocr.warm_up()):
        print(f"search_svc parser worker: {problem}", file=sys.stderr, flush=True)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return  # the service went away
        if job is None:
            return
        conn.send(_run(job, limits))


def _run(job: ParseJob, limits: ParseLimits) -> tuple[Any, ...]:
    try:
        out = ingest.extract(job.content, job.media_type, job.file_name, job.field, limits)
    except InvalidArgument as exc:
        return ("invalid", exc.field, exc.message.removeprefix(f"{exc.field}: "))
    except MemoryError:
        return ("memory",)
    except Exception as exc:  # a parser bug must not look like a broken file, nor kill the worker
        if "alloc" in str(exc).lower():  # onnxruntime / OpenCV report a failed allocation as their own error
            return ("memory",)
        return ("error", f"{type(exc).__name__}: {str(exc)[:300]}")
    return ("ok", out.text, out.media_type, out.sha256)


# --- the parent side -------------------------------------------------------------------------------------

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])


class _Worker:
    """One worker process and its socket; used by one thread at a time."""

    def __init__(self, limits: ParseLimits, ocr_threads: int, number: int) -> None:
        self._limits = limits
        self._ocr_threads = ocr_threads
        self.number = number
        self.process: subprocess.Popen[bytes] | None = None
        self.conn: Connection | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self) -> None:
        ours, theirs = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH", "")) if p)
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "search_svc.parse_pool", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                env=env,
            )
        finally:
            theirs.close()
        conn = Connection(ours.detach())
        self.process, self.conn = process, conn
        conn.send((self._limits, self._ocr_threads))
        if not conn.poll(_START_TIMEOUT_S):
            self.kill()
            raise RuntimeError(f"parser worker {self.number} did not start within {_START_TIMEOUT_S:.0f}s")
        try:
            conn.recv()
        except (EOFError, OSError):
            code = process.wait(5)
            self.kill()
            raise RuntimeError(f"parser worker {self.number} exited while starting (exit code {code})") from None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.process is not None:
            with contextlib.suppress(OSError):
                self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(5)
        if self.conn is not None:
            self.conn.close()
        self.process, self.conn = None, None

    def stop(self) -> None:
        if self.conn is not None and self.process is not None and self.alive():
            with contextlib.suppress(OSError, ValueError):
                self.conn.send(None)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(2)
        self.kill()

    def run(self, job: ParseJob, timeout: float) -> tuple[Any, ...]:
        """Send one job and wait for its reply; ("timeout",) or ("died", code) when the worker fails it.

        A worker that dies under a file gets one more try on a fresh process: it may have been killed from
        outside (an operator, the OOM killer for another reason); a file that kills two workers is refused."""
        reply = self._attempt(job, timeout)
        if reply[0] == "died":
            log.warning("parser worker %d died (exit code %s); trying the file once more", self.number, reply[1])
            reply = self._attempt(job, timeout)
        return reply

    def _attempt(self, job: ParseJob, timeout: float) -> tuple[Any, ...]:
        if not self.alive():
            self.kill()
            self.start()
        assert self.conn is not None and self.process is not None
        try:
            self.conn.send(job)
            ready = self.conn.poll(timeout)
        except (OSError, ValueError):
            ready = True  # the worker is gone: recv below says so
        if not ready:
            self.kill()
            return ("timeout",)
        try:
            reply: tuple[Any, ...] = self.conn.recv()
        except (EOFError, OSError):
            code = self.process.wait(5)
            self.kill()
            return ("died", code)
        if reply[0] == "memory":
            self.kill()  # a heap that hit the limit is not worth keeping
        return reply


class ParserPool(ResumeParser):
    """`workers` parser processes; `extract` waits for an idle one (queueing is not counted in the limit)."""

    def __init__(self, limits: ParseLimits, workers: int = 2) -> None:
        self.limits = limits
        self.workers = workers
        cores = os.cpu_count() or 1
        ocr_threads = max(1, cores // workers)
        self._workers = [_Worker(limits, ocr_threads, i) for i in range(workers)]
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="parse")
        self._restarts: set[asyncio.Future[None]] = set()
        self.replaced = 0  # workers killed or lost and started again (for tests and logs)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        began = time.monotonic()
        await asyncio.gather(*(loop.run_in_executor(self._threads, w.start) for w in self._workers))
        for w in self._workers:
            self._idle.put_nowait(w)
        log.info(
            "%d parser worker(s) ready in %.1fs (memory limit %s, time limit %gs)",
            len(self._workers),
            time.monotonic() - began,
            f"{self.limits.memory_bytes // 2**20} MB" if self.limits.memory_bytes else "none",
            self.limits.timeout_s,
        )

    def worker_pids(self) -> list[int]:
        return [w.pid for w in self._workers if w.pid is not None and w.alive()]

    async def extract(self, job: ParseJob) -> ingest.ExtractedResume:
        where = f"{job.field}.content"
        if len(job.content) > self.limits.max_file_bytes:  # no need to ship it to a worker to say no
            return ingest.extract(job.content, job.media_type, job.file_name, job.field, self.limits)
        loop = asyncio.get_running_loop()
        worker = await self._idle.get()
        began = time.monotonic()
        future = loop.run_in_executor(self._threads, worker.run, job, self.limits.timeout_s)
        try:
            reply = await asyncio.shield(future)
        except asyncio.CancelledError:
            # The caller gave up; the worker is still busy with its file. It rejoins the pool when done.
            future.add_done_callback(lambda _f: self._release(worker))
            raise
        except HiremeshError:
            self._release(worker)
            raise
        except Exception as exc:  # the worker could not be (re)started
            self._release(worker)
            raise Unavailable(f"resume parser unavailable: {exc}") from None
        self._release(worker)
        metrics.PARSE_SECONDS.observe(time.monotonic() - began)
        return self._result(reply, job, where)

    def _result(self, reply: tuple[Any, ...], job: ParseJob, where: str) -> ingest.ExtractedResume:
        name = ingest.label(job.file_name)
        kind = reply[0]
        if kind == "ok":
            return ingest.ExtractedResume(text=reply[1], media_type=reply[2], sha256=reply[3])
        metrics.PARSE_FAILED.labels(kind).inc()
        if kind == "invalid":
            raise InvalidArgument(reply[1], reply[2])
        if kind == "timeout":
            self.replaced += 1
            raise InvalidArgument(
                where,
                f"{name} is over a limit: reading it took longer than the time limit of {self.limits.timeout_s:g} s",
            )
        limit = self.limits.memory_bytes // 2**20
        memory = f"the memory limit of {limit} MB" if limit else "the memory this machine has"
        if kind == "memory":
            self.replaced += 1
            raise InvalidArgument(where, f"{name} is over a limit: reading it needs more than {memory}")
        if kind == "died":
            self.replaced += 1
            raise InvalidArgument(
                where,
                f"{name}: the parser process died reading it, twice (exit code {reply[1]}): "
                f"a malformed file, or one that needs more than {memory}",
            )
        log.error("parser failed on %s: %s", name, reply[1])
        raise InvalidArgument(where, f"{name}: corrupt or unreadable file (the parser failed: {reply[1]})")

    def _release(self, worker: _Worker) -> None:
        if worker.alive():
            self._idle.put_nowait(worker)
            return
        # Killed for overrunning or lost: start its replacement off the loop, then hand it out again.
        loop = asyncio.get_running_loop()
        restart = loop.run_in_executor(self._threads, self._replace, worker)
        self._restarts.add(restart)

        def rejoin(done: asyncio.Future[None]) -> None:
            self._restarts.discard(done)
            self._idle.put_nowait(worker)

        restart.add_done_callback(rejoin)

    def _replace(self, worker: _Worker) -> None:
        try:
            worker.kill()
            worker.start()
            log.warning("parser worker %d replaced (pid %s)", worker.number, worker.pid)
        except Exception as exc:  # handed out anyway: its next job starts it again or reports the failure
            log.error("parser worker %d could not be restarted: %s", worker.number, exc)

    async def close(self) -> None:
        for restart in list(self._restarts):
            with contextlib.suppress(Exception):
                await restart
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(self._threads, w.stop) for w in self._workers), return_exceptions=True
        )
        self._threads.shutdown(wait=False, cancel_futures=True)


if __name__ == "__main__":
    _worker_main(int(sys.argv[1]))
