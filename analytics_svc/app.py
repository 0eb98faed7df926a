"""Analytics: the warehouse, its syncer, reports, models, export and schedules behind one async facade.

CPU and DuckDB work runs in a bounded thread pool so the gRPC event loop stays responsive.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from analytics_svc.config import AnalyticsConfig
from analytics_svc.etl import Mode, Syncer, SyncProgress, SyncResult
from analytics_svc.export import ExportedFile, export_tables, resolve_folder
from analytics_svc.models import HirePrediction, Metrics, ModelKind, ModelStore, TimePrediction, check_features
from analytics_svc.reports import Column, Report, run_report
from analytics_svc.schedules import Scheduler
from analytics_svc.warehouse import Warehouse

_T = TypeVar("_T")


@dataclass(frozen=True)
class Step:
    """Progress of a long operation (train/export) as the facade streams it."""

    stage: str
    done: int
    total: int
    message: str = ""


async def _drain(queue: asyncio.Queue[Step], job: asyncio.Future[Any]) -> AsyncIterator[Step]:
    """Yield the steps a worker thread reports until it finishes (its result is the caller's to await)."""
    while not job.done() or not queue.empty():
        getter: asyncio.Future[Any] = asyncio.ensure_future(queue.get())
        await asyncio.wait([getter, job], return_when=asyncio.FIRST_COMPLETED)
        if getter.done():
            yield getter.result()
        else:
            getter.cancel()


class Analytics:
    def __init__(self, cfg: AnalyticsConfig, warehouse: Warehouse) -> None:
        self.cfg = cfg
        self.warehouse = warehouse
        self.syncer = Syncer(warehouse, cfg.database_url, batch_bytes=cfg.batch_bytes)
        self.models = ModelStore(
            warehouse, cfg.models_dir, min_samples=cfg.min_train_samples, min_time_samples=cfg.min_time_samples
        )
        self.executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="analytics")
        self.scheduler: Scheduler | None = None
        self._train_lock = asyncio.Lock()

    @classmethod
    async def open(cls, cfg: AnalyticsConfig) -> Analytics:
        warehouse = await asyncio.to_thread(Warehouse.open, cfg.warehouse_path)
        app = cls(cfg, warehouse)
        await app._run(app.models.load)
        return app

    async def _run(self, fn: Callable[..., _T], *args: Any) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)

    # --- sync ------------------------------------------------------------------------------------------
    def sync(self, mode: Mode) -> AsyncIterator[SyncProgress | SyncResult]:
        return self.syncer.sync(mode)

    # --- reports ---------------------------------------------------------------------------------------
    async def report(self, name: str, params: Mapping[str, str]) -> Report:
        if name == "schedules":
            return self.schedules_report(params)
        return await self._run(run_report, self.warehouse, name, dict(params))

    def schedules_report(self, params: Mapping[str, str]) -> Report:
        from hiremesh.errors import InvalidArgument

        for key in params:
            raise InvalidArgument(f"params.{key}", "report 'schedules' takes no parameters")
        columns = [
            Column("name", "string"),
            Column("interval", "string"),
            Column("last_run", "timestamp"),
            Column("next_run", "timestamp"),
            Column("last_status", "string"),
            Column("running", "bool"),
        ]
        rows = [
            (s.schedule.name, s.schedule.spec, s.last_run, s.next_run, s.last_status, s.running)
            for s in (self.scheduler.states() if self.scheduler else [])
        ]
        return Report("schedules", columns, rows, data_as_of=self.warehouse.last_sync())

    # --- models ----------------------------------------------------------------------------------------
    async def train(self, kinds: Sequence[ModelKind]) -> AsyncIterator[Step | list[Metrics]]:
        queue: asyncio.Queue[Step] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def progress(stage: str, done: int, total: int, message: str) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, Step(stage, done, total, message))

        strict = bool(kinds)
        wanted: list[ModelKind] = list(kinds) or ["hire", "time_to_hire"]
        async with self._train_lock:
            job = loop.run_in_executor(self.executor, lambda: self.models.train(wanted, progress, strict=strict))
            async for step in _drain(queue, job):
                yield step
            yield await job

    async def features(self, application_id: str | None, values: Mapping[str, float] | None) -> list[float]:
        if application_id is not None:
            return await self._run(self.models.features_for, application_id)
        return check_features(dict(values or {}))

    async def predict_hire(self, features: list[float]) -> HirePrediction:
        return await self._run(self.models.predict_hire, features)

    async def predict_time(self, features: list[float]) -> TimePrediction:
        return await self._run(self.models.predict_time, features)

    # --- export ----------------------------------------------------------------------------------------
    async def export(self, folder: str) -> AsyncIterator[Step | tuple[Path, list[ExportedFile]]]:
        path = resolve_folder(self.cfg.exports_dir, folder)
        queue: asyncio.Queue[Step] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def progress(table: str, done: int, total: int) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, Step("exporting", done, total, table))

        job = loop.run_in_executor(self.executor, export_tables, self.warehouse, path, progress)
        async for step in _drain(queue, job):
            yield step
        yield path, await job

    # --- schedules -------------------------------------------------------------------------------------
    async def start_schedules(self) -> None:
        runs = await self._run(self._load_runs)
        run_now = set()
        if self.cfg.sync_on_start and not self.warehouse.watermarks():
            run_now.add("incremental")  # an empty warehouse: an incremental from nothing is a full load
        self.scheduler = Scheduler(
            self.cfg.schedules,
            {
                "incremental": lambda: self._sync_job("incremental"),
                "full": lambda: self._sync_job("full"),
                "train": self._train_job,
                "export": self._export_job,
            },
            runs,
            self._store_run,
            run_now=run_now,
        )
        self.scheduler.start()

    def _load_runs(self) -> dict[str, tuple[datetime, str]]:
        cur = self.warehouse.cursor()
        try:
            rows = cur.execute("SELECT name, last_run, last_status FROM _schedule_runs").fetchall()
        finally:
            cur.close()
        return {name: (last.astimezone(UTC), status) for name, last, status in rows if last is not None}

    async def _store_run(self, name: str, when: datetime, status: str) -> None:
        def store() -> None:
            cur = self.warehouse.cursor()
            try:
                cur.execute("INSERT OR REPLACE INTO _schedule_runs VALUES (?, ?, ?, ?)", [name, when, status, ""])
            finally:
                cur.close()

        await self._run(store)

    async def _sync_job(self, mode: Mode) -> str:
        result: SyncResult | None = None
        async for event in self.syncer.sync(mode):
            if isinstance(event, SyncResult):
                result = event
        assert result is not None
        return f"{sum(t.rows for t in result.tables if t.table != 'fact_applications')} rows read"

    async def _train_job(self) -> str:
        metrics: list[Metrics] = []
        async for event in self.train([]):
            if isinstance(event, list):
                metrics = event
        return ", ".join(f"{m.kind} {m.version}" for m in metrics)

    async def _export_job(self) -> str:
        async for event in self.export(""):
            if isinstance(event, tuple):
                return str(event[0])
        return ""

    async def close(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.stop()
        await self._run(self.warehouse.close)
        self.executor.shutdown(wait=False, cancel_futures=True)
