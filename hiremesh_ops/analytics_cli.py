"""`hiremesh analytics sync|train|export|info`: drive analytics_svc over gRPC, with progress bars."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import grpc
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from hiremesh.clients import analytics_stub
from hiremesh.config import service_addr
from hiremesh.v1 import analytics_pb2 as pb
from hiremesh_ops.rpc_failure import describe

console = Console()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hiremesh analytics", description="analytics warehouse operations")
    parser.add_argument("--addr", default=None, help="analytics_svc address (default: HIREMESH_ANALYTICS_ADDR)")
    sub = parser.add_subparsers(dest="action", required=True)
    sync = sub.add_parser("sync", help="sync the warehouse from PostgreSQL (incremental unless --full)")
    sync.add_argument("--full", action="store_true", help="rebuild every table and swap it in atomically")
    train = sub.add_parser("train", help="train the hire and time-to-hire models")
    train.add_argument(
        "--model", choices=["hire", "time_to_hire"], action="append", help="only this model (repeatable); default both"
    )
    export = sub.add_parser("export", help="export the warehouse tables to Parquet")
    export.add_argument("--folder", default="", help="folder under $HIREMESH_HOME/exports (default: a timestamp)")
    info = sub.add_parser("info", help="summary, schedules and the last sync")
    info.add_argument("--report", default="summary", help="report name (summary, funnel, ai_performance, ...)")
    info.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="report parameter")
    return parser


def _bars() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=console,
    )


async def _stream(call: Any) -> Any:
    """Show one bar per progress stage; return the last message."""
    last = None
    tasks: dict[str, Any] = {}
    with _bars() as bars:
        async for msg in call:
            last = msg
            p = msg.progress
            if p.stage not in tasks:
                tasks[p.stage] = bars.add_task(p.stage, total=max(p.total, 1), note="")
            bars.update(tasks[p.stage], completed=p.done, total=max(p.total, p.done, 1), note=p.message[:50])
    return last


async def _sync(stub: Any, full: bool) -> int:
    mode = pb.SYNC_MODE_FULL if full else pb.SYNC_MODE_INCREMENTAL
    last = await _stream(stub.Sync(pb.SyncRequest(mode=mode), timeout=3600))
    table = Table("table", "rows", "ms", title=f"{'full' if full else 'incremental'} sync")
    for t in last.summary.tables:
        table.add_row(t.table, f"{t.rows:,}", f"{t.duration_ms:,.0f}")
    console.print(table)
    console.print(
        f"watermark {last.summary.watermark.ToDatetime():%Y-%m-%d %H:%M:%S} UTC, "
        f"{last.summary.duration_ms / 1000:.2f} s"
    )
    return 0


async def _train(stub: Any, models: list[str] | None) -> int:
    kinds = [pb.MODEL_KIND_HIRE if m == "hire" else pb.MODEL_KIND_TIME_TO_HIRE for m in models or []]
    last = await _stream(stub.TrainModels(pb.TrainModelsRequest(models=kinds), timeout=3600))
    table = Table("model", "version", "samples", "accuracy", "baseline", "f1", "cv", "MAE (days)", "baseline MAE")
    for m in last.metrics:
        hire = m.kind == pb.MODEL_KIND_HIRE
        table.add_row(
            pb.ModelKind.Name(m.kind),
            m.version,
            str(m.samples),
            f"{m.accuracy:.3f}" if hire else "",
            f"{m.baseline_accuracy:.3f}" if hire else "",
            f"{m.f1:.3f}" if hire else "",
            f"{m.cv_mean:.3f}±{m.cv_std:.3f}",
            "" if hire else f"{m.mae:.2f}",
            "" if hire else f"{m.baseline_mae:.2f}",
        )
    console.print(table)
    return 0


async def _export(stub: Any, folder: str) -> int:
    last = await _stream(stub.ExportParquet(pb.ExportParquetRequest(folder=folder), timeout=3600))
    table = Table("table", "rows", "bytes", "path", title=last.folder)
    for f in last.files:
        table.add_row(f.table, f"{f.rows:,}", f"{f.bytes:,}", f.path)
    console.print(table)
    return 0


def _cell(value: pb.ReportValue) -> str:
    kind = value.WhichOneof("kind")
    if kind in (None, "null_value"):
        return "—"
    if kind == "timestamp_value":
        return f"{value.timestamp_value.ToDatetime():%Y-%m-%d %H:%M}"
    if kind == "double_value":
        return f"{value.double_value:,.3f}"
    return str(getattr(value, kind))


async def _print_report(stub: Any, name: str, params: dict[str, str]) -> None:
    reply = await stub.GetReport(pb.GetReportRequest(name=name, params=params), timeout=30)
    table = Table(*(c.name for c in reply.columns), title=name)
    for row in reply.rows:
        table.add_row(*(_cell(v) for v in row.values))
    console.print(table)


async def _info(stub: Any, report: str, params: list[str]) -> int:
    parsed = {}
    for item in params:
        key, sep, value = item.partition("=")
        if not sep:
            console.print(f"[red]--param expects KEY=VALUE, got {item!r}")
            return 2
        parsed[key] = value
    await _print_report(stub, report, parsed)
    await _print_report(stub, "schedules", {})
    return 0


async def _run(args: argparse.Namespace) -> int:
    stub = analytics_stub(args.addr or service_addr("analytics"))
    if args.action == "sync":
        return await _sync(stub, args.full)
    if args.action == "train":
        return await _train(stub, args.model)
    if args.action == "export":
        return await _export(stub, args.folder)
    return await _info(stub, args.report, args.param)


def analytics_command(argv: list[str]) -> int:
    """Entry point for `hiremesh analytics ...`; exit 1 with the status message when the call fails."""
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except grpc.aio.AioRpcError as exc:
        print(f"hiremesh analytics: {describe(exc, 'analytics')}", file=sys.stderr)
        return 1
