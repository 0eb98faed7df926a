"""Deployment secrets: read from `NAME` or `NAME_FILE`, refused when weak, generated when missing.

No secret has a working default. A value copied from an example (`change-me`, `secret`, ...), shorter than
`MIN_SECRET_BYTES` or made of a handful of repeated characters stops the process with a `ConfigError` naming
the variable, so a deployment left at its placeholder never serves. `hiremesh up` and `hiremesh secrets`
create the files below with `ensure_secret_file` (mode 0600, 256 random bits).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from pathlib import Path

from hiremesh.config import ConfigError, home

__all__ = [
    "JWT_SECRET",
    "SERVICE_TOKEN",
    "check_secret",
    "ensure_secret_file",
    "is_placeholder",
    "new_secret",
    "read_secret",
    "secrets_dir",
]

MIN_SECRET_BYTES = 32

# Words that mark a value as copied from documentation or an example file, not generated for a deployment.
_PLACEHOLDER = re.compile(
    r"change[-_ ]?me|changeit|replace[-_ ]?me|placeholder|example|your[-_ ]|^(?:secret|password|passw0rd|"
    r"hiremesh|admin|test|dummy|default|xxx+|todo|not[-_ ]needed.*)$|^(.)\1+$",
    re.IGNORECASE,
)

SERVICE_TOKEN = "HIREMESH_SERVICE_TOKEN"
JWT_SECRET = "HIREMESH_GATEWAY_JWT_SECRET"


def secrets_dir() -> Path:
    """Where `hiremesh up` keeps generated secrets: `$HIREMESH_HOME/secrets` (mode 0700)."""
    return home() / "secrets"


def is_placeholder(value: str) -> bool:
    return bool(_PLACEHOLDER.search(value))


def check_secret(name: str, value: str) -> str:
    """`value` when it can be a real secret; ConfigError naming `name` for a placeholder or a weak value."""
    if is_placeholder(value):
        raise ConfigError(name, "is a placeholder value; generate one with `hiremesh secrets generate`")
    if len(value.encode()) < MIN_SECRET_BYTES:
        raise ConfigError(
            name,
            f"is {len(value.encode())} bytes; at least {MIN_SECRET_BYTES} random bytes are "
            "required (`hiremesh secrets generate` makes one)",
        )
    if len(set(value)) < 12:
        raise ConfigError(name, "has too few distinct characters to be random; generate a new one")
    return value


def new_secret() -> str:
    """43 URL-safe characters: 256 random bits."""
    return secrets.token_urlsafe(32)


def read_secret(name: str, *, default_file: Path | None = None) -> str | None:
    """The secret in `$NAME`, else in the file `$NAME_FILE`, else in `default_file` when it exists; checked.

    None when none of them is set: the caller decides whether that is an error.
    """
    value = os.environ.get(name, "").strip()
    if value:
        return check_secret(name, value)
    file_var = f"{name}_FILE"
    path_text = os.environ.get(file_var, "").strip()
    path = Path(path_text).expanduser() if path_text else default_file
    if path is None or (not path_text and not path.exists()):
        return None
    try:
        value = path.read_text().strip()
    except OSError as exc:
        raise ConfigError(file_var if path_text else name, f"cannot read {path}: {exc.strerror}") from None
    if not value:
        raise ConfigError(file_var if path_text else name, f"{path} is empty")
    return check_secret(file_var if path_text else name, value)


def ensure_secret_file(path: Path) -> str:
    """The secret in `path`, created (0600, parent 0700) with a new random value when missing.

    An existing file keeps its value but gets mode 0600 again, so a file loosened by hand or by a copy does
    not stay readable by others.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        path.parent.chmod(0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        path.chmod(0o600)
        value = path.read_text().strip()
        return check_secret(str(path), value)
    with os.fdopen(fd, "w") as out:
        value = new_secret()
        out.write(value + "\n")
    return value
