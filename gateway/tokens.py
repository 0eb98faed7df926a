"""Bearer tokens: API keys (random, stored as SHA-256) and HS256 JWTs with an expiry.

API keys look like `hmk_<key id>_<secret>`; the key id is public (listing, revoking), the digest of the
whole token is what the database keeps. JWTs carry `sub` (user name), `role`, `iat`, `exp`, `iss`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from enum import IntEnum

import jwt

API_KEY_PREFIX = "hmk_"
ISSUER = "hiremesh"
# What new_api_key makes: anything else is refused without asking the database.
_API_KEY = re.compile(r"^hmk_[0-9a-f]{8}_[A-Za-z0-9_-]{43}$")


class Role(IntEnum):
    """Ordered: a route that needs `recruiter` admits `admin` too."""

    VIEWER = 1
    RECRUITER = 2
    ADMIN = 3

    @classmethod
    def parse(cls, name: str) -> Role:
        try:
            return cls[name.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown role {name!r} (admin, recruiter or viewer)") from None

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user, their role, and which token (its id is the rate-limit key)."""

    user: str
    role: Role
    token_id: str
    kind: str  # "api_key" or "jwt"
    expires_at: float | None = None
    issued_at: float | None = None


class TokenError(Exception):
    """The token is missing, malformed, unknown, revoked or expired; the message says which."""


def new_api_key() -> tuple[str, str, str]:
    """A fresh API key: (key id, token, SHA-256 hex digest of the token)."""
    key_id = secrets.token_hex(4)
    token = f"{API_KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    return key_id, token, digest(token)


def digest(token: str) -> str:
    # The secret has 256 bits of entropy, so a plain digest cannot be brute-forced: no slow KDF needed.
    return hashlib.sha256(token.encode()).hexdigest()


def is_api_key(token: str) -> bool:
    return token.startswith(API_KEY_PREFIX)


def well_formed_api_key(token: str) -> bool:
    return bool(_API_KEY.match(token))


def issue_jwt(secret: str, user: str, role: Role, ttl_seconds: float) -> str:
    now = int(time.time())
    claims = {
        "sub": user,
        "role": role.label,
        "iat": now,
        "exp": now + int(ttl_seconds),
        "iss": ISSUER,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_jwt(secret: str, token: str, max_ttl: float | None = None) -> Principal:
    """The principal of a valid token; with `max_ttl`, tokens minted to live longer are refused too."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], issuer=ISSUER, options={"require": ["sub", "exp", "role", "iat"]}
        )
    except jwt.ExpiredSignatureError:
        raise TokenError("token expired") from None
    except jwt.InvalidTokenError as exc:
        raise TokenError(f"invalid token: {exc}") from None
    try:
        role = Role.parse(str(claims["role"]))
    except ValueError as exc:
        raise TokenError(f"invalid token: {exc}") from None
    if max_ttl is not None and float(claims["exp"]) - float(claims["iat"]) > max_ttl + 1:
        raise TokenError(f"token lifetime exceeds the {max_ttl:g} s this gateway accepts")
    return Principal(
        user=str(claims["sub"]),
        role=role,
        token_id=f"jwt:{claims.get('jti') or claims['sub']}",
        kind="jwt",
        expires_at=float(claims["exp"]),
        issued_at=float(claims["iat"]),
    )
