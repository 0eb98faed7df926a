"""Micro-batching: callers share model runs yet each gets its own vectors; deadlines, cancels, back-pressure."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import numpy as np
import pytest

from embedding_svc import metrics
from embedding_svc.batcher import MicroBatcher
from embedding_svc.model import Embedded, MiniLM
from hiremesh.errors import DeadlineExceeded, ResourceExhausted, Unavailable


class GatedEmbedder:
    """Holds every model run until the test opens the gate, so queue states are reached deterministically.

    Its vector encodes the text's length, enough to check that answers reach the right caller.
    """

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.running = threading.Event()
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> list[Embedded]:
        self.calls.append(list(texts))
        self.running.set()
        self.gate.wait(30)
        return [Embedded(np.full(4, float(len(t)), dtype=np.float32), len(t), False) for t in texts]


def _dropped(reason: str) -> float:
    return float(metrics.DROPPED.labels(reason)._value.get())  # the child's private value is untyped


async def test_32_concurrent_callers_each_get_their_own_vectors(minilm: MiniLM) -> None:
    batcher = MicroBatcher(minilm, max_batch_texts=64, max_wait=0.01)
    batcher.start()
    try:
        texts = [
            f"candidate {i} knows {skill}"
            for i, skill in enumerate(
                ["Python", "Rust", "nursing", "accounting", "welding", "French", "Kubernetes", "marketing"] * 4
            )
        ]
        runs_before = metrics.BATCH_SIZE._sum.get()
        answers = await asyncio.gather(*[batcher.embed([t]) for t in texts])
        expected = minilm.embed(texts)
        for got, want in zip(answers, expected, strict=True):
            assert len(got) == 1
            assert float(np.dot(got[0].vector, want.vector)) > 0.99999
        assert metrics.BATCH_SIZE._sum.get() - runs_before == len(texts)
    finally:
        await batcher.close()


async def test_concurrent_calls_share_one_model_run() -> None:
    model = GatedEmbedder()
    batcher = MicroBatcher(model, max_batch_texts=64, max_wait=0.0)
    batcher.start()
    try:
        blocker = asyncio.ensure_future(batcher.embed(["first"]))
        await asyncio.to_thread(model.running.wait, 10)
        # These queue while the first run holds the executor, so the next run takes them all at once.
        callers = [asyncio.ensure_future(batcher.embed(["x" * n, "y" * (n + 1)])) for n in range(1, 11)]
        for _ in range(10_000):  # the callers reach the queue within a few loop iterations
            if batcher.queued_texts == 20:
                break
            await asyncio.sleep(0)
        assert batcher.queued_texts == 20
        model.gate.set()
        results = await asyncio.gather(blocker, *callers)
        assert model.calls[1] == [t for n in range(1, 11) for t in ("x" * n, "y" * (n + 1))]
        for n, result in enumerate(results[1:], start=1):
            assert [r.token_count for r in result] == [n, n + 1]
    finally:
        model.gate.set()
        await batcher.close()


async def test_caller_whose_deadline_passed_is_dropped_from_the_batch() -> None:
    model = GatedEmbedder()
    batcher = MicroBatcher(model, max_wait=0.0)
    batcher.start()
    try:
        blocker = asyncio.ensure_future(batcher.embed(["busy"]))
        await asyncio.to_thread(model.running.wait, 10)
        before = _dropped("deadline")
        late = asyncio.ensure_future(batcher.embed(["too late"], timeout=0.01))
        on_time = asyncio.ensure_future(batcher.embed(["on time"], timeout=60))
        await asyncio.sleep(0.05)  # let the first deadline pass while the model is busy
        model.gate.set()
        await blocker
        with pytest.raises(DeadlineExceeded):
            await late
        assert [r.token_count for r in await on_time] == [len("on time")]
        assert all("too late" not in call for call in model.calls)
        assert _dropped("deadline") == before + 1
    finally:
        model.gate.set()
        await batcher.close()


async def test_cancelled_caller_is_not_embedded() -> None:
    model = GatedEmbedder()
    batcher = MicroBatcher(model, max_wait=0.0)
    batcher.start()
    try:
        blocker = asyncio.ensure_future(batcher.embed(["busy"]))
        await asyncio.to_thread(model.running.wait, 10)
        before = _dropped("cancelled")
        gone = asyncio.ensure_future(batcher.embed(["gave up"]))
        await asyncio.sleep(0)
        gone.cancel()
        stays = asyncio.ensure_future(batcher.embed(["stays"]))
        model.gate.set()
        await blocker
        assert [r.token_count for r in await stays] == [len("stays")]
        assert all("gave up" not in call for call in model.calls)
        assert _dropped("cancelled") == before + 1
    finally:
        model.gate.set()
        await batcher.close()


async def test_full_queue_refuses_with_resource_exhausted() -> None:
    model = GatedEmbedder()
    batcher = MicroBatcher(model, max_wait=0.0, max_queue_texts=4)
    batcher.start()
    try:
        blocker = asyncio.ensure_future(batcher.embed(["busy"]))
        await asyncio.to_thread(model.running.wait, 10)
        queued = asyncio.ensure_future(batcher.embed(["a", "b", "c"]))
        await asyncio.sleep(0)
        with pytest.raises(ResourceExhausted, match="queue is full"):
            await batcher.embed(["d", "e"])
        small = asyncio.ensure_future(batcher.embed(["f"]))  # still fits
        model.gate.set()
        await asyncio.gather(blocker, queued, small)
        assert batcher.queued_texts == 0
    finally:
        model.gate.set()
        await batcher.close()


async def test_close_fails_waiting_callers_with_unavailable() -> None:
    model = GatedEmbedder()
    batcher = MicroBatcher(model, max_wait=0.0)
    batcher.start()
    blocker = asyncio.ensure_future(batcher.embed(["busy"]))
    await asyncio.to_thread(model.running.wait, 10)
    waiting = asyncio.ensure_future(batcher.embed(["waiting"]))
    await asyncio.sleep(0)
    model.gate.set()  # lets the executor thread finish so close() can join it
    await batcher.close()
    with pytest.raises(Unavailable):
        await waiting
    blocker.cancel()
    with pytest.raises(Unavailable):
        await batcher.embed(["after close"])
