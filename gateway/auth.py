"""Who is calling: the bearer token of a request, checked against API keys or the JWT secret.

Browsers cannot set headers on a WebSocket, so `/ws` routes also take the token as a subprotocol
(`bearer.<token>`, offered next to `hiremesh.v1`) or as `?access_token=`.

Every answer is cached for `cache_seconds` in bounded tables, and so is the user's state behind a JWT:
a JWT of a user who was disabled, demoted (the lower role wins) or revoked (`hiremesh users revoke`) stops
working within that time. API keys that are not shaped like ours are refused without a database query,
and an address whose look-ups keep failing is refused (429) before the database too.

When the user database cannot be reached, API keys are 503 (nothing can vouch for them), while a JWT is
judged by the user's last known state, or by its signature and expiry alone when none is cached: the
outage takes the catalog down with it anyway, and refusing every signed token would turn it into a
login outage as well.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from typing import Generic, TypeVar

import psycopg
from aiohttp import web

from gateway import metrics
from gateway.errors import ApiError
from gateway.ratelimit import RateLimiter, retry_after_header
from gateway.tokens import Principal, Role, TokenError, is_api_key, verify_jwt, well_formed_api_key
from gateway.users import UserState, UserStore

WS_PROTOCOL = "hiremesh.v1"
_BEARER_PROTOCOL = "bearer."
# Unknown keys are attacker-chosen: keep their negative answers short-lived and few.
_NEGATIVE_TTL = 5.0
_UNCHECKED = UserState(Role.ADMIN, None)  # stand-in while the user store is unreachable and nothing is cached

log = logging.getLogger("hiremesh.gateway.auth")

V = TypeVar("V")


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise unauthorized("Authorization header must be 'Bearer <token>'")
        return token.strip()
    if request.path.startswith("/ws/"):
        for proto in request.headers.get("Sec-WebSocket-Protocol", "").split(","):
            proto = proto.strip()
            if proto.startswith(_BEARER_PROTOCOL):
                return proto[len(_BEARER_PROTOCOL) :]
        query_token = request.query.get("access_token")
        if query_token:
            return query_token
    return None


def unauthorized(message: str) -> ApiError:
    return ApiError(
        401,
        message,
        headers={"WWW-Authenticate": f'Bearer realm="hiremesh", error="invalid_token", error_description="{message}"'},
    )


class TtlCache(Generic[V]):
    """At most `max_size` entries, each for its own time to live; least recently used go first."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._items: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def get(self, key: str, *, stale: bool = False) -> tuple[bool, V | None]:
        """(found, value); with `stale`, an expired entry still counts (for when the source is down)."""
        hit = self._items.get(key)
        if hit is None or (hit[0] <= time.monotonic() and not stale):
            return False, None
        self._items.move_to_end(key)
        return True, hit[1]

    def put(self, key: str, value: V, ttl: float) -> None:
        if ttl <= 0:
            return
        self._items[key] = (time.monotonic() + ttl, value)
        self._items.move_to_end(key)
        while len(self._items) > self.max_size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class Authenticator:
    """Turns a token into a `Principal`, checking API keys and JWT users against the store (cached)."""

    def __init__(
        self,
        store: UserStore | None,
        jwt_secret: str,
        cache_seconds: float = 10.0,
        *,
        max_jwt_ttl: float | None = None,
        failures: RateLimiter | None = None,
        cache_size: int = 10_000,
    ) -> None:
        self._store = store
        self._jwt_secret = jwt_secret
        self._cache_seconds = cache_seconds
        self._max_jwt_ttl = max_jwt_ttl
        self._failures = failures if failures is not None else RateLimiter(0, 1)
        self._keys: TtlCache[Principal] = TtlCache(cache_size)
        self._unknown: TtlCache[bool] = TtlCache(min(cache_size, 2_000))
        self._users: TtlCache[UserState | None] = TtlCache(cache_size)
        self._key_roles: TtlCache[Role | None] = TtlCache(cache_size)

    @property
    def jwt_secret(self) -> str:
        return self._jwt_secret

    @property
    def cache_seconds(self) -> float:
        return self._cache_seconds

    def cache_sizes(self) -> dict[str, int]:
        return {"keys": len(self._keys), "unknown": len(self._unknown), "users": len(self._users)}

    async def authenticate(self, request: web.Request, address: str = "") -> Principal:
        token = bearer_token(request)
        if token is None:
            raise unauthorized("missing bearer token")
        return await self.verify(token, address)

    async def verify(self, token: str, address: str = "") -> Principal:
        if is_api_key(token):
            if not well_formed_api_key(token):
                raise unauthorized("malformed API key")
            principal = await self._api_key(token, address)
            if principal is None:
                raise unauthorized("unknown, revoked or expired API key")
            return principal
        if token.count(".") == 2:
            if not self._jwt_secret:
                raise unauthorized("JWTs are not accepted: no signing secret configured")
            try:
                principal = verify_jwt(self._jwt_secret, token, self._max_jwt_ttl)
            except TokenError as exc:
                raise unauthorized(str(exc)) from None
            return await self._current(principal)
        raise unauthorized("malformed bearer token")

    async def _api_key(self, token: str, address: str) -> Principal | None:
        found, principal = self._keys.get(token)
        if not found:
            known_unknown, _ = self._unknown.get(token)
            if known_unknown or self._store is None:
                return None
            # Every look-up spends from the address's failure budget up front (so concurrent ones count too);
            # a key that turns out valid gives it back. An address that keeps presenting unknown keys is
            # refused here, before the database.
            wait = self._failures.acquire(address)
            if wait > 0:
                metrics.RATE_LIMITED.inc()
                raise ApiError(
                    429,
                    "too many failed authentications from this address; retry later",
                    headers={"Retry-After": retry_after_header(wait)},
                )
            try:
                principal = await self._store.lookup(token)
            except psycopg.Error:
                self._failures.refund(address)
                log.warning("user store unavailable: API key not checked")
                raise ApiError(
                    503,
                    "the user store (PostgreSQL) is unavailable; API keys cannot be checked",
                    headers={"Retry-After": "1"},
                ) from None
            if principal is None:
                self._unknown.put(token, True, min(self._cache_seconds, _NEGATIVE_TTL))
                return None
            self._failures.refund(address)
            self._keys.put(token, principal, self._cache_seconds)
        if principal is not None and principal.expires_at is not None and principal.expires_at <= time.time():
            return None
        return principal

    async def _user(self, name: str) -> UserState | None:
        found, state = self._users.get(name)
        if found:
            return state
        assert self._store is not None
        try:
            state = await self._store.user_state(name)
        except psycopg.Error:
            known, last = self._users.get(name, stale=True)
            log.warning(
                "user store unavailable: judging a JWT of %r by its %s",
                name,
                "last known state" if known else "signature alone",
            )
            return last if known else _UNCHECKED
        self._users.put(name, state, self._cache_seconds)
        return state

    async def _current(self, principal: Principal) -> Principal:
        """The JWT's principal as the user stands now: refused when gone, disabled or revoked; demotions win."""
        if self._store is None:  # a gateway without a user database (tests): the signature is all there is
            return principal
        reason = await self.revoked(principal)
        if reason:
            raise unauthorized(reason)
        state = await self._user(principal.user)
        assert state is not None
        if state is not _UNCHECKED and state.role < principal.role:
            return Principal(
                principal.user,
                state.role,
                principal.token_id,
                principal.kind,
                principal.expires_at,
                principal.issued_at,
            )
        return principal

    async def revoked(self, principal: Principal) -> str | None:
        """Why `principal` may no longer act (expired, revoked, disabled, key gone), or None while it may."""
        if principal.expires_at is not None and principal.expires_at <= time.time():
            return "token expired"
        if self._store is None:
            return None
        if principal.kind == "api_key":
            key_id = principal.token_id.removeprefix("key:")
            found, role = self._key_roles.get(key_id)
            if not found:
                try:
                    role = await self._store.key_active(key_id)
                except psycopg.Error:  # judged again next period; the last answer stands meanwhile
                    return None
                self._key_roles.put(key_id, role, self._cache_seconds)
            return None if role is not None else "API key revoked or its user disabled"
        state = await self._user(principal.user)
        if state is None:
            return f"user {principal.user!r} is disabled or no longer exists"
        if (
            state.tokens_valid_after is not None
            and principal.issued_at is not None
            and principal.issued_at < math.ceil(state.tokens_valid_after)
        ):
            return "token revoked"
        return None
