"""EmbedStream's domain half: in-order results with progress, errors after the good prefix."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
import pytest

from embedding_svc.batcher import MicroBatcher
from embedding_svc.bulk import embed_stream
from embedding_svc.model import MiniLM
from hiremesh.errors import InvalidArgument


async def _items(texts: list[str]) -> AsyncIterator[tuple[str, str]]:
    for i, text in enumerate(texts):
        yield f"id-{i}", text


async def test_stream_answers_in_order_with_progress(minilm: MiniLM) -> None:
    batcher = MicroBatcher(minilm, max_batch_texts=32)
    batcher.start()
    try:
        texts = [("short " if i % 3 else "a much longer resume paragraph " * 20) + str(i) for i in range(150)]
        out = [item async for item in embed_stream(_items(texts), batcher, chunk_size=16, in_flight=3)]
        assert [o.index for o in out] == list(range(150))
        assert [o.id for o in out] == [f"id-{i}" for i in range(150)]
        assert [o.done for o in out] == list(range(1, 151))
        assert out[-1].finished_reading and out[-1].received == 150
        expected = minilm.embed(texts[:5])
        for got, want in zip(out[:5], expected, strict=True):
            assert float(np.dot(got.embedding.vector, want.vector)) > 0.99999
    finally:
        await batcher.close()


async def test_bad_text_fails_after_the_items_before_it(minilm: MiniLM) -> None:
    batcher = MicroBatcher(minilm)
    batcher.start()
    try:
        texts = ["one", "two", "three", "   ", "five"]
        seen: list[int] = []
        with pytest.raises(InvalidArgument) as caught:
            async for item in embed_stream(_items(texts), batcher):
                seen.append(item.index)
        assert caught.value.field == "requests[3].text"
        assert seen == [0, 1, 2]
    finally:
        await batcher.close()
