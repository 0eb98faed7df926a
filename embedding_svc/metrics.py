"""Prometheus metrics of the embedding service (served with the shared gRPC metrics on port + 1000)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

BATCH_SIZE = Histogram(
    "hiremesh_embedding_batch_size",
    "Texts per model run (after micro-batching concurrent calls).",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
)
QUEUE_DEPTH = Gauge(
    "hiremesh_embedding_queue_depth",
    "Texts waiting for a model run.",
)
TOKENS = Counter(
    "hiremesh_embedding_tokens_total",
    "Word pieces embedded (rate() of this is tokens/s).",
)
TOKENS_PER_SECOND = Gauge(
    "hiremesh_embedding_tokens_per_second",
    "Throughput of the most recent model run, in word pieces per second.",
)
TEXTS = Counter(
    "hiremesh_embedding_texts_total",
    "Texts embedded.",
)
TRUNCATED = Counter(
    "hiremesh_embedding_truncated_total",
    "Texts cut at the model's token limit.",
)
INFERENCE_SECONDS = Histogram(
    "hiremesh_embedding_inference_seconds",
    "Wall time of one model run (tokenise + onnxruntime + pooling) for a whole batch.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
QUEUE_WAIT_SECONDS = Histogram(
    "hiremesh_embedding_queue_wait_seconds",
    "Time a request waited before its batch started.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
DROPPED = Counter(
    "hiremesh_embedding_dropped_total",
    "Requests taken out of a batch before running: the caller's deadline passed or it cancelled.",
    ["reason"],
)
REJECTED = Counter(
    "hiremesh_embedding_rejected_total",
    "Requests refused with RESOURCE_EXHAUSTED because the queue was full.",
)
VARIANT = Gauge(
    "hiremesh_embedding_variant_info",
    "1 for the model variant running, with what was configured and what decided it (configuration, build, "
    "cpu_features or calibration).",
    ["variant", "requested", "basis"],
)
INT8_SPEEDUP = Gauge(
    "hiremesh_embedding_int8_speedup",
    "int8 over fp32 throughput in the start-up calibration of HIREMESH_EMBEDDING_VARIANT=auto (0: none ran).",
)
