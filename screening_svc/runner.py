"""One screening from start to stored result: pipeline stages, guardrails, progress, persistence.

Shared by the synchronous `Screen` RPC and the queue's job body, so both report the same stages
(retrieving → analyzing ‖ interviewing → guarding → done) and store results the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from hiremesh.errors import Cancelled
from hiremesh.v1 import common_pb2
from screening_svc import metrics
from screening_svc.config import ScreeningConfig
from screening_svc.convert import as_json
from screening_svc.events import TaskEvent
from screening_svc.score_check import CODE as SCORE_GAP_CODE
from screening_svc.score_check import FIELD as SCORE_GAP_FIELD
from screening_svc.score_check import ScoreGap
from screening_svc.targets import Target
from screening_svc.tasks import NewResult, ResultRecord, TaskRecord, TaskStore

if TYPE_CHECKING:  # the pipeline loads the engines (openai and more): __main__ imports it once it wires them
    from screening_svc.pipeline import OnQuestions, OnStage, PipelineOutcome

log = logging.getLogger("screening_svc.runner")

# Where each stage starts, in percent; the pipeline may pass its own figure.
STAGE_PERCENT = {
    "queued": 0.0,
    "retrieving": 5.0,
    "analyzing": 30.0,
    "interviewing": 55.0,
    "guarding": 85.0,
    "done": 100.0,
}
UNCHECKED_SUMMARY = "Safety check could not run: guardrail_svc was unavailable ({reason}). Review manually."

# Records a stage; returns False when the work should stop (its task was cancelled).
Progress = Callable[[str, float, str], Awaitable[bool]]
# One event of a synchronous screening, with the stored result on the last one.
LiveEvent = tuple[TaskEvent, ResultRecord | None]


class PipelineRunner(Protocol):
    """What screening_svc.pipeline.Pipeline offers (see that module)."""

    async def run(
        self, candidate_id: str, job_id: str, engine: str, on_stage: OnStage, on_questions: OnQuestions | None = None
    ) -> PipelineOutcome: ...


class Guard(Protocol):
    """The safety checks of a pipeline's output (guardrail_svc in production: screening_svc.adapters)."""

    async def check(self, outcome: PipelineOutcome, expected_questions: int = 0) -> common_pb2.SafetyReport:
        """PII, bias and toxicity findings and validation issues of the analysis; raises when it cannot run."""
        ...

    async def scan_questions(self, questions: list[dict[str, Any]]) -> bool:
        """Scan interview questions ahead of the whole result (warms the checker's cache); False if it failed."""
        ...


class TaskRequeued(Exception):
    """Stall recovery handed this running task back to the queue (e.g. heartbeats lost in a DB restart)."""


class TaskCancelled(Exception):
    """The task this run belongs to was cancelled; stop without storing anything."""


def unchecked_report(reason: str) -> common_pb2.SafetyReport:
    """The safety report kept with a result when guardrail_svc could not be asked."""
    return common_pb2.SafetyReport(
        summary=UNCHECKED_SUMMARY.format(reason=reason[:300]),
        has_issues=True,
        validation=[
            common_pb2.ValidationIssue(
                field="safety",
                code="GUARDRAIL_UNAVAILABLE",
                severity=common_pb2.SEVERITY_MEDIUM,
                message="PII, bias and toxicity checks did not run; the result is stored unchecked",
            )
        ],
    )


def flag_score_gap(report: common_pb2.SafetyReport, gap: ScoreGap | None) -> None:
    """Add the SCORE_GAP issue of `gap` to `report` (and mark the report as having issues)."""
    if gap is None:
        return
    report.validation.append(
        common_pb2.ValidationIssue(
            field=SCORE_GAP_FIELD, code=SCORE_GAP_CODE, severity=common_pb2.SEVERITY_HIGH, message=gap.message
        )
    )
    report.has_issues = True
    note = "Score cross-check: " + gap.message + "."
    report.summary = f"{report.summary} {note}".strip() if report.summary else note


class Screener:
    """Runs the agent pipeline for one target, guards its output and builds the result to store."""

    def __init__(self, cfg: ScreeningConfig, pipeline: PipelineRunner, guard: Guard, store: TaskStore) -> None:
        self._cfg = cfg
        self._pipeline = pipeline
        self._guard = guard
        self._store = store

    async def screen(self, target: Target, engine: str, progress: Progress) -> NewResult:
        """Run every stage, reporting each through `progress`; raises TaskCancelled if it says stop."""
        started = time.perf_counter()
        reached = 0.0

        async def on_stage(stage: str, percent: float | None = None, message: str = "") -> None:
            nonlocal reached
            # Analyzer and interviewer run in parallel: never let the bar move backwards.
            reached = max(reached, STAGE_PERCENT.get(stage, reached) if percent is None else float(percent))
            if not await progress(stage, reached, message or stage):
                raise TaskCancelled(stage)

        early: list[asyncio.Task[bool]] = []

        def scan_early(questions: list[dict[str, Any]]) -> None:
            if self._cfg.early_scan:
                early.append(asyncio.create_task(self._scan_early(questions)))

        try:
            outcome = await self._pipeline.run(
                target.candidate_id, target.job_id, engine, on_stage, on_questions=scan_early
            )
            await on_stage("guarding", None, "checking the analysis for PII, bias and toxicity")
        except BaseException:
            for task in early:
                task.cancel()
            raise
        guard_started = time.perf_counter()
        guard_at = datetime.now(UTC)
        # Still running: let it finish rather than scan the questions twice.
        early_ok = all(await asyncio.gather(*early)) if early else False
        report, checked = await self._safety(outcome)
        # The LLM-vs-evidence score check stands even when guardrail_svc could not be asked.
        flag_score_gap(report, outcome.score_issue)
        guard_ms = (time.perf_counter() - guard_started) * 1000
        traces = as_json(outcome.traces)
        context = as_json(outcome.context)
        if context and traces and traces[0].get("agent") == "retriever":
            traces[0]["context"] = context
        calls = ["GuardrailService.Scan", "GuardrailService.ValidateOutput"]
        if early:
            calls.insert(
                0,
                "GuardrailService.Scan (the interviewer's questions, while the analyzer ran)"
                + ("" if early_ok else " (failed; scanned with the rest)"),
            )
        traces.append(
            {
                "agent": "guardrail",
                "duration_ms": guard_ms,
                "started_at": guard_at.isoformat(),
                "tool_calls": calls,
                "error": "" if checked else report.summary,
            }
        )
        analysis = as_json(outcome.analysis)
        toxicity = report.toxicity.score if report.HasField("toxicity") else 0.0
        return NewResult(
            candidate_id=target.candidate_id,
            job_id=target.job_id,
            application_id=target.application_id,
            engine=outcome.engine,
            engine_version=outcome.engine_version,
            model=outcome.model,
            analysis=analysis,
            degraded=outcome.degraded,
            degraded_reason=outcome.reason,
            safety=as_json(report),
            safety_checked=checked,
            pii_count=len(report.pii),
            bias_count=len(report.bias),
            toxicity_score=float(toxicity),
            has_safety_issues=bool(report.has_issues),
            traces=traces,
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    async def _scan_early(self, questions: list[dict[str, Any]]) -> bool:
        # Only warms guardrail_svc's findings cache: the questions are scanned again, from the cache, with the
        # whole result at the guarding stage, so any failure here costs nothing but the saved time.
        try:
            return await self._guard.scan_questions(questions)
        except Exception:  # never fails a screening: the guarding stage scans everything anyway
            log.debug("early scan of the interview questions failed", exc_info=True)
            return False

    async def _safety(self, outcome: PipelineOutcome) -> tuple[common_pb2.SafetyReport, bool]:
        try:
            report = await self._guard.check(outcome)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Never lose a screening because the safety service is down: keep it, flagged as unchecked.
            text = str(exc)
            log.warning("guardrail check failed (%s); storing the result unchecked", text)
            metrics.GUARDRAIL_UNCHECKED.inc()
            return unchecked_report(text or type(exc).__name__), False
        checked = not any(issue.code == "GUARDRAIL_UNAVAILABLE" for issue in report.validation)
        if not checked:
            metrics.GUARDRAIL_UNCHECKED.inc()
        return report, checked

    # --- the two callers ---------------------------------------------------------------------------------

    async def run_task(self, task: TaskRecord) -> None:
        """A queued task's attempt: progress persisted and NOTIFY'd, result stored with the success."""

        async def progress(stage: str, percent: float, message: str) -> bool:
            return await self._store.progress(task.id, stage, percent, message)

        started = time.perf_counter()
        target = Target(task.candidate_id, task.job_id, task.application_id)
        try:
            result = await self.screen(target, task.engine, progress)
        except TaskCancelled:
            await self._raise_if_requeued(task.id)
            log.info("task %s cancelled during %s", task.id, "screening")
            return
        done = await self._store.complete(task.id, result)
        if done is None:
            await self._raise_if_requeued(task.id)
            log.info("task %s stopped running before its result was stored; dropped", task.id)
            return
        metrics.TASKS_FINISHED.labels("succeeded").inc()
        metrics.TASK_DURATION.observe(time.perf_counter() - started)

    async def _raise_if_requeued(self, task_id: str) -> None:
        # "Not running any more" means cancelled, unless stall recovery re-queued it: then ending this job as a
        # success would leave the task queued with no job to run it, so the attempt must be retried instead.
        if (await self._store.get(task_id)).state == "queued":
            raise TaskRequeued(f"task {task_id} was requeued while running")

    async def run_now(self, target: Target, engine: str, progress: Progress) -> ResultRecord:
        """A synchronous screening (no task): stages streamed by `progress`, result upserted."""
        try:
            result = await self.screen(target, engine, progress)
        except TaskCancelled:
            raise Cancelled("screening cancelled by the caller") from None
        return await self._store.save_result(result)

    async def stream_now(self, target: Target, engine: str) -> AsyncGenerator[LiveEvent, None]:
        """`run_now` as a stream: a running event per stage as it is reached, then the succeeded event with the
        stored result. The screening's error is raised after the events before it; closing the stream early
        cancels the screening."""
        events: asyncio.Queue[TaskEvent] = asyncio.Queue()
        version = 0

        async def progress(stage: str, percent: float, message: str) -> bool:
            nonlocal version
            version += 1
            events.put_nowait(TaskEvent("", version, "running", stage, percent, message, "", "", datetime.now(UTC)))
            return True

        work = asyncio.create_task(self.run_now(target, engine, progress))
        try:
            while not (work.done() and events.empty()):
                getter = asyncio.ensure_future(events.get())
                await asyncio.wait({getter, work}, return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    yield getter.result(), None
                else:
                    getter.cancel()
            stored = work.result()  # raises the screening's error
        finally:
            if not work.done():
                work.cancel()
                with contextlib.suppress(BaseException):
                    await work
        yield TaskEvent("", version + 1, "succeeded", "done", 100.0, "done", "", stored.id, datetime.now(UTC)), stored
