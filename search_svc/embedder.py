"""Vectors from embedding_svc: batched (at most 256 texts per call), with a deadline on every call.

A down or slow embedding service becomes `Unavailable` naming it; writers catch that and store the row
stale, searches that need a query vector pass it on to the caller.
"""

from __future__ import annotations

import logging

import grpc
import numpy as np

from hiremesh.errors import InvalidArgument, Unavailable
from hiremesh.v1 import embedding_pb2, embedding_pb2_grpc
from search_svc import metrics

log = logging.getLogger("search_svc.embedder")

DIMENSION = 384
MAX_TEXTS_PER_CALL = 256


class Embedder:
    """Turns texts into L2-normalised float32 vectors through EmbeddingService.Embed."""

    def __init__(self, stub: embedding_pb2_grpc.EmbeddingServiceAsyncStub, *, timeout: float, batch: int) -> None:
        self._stub = stub
        self._timeout = timeout
        self._batch = max(1, min(batch, MAX_TEXTS_PER_CALL))

    async def embed(self, texts: list[str]) -> list[np.ndarray]:
        """One vector per text, in order; raises Unavailable when the service cannot answer."""
        out: list[np.ndarray] = []
        for start in range(0, len(texts), self._batch):
            chunk = [t if t.strip() else "(empty)" for t in texts[start:start + self._batch]]
            out.extend(await self._call(chunk))
        return out

    async def embed_one(self, text: str) -> np.ndarray:
        return (await self.embed([text]))[0]

    async def _call(self, texts: list[str]) -> list[np.ndarray]:
        try:
            reply = await self._stub.Embed(embedding_pb2.EmbedRequest(texts=texts), timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            metrics.EMBED_FAILURES.labels(exc.code().name).inc()
            if exc.code() == grpc.StatusCode.INVALID_ARGUMENT:
                raise InvalidArgument("text", f"embedding service refused the text: {exc.details()}") from None
            raise Unavailable(f"embedding service unavailable ({exc.code().name}: {exc.details()})") from None
        if len(reply.embeddings) != len(texts):
            raise Unavailable(f"embedding service returned {len(reply.embeddings)} vectors for {len(texts)} texts")
        vectors = [np.asarray(e.values, dtype=np.float32) for e in reply.embeddings]
        for vector in vectors:
            if vector.shape != (DIMENSION,):
                raise Unavailable(f"embedding service returned a {vector.shape[0]}-dim vector; expected {DIMENSION}")
        metrics.EMBEDDED_TEXTS.inc(len(texts))
        return vectors
