"""Who is calling: the bearer token of a request, checked against API keys or the JWT secret.

Browsers cannot set headers on a WebSocket, so `/ws` routes also take the token as a subprotocol
(`bearer.<token>`, offered next to `hiremesh.v1`) or as `?access_token=`.
"""

from __future__ import annotations

import time

from aiohttp import web

from gateway.errors import ApiError
from gateway.tokens import Principal, TokenError, is_api_key, verify_jwt
from gateway.users import UserStore

WS_PROTOCOL = "hiremesh.v1"
_BEARER_PROTOCOL = "bearer."


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
                return proto[len(_BEARER_PROTOCOL):]
        query_token = request.query.get("access_token")
        if query_token:
            return query_token
    return None


def unauthorized(message: str) -> ApiError:
    return ApiError(401, message, headers={"WWW-Authenticate": f'Bearer realm="hiremesh", error="invalid_token", '
                                                               f'error_description="{message}"'})


class Authenticator:
    """Turns a token into a `Principal`; API key look-ups are cached for `cache_seconds`."""

    def __init__(self, store: UserStore | None, jwt_secret: str, cache_seconds: float = 30.0) -> None:
        self._store = store
        self._jwt_secret = jwt_secret
        self._cache_seconds = cache_seconds
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    @property
    def jwt_secret(self) -> str:
        return self._jwt_secret

    async def authenticate(self, request: web.Request) -> Principal:
        token = bearer_token(request)
        if token is None:
            raise unauthorized("missing bearer token")
        return await self.verify(token)

    async def verify(self, token: str) -> Principal:
        if is_api_key(token):
            principal = await self._api_key(token)
            if principal is None:
                raise unauthorized("unknown, revoked or expired API key")
            return principal
        if token.count(".") == 2:
            if not self._jwt_secret:
                raise unauthorized("JWTs are not accepted: no signing secret configured")
            try:
                return verify_jwt(self._jwt_secret, token)
            except TokenError as exc:
                raise unauthorized(str(exc)) from None
        raise unauthorized("malformed bearer token")

    async def _api_key(self, token: str) -> Principal | None:
        now = time.monotonic()
        hit = self._cache.get(token)
        if hit is not None and hit[0] > now:
            principal = hit[1]
        else:
            if self._store is None:
                return None
            principal = await self._store.lookup(token)
            if len(self._cache) > 10_000:
                self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
            self._cache[token] = (now + self._cache_seconds, principal)
        if principal is not None and principal.expires_at is not None and principal.expires_at <= time.time():
            return None
        return principal
