"""Search service settings from `HIREMESH_*` variables, validated at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hiremesh.config import (
    ConfigError,
    database_url,
    env_bool,
    env_float,
    env_int,
    env_path,
    env_str,
    home,
    service_addr,
    service_port,
)
from search_svc import fusion, lexical
from search_svc.formats.limits import MB, ParseLimits
from search_svc.mail_templates import DEFAULT_PATH, TemplateError, Templates


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
    fusion: fusion.Policy  # how hybrid search fuses its two legs
    lexical_budget: lexical.Budget  # rows the keyword leg scores, counted by its rarest words
    term_stats_interval: float  # seconds between folds of pending term counts into catalog.term_stats
    mail_templates: Templates  # candidate e-mails per application status, checked at start-up
    parse_workers: int  # resume parser processes
    parse_limits: ParseLimits

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
            fusion=_fusion_policy(),
            lexical_budget=_lexical_budget(),
            term_stats_interval=env_float("HIREMESH_SEARCH_TERM_STATS_S", 2.0, min=0.1, max=3600.0),
            mail_templates=_templates(),
            parse_workers=env_int("HIREMESH_SEARCH_PARSE_WORKERS", 2, min=1, max=64),
            parse_limits=parse_limits_from_env(),
        )


def _lexical_budget() -> lexical.Budget:
    d = lexical.Budget()
    floor = env_int("HIREMESH_SEARCH_LEXICAL_BUDGET", d.floor, min=100, max=10_000_000)
    ceiling = env_int("HIREMESH_SEARCH_LEXICAL_BUDGET_MAX", max(d.ceiling, floor), min=100, max=10_000_000)
    if ceiling < floor:
        raise ConfigError(
            "HIREMESH_SEARCH_LEXICAL_BUDGET_MAX",
            f"must be at least HIREMESH_SEARCH_LEXICAL_BUDGET ({floor}), got {ceiling}",
        )
    share = env_float("HIREMESH_SEARCH_LEXICAL_BUDGET_SHARE", d.share, min=0.0, max=1.0)
    return lexical.Budget(floor, share, ceiling)


def _fusion_policy() -> fusion.Policy:
    method = env_str("HIREMESH_SEARCH_FUSION", "weighted_z")
    if method not in fusion.METHODS:
        raise ConfigError("HIREMESH_SEARCH_FUSION", f"expected one of {', '.join(fusion.METHODS)}, got {method!r}")
    weight = env_float("HIREMESH_SEARCH_LEXICAL_WEIGHT", fusion.DEFAULT_LEXICAL_WEIGHT, min=0.0, max=1.0)
    return fusion.Policy(method, weight)


def _templates() -> Templates:
    path = env_path("HIREMESH_MAIL_TEMPLATES", DEFAULT_PATH)
    try:
        return Templates.load(path)
    except TemplateError as exc:
        raise ConfigError("HIREMESH_MAIL_TEMPLATES", f"{path}: {exc}") from None


def parse_limits_from_env() -> ParseLimits:
    """The resume parsers' limits (docs/OPERATIONS.md, "Resume files: formats and parser limits")."""
    d = ParseLimits()
    return ParseLimits(
        max_file_bytes=env_int("HIREMESH_SEARCH_PARSE_MAX_FILE_MB", d.max_file_bytes // MB, min=1, max=30) * MB,
        max_pages=env_int("HIREMESH_SEARCH_PARSE_MAX_PAGES", d.max_pages, min=1, max=10_000),
        max_ocr_pages=env_int("HIREMESH_SEARCH_PARSE_MAX_OCR_PAGES", d.max_ocr_pages, min=0, max=1000),
        max_chars=env_int("HIREMESH_SEARCH_PARSE_MAX_CHARS", d.max_chars, min=1000, max=2_000_000),
        max_inflated_bytes=env_int("HIREMESH_SEARCH_PARSE_MAX_INFLATED_MB", d.max_inflated_bytes // MB, min=1, max=4096)
        * MB,
        max_ratio=env_float("HIREMESH_SEARCH_PARSE_MAX_RATIO", d.max_ratio, min=2.0, max=100_000.0),
        max_pixels=env_int("HIREMESH_SEARCH_PARSE_MAX_MEGAPIXELS", d.max_pixels // 1_000_000, min=1, max=1000)
        * 1_000_000,
        timeout_s=env_float("HIREMESH_SEARCH_PARSE_TIMEOUT_S", d.timeout_s, min=0.5, max=3600.0),
        memory_bytes=_memory_limit(d.memory_bytes),
        ocr=env_bool("HIREMESH_SEARCH_PARSE_OCR", d.ocr),
    )


def _memory_limit(default: int) -> int:
    name = "HIREMESH_SEARCH_PARSE_MEMORY_MB"
    value = env_int(name, default // MB, min=0, max=1_048_576)
    if 0 < value < 512:  # the interpreter, the parsers and the OCR models alone take ~700 MB of address space
        raise ConfigError(name, f"must be 0 (no limit) or at least 512, got {value}")
    return value * MB
