"""What every handler reaches through `request.app[GATEWAY]`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from aiohttp import web
from google.protobuf.message import Message

from gateway.auth import Authenticator
from gateway.backends import Backends
from gateway.config import GatewayConfig
from gateway.operations import Operations
from gateway.ratelimit import RateLimiter
from gateway.tokens import Principal, Role
from gateway.users import UserStore

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

PRINCIPAL_KEY = web.RequestKey("principal", Principal)


@dataclass
class SocketQuota:
    """WebSockets and watched tasks per user across this gateway's sockets."""

    sockets: dict[str, int] = field(default_factory=dict)
    watches: dict[str, int] = field(default_factory=dict)

    def take(self, table: dict[str, int], user: str, limit: int) -> bool:
        if table.get(user, 0) >= limit:
            return False
        table[user] = table.get(user, 0) + 1
        return True

    def give_back(self, table: dict[str, int], user: str, count: int = 1) -> None:
        left = table.get(user, 0) - count
        if left > 0:
            table[user] = left
        else:
            table.pop(user, None)


@dataclass
class Gateway:
    config: GatewayConfig
    backends: Backends
    auth: Authenticator
    limiter: RateLimiter
    operations: Operations
    users: UserStore | None = None
    # (method, route template) -> the least role that may call it.
    roles: dict[tuple[str, str], Role] = field(default_factory=dict)
    # Before authentication: per client address.
    address_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(0, 1))
    quota: SocketQuota = field(default_factory=SocketQuota)


GATEWAY: web.AppKey[Gateway] = web.AppKey("gateway", Gateway)


def gateway_of(request: web.Request) -> Gateway:
    return request.app[GATEWAY]


def principal_of(request: web.Request) -> Principal:
    return request[PRINCIPAL_KEY]


@dataclass(frozen=True)
class Route:
    """One REST route: how aiohttp dispatches it and what the OpenAPI document says about it."""

    method: str
    path: str  # under /api/v1, with {name} parameters
    handler: Handler
    summary: str
    tag: str
    role: Role | None = None  # None: viewer for GET, recruiter otherwise
    body: type[Message] | None = None
    multipart: bool = False
    # Query parameter -> dotted field path in `query_message`.
    query: Mapping[str, str] = field(default_factory=dict)
    query_message: type[Message] | None = None
    extra_query: Mapping[str, str] = field(default_factory=dict)  # parameters handled by hand: name -> doc
    response: type[Message] | str | None = None  # a message, a named schema, or None (no body)
    status: int = 200
    # Other success statuses the handler can answer with the same body: status -> when (documented in OpenAPI).
    also: Mapping[int, str] = field(default_factory=dict)
    # OpenAPI operationId when the handler's name is not unique (one handler behind GET and POST).
    operation_id: str | None = None

    @property
    def operation(self) -> str:
        """The OpenAPI operationId: unique per route, derived from the handler name unless given."""
        if self.operation_id is not None:
            return self.operation_id
        name = self.handler.__name__
        return name if self.method in ("GET", "POST") else f"{name}_{self.method.lower()}"

    @property
    def min_role(self) -> Role:
        if self.role is not None:
            return self.role
        return Role.VIEWER if self.method in ("GET", "HEAD") else Role.RECRUITER
