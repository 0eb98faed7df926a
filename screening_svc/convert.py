"""Proto ⇄ domain conversions for ScreeningService, and request validation naming the bad field."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from hiremesh.errors import InvalidArgument
from hiremesh.task_vocabulary import STAGES as TASK_STAGES
from hiremesh.task_vocabulary import TASK_STATES
from hiremesh.v1 import common_pb2, screening_pb2
from screening_svc import monitor
from screening_svc.events import TaskEvent
from screening_svc.tasks import ResultRecord, TaskRecord

ENGINE_NAMES = {
    screening_pb2.ENGINE_AUTO: "auto",
    screening_pb2.ENGINE_LLM: "llm",
    screening_pb2.ENGINE_EVIDENCE: "evidence",
}
ENGINE_VALUES = {name: value for value, name in ENGINE_NAMES.items()}
# The enum value of each name of hiremesh.task_vocabulary (a name the proto lacks fails at import).
STATES = {name: screening_pb2.TaskState.Value(f"TASK_STATE_{name.upper()}") for name in TASK_STATES}
STAGES = {name: screening_pb2.ScreeningStage.Value(f"SCREENING_STAGE_{name.upper()}") for name in TASK_STAGES}
JOB_STATES = {name: getattr(screening_pb2, f"QUEUE_JOB_STATE_{name.upper()}") for name in monitor.JOB_STATES}
JOB_STATE_NAMES = {value: name for name, value in JOB_STATES.items()}
PRIORITY_RANGE = (-100, 100)
MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50


# --- validation ------------------------------------------------------------------------------------------


def uuid_field(name: str, value: str, *, required: bool = True) -> str:
    """The canonical form of a UUID field; InvalidArgument naming `name` when missing or malformed."""
    text = value.strip()
    if not text:
        if required:
            raise InvalidArgument(name, "is required")
        return ""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise InvalidArgument(name, f"not a UUID: {text[:64]!r}") from None


def engine(value: int, default: str) -> str:
    if value == screening_pb2.ENGINE_UNSPECIFIED:
        return default
    name = ENGINE_NAMES.get(pb_engine(value))
    if name is None:
        raise InvalidArgument("engine", f"unknown engine {value}")
    return name


def pb_engine(value: int) -> screening_pb2.Engine.ValueType:
    return screening_pb2.Engine.ValueType(value)


def priority(value: int) -> int:
    low, high = PRIORITY_RANGE
    if not low <= value <= high:
        raise InvalidArgument("priority", f"must be within {low}..{high}, got {value}")
    return value


def target_ids(application_id: str, candidate_id: str, job_id: str) -> tuple[str, str, str]:
    """Either an application id, or a candidate id and a job id (field named when one is missing)."""
    app = uuid_field("application_id", application_id, required=False)
    if app:
        return (
            app,
            uuid_field("candidate_id", candidate_id, required=False),
            uuid_field("job_id", job_id, required=False),
        )
    if not candidate_id.strip() and not job_id.strip():
        raise InvalidArgument("application_id", "is required (or candidate_id and job_id)")
    return "", uuid_field("candidate_id", candidate_id), uuid_field("job_id", job_id)


def page_size(value: int) -> int:
    if value < 0:
        raise InvalidArgument("page_size", f"must be >= 0, got {value}")
    return min(value or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def queue_filters(queue: str, state: int, task_name: str, limit: int, minutes: int) -> monitor.Filters:
    if state != screening_pb2.QUEUE_JOB_STATE_UNSPECIFIED and state not in JOB_STATE_NAMES:
        raise InvalidArgument("state", f"unknown queue job state {state}")
    return monitor.Filters.checked(
        queue, JOB_STATE_NAMES.get(screening_pb2.QueueJobState.ValueType(state), ""), task_name, limit, minutes
    )


def job_id(value: int) -> int:
    if value <= 0:
        raise InvalidArgument("id", f"must be a positive job id, got {value}")
    return value


# --- domain -> proto -------------------------------------------------------------------------------------


def timestamp(value: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(value)
    return stamp


def task(record: TaskRecord) -> screening_pb2.ScreeningTask:
    return screening_pb2.ScreeningTask(
        id=record.id,
        application_id=record.application_id,
        candidate_id=record.candidate_id,
        job_id=record.job_id,
        state=STATES.get(record.state, screening_pb2.TASK_STATE_UNSPECIFIED),
        stage=STAGES.get(record.stage, screening_pb2.SCREENING_STAGE_UNSPECIFIED),
        percent=record.percent,
        priority=record.priority,
        attempts=record.attempts,
        engine=ENGINE_VALUES.get(record.engine, screening_pb2.ENGINE_UNSPECIFIED),
        error=record.error,
        result_id=record.result_id,
        created_at=timestamp(record.created_at),
        updated_at=timestamp(record.updated_at),
        message=record.message,
    )


def result(record: ResultRecord) -> screening_pb2.ScreeningResult:
    out = screening_pb2.ScreeningResult(
        id=record.id,
        task_id=record.task_id,
        application_id=record.application_id,
        candidate_id=record.candidate_id,
        job_id=record.job_id,
        engine=record.engine,
        engine_version=record.engine_version,
        model=record.model,
        degraded=record.degraded,
        degraded_reason=record.degraded_reason,
        created_at=timestamp(record.created_at),
        duration_ms=record.duration_ms,
    )
    json_format.ParseDict(record.analysis, out.analysis, ignore_unknown_fields=True)
    json_format.ParseDict(record.safety, out.safety, ignore_unknown_fields=True)
    for trace in record.traces:
        try:
            json_format.ParseDict(trace, out.traces.add(), ignore_unknown_fields=True)
        except json_format.ParseError:
            # A trace an older engine stored in another shape: keep its name rather than fail the call.
            out.traces[-1].Clear()
            out.traces[-1].agent = str(trace.get("agent", "")) if isinstance(trace, dict) else ""
    return out


def event(item: TaskEvent, outcome: ResultRecord | None = None) -> screening_pb2.ScreeningEvent:
    out = screening_pb2.ScreeningEvent(
        task_id=item.task_id,
        state=STATES.get(item.state, screening_pb2.TASK_STATE_UNSPECIFIED),
        stage=STAGES.get(item.stage, screening_pb2.SCREENING_STAGE_UNSPECIFIED),
        percent=item.percent,
        message=item.message,
        time=timestamp(item.time),
        error=item.error,
    )
    if outcome is not None:
        out.result.CopyFrom(result(outcome))
    return out


def _ts_or_none(value: datetime | None) -> Timestamp | None:
    return timestamp(value) if value is not None else None


def queue_job(job: monitor.QueueJob) -> screening_pb2.QueueJob:
    return screening_pb2.QueueJob(
        id=job.id,
        queue=job.queue,
        task_name=job.task_name,
        priority=job.priority,
        state=JOB_STATES.get(job.state, screening_pb2.QUEUE_JOB_STATE_UNSPECIFIED),
        attempts=job.attempts,
        args=job.args,
        worker_id=job.worker_id or 0,
        worker_name=job.worker_name,
        deferred_at=_ts_or_none(job.deferred_at),
        started_at=_ts_or_none(job.started_at),
        finished_at=_ts_or_none(job.finished_at),
        scheduled_at=_ts_or_none(job.scheduled_at),
        duration_ms=job.duration_ms,
        error=job.error,
        kind=job.kind,
        reference_id=job.reference_id,
        abort_requested=job.abort_requested,
    )


def queue_snapshot(snap: monitor.Snapshot) -> screening_pb2.TaskQueueSnapshot:
    return screening_pb2.TaskQueueSnapshot(
        time=timestamp(snap.time),
        depth=[
            screening_pb2.QueueDepth(queue=d.queue, priority=d.priority, ready=d.ready, scheduled=d.scheduled)
            for d in snap.depth
        ],
        workers=[
            screening_pb2.QueueWorker(
                id=w.id,
                name=w.name,
                queues=w.queues,
                concurrency=w.concurrency,
                last_heartbeat=timestamp(w.last_heartbeat),
                stalled=w.stalled,
                current_jobs=[queue_job(j) for j in w.current_jobs],
            )
            for w in snap.workers
        ],
        jobs=[queue_job(j) for j in snap.jobs],
        throughput=[
            screening_pb2.ThroughputBucket(
                minute=timestamp(t.minute), queue=t.queue, succeeded=t.succeeded, failed=t.failed
            )
            for t in snap.throughput
        ],
        throughput_minutes=snap.minutes,
    )


# --- anything -> JSON object (analysis, safety report, traces from the pipeline) -------------------------


def as_json(value: Any) -> Any:
    """A JSON-able form of a protobuf message, dataclass, pydantic model, mapping or list."""
    if isinstance(value, Message):
        return json_format.MessageToDict(
            value, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
        )
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: as_json(v) for k, v in dataclasses.asdict(value).items()}
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return as_json(dump(mode="json"))
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def safety_message(data: dict[str, Any]) -> common_pb2.SafetyReport:
    report = common_pb2.SafetyReport()
    json_format.ParseDict(data, report, ignore_unknown_fields=True)
    return report
