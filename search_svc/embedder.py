"""Vectors from embedding_svc: batched (at most 256 texts per call), with a deadline on every call.

A down or slow embedding service becomes `Unavailable` naming it; writers catch that and store the row
stale, searches that need a query vector pass it on to the caller.
"""

from __future__ import annotations

import logging

import grpc
import numpy as np

from hiremesh.errors import InvalidArgument, Unavailable
from hiremesh.rpc_errors import from_rpc_error
from hiremesh.v1 import embedding_pb2, embedding_pb2_grpc
from search_svc import metrics

log = logging.getLogger("search_svc.embedder")

DIMENSION = 384
MAX_TEXTS_PER_CALL = 256
# embedding_svc refuses a text over 100 KB of UTF-8 (INVALID_ARGUMENT). Its model reads the first 256 tokens
# only (a few KB), so a longer text is cut to the limit before sending: the vector is the one the whole text
# would get, and one long resume no longer fails the import batch it is in.
MAX_TEXT_BYTES = 100 * 1024


def clip_for_embedding(text: str) -> str:
    """`text`, or its longest prefix of at most MAX_TEXT_BYTES of UTF-8 (never cutting a character)."""
    if len(text) <= MAX_TEXT_BYTES // 4:  # at most 4 bytes a character: surely under the limit
        return text
    data = text.encode("utf-8")
    return text if len(data) <= MAX_TEXT_BYTES else data[:MAX_TEXT_BYTES].decode("utf-8", "ignore")


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
            chunk = [clip_for_embedding(t) if t.strip() else "(empty)" for t in texts[start : start + self._batch]]
            out.extend(await self._call(chunk))
        return out

    async def embed_one(self, text: str) -> np.ndarray:
        return (await self.embed([text]))[0]

    async def _call(self, texts: list[str]) -> list[np.ndarray]:
        try:
            reply = await self._stub.Embed(embedding_pb2.EmbedRequest(texts=texts), timeout=self._timeout)
        except grpc.aio.AioRpcError as exc:
            metrics.EMBED_FAILURES.labels(exc.code().name).inc()
            err = from_rpc_error(exc, backend="embedding")
            if isinstance(err, InvalidArgument):
                raise InvalidArgument(
                    "text", f"embedding service refused the text: {exc.details()}", metadata=err.metadata
                ) from None
            if not isinstance(err, Unavailable):
                # Writers store a row stale on Unavailable: every failure of the embedding service is one to them.
                err = Unavailable(
                    f"embedding service unavailable ({exc.code().name}: {exc.details()})",
                    reason="BACKEND_UNAVAILABLE",
                    metadata={"backend": "embedding", **err.metadata},
                )
            raise err from None
        if len(reply.embeddings) != len(texts):
            raise Unavailable(f"embedding service returned {len(reply.embeddings)} vectors for {len(texts)} texts")
        vectors = [np.asarray(e.values, dtype=np.float32) for e in reply.embeddings]
        for vector in vectors:
            if vector.shape != (DIMENSION,):
                raise Unavailable(f"embedding service returned a {vector.shape[0]}-dim vector; expected {DIMENSION}")
        metrics.EMBEDDED_TEXTS.inc(len(texts))
        return vectors
