"""`hiremesh users add|token|list|revoke|disable|enable|role`: gateway users and their tokens (schema `auth`).

`revoke`, `disable` and `role` also end the user's JWTs (auth.users.tokens_valid_after): the gateways
refuse them within their auth cache time (HIREMESH_GATEWAY_AUTH_CACHE_SECONDS), WebSockets included.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from hiremesh import config
from hiremesh.config import ConfigError
from hiremesh.credentials import JWT_SECRET, read_secret
from hiremesh.errors import HiremeshError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hiremesh users", description="manage gateway users and tokens")
    sub = parser.add_subparsers(dest="action", required=True)
    add = sub.add_parser("add", help="create a user and print an API key for it")
    add.add_argument("name")
    add.add_argument("--role", default="recruiter", choices=["admin", "recruiter", "viewer"])
    add.add_argument("--label", default="", help="a note stored with the key")
    token = sub.add_parser("token", help="print a new token for an existing user (JWT by default)")
    token.add_argument("name")
    token.add_argument(
        "--ttl",
        type=float,
        default=None,
        help="seconds the token is valid (JWT default 3600, at most HIREMESH_GATEWAY_MAX_JWT_TTL_S "
        "= 86400 by default; API keys never expire by default)",
    )
    token.add_argument("--api-key", action="store_true", help="issue an API key instead (no expiry unless --ttl)")
    sub.add_parser("list", help="list users, roles and how many active keys each has")
    revoke = sub.add_parser("revoke", help="revoke every API key and JWT of a user")
    revoke.add_argument("name")
    for action, text in (
        ("disable", "disable a user: every token stops working"),
        ("enable", "enable a disabled user again (revoked tokens stay revoked)"),
    ):
        sub.add_parser(action, help=text).add_argument("name")
    role = sub.add_parser("role", help="change a user's role (their JWTs are revoked)")
    role.add_argument("name")
    role.add_argument("role", choices=["admin", "recruiter", "viewer"])
    return parser


def _database_url() -> str:
    try:
        return config.database_url()
    except ConfigError:
        try:  # `hiremesh up` runs an embedded cluster whose URL the children get but this shell does not
            from hiremesh_ops.pg import Cluster
        except ImportError:
            raise
        url: str = Cluster.from_env().url("hiremesh")
        return url


async def _run(args: argparse.Namespace) -> int:
    from gateway.tokens import Role, issue_jwt
    from gateway.users import UserStore

    store = await UserStore.open(_database_url(), max_size=1)
    try:
        if args.action == "add":
            await store.add_user(args.name, Role.parse(args.role))
            print(await store.create_api_key(args.name, label=args.label or "cli"))
            print(f"created {args.role} {args.name!r}; the API key above is shown only once", file=sys.stderr)
        elif args.action == "token":
            if args.ttl is not None and args.ttl <= 0:
                print("--ttl must be positive", file=sys.stderr)
                return 2
            max_ttl = config.env_float("HIREMESH_GATEWAY_MAX_JWT_TTL_S", 86400.0, min=60, max=30 * 86400)
            if not args.api_key and args.ttl is not None and args.ttl > max_ttl:
                print(
                    f"--ttl is at most {max_ttl:g} s for a JWT (the gateways refuse longer ones); "
                    "use --api-key for a long-lived credential",
                    file=sys.stderr,
                )
                return 2
            if args.api_key:
                print(await store.create_api_key(args.name, label="cli", ttl_seconds=args.ttl))
            else:
                role = await store.role_of(args.name)
                if role is None:
                    print(f"no active user {args.name!r}", file=sys.stderr)
                    return 1
                secret = read_secret(JWT_SECRET) or await store.jwt_secret()
                print(issue_jwt(secret, args.name, role, args.ttl or 3600.0))
        elif args.action == "list":
            for user in await store.list_users():
                state = "disabled" if user.disabled else "active"
                print(
                    f"{user.name:<24} {user.role.label:<10} {state:<9} keys {user.keys:<3} "
                    f"created {user.created_at:%Y-%m-%d %H:%M}"
                )
        elif args.action == "revoke":
            print(f"revoked {await store.revoke_keys(args.name)} key(s) and every JWT of {args.name!r}")
        elif args.action in ("disable", "enable"):
            await store.set_disabled(args.name, args.action == "disable")
            print(f"{args.action}d {args.name!r}")
        elif args.action == "role":
            await store.set_role(args.name, Role.parse(args.role))
            print(f"{args.name!r} is now {args.role}; their JWTs are revoked")
    finally:
        await store.close()
    return 0


def users_command(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except HiremeshError as exc:
        print(f"hiremesh users: {exc.message}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"hiremesh users: configuration error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"hiremesh users: cannot reach the database: {exc}", file=sys.stderr)
        return 1
