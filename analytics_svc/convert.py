"""Domain objects ⇄ protobuf messages for the AnalyticsService."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from analytics_svc.etl import SyncProgress, SyncResult
from analytics_svc.export import ExportedFile
from analytics_svc.models import FEATURES, Metrics, ModelKind
from analytics_svc.reports import Report
from hiremesh.errors import InvalidArgument
from hiremesh.v1 import analytics_pb2 as pb
from hiremesh.v1 import common_pb2

_COLUMN_TYPES = {
    "int": pb.COLUMN_TYPE_INT,
    "double": pb.COLUMN_TYPE_DOUBLE,
    "string": pb.COLUMN_TYPE_STRING,
    "bool": pb.COLUMN_TYPE_BOOL,
    "timestamp": pb.COLUMN_TYPE_TIMESTAMP,
}
_MODES = {pb.SYNC_MODE_UNSPECIFIED: "incremental", pb.SYNC_MODE_INCREMENTAL: "incremental", pb.SYNC_MODE_FULL: "full"}
_KINDS: dict[int, ModelKind] = {pb.MODEL_KIND_HIRE: "hire", pb.MODEL_KIND_TIME_TO_HIRE: "time_to_hire"}
_KIND_PB: dict[ModelKind, Any] = {v: k for k, v in _KINDS.items()}


def timestamp(value: datetime | None) -> Timestamp | None:
    if value is None:
        return None
    ts = Timestamp()
    ts.FromDatetime(value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC))
    return ts


def progress(stage: str, done: int, total: int, message: str = "") -> common_pb2.Progress:
    percent = 100.0 * done / total if total > 0 else 0.0
    return common_pb2.Progress(
        stage=stage,
        done=done,
        total=total,
        percent=min(100.0, percent),
        message=message,
        time=timestamp(datetime.now(UTC)),
    )


def sync_mode(request: pb.SyncRequest) -> str:
    if request.mode not in _MODES:
        raise InvalidArgument("mode", f"unknown sync mode {request.mode}")
    return _MODES[request.mode]


def sync_event(event: SyncProgress | SyncResult) -> pb.SyncResponse:
    if isinstance(event, SyncProgress):
        return pb.SyncResponse(progress=progress(event.stage, event.done, event.total, event.message))
    mode = pb.SYNC_MODE_FULL if event.mode == "full" else pb.SYNC_MODE_INCREMENTAL
    summary = pb.SyncSummary(
        mode=mode,
        duration_ms=event.duration_ms,
        watermark=timestamp(event.watermark),
        tables=[pb.TableSync(table=t.table, rows=t.rows, duration_ms=t.duration_ms) for t in event.tables],
    )
    rows = sum(t.rows for t in event.tables)
    return pb.SyncResponse(progress=progress("done", 1, 1, f"{rows} rows"), summary=summary)


def _value(value: Any, kind: str) -> pb.ReportValue:
    if value is None:
        return pb.ReportValue(null_value=True)
    if kind == "int":
        return pb.ReportValue(int_value=int(value))
    if kind == "double":
        return pb.ReportValue(double_value=float(value))
    if kind == "bool":
        return pb.ReportValue(bool_value=bool(value))
    if kind == "timestamp":
        return pb.ReportValue(timestamp_value=timestamp(value))
    return pb.ReportValue(string_value=str(value))


def report(rep: Report) -> pb.GetReportResponse:
    return pb.GetReportResponse(
        name=rep.name,
        columns=[pb.ReportColumn(name=c.name, type=_COLUMN_TYPES[c.kind]) for c in rep.columns],
        rows=[
            pb.ReportRow(values=[_value(v, c.kind) for v, c in zip(row, rep.columns, strict=True)]) for row in rep.rows
        ],
        generated_at=timestamp(rep.generated_at),
        data_as_of=timestamp(rep.data_as_of),
    )


def model_kinds(request: pb.TrainModelsRequest) -> list[ModelKind]:
    kinds: list[ModelKind] = []
    for i, value in enumerate(request.models):
        if value not in _KINDS:
            raise InvalidArgument(f"models[{i}]", f"unknown model kind {value}")
        if _KINDS[value] not in kinds:
            kinds.append(_KINDS[value])
    return kinds


def model_metrics(m: Metrics) -> pb.ModelMetrics:
    return pb.ModelMetrics(
        kind=_KIND_PB[m.kind],
        version=m.version,
        samples=m.samples,
        accuracy=m.accuracy,
        precision=m.precision,
        recall=m.recall,
        f1=m.f1,
        cv_mean=m.cv_mean,
        cv_std=m.cv_std,
        baseline_accuracy=m.baseline_accuracy,
        mae=m.mae,
        r2=m.r2,
        baseline_mae=m.baseline_mae,
        trained_at=timestamp(m.trained_at),
        data_watermark=timestamp(m.data_watermark),
    )


def features(msg: pb.HireFeatures) -> dict[str, float]:
    return {name: float(getattr(msg, name)) for name in FEATURES}


def exported(folder: str, files: list[ExportedFile]) -> pb.ExportParquetResponse:
    return pb.ExportParquetResponse(
        progress=progress("done", len(files), len(files), folder),
        folder=folder,
        files=[pb.ExportedFile(table=f.table, path=str(f.path), rows=f.rows, bytes=f.bytes) for f in files],
    )
