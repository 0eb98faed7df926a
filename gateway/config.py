"""Gateway settings from `HIREMESH_GATEWAY_*` variables, validated once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hiremesh import config as hc

STATIC_DIR = Path(__file__).resolve().parent / "static"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


@dataclass(frozen=True)
class BackendAddrs:
    search: str
    screening: str
    guardrail: str
    analytics: str
    embedding: str

    @classmethod
    def from_env(cls) -> BackendAddrs:
        return cls(*(hc.service_addr(name) for name in ("search", "screening", "guardrail", "analytics", "embedding")))


@dataclass(frozen=True)
class GatewayConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str = ""
    backends: BackendAddrs | None = None
    # Deadline for a gRPC call when the request names none, and the most a request may ask for.
    default_timeout: float = 30.0
    max_timeout: float = 300.0
    # Long-running operations (sync, training, export, import) get their own, longer deadline.
    operation_timeout: float = 3600.0
    max_upload_bytes: int = 10 * 1024 * 1024
    # Token bucket per bearer token; rate 0 turns limiting off.
    rate_limit: float = 50.0
    rate_burst: int = 200
    cors_origins: tuple[str, ...] = ()
    jwt_secret: str = ""
    auth_cache_seconds: float = 30.0
    ws_queue_size: int = 256
    ws_heartbeat: float = 20.0
    token_file: Path = field(default_factory=lambda: hc.home() / "admin-token")
    static_dir: Path = STATIC_DIR

    @classmethod
    def from_env(cls) -> GatewayConfig:
        origins = tuple(o.strip() for o in hc.env_str("HIREMESH_GATEWAY_CORS_ORIGINS", "").split(",") if o.strip())
        return cls(
            host=hc.env_str("HIREMESH_GATEWAY_HOST", "127.0.0.1"),
            port=hc.service_port("gateway"),
            database_url=hc.database_url(),
            backends=BackendAddrs.from_env(),
            default_timeout=hc.env_float("HIREMESH_GATEWAY_TIMEOUT", 30.0, min=0.1, max=3600),
            max_timeout=hc.env_float("HIREMESH_GATEWAY_MAX_TIMEOUT", 300.0, min=1, max=86400),
            operation_timeout=hc.env_float("HIREMESH_GATEWAY_OPERATION_TIMEOUT", 3600.0, min=1),
            max_upload_bytes=hc.env_int("HIREMESH_GATEWAY_MAX_UPLOAD_MB", 10, min=1, max=512) * 1024 * 1024,
            rate_limit=hc.env_float("HIREMESH_GATEWAY_RATE_LIMIT", 50.0, min=0),
            rate_burst=hc.env_int("HIREMESH_GATEWAY_RATE_BURST", 200, min=1),
            cors_origins=origins,
            jwt_secret=hc.env_str("HIREMESH_GATEWAY_JWT_SECRET", ""),
            auth_cache_seconds=hc.env_float("HIREMESH_GATEWAY_AUTH_CACHE_SECONDS", 30.0, min=0),
            ws_queue_size=hc.env_int("HIREMESH_GATEWAY_WS_QUEUE", 256, min=4),
            ws_heartbeat=hc.env_float("HIREMESH_GATEWAY_WS_HEARTBEAT", 20.0, min=1),
            token_file=hc.home() / "admin-token",
        )
