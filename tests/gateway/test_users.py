"""UserStore, bootstrap token file and `hiremesh users` on a real PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from gateway.__main__ import write_bootstrap_token
from gateway.auth import Authenticator
from gateway.errors import ApiError
from gateway.tokens import Role, issue_jwt
from gateway.users import UserStore
from hiremesh.errors import AlreadyExists, InvalidArgument, NotFound
from tests.fixtures.mesh import gateway_database, users_cli


@pytest_asyncio.fixture(loop_scope="session")
async def db_url(pg_url: str) -> str:
    return await gateway_database(pg_url)


@pytest_asyncio.fixture(loop_scope="session")
async def store(db_url: str) -> AsyncIterator[UserStore]:
    opened = await UserStore.open(db_url)
    try:
        yield opened
    finally:
        await opened.close()


async def test_bootstrap_admin_once_and_token_file(store: UserStore, tmp_path: Path) -> None:
    token_file = tmp_path / "home" / "admin-token"
    token = await write_bootstrap_token(store, token_file)
    assert token is not None and token_file.read_text().strip() == token
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    principal = await store.lookup(token)
    assert principal is not None and principal.user == "admin" and principal.role == Role.ADMIN
    assert await write_bootstrap_token(store, token_file) is None  # users exist: nothing new
    assert token_file.exists()  # the file still holds a working token
    token_file.write_text("hmk_stale_token\n")
    assert await write_bootstrap_token(store, token_file) is None
    assert not token_file.exists()  # a dead token is not left around for `hiremesh up` to print


async def test_users_keys_revocation_and_errors(store: UserStore) -> None:
    await store.add_user("rita", Role.RECRUITER)
    with pytest.raises(AlreadyExists):
        await store.add_user("rita", Role.VIEWER)
    with pytest.raises(InvalidArgument):
        await store.add_user("no spaces", Role.VIEWER)
    with pytest.raises(NotFound):
        await store.create_api_key("ghost")
    key = await store.create_api_key("rita")
    found = await store.lookup(key)
    assert found is not None and found.role == Role.RECRUITER and found.kind == "api_key"
    assert await store.lookup(key + "x") is None
    expiring = await store.create_api_key("rita", ttl_seconds=-1)
    assert await store.lookup(expiring) is None
    assert await store.revoke_keys("rita") == 2  # the expired one too
    assert await store.lookup(key) is None
    assert [u.name for u in await store.list_users()][-1] == "rita"


async def test_authenticator_accepts_keys_and_jwts_from_the_shared_secret(store: UserStore) -> None:
    await store.add_user("vera", Role.VIEWER)
    key = await store.create_api_key("vera")
    secret = await store.jwt_secret()
    assert secret == await store.jwt_secret()  # stable across calls and replicas
    auth = Authenticator(store, secret, cache_seconds=0)
    assert (await auth.verify(key)).user == "vera"
    assert (await auth.verify(issue_jwt(secret, "vera", Role.VIEWER, 60))).kind == "jwt"
    with pytest.raises(ApiError) as err:
        await auth.verify(issue_jwt(secret, "vera", Role.VIEWER, -1))
    assert err.value.http_status == 401 and "expired" in err.value.message


async def test_users_cli(db_url: str) -> None:
    env = {"HIREMESH_DATABASE_URL": db_url}
    key = await asyncio.to_thread(users_cli, env, "add", "carl", "--role", "viewer")
    assert key.startswith("hmk_")
    jwt_token = await asyncio.to_thread(users_cli, env, "token", "carl", "--ttl", "120")
    assert jwt_token.count(".") == 2
    listing = await asyncio.to_thread(users_cli, env, "list")
    assert "carl" in listing and "viewer" in listing
    with pytest.raises(RuntimeError, match="already exists"):
        await asyncio.to_thread(users_cli, env, "add", "carl")
    store = await UserStore.open(db_url, max_size=1)
    try:
        principal = await Authenticator(store, await store.jwt_secret()).verify(jwt_token)
        assert principal.user == "carl" and principal.role == Role.VIEWER
    finally:
        await store.close()
