"""search_svc's own Prometheus metrics (the shared ones per RPC come from hiremesh.metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EMBEDDED_TEXTS = Counter("hiremesh_search_embedded_texts_total", "Texts embedded through embedding_svc.")
EMBED_FAILURES = Counter(
    "hiremesh_search_embed_failures_total", "Embed calls that failed, by gRPC status code.", ["code"]
)
STALE_WRITES = Counter(
    "hiremesh_search_stale_writes_total",
    "Rows written without a fresh vector because embedding_svc was unavailable.",
    ["table"],
)
STALE_ROWS = Gauge("hiremesh_search_stale_rows", "Rows whose vector is missing or older than their text.", ["table"])
CATCHUP_EMBEDDED = Counter(
    "hiremesh_search_catchup_embedded_total", "Stale rows re-embedded by the background catch-up loop.", ["table"]
)
SEARCH_LATENCY = Histogram(
    "hiremesh_search_query_duration_seconds",
    "Database time of a search, by target and mode.",
    ["target", "mode"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 5),
)
IMPORTED = Counter("hiremesh_search_imported_total", "Import outcomes per record.", ["outcome"])
PARSE_SECONDS = Histogram(
    "hiremesh_search_parse_duration_seconds",
    "Wall time of reading one resume file in a parser worker (queueing excluded).",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
PARSE_FAILED = Counter(
    "hiremesh_search_parse_failures_total",
    "Resume files refused by the parser workers, by kind (invalid, timeout, memory, died, error).",
    ["kind"],
)
