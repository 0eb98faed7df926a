"""The embedding service as a real process over gRPC: real model, real server, real client stubs."""

from __future__ import annotations

import asyncio
import json
import shutil
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import numpy as np
import pytest

from embedding_svc.artifacts import INT8_FILE, MANIFEST_FILE, MODEL_FILE, TOKENIZER_FILE, model_path
from hiremesh.clients import channel
from hiremesh.v1 import embedding_pb2 as pb
from hiremesh.v1 import embedding_pb2_grpc
from hiremesh_ops.probe import check
from tests.fixtures.embedding import EMBEDDING_HEALTH
from tests.fixtures.procs import REPO, ServiceProcess, free_port, spawn_service, start_process

REFERENCE = REPO / "bench" / "reference" / "minilm_reference.json"
RESUME = (
    "Senior backend engineer with ten years of experience designing distributed systems in Python and Go. "
    "Built event-driven pipelines on Kafka, ran PostgreSQL at scale, led migrations to Kubernetes, "
    "mentored engineers and owned on-call for payment services. "
) * 4


@pytest.fixture
async def stub(embedding_addr: str) -> AsyncIterator[embedding_pb2_grpc.EmbeddingServiceAsyncStub]:
    async with channel(embedding_addr) as chan:
        yield embedding_pb2_grpc.EmbeddingServiceStub(chan)


def _vec(embedding: pb.Embedding) -> np.ndarray:
    return np.asarray(embedding.values, dtype=np.float32)


def _metric(proc: ServiceProcess, name: str) -> float:
    body = urllib.request.urlopen(f"http://127.0.0.1:{proc.metrics_port}/metrics", timeout=5).read().decode()
    total = 0.0
    for line in body.splitlines():
        if line.startswith(name) and not line.startswith("#"):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def test_known_sentences_match_sentence_transformers(stub: embedding_pb2_grpc.EmbeddingServiceAsyncStub) -> None:
    reference = json.loads(REFERENCE.read_text())
    reply = await stub.Embed(pb.EmbedRequest(texts=[i["text"] for i in reference["items"]]), timeout=30)
    assert reply.model == "all-MiniLM-L6-v2"
    for item, embedding in zip(reference["items"], reply.embeddings, strict=True):
        assert len(embedding.values) == 384
        cosine = float(np.dot(np.asarray(item["vector"], dtype=np.float32), _vec(embedding)))
        assert cosine >= 0.99, (item["text"][:40], cosine)
    assert reply.embeddings[-1].truncated and reply.embeddings[-1].token_count == 256
    assert not reply.embeddings[0].truncated


async def test_similar_texts_score_higher_than_unrelated(stub: embedding_pb2_grpc.EmbeddingServiceAsyncStub) -> None:
    reply = await stub.Embed(
        pb.EmbedRequest(
            texts=[
                "Registered nurse with ICU experience",
                "Intensive care nurse, critical care patients",
                "Senior Java developer building trading systems",
            ]
        ),
        timeout=30,
    )
    query, similar, unrelated = (_vec(e) for e in reply.embeddings)
    assert float(np.dot(query, similar)) > float(np.dot(query, unrelated))


async def test_32_concurrent_callers_each_get_their_own_vectors(
    stub: embedding_pb2_grpc.EmbeddingServiceAsyncStub, embedding_service: ServiceProcess
) -> None:
    texts = [
        f"{role} number {i}"
        for i, role in enumerate(["data scientist", "pastry chef", "truck driver", "tax accountant"] * 8)
    ]
    alone = [(await stub.Embed(pb.EmbedRequest(texts=[t]), timeout=30)).embeddings[0] for t in texts]
    runs_before = _metric(embedding_service, "hiremesh_embedding_batch_size_count")
    together = await asyncio.gather(*[stub.Embed(pb.EmbedRequest(texts=[t]), timeout=30) for t in texts])
    runs = _metric(embedding_service, "hiremesh_embedding_batch_size_count") - runs_before
    for want, got in zip(alone, together, strict=True):
        assert len(got.embeddings) == 1
        assert float(np.dot(_vec(want), _vec(got.embeddings[0]))) > 0.9999
    assert runs < len(texts)  # they were batched, not run one by one


@pytest.mark.parametrize(
    ("texts", "field"),
    [
        ([], "texts"),
        (["fine", ""], "texts[1]"),
        (["fine", "ok", "  \n"], "texts[2]"),
        (["x"] * 257, "texts[256]"),
        (["fine", "a" * (100 * 1024 + 1)], "texts[1]"),
    ],
)
async def test_invalid_input_names_the_index(
    stub: embedding_pb2_grpc.EmbeddingServiceAsyncStub, texts: list[str], field: str
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Embed(pb.EmbedRequest(texts=texts), timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (caught.value.details() or "").startswith(f"{field}:")


async def test_stream_returns_vectors_in_order_with_progress(
    stub: embedding_pb2_grpc.EmbeddingServiceAsyncStub,
) -> None:
    texts = [("candidate summary " * (i % 7 + 1)) + str(i) for i in range(300)]

    async def requests() -> AsyncIterator[pb.EmbedStreamRequest]:
        for i, text in enumerate(texts):
            yield pb.EmbedStreamRequest(id=f"c{i}", text=text)

    replies = [r async for r in stub.EmbedStream(requests(), timeout=120)]
    assert [r.index for r in replies] == list(range(300))
    assert [r.id for r in replies] == [f"c{i}" for i in range(300)]
    assert replies[-1].progress.done == 300 and replies[-1].progress.total == 300
    assert replies[-1].progress.percent == pytest.approx(100.0)
    single = await stub.Embed(pb.EmbedRequest(texts=[texts[123]]), timeout=30)
    assert float(np.dot(_vec(replies[123].embedding), _vec(single.embeddings[0]))) > 0.9999


async def test_stream_rejects_empty_text_naming_its_index(stub: embedding_pb2_grpc.EmbeddingServiceAsyncStub) -> None:
    async def requests() -> AsyncIterator[pb.EmbedStreamRequest]:
        for i, text in enumerate(["a", "b", "", "d"]):
            yield pb.EmbedStreamRequest(id=str(i), text=text)

    seen: list[int] = []
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        async for reply in stub.EmbedStream(requests(), timeout=30):
            seen.append(reply.index)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "requests[2].text" in (caught.value.details() or "")
    assert seen == [0, 1]


async def test_expired_deadline_is_dropped_and_service_keeps_serving(
    stub: embedding_pb2_grpc.EmbeddingServiceAsyncStub, embedding_service: ServiceProcess
) -> None:
    dropped_before = _metric(embedding_service, "hiremesh_embedding_dropped_total")
    # Two calls of 256 resume-length texts keep the model busy for seconds on 2 cores.
    busy = [
        asyncio.ensure_future(stub.Embed(pb.EmbedRequest(texts=[RESUME + str(i) for i in range(256)]), timeout=300))
        for _ in range(2)
    ]
    await asyncio.sleep(0.2)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.Embed(pb.EmbedRequest(texts=["needed quickly"]), timeout=0.5)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    for reply in await asyncio.gather(*busy):
        assert len(reply.embeddings) == 256
    ok = await stub.Embed(pb.EmbedRequest(texts=["still serving"]), timeout=30)
    assert len(ok.embeddings[0].values) == 384
    # The caller that gave up never reached the model: the batcher counted it as dropped.
    assert _metric(embedding_service, "hiremesh_embedding_dropped_total") == dropped_before + 1


async def test_model_info(stub: embedding_pb2_grpc.EmbeddingServiceAsyncStub, embedding_models: Path) -> None:
    info = await stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=10)
    manifest = json.loads((model_path(embedding_models) / MANIFEST_FILE).read_text())
    assert info.name == "all-MiniLM-L6-v2"
    assert info.variant == pb.MODEL_VARIANT_FP32
    assert (info.dimension, info.max_tokens) == (384, 256)
    assert info.sha256 == manifest["files"][MODEL_FILE]
    assert info.warmed
    assert info.max_batch_size > 0


async def test_int8_variant_is_served_and_reported(embedding_models: Path) -> None:
    svc = await spawn_service(
        "embedding_svc",
        free_port(),
        {"HIREMESH_MODEL_DIR": str(embedding_models), "HIREMESH_EMBEDDING_VARIANT": "int8"},
        EMBEDDING_HEALTH,
    )
    try:
        stub = embedding_pb2_grpc.EmbeddingServiceStub(channel(svc.addr))
        info = await stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=10)
        manifest = json.loads((model_path(embedding_models) / MANIFEST_FILE).read_text())
        assert info.variant == pb.MODEL_VARIANT_INT8
        assert info.sha256 == manifest["files"][INT8_FILE] != manifest["files"][MODEL_FILE]
        texts = ["Senior Go developer", "Go backend engineer", "Pastry chef for a hotel kitchen"]
        reply = await stub.Embed(pb.EmbedRequest(texts=texts), timeout=30)
        a, b, c = (np.asarray(e.values, dtype=np.float32) for e in reply.embeddings)
        assert abs(float(np.linalg.norm(a)) - 1) < 1e-4
        assert float(np.dot(a, b)) > float(np.dot(a, c)) + 0.2
    finally:
        await svc.stop()


def _metric_line(proc: ServiceProcess, name: str) -> str:
    body: str = urllib.request.urlopen(f"http://127.0.0.1:{proc.metrics_port}/metrics", timeout=5).read().decode()
    lines = [line for line in body.splitlines() if line.startswith(name + "{") and line.endswith(" 1.0")]
    assert len(lines) == 1, body
    return lines[0]


async def _auto_service(embedding_models: Path, **env: str) -> ServiceProcess:
    return await spawn_service(
        "embedding_svc",
        free_port(),
        {"HIREMESH_MODEL_DIR": str(embedding_models), "HIREMESH_EMBEDDING_VARIANT": "auto", **env},
        EMBEDDING_HEALTH,
        timeout=240,
    )


async def test_auto_on_a_cpu_without_vnni_serves_fp32_and_says_why(embedding_models: Path) -> None:
    cpuinfo = REPO / "tests" / "embedding_svc" / "cpuinfo" / "intel-xeon-skylake-2ghz.txt"
    svc = await _auto_service(embedding_models, HIREMESH_EMBEDDING_CPUINFO=str(cpuinfo))
    try:
        stub = embedding_pb2_grpc.EmbeddingServiceStub(channel(svc.addr))
        info = await stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=10)
        manifest = json.loads((model_path(embedding_models) / MANIFEST_FILE).read_text())
        assert (info.requested_variant, info.variant) == (pb.MODEL_VARIANT_AUTO, pb.MODEL_VARIANT_FP32)
        assert info.sha256 == manifest["files"][MODEL_FILE]
        assert "no int8 dot-product instructions" in info.variant_reason
        assert list(info.cpu_features) == [] and info.int8_speedup == 0.0  # nothing was timed
        assert 'variant="fp32"' in _metric_line(svc, "hiremesh_embedding_variant_info")
        assert 'basis="cpu_features"' in _metric_line(svc, "hiremesh_embedding_variant_info")
        assert "embedding variant fp32 (requested auto)" in svc.log_tail()
    finally:
        await svc.stop()


@pytest.mark.parametrize(("min_speedup", "expected"), [("0.1", pb.MODEL_VARIANT_INT8), ("100", pb.MODEL_VARIANT_FP32)])
async def test_auto_with_vnni_serves_the_variant_its_calibration_picked(
    embedding_models: Path, min_speedup: str, expected: int
) -> None:
    # A real calibration on this machine's CPU; the thresholds put the outcome beyond any timing noise, so the
    # test checks the wiring (the chosen session serves, its reason and metrics are reported), not the clock.
    cpuinfo = REPO / "tests" / "embedding_svc" / "cpuinfo" / "amd-epyc-zen5-this-machine.txt"
    svc = await _auto_service(
        embedding_models, HIREMESH_EMBEDDING_CPUINFO=str(cpuinfo), HIREMESH_EMBEDDING_INT8_MIN_SPEEDUP=min_speedup
    )
    try:
        stub = embedding_pb2_grpc.EmbeddingServiceStub(channel(svc.addr))
        info = await stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=10)
        manifest = json.loads((model_path(embedding_models) / MANIFEST_FILE).read_text())
        assert (info.requested_variant, info.variant) == (pb.MODEL_VARIANT_AUTO, expected)
        served = INT8_FILE if expected == pb.MODEL_VARIANT_INT8 else MODEL_FILE
        assert info.sha256 == manifest["files"][served]
        assert list(info.cpu_features) == ["avx512_vnni", "avx_vnni"]
        assert info.int8_speedup > 0 and f"{info.int8_speedup:.2f}x" in info.variant_reason
        line = _metric_line(svc, "hiremesh_embedding_variant_info")
        assert 'basis="calibration"' in line and 'requested="auto"' in line
        assert _metric(svc, "hiremesh_embedding_int8_speedup") == pytest.approx(info.int8_speedup)
        reply = await stub.Embed(pb.EmbedRequest(texts=["Senior Go developer", "Go backend engineer"]), timeout=30)
        a, b = (_vec(e) for e in reply.embeddings)
        assert float(np.dot(a, b)) > 0.5
    finally:
        await svc.stop()


async def test_a_configured_variant_reports_itself_as_requested(
    stub: embedding_pb2_grpc.EmbeddingServiceAsyncStub,
) -> None:
    info = await stub.GetModelInfo(pb.GetModelInfoRequest(), timeout=10)
    assert (info.requested_variant, info.variant) == (pb.MODEL_VARIANT_FP32, pb.MODEL_VARIANT_FP32)
    assert "HIREMESH_EMBEDDING_VARIANT=fp32" in info.variant_reason


def test_unknown_variant_is_a_configuration_error(embedding_models: Path) -> None:
    proc = start_process(
        "embedding_svc",
        free_port(),
        {"HIREMESH_MODEL_DIR": str(embedding_models), "HIREMESH_EMBEDDING_VARIANT": "fp16"},
    )
    assert proc.proc.wait(60) != 0
    assert "HIREMESH_EMBEDDING_VARIANT" in proc.log_tail()


async def test_health_is_not_serving_until_the_model_is_warm(embedding_models: Path) -> None:
    # The delay holds NOT_SERVING after warm-up with the event loop free, so the poll reliably sees it (the
    # load itself can starve the loop long enough for a probe to time out).
    proc = start_process(
        "embedding_svc",
        free_port(),
        {"HIREMESH_MODEL_DIR": str(embedding_models), "HIREMESH_EMBEDDING_TEST_READY_DELAY_MS": "1500"},
    )
    try:
        seen: list[str] = []
        for _ in range(3000):
            status = await check(proc.addr, EMBEDDING_HEALTH, timeout=1.0)
            if not seen or seen[-1] != status:
                seen.append(status)
            if status == "SERVING" or not proc.alive():
                break
            await asyncio.sleep(0.01)
        assert seen[-1] == "SERVING", proc.log_tail()
        assert "NOT_SERVING" in seen
        assert set(seen[:-1]) <= {"UNREACHABLE", "SERVICE_UNKNOWN", "NOT_SERVING"}
        assert seen.index("NOT_SERVING") < len(seen) - 1
        assert "ready" in proc.log_tail()
    finally:
        await proc.stop()


async def test_tampered_model_never_serves(embedding_models: Path, tmp_path: Path) -> None:
    source = model_path(embedding_models)
    target = model_path(tmp_path)
    target.mkdir(parents=True)
    (target / MODEL_FILE).symlink_to(source / MODEL_FILE)
    (target / INT8_FILE).symlink_to(source / INT8_FILE)
    shutil.copy2(source / MANIFEST_FILE, target / MANIFEST_FILE)
    (target / TOKENIZER_FILE).write_text((source / TOKENIZER_FILE).read_text() + " ")
    proc = start_process("embedding_svc", free_port(), {"HIREMESH_MODEL_DIR": str(tmp_path)})
    try:
        code = await asyncio.wait_for(asyncio.to_thread(proc.proc.wait), 120)
        assert code != 0
        assert "sha256" in proc.log_tail() and "make models" in proc.log_tail()
    finally:
        proc.kill()
