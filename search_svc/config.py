"""Search service settings from `HIREMESH_*` variables, validated at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hiremesh.config import database_url, env_float, env_int, env_path, home, service_addr, service_port


@dataclass(frozen=True)
class SearchConfig:
    port: int
    database_url: str
    embedding_addr: str
    embed_timeout: float  # seconds per Embed call
    embed_batch: int  # texts per Embed call (the contract allows at most 256)
    pool_max: int
    catchup_interval: float  # seconds between sweeps for stale rows; 0 turns the loop off
    catchup_batch: int
    import_root: Path  # ImportCandidates.folder must lie inside it (symlinks resolved)

    @classmethod
    def from_env(cls) -> SearchConfig:
        return cls(
            port=service_port("search"),
            database_url=database_url(),
            embedding_addr=service_addr("embedding"),
            embed_timeout=env_float("HIREMESH_SEARCH_EMBED_TIMEOUT_S", 20.0, min=0.1, max=600.0),
            embed_batch=env_int("HIREMESH_SEARCH_EMBED_BATCH", 64, min=1, max=256),
            pool_max=env_int("HIREMESH_SEARCH_POOL_MAX", 10, min=1, max=200),
            catchup_interval=env_float("HIREMESH_SEARCH_CATCHUP_S", 5.0, min=0.0, max=3600.0),
            catchup_batch=env_int("HIREMESH_SEARCH_CATCHUP_BATCH", 64, min=1, max=256),
            import_root=env_path("HIREMESH_SEARCH_IMPORT_ROOT", home() / "imports"),
        )
