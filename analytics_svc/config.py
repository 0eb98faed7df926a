"""AnalyticsConfig: every setting of analytics_svc, read once from `HIREMESH_*` variables at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from analytics_svc.schedules import Schedule, parse_schedule
from hiremesh import config
from hiremesh.config import ConfigError

SCHEDULE_DEFAULTS: dict[str, str] = {
    "incremental": "15m",
    "full": "1d",
    "train": "7d",
    "export": "1d",
}


@dataclass(frozen=True)
class AnalyticsConfig:
    port: int
    database_url: str
    home: Path
    warehouse_path: Path
    models_dir: Path
    exports_dir: Path
    batch_bytes: int = 8 << 20
    min_train_samples: int = 20
    min_time_samples: int = 10
    sync_on_start: bool = True
    schedules: dict[str, Schedule] = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> AnalyticsConfig:
        home = config.home()
        schedules = {}
        for name, default in SCHEDULE_DEFAULTS.items():
            var = f"HIREMESH_ANALYTICS_SCHEDULE_{name.upper()}"
            try:
                schedules[name] = parse_schedule(name, config.env_str(var, default))
            except ValueError as exc:
                raise ConfigError(var, str(exc)) from None
        return cls(
            port=config.service_port("analytics"),
            database_url=config.database_url(),
            home=home,
            warehouse_path=config.env_path("HIREMESH_ANALYTICS_WAREHOUSE", home / "analytics.duckdb"),
            models_dir=config.env_path("HIREMESH_ANALYTICS_MODELS_DIR", home / "models" / "analytics"),
            exports_dir=config.env_path("HIREMESH_ANALYTICS_EXPORTS_DIR", home / "exports"),
            batch_bytes=config.env_int("HIREMESH_ANALYTICS_BATCH_BYTES", 8 << 20, min=64 << 10, max=1 << 30),
            min_train_samples=config.env_int("HIREMESH_ANALYTICS_MIN_TRAIN_SAMPLES", 20, min=4),
            min_time_samples=config.env_int("HIREMESH_ANALYTICS_MIN_TIME_SAMPLES", 10, min=3),
            sync_on_start=config.env_bool("HIREMESH_ANALYTICS_SYNC_ON_START", True),
            schedules=schedules,
        )
