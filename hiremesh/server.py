"""One way to build every hiremesh gRPC server.

`MeshServer` wires the standard health service (per-service status), service-to-service authentication
(hiremesh.service_auth: a service token or mTLS, health exempt), opt-in reflection
(`HIREMESH_GRPC_REFLECTION=true`; `hiremesh up` turns it on), the metrics and error interceptor, the
Prometheus endpoint (gRPC port + 1000) and graceful shutdown on SIGTERM/SIGINT, so a service's `__main__`
only adds its servicer and flips health when its dependencies are ready.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from typing import Any

import grpc
from google.protobuf.message import DecodeError, Message
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from hiremesh import metrics, rpc_errors
from hiremesh.config import env_bool, log_level
from hiremesh.errors import DeadlineExceeded, HiremeshError, Internal, InvalidArgument, Unavailable
from hiremesh.request_text import nul_field
from hiremesh.service_auth import ServerAuth
from hiremesh.tls import TlsConfig

__all__ = ["MAX_MESSAGE_BYTES", "MeshServer", "run"]

log = logging.getLogger("hiremesh.server")

MAX_MESSAGE_BYTES = 32 * 1024 * 1024

SERVER_OPTIONS: list[tuple[str, Any]] = [
    ("grpc.max_receive_message_length", MAX_MESSAGE_BYTES),
    ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
    # Accept the client keepalive of hiremesh.clients (30 s) without GOAWAY "too_many_pings".
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_recv_ping_interval_without_data_ms", 10_000),
    ("grpc.http2.max_ping_strikes", 0),
    ("grpc.keepalive_time_ms", 60_000),
    ("grpc.keepalive_timeout_ms", 20_000),
    ("grpc.so_reuseport", 0),
]


def _domain_error(exc: BaseException) -> HiremeshError | None:
    """What an exception escaping a handler that is neither a domain error nor a failed call stands for."""
    name = type(exc).__module__ + "." + type(exc).__name__
    if name.startswith(("psycopg.OperationalError", "psycopg_pool.")) or isinstance(exc, ConnectionError):
        # The driver's text names hosts, users and sometimes SQL: it goes to the service log, not the caller.
        log.warning("database unavailable: %s", str(exc).strip() or type(exc).__name__)
        return Unavailable("database unavailable (details in the service log)", reason="DATABASE_UNAVAILABLE")
    if isinstance(exc, TimeoutError):
        return DeadlineExceeded("operation timed out")
    return None


# grpc's interceptor classes are generic only in grpc-stubs (not subscriptable at run time): bare as a base.
class _MeshInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Counts every call and turns domain exceptions into status codes (never a traceback to the caller)."""

    def __init__(self, service: str) -> None:
        self._service = service

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method = handler_call_details.method
        # Requests arrive as bytes and are parsed inside the wrapper, so a message protobuf cannot decode
        # (garbage, nesting past the recursion limit) is INVALID_ARGUMENT instead of gRPC's INTERNAL.
        parse = _parser(handler.request_deserializer, method)
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(handler.unary_unary, method, parse),
                response_serializer=handler.response_serializer,
            )
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(
                self._wrap_unary(handler.stream_unary, method, _stream_parser(parse)),
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(handler.unary_stream, method, parse),
                response_serializer=handler.response_serializer,
            )
        assert handler.stream_stream is not None
        return grpc.stream_stream_rpc_method_handler(
            self._wrap_stream(handler.stream_stream, method, _stream_parser(parse)),
            response_serializer=handler.response_serializer,
        )

    def _wrap_unary(self, inner: Callable[..., Any], method: str, parse: Callable[[Any], Any]) -> Callable[..., Any]:
        async def wrapper(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            start = self._begin(method)
            code = grpc.StatusCode.OK
            try:
                return await inner(parse(request), context)
            except BaseException as exc:
                code = await self._handle(exc, context, method)
                raise  # unreachable for mapped errors: _handle aborts
            finally:
                self._end(method, start, code, context)

        return wrapper

    def _wrap_stream(self, inner: Callable[..., Any], method: str, parse: Callable[[Any], Any]) -> Callable[..., Any]:
        async def wrapper(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> AsyncIterator[Any]:
            start = self._begin(method)
            code = grpc.StatusCode.OK
            try:
                result = inner(parse(request), context)
                if inspect.isasyncgen(result):
                    async for item in result:
                        yield item
                else:  # handlers that write with context.write() and return None
                    await result
            except BaseException as exc:
                code = await self._handle(exc, context, method)
                raise
            finally:
                self._end(method, start, code, context)

        return wrapper

    def _begin(self, method: str) -> float:
        metrics.GRPC_IN_FLIGHT.labels(self._service, method).inc()
        return time.perf_counter()

    def _end(
        self, method: str, start: float, code: grpc.StatusCode, context: grpc.aio.ServicerContext[Any, Any]
    ) -> None:
        if code == grpc.StatusCode.OK:
            # A handler may have set a status itself (context.set_code / abort).
            set_code = context.code() if hasattr(context, "code") else None
            if isinstance(set_code, grpc.StatusCode):
                code = set_code
        metrics.GRPC_IN_FLIGHT.labels(self._service, method).dec()
        metrics.GRPC_LATENCY.labels(self._service, method).observe(time.perf_counter() - start)
        metrics.GRPC_REQUESTS.labels(self._service, method, code.name).inc()
        if code != grpc.StatusCode.OK:
            metrics.GRPC_ERRORS.labels(self._service, method, code.name).inc()

    async def _handle(
        self, exc: BaseException, context: grpc.aio.ServicerContext[Any, Any], method: str
    ) -> grpc.StatusCode:
        if isinstance(exc, asyncio.CancelledError):
            return grpc.StatusCode.CANCELLED
        if isinstance(exc, grpc.aio.AbortError):
            set_code = context.code() if hasattr(context, "code") else None
            return set_code if isinstance(set_code, grpc.StatusCode) else grpc.StatusCode.UNKNOWN
        # A domain error or a dependency's failed call (forwarded with its details): rpc_errors' one mapping.
        ending = rpc_errors.ending_for(exc, service=self._service)
        if ending is None:
            err = _domain_error(exc)
            if err is None:
                log.exception("unhandled error in %s", method)
                err = Internal(f"internal error ({type(exc).__name__}); see the service log")
            ending = rpc_errors.ending(err, service=self._service)
        await context.abort(ending.code, ending.message, ending.trailing_metadata)
        return ending.code  # pragma: no cover - abort always raises


def _parser(deserializer: Callable[[bytes], Any] | None, method: str) -> Callable[[Any], Any]:
    if deserializer is None:
        return lambda raw: raw
    message = method.rsplit("/", 1)[-1]

    def parse(raw: Any) -> Any:
        if not isinstance(raw, bytes | bytearray | memoryview):
            return raw
        try:
            request = deserializer(bytes(raw))
        except (DecodeError, RecursionError, ValueError):
            raise InvalidArgument(
                "",
                f"the {message} request is not a valid protobuf message (malformed, or nested too deeply)",
                reason="REQUEST_MALFORMED",
            ) from None
        if isinstance(request, Message) and (field := nul_field(request)):
            raise InvalidArgument(field, "must not contain NUL characters (U+0000)")
        return request

    return parse


def _stream_parser(parse: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def wrap(requests: Any) -> Any:
        async def parsed() -> AsyncIterator[Any]:
            async for raw in requests:
                yield parse(raw)

        return parsed()

    return wrap


class MeshServer:
    """A grpc.aio server with health, reflection, metrics, error mapping and graceful shutdown."""

    def __init__(
        self,
        name: str,
        port: int,
        services: Sequence[str],
        *,
        host: str | None = None,
        metrics_port: int | None = None,  # None: $HIREMESH_METRICS_PORT or port + 1000; -1 off; 0 any
        grace: float = 5.0,
        reflection: bool | None = None,  # None: $HIREMESH_GRPC_REFLECTION (off unless set)
        interceptors: Sequence[grpc.aio.ServerInterceptor[Any, Any]] = (),  # run after authentication, before ours
    ) -> None:
        self.name = name
        self.services = list(services)
        self.host = host or os.environ.get("HIREMESH_BIND_HOST", "127.0.0.1")
        self.port = port
        self.metrics_port = metrics_port
        self.grace = grace
        self.tls = TlsConfig.from_env()
        self.auth = ServerAuth.from_env(mtls=self.tls.client_auth and self.tls.cert is not None)
        self.reflection = env_bool("HIREMESH_GRPC_REFLECTION", False) if reflection is None else reflection
        token_check = self.auth.interceptor()
        chain: list[grpc.aio.ServerInterceptor[Any, Any]] = [token_check] if token_check is not None else []
        self.grpc = grpc.aio.server(
            interceptors=[*chain, *interceptors, _MeshInterceptor(name)], options=SERVER_OPTIONS
        )
        self.health = HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.grpc)
        self._stop = asyncio.Event()
        self._hooks: list[Callable[[], Awaitable[None]]] = []
        self._serving = False
        self.bound_metrics_port: int | None = None

    async def start(self) -> int:
        if self.reflection:  # it hands the whole contract to anyone holding the credential: opt-in
            names = [
                *self.services,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ]
            reflection.enable_server_reflection(names, self.grpc)
        creds = self.tls.server_credentials()
        target = f"{self.host}:{self.port}"
        bound = self.grpc.add_secure_port(target, creds) if creds else self.grpc.add_insecure_port(target)
        if bound == 0:
            raise OSError(f"cannot bind gRPC port {self.host}:{self.port}")
        self.port = bound
        await self.grpc.start()
        await self._publish(False)
        wanted = self.metrics_port
        if wanted is None:
            from hiremesh.config import env_int

            wanted = env_int("HIREMESH_METRICS_PORT", bound + 1000, min=-1, max=65535)
        if wanted >= 0:  # -1 disables; 0 picks a free port
            self.bound_metrics_port = metrics.serve_metrics(wanted, self.host)
        log.info("%s listening on %s:%d (metrics :%s)", self.name, self.host, bound, self.bound_metrics_port)
        return bound

    def set_serving(self, serving: bool) -> None:
        self._serving = serving
        asyncio.get_running_loop().create_task(self._publish(serving))

    @property
    def serving(self) -> bool:
        return self._serving

    async def _publish(self, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for service in ["", *self.services]:
            await self.health.set(service, status)

    def on_shutdown(self, fn: Callable[[], Awaitable[None]]) -> None:
        self._hooks.append(fn)

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                loop.add_signal_handler(sig, self._stop.set)
            except (NotImplementedError, RuntimeError):  # not the main thread
                pass
        await self._stop.wait()
        await self._shutdown(self.grace)

    async def stop(self, grace: float | None = None) -> None:
        if not self._stop.is_set():
            self._stop.set()
        await self._shutdown(self.grace if grace is None else grace)

    async def _shutdown(self, grace: float) -> None:
        if getattr(self, "_shut", False):
            return
        self._shut = True
        log.info("%s shutting down (grace %.1fs)", self.name, grace)
        await self.health.enter_graceful_shutdown()
        await self.grpc.stop(grace)
        for hook in reversed(self._hooks):
            try:
                await hook()
            except Exception:
                log.exception("shutdown hook failed")
        log.info("%s stopped", self.name)


def setup_logging() -> None:
    logging.basicConfig(
        level=log_level(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


def run(main: Coroutine[Any, Any, None]) -> None:
    """Run a service's async main; a config error exits 2 with the variable's name, not a traceback."""
    from hiremesh.config import ConfigError

    try:
        setup_logging()
        asyncio.run(main)
    except ConfigError as exc:
        main.close()
        logging.getLogger("hiremesh").error("configuration error: %s", exc)
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        pass
