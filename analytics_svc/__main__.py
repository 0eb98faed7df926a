"""Start analytics_svc: open the warehouse, serve gRPC, run the schedules until SIGTERM."""

from __future__ import annotations

import asyncio
import logging

import duckdb

from analytics_svc.app import Analytics
from analytics_svc.config import AnalyticsConfig
from analytics_svc.servicer import AnalyticsServicer
from hiremesh.server import MeshServer, run
from hiremesh.v1 import analytics_pb2_grpc

SERVICE = "hiremesh.v1.AnalyticsService"
log = logging.getLogger("analytics_svc")


async def open_analytics(cfg: AnalyticsConfig) -> Analytics:
    """Open the warehouse, waiting while another process holds the DuckDB file (health stays NOT_SERVING)."""
    while True:
        try:
            return await Analytics.open(cfg)
        except duckdb.IOException as exc:
            log.warning("warehouse %s not available yet (%s); retrying in 1 s", cfg.warehouse_path, exc)
            await asyncio.sleep(1)


async def main() -> None:
    cfg = AnalyticsConfig.from_env()
    server = MeshServer("analytics", cfg.port, [SERVICE])
    servicer = AnalyticsServicer()
    analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server(servicer, server.grpc)
    await server.start()  # NOT_SERVING, and UNAVAILABLE answers, until the warehouse is open
    analytics = await open_analytics(cfg)
    servicer.attach(analytics)
    server.on_shutdown(analytics.close)
    await analytics.start_schedules()
    server.set_serving(True)
    await server.wait()


if __name__ == "__main__":
    run(main())
