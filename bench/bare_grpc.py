"""A bare grpc.aio server: the standard health service and nothing else (no interceptors, no database).

A unary `Check` against it is the floor of any unary RPC on this machine (client + server + HTTP/2 over
loopback); bench/search.py starts it next to search_svc and compares the search path's overhead with it.

    .venv/bin/python bench/bare_grpc.py --port 0     # prints "port N" once serving
"""

from __future__ import annotations

import argparse
import asyncio

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer


async def serve(port: int) -> None:
    server = grpc.aio.server()
    health = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await health.set("", health_pb2.HealthCheckResponse.SERVING)
    print(f"port {bound}", flush=True)
    await server.wait_for_termination()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=0)
    asyncio.run(serve(parser.parse_args().port))
