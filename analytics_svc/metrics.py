"""Prometheus metrics of analytics_svc (served with the shared gRPC metrics on port + 1000)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

SYNCS = Counter("hiremesh_analytics_syncs_total", "Warehouse syncs by outcome.", ["status"])
ROWS_READ = Counter("hiremesh_analytics_rows_read_total", "Rows read from PostgreSQL, by source.", ["source"])
SYNC_SECONDS = Histogram(
    "hiremesh_analytics_sync_seconds",
    "Wall time of a warehouse sync.",
    ["mode"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
LAST_SYNC = Gauge("hiremesh_analytics_last_sync_timestamp_seconds", "Unix time of the last successful sync.")
REPORT_SECONDS = Histogram(
    "hiremesh_analytics_report_seconds",
    "Time to compute a report.",
    ["report"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
)
SCHEDULE_RUNS = Counter(
    "hiremesh_analytics_schedule_runs_total", "Scheduled jobs run, by name and outcome.", ["name", "status"]
)
