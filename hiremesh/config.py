"""Configuration from `HIREMESH_*` environment variables.

Every reader validates its value and raises `ConfigError` naming the variable, so a bad setting stops
start-up with a message an operator can act on instead of failing later somewhere deep.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "HEALTH_NAMES",
    "ConfigError",
    "database_url",
    "env_bool",
    "env_choice",
    "env_float",
    "env_int",
    "env_path",
    "env_str",
    "home",
    "log_level",
    "service_addr",
    "service_port",
]

PORTS: dict[str, int] = {
    "embedding": 50051,
    "search": 50052,
    "screening": 50053,
    "guardrail": 50054,
    "analytics": 50055,
    "gateway": 8080,
}

HEALTH_NAMES: dict[str, str] = {
    "embedding": "hiremesh.v1.EmbeddingService",
    "search": "hiremesh.v1.SearchService",
    "screening": "hiremesh.v1.ScreeningService",
    "guardrail": "hiremesh.v1.GuardrailService",
    "analytics": "hiremesh.v1.AnalyticsService",
}


class ConfigError(ValueError):
    """A `HIREMESH_*` variable holds a value that cannot be used."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None else value


def env_int(name: str, default: int, *, min: int | None = None, max: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(name, f"expected an integer, got {value!r}") from None
    _check_range(name, number, min, max)
    return number


def env_float(name: str, default: float, *, min: float | None = None, max: float | None = None) -> float:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(name, f"expected a number, got {value!r}") from None
    if number != number:  # NaN passes every comparison, so reject it explicitly
        raise ConfigError(name, "expected a number, got NaN")
    _check_range(name, number, min, max)
    return number


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(name, f"expected true/false, got {value!r}")


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default).lower()
    if value not in choices:
        raise ConfigError(name, f"expected one of {', '.join(choices)}, got {value!r}")
    return value


def env_path(name: str, default: Path) -> Path:
    value = _raw(name)
    return (Path(value) if value is not None else default).expanduser().absolute()


def _check_range(name: str, number: float, low: float | None, high: float | None) -> None:
    if low is not None and number < low:
        raise ConfigError(name, f"must be >= {low}, got {number}")
    if high is not None and number > high:
        raise ConfigError(name, f"must be <= {high}, got {number}")


def home() -> Path:
    """The folder for data, models, logs and the warehouse ($HIREMESH_HOME, default ./.hiremesh)."""
    return env_path("HIREMESH_HOME", Path(".hiremesh"))


def service_port(service: str) -> int:
    if service not in PORTS:
        raise KeyError(service)
    return env_int(f"HIREMESH_{service.upper()}_PORT", PORTS[service], min=0, max=65535)


def service_addr(service: str) -> str:
    """Where callers reach `service`: HIREMESH_<SVC>_ADDR, else 127.0.0.1 and its port."""
    name = f"HIREMESH_{service.upper()}_ADDR"
    value = env_str(name, f"127.0.0.1:{service_port(service)}")
    if ":" not in value:
        raise ConfigError(name, f"expected host:port or a gRPC target such as dns:///host:port, got {value!r}")
    return value


def database_url() -> str:
    value = _raw("HIREMESH_DATABASE_URL")
    if value is None:
        raise ConfigError("HIREMESH_DATABASE_URL", "not set (hiremesh up sets it; or point it at PostgreSQL)")
    if not value.startswith(("postgresql://", "postgres://", "host=", "dbname=")):
        raise ConfigError("HIREMESH_DATABASE_URL", "expected a postgresql:// URL")
    _refuse_placeholder_password(value)
    return value


def _refuse_placeholder_password(url: str) -> None:
    """A password copied from an example (`change-me`, `hiremesh`, ...) stops start-up; PGPASSFILE is fine."""
    from psycopg.conninfo import conninfo_to_dict

    from hiremesh.credentials import is_placeholder

    try:
        password = conninfo_to_dict(url).get("password")
    except Exception:  # psycopg reports a malformed URL itself, naming it, when it connects
        return
    if password and is_placeholder(str(password)):
        raise ConfigError(
            "HIREMESH_DATABASE_URL",
            "its password is a placeholder value; set a generated one (`hiremesh secrets generate` makes pg-password)",
        )


def log_level() -> str:
    return env_choice("HIREMESH_LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
