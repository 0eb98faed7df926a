"""Users and API keys in PostgreSQL (schema `auth`), shared by the gateway and `hiremesh users`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from psycopg.errors import UniqueViolation
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from gateway.config import MIGRATIONS_DIR
from gateway.tokens import Principal, Role, digest, new_api_key
from hiremesh.errors import AlreadyExists, InvalidArgument, NotFound

BOOTSTRAP_USER = "admin"


@dataclass(frozen=True)
class UserState:
    """What a JWT is checked against: the user's role now, and when their tokens were last revoked."""

    role: Role
    tokens_valid_after: float | None  # epoch seconds; tokens issued before it are refused


@dataclass(frozen=True)
class UserInfo:
    name: str
    role: Role
    disabled: bool
    created_at: datetime
    keys: int


class UserStore:
    """CRUD over `auth.users` / `auth.api_keys`, and the shared JWT secret."""

    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    @classmethod
    async def open(cls, url: str, *, max_size: int = 4) -> UserStore:
        from hiremesh.db import migrate, open_pool

        await migrate(url, "auth", MIGRATIONS_DIR)
        return cls(await open_pool(url, min_size=1, max_size=max_size))

    async def close(self) -> None:
        await self.pool.close()

    async def add_user(self, name: str, role: Role) -> None:
        if not name or len(name) > 64 or not all(c.isalnum() or c in "_.@-" for c in name):
            raise InvalidArgument("name", "1-64 letters, digits or _ . @ -")
        try:
            async with self.pool.connection() as conn:
                await conn.execute("INSERT INTO auth.users (name, role) VALUES (%s, %s)", (name, role.label))
        except UniqueViolation:
            raise AlreadyExists(f"user {name!r} already exists") from None

    async def create_api_key(self, name: str, label: str = "", ttl_seconds: float | None = None) -> str:
        """A new API key for user `name`; the token is returned once and stored only as a digest."""
        key_id, token, token_digest = new_api_key()
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "INSERT INTO auth.api_keys (id, user_id, token_sha256, label, expires_at) "
                "SELECT %s, id, %s, %s, CASE WHEN %s::float8 IS NULL THEN NULL "
                "ELSE now() + make_interval(secs => %s::float8) END FROM auth.users WHERE name = %s",
                (key_id, token_digest, label, ttl_seconds, ttl_seconds, name),
            )
            if cur.rowcount == 0:
                raise NotFound(f"no user {name!r}")
        return token

    async def lookup(self, token: str) -> Principal | None:
        """The principal behind an API key, or None when it is unknown, revoked, expired or disabled."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT k.id, u.name, u.role, extract(epoch FROM k.expires_at) FROM auth.api_keys k "
                "JOIN auth.users u ON u.id = k.user_id WHERE k.token_sha256 = %s AND k.revoked_at IS NULL "
                "AND NOT u.disabled AND (k.expires_at IS NULL OR k.expires_at > now())",
                (digest(token),),
            )
            row = await cur.fetchone()
        if row is None:
            return None
        key_id, user, role, expires = row
        return Principal(
            user=user,
            role=Role.parse(role),
            token_id=f"key:{key_id}",
            kind="api_key",
            expires_at=float(expires) if expires is not None else None,
        )

    async def role_of(self, name: str) -> Role | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT role FROM auth.users WHERE name = %s AND NOT disabled", (name,))
            row = await cur.fetchone()
        return Role.parse(row[0]) if row else None

    async def list_users(self) -> list[UserInfo]:
        async with self.pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(
                "SELECT u.name, u.role, u.disabled, u.created_at, count(k.id) FILTER (WHERE k.revoked_at IS NULL) "
                "AS keys FROM auth.users u LEFT JOIN auth.api_keys k ON k.user_id = u.id "
                "GROUP BY u.id ORDER BY u.created_at, u.name"
            )
            rows = await cur.fetchall()
        return [UserInfo(r["name"], Role.parse(r["role"]), r["disabled"], r["created_at"], r["keys"]) for r in rows]

    async def revoke_keys(self, name: str) -> int:
        """Revoke every API key of `name` and every JWT issued to them so far; returns the keys revoked."""
        async with self.pool.connection() as conn, conn.transaction():
            cur = await conn.execute("UPDATE auth.users SET tokens_valid_after = now() WHERE name = %s", (name,))
            if cur.rowcount == 0:
                raise NotFound(f"no user {name!r}")
            cur = await conn.execute(
                "UPDATE auth.api_keys SET revoked_at = now() WHERE revoked_at IS NULL AND user_id = "
                "(SELECT id FROM auth.users WHERE name = %s)",
                (name,),
            )
            return cur.rowcount

    async def set_disabled(self, name: str, disabled: bool) -> None:
        """Disable (every token stops working) or enable a user."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE auth.users SET disabled = %s, tokens_valid_after = CASE WHEN %s THEN now() "
                "ELSE tokens_valid_after END WHERE name = %s",
                (disabled, disabled, name),
            )
            if cur.rowcount == 0:
                raise NotFound(f"no user {name!r}")

    async def set_role(self, name: str, role: Role) -> None:
        """Change a user's role; their API keys carry the new role at once, their JWTs are revoked."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE auth.users SET role = %s, tokens_valid_after = now() WHERE name = %s", (role.label, name)
            )
            if cur.rowcount == 0:
                raise NotFound(f"no user {name!r}")

    async def user_state(self, name: str) -> UserState | None:
        """The active user `name` (None when unknown or disabled)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT role, extract(epoch FROM tokens_valid_after) FROM auth.users WHERE name = %s AND NOT disabled",
                (name,),
            )
            row = await cur.fetchone()
        if row is None:
            return None
        return UserState(Role.parse(row[0]), float(row[1]) if row[1] is not None else None)

    async def key_active(self, key_id: str) -> Role | None:
        """The role behind API key `key_id` while it is usable (not revoked, not expired, user enabled)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT u.role FROM auth.api_keys k JOIN auth.users u ON u.id = k.user_id WHERE k.id = %s "
                "AND k.revoked_at IS NULL AND NOT u.disabled AND (k.expires_at IS NULL OR k.expires_at > now())",
                (key_id,),
            )
            row = await cur.fetchone()
        return Role.parse(row[0]) if row else None

    async def jwt_secret(self) -> str:
        """The JWT signing secret every replica shares; created on first use."""
        async with self.pool.connection() as conn:
            await conn.execute(
                "INSERT INTO auth.settings (name, value) VALUES ('jwt_secret', %s) ON CONFLICT (name) DO NOTHING",
                (secrets.token_urlsafe(48),),
            )
            cur = await conn.execute("SELECT value FROM auth.settings WHERE name = 'jwt_secret'")
            row = await cur.fetchone()
        assert row is not None
        return str(row[0])

    async def ensure_bootstrap_admin(self) -> str | None:
        """Create user `admin` with an API key when there are no users at all; returns that token or None."""
        async with self.pool.connection() as conn:
            # The advisory lock keeps two replicas starting at once from both creating an admin.
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext('hiremesh.auth.bootstrap'))")
                cur = await conn.execute("SELECT count(*) FROM auth.users")
                row = await cur.fetchone()
                if row is not None and row[0] > 0:
                    return None
                await conn.execute("INSERT INTO auth.users (name, role) VALUES (%s, 'admin')", (BOOTSTRAP_USER,))
                key_id, token, token_digest = new_api_key()
                await conn.execute(
                    "INSERT INTO auth.api_keys (id, user_id, token_sha256, label) "
                    "SELECT %s, id, %s, 'bootstrap' FROM auth.users WHERE name = %s",
                    (key_id, token_digest, BOOTSTRAP_USER),
                )
        return token
