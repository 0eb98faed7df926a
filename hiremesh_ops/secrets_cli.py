"""`hiremesh secrets generate|k8s`: the deployment's secrets, made once, never printed.

- `generate` writes `service-token`, `jwt-secret` and `pg-password` (and with `--pgpass` a libpq password
  file) into a folder, default `$HIREMESH_HOME/secrets`; values that exist are kept. Compose runs it in its
  `secrets` service on first start; `hiremesh up` needs no step (it creates the service token itself).
- `k8s` writes the env file kustomize's `secretGenerator` reads (deploy/k8s/secrets.env by default) from
  the same generated values plus the database URL the operator gives.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from hiremesh.config import ConfigError
from hiremesh.credentials import check_secret, ensure_secret_file, new_secret, secrets_dir

NAMES = ("service-token", "jwt-secret", "pg-password")
K8S_ENV = Path(__file__).resolve().parents[1] / "deploy" / "k8s" / "secrets.env"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hiremesh secrets", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="action", required=True)
    gen = sub.add_parser("generate", help="create missing secret files (kept when they exist)")
    gen.add_argument("--dir", type=Path, default=None, help="target folder (default $HIREMESH_HOME/secrets)")
    gen.add_argument("--owner", type=int, default=None, help="numeric uid to own the files (run as root)")
    gen.add_argument(
        "--pgpass",
        default="",
        metavar="HOST:PORT:DB:USER",
        help="also write a libpq password file `pgpass` for this server, with pg-password",
    )
    gen.add_argument(
        "--readable",
        action="append",
        default=[],
        choices=NAMES,
        help="make this file readable by every user (e.g. pg-password for the postgres image)",
    )
    k8s = sub.add_parser("k8s", help="write the env file for kustomize's secretGenerator")
    k8s.add_argument(
        "--database-url",
        default=os.environ.get("HIREMESH_DATABASE_URL", ""),
        help="postgresql:// URL of the managed database (default $HIREMESH_DATABASE_URL)",
    )
    k8s.add_argument("--llm-api-key", default="", help="API key of the LLM endpoint, if it needs one")
    k8s.add_argument("--out", type=Path, default=K8S_ENV)
    return parser


def generate(
    folder: Path, owner: int | None = None, pgpass: str = "", readable: tuple[str, ...] | list[str] = ()
) -> list[Path]:
    """Create the missing secret files in `folder`; returns every file path (values are never returned)."""
    paths = [folder / name for name in NAMES]
    for path in paths:
        ensure_secret_file(path)
    if pgpass:
        parts = pgpass.split(":")
        if len(parts) != 4 or not all(parts):
            raise ConfigError("--pgpass", "expected HOST:PORT:DB:USER")
        target = folder / "pgpass"
        password = (folder / "pg-password").read_text().strip()
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(":".join([*parts, password]) + "\n")
        paths.append(target)
    if owner is not None:
        for path in [folder, *paths]:
            os.chown(path, owner, owner)
    if readable:
        folder.chmod(0o755)
        for name in readable:
            (folder / name).chmod(0o644)
    return paths


def k8s_env(database_url: str, llm_api_key: str, out: Path) -> Path:
    """Write `out` (mode 0600): database-url, jwt-secret, service-token, llm-api-key; existing values stay."""
    if not database_url:
        raise ConfigError("--database-url", "required (the managed PostgreSQL's postgresql:// URL)")
    password = urlsplit(database_url).password or ""
    if password:
        check_secret("--database-url password", password)
    current: dict[str, str] = {}
    if out.exists():
        for line in out.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                current[key.strip()] = value.strip()
    values = {
        "database-url": database_url,
        "jwt-secret": current.get("jwt-secret") or new_secret(),
        "service-token": current.get("service-token") or new_secret(),
        "llm-api-key": llm_api_key or current.get("llm-api-key", ""),
    }
    for key in ("jwt-secret", "service-token"):
        check_secret(key, values[key])
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("".join(f"{k}={v}\n" for k, v in values.items()))
    out.chmod(0o600)
    return out


def secrets_command(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.action == "generate":
            for path in generate(args.dir or secrets_dir(), args.owner, args.pgpass, args.readable):
                print(path)
        else:
            print(
                f"wrote {k8s_env(args.database_url, args.llm_api_key, args.out)}; "
                "apply with `kubectl apply -k deploy/k8s`"
            )
    except ConfigError as exc:
        print(f"hiremesh secrets: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"hiremesh secrets: {exc}", file=sys.stderr)
        return 1
    return 0
