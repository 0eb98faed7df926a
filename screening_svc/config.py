"""screening_svc settings from `HIREMESH_*` variables, validated once at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from hiremesh.analysis_model import DEFAULT_QUESTIONS
from hiremesh.config import (
    ConfigError,
    database_url,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_str,
    service_addr,
    service_port,
)
from screening_svc.mail.config import MailConfig
from screening_svc.score_check import DEFAULT_GAP

ENGINES = ("auto", "llm", "evidence")


@dataclass(frozen=True)
class LLMSettings:
    """Where the LLM is and how hard to try (`HIREMESH_LLM_*`, read by `llm_settings`). An empty base_url means
    no LLM is configured."""

    base_url: str
    model: str = ""
    api_key: str = "not-needed"
    deadline_s: float = 180.0
    attempt_timeout_s: float = 90.0
    max_tokens: int = 1024
    temperature: float = 0.1
    max_retries: int = 3
    backoff_s: float = 0.5
    backoff_max_s: float = 8.0

    @property
    def configured(self) -> bool:
        return bool(self.base_url)


@dataclass(frozen=True)
class ScreeningConfig:
    """Everything the service, its task queue and its workers need."""

    port: int
    database_url: str
    search_addr: str
    guardrail_addr: str
    default_engine: str
    workers: int
    max_attempts: int
    retry_wait_s: float
    heartbeat_s: float
    stalled_after_s: float
    stall_check_s: float
    orphan_after_s: float  # a queued task with no queue job this old lost its submitter: queue it again
    poll_s: float
    call_timeout_s: float
    early_scan: bool  # scan the interviewer's questions while the analyzer still runs (warms guardrail's cache)
    shutdown_grace_s: float
    job_retention_h: int  # finished queue jobs (every queue) stay this long for the task monitor
    mail: MailConfig
    embedding_addr: str
    llm: LLMSettings
    llm_cooldown_s: float  # after an LLM failure, `auto` answers with evidence this long before asking again
    questions: int  # interview questions per screening
    peers_k: int  # similar candidates the retriever looks up for context (0: none)
    score_gap: int  # LLM-vs-evidence match_score difference that raises SCORE_GAP
    analytics_tools: bool  # the retriever asks analytics_svc for context
    analytics_addr: str
    tool_timeout_s: float  # deadline of each analytics tool call
    guard_timeout_s: float  # deadline of guardrail's Scan + ValidateOutput of a whole result

    @classmethod
    def from_env(cls) -> ScreeningConfig:
        heartbeat = env_float("HIREMESH_SCREENING_HEARTBEAT_S", 5.0, min=0.1, max=300)
        stalled = env_float("HIREMESH_SCREENING_STALLED_AFTER_S", 30.0, min=0.5, max=3600)
        if stalled <= heartbeat:
            raise ConfigError(
                "HIREMESH_SCREENING_STALLED_AFTER_S",
                f"must be greater than HIREMESH_SCREENING_HEARTBEAT_S ({heartbeat})",
            )
        return cls(
            port=service_port("screening"),
            database_url=database_url(),
            search_addr=service_addr("search"),
            guardrail_addr=service_addr("guardrail"),
            default_engine=env_choice("HIREMESH_SCREENING_ENGINE", "auto", ENGINES),
            workers=env_int("HIREMESH_SCREENING_WORKERS", 2, min=0, max=256),
            max_attempts=env_int("HIREMESH_SCREENING_MAX_ATTEMPTS", 6, min=1, max=100),
            retry_wait_s=env_float("HIREMESH_SCREENING_RETRY_WAIT_S", 2.0, min=0, max=3600),
            heartbeat_s=heartbeat,
            stalled_after_s=stalled,
            stall_check_s=env_float("HIREMESH_SCREENING_STALL_CHECK_S", 10.0, min=0.1, max=3600),
            orphan_after_s=env_float("HIREMESH_SCREENING_ORPHAN_AFTER_S", 60.0, min=0.1, max=86_400),
            poll_s=env_float("HIREMESH_SCREENING_POLL_S", 5.0, min=0.1, max=3600),
            call_timeout_s=env_float("HIREMESH_SCREENING_CALL_TIMEOUT_S", 30.0, min=0.1, max=3600),
            early_scan=env_bool("HIREMESH_SCREENING_EARLY_SCAN", True),
            shutdown_grace_s=env_float("HIREMESH_SCREENING_SHUTDOWN_GRACE_S", 10.0, min=0, max=3600),
            job_retention_h=env_int("HIREMESH_SCREENING_JOB_RETENTION_H", 24, min=1, max=24 * 365),
            mail=MailConfig.from_env(),
            embedding_addr=service_addr("embedding"),
            llm=llm_settings(),
            llm_cooldown_s=env_float("HIREMESH_LLM_COOLDOWN_S", 30.0, min=0, max=3600),
            questions=env_int("HIREMESH_SCREENING_QUESTIONS", DEFAULT_QUESTIONS, min=1, max=20),
            peers_k=env_int("HIREMESH_SCREENING_PEERS", 5, min=0, max=50),
            score_gap=env_int("HIREMESH_SCREENING_SCORE_GAP", DEFAULT_GAP, min=1, max=100),
            analytics_tools=env_bool("HIREMESH_SCREENING_ANALYTICS_TOOLS", False),
            analytics_addr=service_addr("analytics"),
            tool_timeout_s=env_float("HIREMESH_SCREENING_TOOL_TIMEOUT_S", 2.0, min=0.05, max=60),
            guard_timeout_s=env_float("HIREMESH_SCREENING_GUARD_TIMEOUT_S", 30.0, min=0.1, max=3600),
        )


def llm_settings() -> LLMSettings:
    """The LLM endpoint from `HIREMESH_LLM_*`; an empty HIREMESH_LLM_BASE_URL means none is configured."""
    return LLMSettings(
        base_url=env_str("HIREMESH_LLM_BASE_URL", "").rstrip("/"),
        model=env_str("HIREMESH_LLM_MODEL", ""),
        api_key=env_str("HIREMESH_LLM_API_KEY", "") or "not-needed",
        deadline_s=env_float("HIREMESH_LLM_DEADLINE_S", 180.0, min=0.1, max=3600),
        attempt_timeout_s=env_float("HIREMESH_LLM_ATTEMPT_TIMEOUT_S", 90.0, min=0.1, max=3600),
        max_tokens=env_int("HIREMESH_LLM_MAX_TOKENS", 1024, min=16, max=32768),
        temperature=env_float("HIREMESH_LLM_TEMPERATURE", 0.1, min=0, max=2),
        max_retries=env_int("HIREMESH_LLM_MAX_RETRIES", 3, min=0, max=20),
        backoff_s=env_float("HIREMESH_LLM_BACKOFF_S", 0.5, min=0, max=60),
        backoff_max_s=env_float("HIREMESH_LLM_BACKOFF_MAX_S", 8.0, min=0, max=600),
    )
