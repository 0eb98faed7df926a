"""AnalyticsServicer: proto → Analytics call → proto; nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from analytics_svc import convert
from analytics_svc.app import Analytics, Step
from hiremesh.errors import InvalidArgument
from hiremesh.pending import Pending
from hiremesh.v1 import analytics_pb2 as pb
from hiremesh.v1 import analytics_pb2_grpc


class AnalyticsServicer(analytics_pb2_grpc.AnalyticsServiceServicer):
    """Registered before the server starts; answers UNAVAILABLE until the warehouse is attached."""

    def __init__(self) -> None:
        self._analytics: Pending[Analytics] = Pending("the analytics warehouse is still opening")

    def attach(self, analytics: Analytics) -> None:
        self._analytics.set(analytics)

    @property
    def _a(self) -> Analytics:
        return self._analytics.get()

    async def Sync(self, request: pb.SyncRequest, context: Any) -> AsyncIterator[pb.SyncResponse]:
        mode = convert.sync_mode(request)
        async for event in self._a.sync(mode):  # type: ignore[arg-type]
            yield convert.sync_event(event)

    async def GetReport(self, request: pb.GetReportRequest, context: Any) -> pb.GetReportResponse:
        if not request.name:
            raise InvalidArgument("name", "required")
        return convert.report(await self._a.report(request.name, dict(request.params)))

    async def TrainModels(self, request: pb.TrainModelsRequest, context: Any) -> AsyncIterator[pb.TrainModelsResponse]:
        async for event in self._a.train(convert.model_kinds(request)):
            if isinstance(event, Step):
                yield pb.TrainModelsResponse(
                    progress=convert.progress(event.stage, event.done, event.total, event.message)
                )
            else:
                yield pb.TrainModelsResponse(
                    progress=convert.progress("done", 1, 1, "trained"),
                    metrics=[convert.model_metrics(m) for m in event],
                )

    async def _features(self, request: pb.PredictHireRequest | pb.PredictTimeToHireRequest) -> list[float]:
        subject = request.WhichOneof("subject")
        if subject == "application_id":
            if not request.application_id:
                raise InvalidArgument("application_id", "empty")
            return await self._a.features(request.application_id, None)
        if subject == "features":
            return await self._a.features(None, convert.features(request.features))
        raise InvalidArgument("subject", "set application_id or features")

    async def PredictHire(self, request: pb.PredictHireRequest, context: Any) -> pb.PredictHireResponse:
        p = await self._a.predict_hire(await self._features(request))
        return pb.PredictHireResponse(
            probability=p.probability,
            likely_hire=p.likely_hire,
            confidence=p.confidence,
            model_version=p.model_version,
            feature_importances=p.feature_importances,
        )

    async def PredictTimeToHire(
        self, request: pb.PredictTimeToHireRequest, context: Any
    ) -> pb.PredictTimeToHireResponse:
        p = await self._a.predict_time(await self._features(request))
        return pb.PredictTimeToHireResponse(
            days=p.days,
            low_days=p.low_days,
            high_days=p.high_days,
            confidence=p.confidence,
            model_version=p.model_version,
        )

    async def ExportParquet(
        self, request: pb.ExportParquetRequest, context: Any
    ) -> AsyncIterator[pb.ExportParquetResponse]:
        async for event in self._a.export(request.folder):
            if isinstance(event, Step):
                yield pb.ExportParquetResponse(
                    progress=convert.progress(event.stage, event.done, event.total, event.message)
                )
            else:
                folder, files = event
                yield convert.exported(str(folder), files)
