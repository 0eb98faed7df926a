"""`hiremesh tasks`: the durable task queue in a live terminal table; `cancel ID` / `retry ID` act on a job.

The table follows screening_svc's WatchTaskQueue stream (a fresh snapshot whenever something changes):
queue depth per priority, workers with their heartbeat and current jobs, finished jobs per minute, and the
most recent jobs with state, attempts, duration and error. `--once` prints one snapshot and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from hiremesh.clients import screening_stub
from hiremesh.config import service_addr
from hiremesh.v1 import screening_pb2 as pb
from hiremesh_ops.rpc_failure import describe

STATES = ("todo", "doing", "succeeded", "failed", "cancelled", "aborted")
_STATE_STYLE = {
    "todo": "cyan",
    "doing": "yellow",
    "succeeded": "green",
    "failed": "red",
    "cancelled": "magenta",
    "aborted": "magenta",
}
_BARS = " ▁▂▃▄▅▆▇█"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hiremesh tasks", description="watch the durable task queue")
    parser.add_argument("action", nargs="?", choices=["watch", "cancel", "retry"], default="watch")
    parser.add_argument("job_id", nargs="?", type=int, help="the queue job id (cancel, retry)")
    parser.add_argument("--addr", default=None, help="screening_svc address (default: HIREMESH_SCREENING_ADDR)")
    parser.add_argument("--queue", default="", help="only jobs of this queue (screening, mail)")
    parser.add_argument("--state", choices=STATES, default=None, help="only jobs in this state")
    parser.add_argument("--task", default="", help="only jobs of this task (screening.run, mail.deliver)")
    parser.add_argument("--limit", type=int, default=20, help="recent jobs to show (1..500)")
    parser.add_argument("--minutes", type=int, default=15, help="throughput window in minutes (1..180)")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between checks (0.5..60)")
    parser.add_argument("--once", action="store_true", help="print one snapshot and exit")
    return parser


def state_name(value: int) -> str:
    if not value:
        return ""
    return pb.QueueJobState.Name(pb.QueueJobState.ValueType(value)).removeprefix("QUEUE_JOB_STATE_").lower()


def _when(stamp: Timestamp, now: datetime) -> str:
    if not stamp.seconds and not stamp.nanos:
        return "—"
    age = (now - stamp.ToDatetime(tzinfo=UTC)).total_seconds()
    if age < 0:
        return f"in {-age:.0f}s"
    if age < 120:
        return f"{age:.0f}s ago"
    if age < 7200:
        return f"{age / 60:.0f}m ago"
    return f"{stamp.ToDatetime(tzinfo=UTC):%Y-%m-%d %H:%M}"


def _state(value: int) -> Text:
    name = state_name(value)
    return Text(name, style=_STATE_STYLE.get(name, ""))


def _sparkline(counts: list[int]) -> str:
    top = max(counts, default=0)
    if top == 0:
        return "·" * len(counts)
    return "".join(_BARS[max(1, round(c / top * (len(_BARS) - 1)))] if c else "·" for c in counts)


def render(snap: pb.TaskQueueSnapshot) -> Group:
    """The snapshot as rich tables (pure: tests render it to text)."""
    now = snap.time.ToDatetime(tzinfo=UTC) if snap.HasField("time") else datetime.now(UTC)
    depth = Table("queue", "priority", "ready", "waiting to retry", title="Queue depth", title_justify="left")
    for d in snap.depth:
        depth.add_row(d.queue, str(d.priority), str(d.ready), str(d.scheduled))
    if not snap.depth:
        depth.add_row("—", "", "0", "0")

    workers = Table("id", "name", "queues", "heartbeat", "running", title="Workers", title_justify="left")
    for w in snap.workers:
        running = ", ".join(f"{j.task_name}#{j.id}" for j in w.current_jobs) or "idle"
        beat = Text(_when(w.last_heartbeat, now), style="red" if w.stalled else "")
        workers.add_row(str(w.id), w.name or "(unnamed)", ",".join(w.queues), beat, running)
    if not snap.workers:
        workers.add_row("—", "no worker is running", "", "", "")

    minutes = snap.throughput_minutes or 15
    start = now.replace(second=0, microsecond=0).timestamp() - (minutes - 1) * 60
    per_queue: dict[str, list[list[int]]] = {}
    for t in snap.throughput:
        slot = int((t.minute.ToDatetime(tzinfo=UTC).timestamp() - start) // 60)
        if 0 <= slot < minutes:
            counts = per_queue.setdefault(t.queue, [[0] * minutes, [0] * minutes])
            counts[0][slot] += t.succeeded
            counts[1][slot] += t.failed
    rate = Table(
        "queue", f"per minute, last {minutes} min", "succeeded", "failed", title="Throughput", title_justify="left"
    )
    for queue, (ok, bad) in sorted(per_queue.items()):
        rate.add_row(queue, _sparkline([a + b for a, b in zip(ok, bad, strict=True)]), str(sum(ok)), str(sum(bad)))
    if not per_queue:
        rate.add_row("—", "·" * minutes, "0", "0")

    jobs = Table(
        "id",
        "queue",
        "task",
        "state",
        "attempts",
        "started",
        "duration",
        "error",
        title="Recent jobs",
        title_justify="left",
    )
    for j in snap.jobs:
        jobs.add_row(
            str(j.id),
            j.queue,
            j.task_name,
            _state(j.state),
            str(j.attempts),
            _when(j.started_at, now),
            f"{j.duration_ms / 1000:.2f}s" if j.duration_ms else "—",
            Text(j.error[:80], style="red") if j.error else "",
        )
    return Group(depth, workers, rate, jobs)


def _filters(args: argparse.Namespace) -> dict[str, Any]:
    state = getattr(pb, f"QUEUE_JOB_STATE_{args.state.upper()}") if args.state else 0
    return {
        "queue": args.queue,
        "state": state,
        "task_name": args.task,
        "limit": args.limit,
        "throughput_minutes": args.minutes,
    }


async def _watch(stub: Any, args: argparse.Namespace, console: Console) -> int:
    if args.once:
        reply = await stub.GetTaskQueue(pb.GetTaskQueueRequest(**_filters(args)), timeout=30)
        console.print(render(reply.snapshot))
        return 0
    request = pb.WatchTaskQueueRequest(**_filters(args), interval_s=args.interval)
    with Live(Text("waiting for the first snapshot…"), console=console, refresh_per_second=4) as live:
        async for reply in stub.WatchTaskQueue(request):
            live.update(render(reply.snapshot))
    return 0


async def _act(stub: Any, action: str, job_id: int, console: Console) -> int:
    if action == "cancel":
        job = (await stub.CancelQueueJob(pb.CancelQueueJobRequest(id=job_id), timeout=30)).job
        console.print(
            f"job {job.id} ({job.task_name}) is {state_name(job.state)}"
            + (" (stop requested)" if job.abort_requested else "")
        )
    else:
        reply = await stub.RetryQueueJob(pb.RetryQueueJobRequest(id=job_id), timeout=30)
        console.print(reply.message)
    return 0


async def _run(args: argparse.Namespace, console: Console) -> int:
    stub = screening_stub(args.addr or service_addr("screening"))  # inside the loop: grpc.aio binds to it
    if args.action == "watch":
        return await _watch(stub, args, console)
    return await _act(stub, args.action, args.job_id, console)


def tasks_command(argv: list[str]) -> int:
    """Entry point for `hiremesh tasks ...`; exit 1 with the status when a call fails."""
    args = _parser().parse_args(argv)
    if args.action in ("cancel", "retry") and args.job_id is None:
        print(f"hiremesh tasks {args.action}: give the job id", file=sys.stderr)
        return 2
    console = Console()
    try:
        return asyncio.run(_run(args, console))
    except grpc.aio.AioRpcError as exc:
        print(f"hiremesh tasks: {describe(exc, 'screening')}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
