"""EmbeddingService over gRPC: proto ⇄ domain, nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc

from embedding_svc.batcher import MicroBatcher
from embedding_svc.bulk import BulkItem, embed_stream
from embedding_svc.model import Embedded, MiniLM
from embedding_svc.validation import check_texts
from embedding_svc.variant import Choice
from hiremesh.pending import Pending
from hiremesh.v1 import common_pb2, embedding_pb2, embedding_pb2_grpc

SERVICE_NAME = "hiremesh.v1.EmbeddingService"

_VARIANTS = {
    "fp32": embedding_pb2.MODEL_VARIANT_FP32,
    "int8": embedding_pb2.MODEL_VARIANT_INT8,
    "auto": embedding_pb2.MODEL_VARIANT_AUTO,
}


def _embedding(item: Embedded) -> embedding_pb2.Embedding:
    return embedding_pb2.Embedding(values=item.vector.tolist(), token_count=item.token_count, truncated=item.truncated)


def _remaining(context: grpc.aio.ServicerContext[Any, Any]) -> float | None:
    remaining = context.time_remaining()
    return None if remaining is None else float(remaining)


class EmbeddingServicer(embedding_pb2_grpc.EmbeddingServiceServicer):
    """Answers UNAVAILABLE until `attach` hands it a loaded, warmed model."""

    def __init__(self) -> None:
        self._loaded: Pending[tuple[MiniLM, MicroBatcher]] = Pending("embedding model is still loading")
        self._choice: Choice | None = None

    def attach(self, model: MiniLM, batcher: MicroBatcher, choice: Choice | None = None) -> None:
        self._choice = choice
        self._loaded.set((model, batcher))

    def _ready(self) -> tuple[MiniLM, MicroBatcher]:
        return self._loaded.get()

    async def Embed(
        self, request: embedding_pb2.EmbedRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> embedding_pb2.EmbedResponse:
        texts = list(request.texts)
        check_texts(texts)
        model, batcher = self._ready()
        results = await batcher.embed(texts, _remaining(context))
        return embedding_pb2.EmbedResponse(embeddings=[_embedding(r) for r in results], model=model.name)

    async def EmbedStream(
        self,
        request_iterator: AsyncIterator[embedding_pb2.EmbedStreamRequest],
        context: grpc.aio.ServicerContext[Any, Any],
    ) -> AsyncIterator[embedding_pb2.EmbedStreamResponse]:
        _model, batcher = self._ready()

        async def pairs() -> AsyncIterator[tuple[str, str]]:
            async for request in request_iterator:
                yield request.id, request.text

        async for item in embed_stream(pairs(), batcher, remaining=lambda: _remaining(context)):
            yield embedding_pb2.EmbedStreamResponse(
                index=item.index, id=item.id, embedding=_embedding(item.embedding), progress=_progress(item)
            )

    async def GetModelInfo(
        self, request: embedding_pb2.GetModelInfoRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> embedding_pb2.GetModelInfoResponse:
        model, batcher = self._ready()
        choice = self._choice
        return embedding_pb2.GetModelInfoResponse(
            name=model.name,
            variant=_VARIANTS.get(model.variant, embedding_pb2.MODEL_VARIANT_UNSPECIFIED),
            dimension=model.dimension,
            max_tokens=model.max_tokens,
            sha256=model.sha256,
            warmed=model.warmed,
            max_batch_size=batcher.max_batch_texts,
            requested_variant=_VARIANTS.get(
                choice.requested if choice else model.variant, embedding_pb2.MODEL_VARIANT_UNSPECIFIED
            ),
            variant_reason=choice.reason if choice else "",
            cpu_features=list(choice.cpu_features) if choice else [],
            int8_speedup=choice.speedup if choice else 0.0,
        )


def _progress(item: BulkItem) -> common_pb2.Progress:
    # Until the client closes its side the total is what has arrived so far.
    total = item.received
    return common_pb2.Progress(
        stage="embedding",
        done=item.done,
        total=total,
        percent=100.0 * item.done / total if total else 0.0,
        message="" if item.finished_reading else "receiving",
    )
