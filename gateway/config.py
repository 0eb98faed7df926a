"""Gateway settings from `HIREMESH_GATEWAY_*` variables, validated once at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hiremesh import config as hc
from hiremesh.credentials import JWT_SECRET, read_secret

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
    # Prometheus scrapes this port without a token; -1 turns it off, None means port + 1000.
    metrics_port: int | None = None
    database_url: str = ""
    backends: BackendAddrs | None = None
    # Deadline for a gRPC call when the request names none, and the most a request may ask for.
    default_timeout: float = 30.0
    max_timeout: float = 300.0
    # Long-running operations (sync, training, export, import) get their own, longer deadline.
    operation_timeout: float = 3600.0
    max_upload_bytes: int = 10 * 1024 * 1024
    # One budget for every part of a bulk import, fed to search_svc in batches of `import_batch_bytes`.
    max_import_bytes: int = 256 * 1024 * 1024
    import_batch_bytes: int = 8 * 1024 * 1024
    max_json_bytes: int = 4 * 1024 * 1024
    max_form_fields: int = 32
    # Token bucket per bearer token; rate 0 turns limiting off.
    rate_limit: float = 50.0
    rate_burst: int = 200
    # Per client address, before authentication (every /api and /ws request); rate 0 turns it off.
    address_rate_limit: float = 100.0
    address_rate_burst: int = 400
    # Failed API-key look-ups per client address: past this, unknown keys are refused before the database.
    auth_failure_rate: float = 1.0
    auth_failure_burst: int = 20
    # Proxies whose X-Forwarded-For names the client (the gateway behind an ingress); empty: the peer.
    trusted_proxies: tuple[str, ...] = ()
    cors_origins: tuple[str, ...] = ()
    jwt_secret: str = ""
    max_jwt_ttl: float = 24 * 3600.0
    auth_cache_seconds: float = 10.0
    ws_queue_size: int = 256
    ws_heartbeat: float = 20.0
    ws_per_user: int = 8
    ws_watches_per_user: int = 256
    token_file: Path = field(default_factory=lambda: hc.home() / "admin-token")
    static_dir: Path = STATIC_DIR

    @classmethod
    def from_env(cls) -> GatewayConfig:
        origins = tuple(o.strip() for o in hc.env_str("HIREMESH_GATEWAY_CORS_ORIGINS", "").split(",") if o.strip())
        proxies = tuple(p.strip() for p in hc.env_str("HIREMESH_GATEWAY_TRUSTED_PROXIES", "").split(",") if p.strip())
        port = hc.service_port("gateway")
        return cls(
            host=hc.env_str("HIREMESH_GATEWAY_HOST", "127.0.0.1"),
            port=port,
            metrics_port=hc.env_int("HIREMESH_METRICS_PORT", port + 1000, min=-1, max=65535),
            database_url=hc.database_url(),
            backends=BackendAddrs.from_env(),
            default_timeout=hc.env_float("HIREMESH_GATEWAY_TIMEOUT", 30.0, min=0.1, max=3600),
            max_timeout=hc.env_float("HIREMESH_GATEWAY_MAX_TIMEOUT", 300.0, min=1, max=86400),
            operation_timeout=hc.env_float("HIREMESH_GATEWAY_OPERATION_TIMEOUT", 3600.0, min=1),
            max_upload_bytes=hc.env_int("HIREMESH_GATEWAY_MAX_UPLOAD_MB", 10, min=1, max=512) * 1024 * 1024,
            max_import_bytes=hc.env_int("HIREMESH_GATEWAY_MAX_IMPORT_MB", 256, min=1, max=65536) * 1024 * 1024,
            import_batch_bytes=hc.env_int("HIREMESH_GATEWAY_IMPORT_BATCH_MB", 8, min=1, max=30) * 1024 * 1024,
            max_json_bytes=hc.env_int("HIREMESH_GATEWAY_MAX_JSON_MB", 4, min=1, max=30) * 1024 * 1024,
            max_form_fields=hc.env_int("HIREMESH_GATEWAY_MAX_FORM_FIELDS", 32, min=1, max=10_000),
            rate_limit=hc.env_float("HIREMESH_GATEWAY_RATE_LIMIT", 50.0, min=0),
            rate_burst=hc.env_int("HIREMESH_GATEWAY_RATE_BURST", 200, min=1),
            address_rate_limit=hc.env_float("HIREMESH_GATEWAY_ADDRESS_RATE_LIMIT", 100.0, min=0),
            address_rate_burst=hc.env_int("HIREMESH_GATEWAY_ADDRESS_RATE_BURST", 400, min=1),
            auth_failure_rate=hc.env_float("HIREMESH_GATEWAY_AUTH_FAILURE_RATE", 1.0, min=0.01),
            auth_failure_burst=hc.env_int("HIREMESH_GATEWAY_AUTH_FAILURE_BURST", 20, min=1),
            trusted_proxies=proxies,
            cors_origins=origins,
            jwt_secret=read_secret(JWT_SECRET) or "",
            max_jwt_ttl=hc.env_float("HIREMESH_GATEWAY_MAX_JWT_TTL_S", 24 * 3600.0, min=60, max=30 * 86400),
            auth_cache_seconds=hc.env_float("HIREMESH_GATEWAY_AUTH_CACHE_SECONDS", 10.0, min=0, max=300),
            ws_queue_size=hc.env_int("HIREMESH_GATEWAY_WS_QUEUE", 256, min=4),
            ws_heartbeat=hc.env_float("HIREMESH_GATEWAY_WS_HEARTBEAT", 20.0, min=1),
            ws_per_user=hc.env_int("HIREMESH_GATEWAY_WS_PER_USER", 8, min=1, max=10_000),
            ws_watches_per_user=hc.env_int("HIREMESH_GATEWAY_WS_WATCHES_PER_USER", 256, min=1, max=100_000),
            token_file=hc.home() / "admin-token",
        )
