"""screening_svc settings from `HIREMESH_*` variables, validated once at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from hiremesh.config import database_url, env_bool, env_choice, env_float, env_int, service_addr, service_port
from screening_svc.mail.config import MailConfig

ENGINES = ("auto", "llm", "evidence")


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

    @classmethod
    def from_env(cls) -> ScreeningConfig:
        heartbeat = env_float("HIREMESH_SCREENING_HEARTBEAT_S", 5.0, min=0.1, max=300)
        stalled = env_float("HIREMESH_SCREENING_STALLED_AFTER_S", 30.0, min=0.5, max=3600)
        if stalled <= heartbeat:
            from hiremesh.config import ConfigError

            raise ConfigError("HIREMESH_SCREENING_STALLED_AFTER_S",
                              f"must be greater than HIREMESH_SCREENING_HEARTBEAT_S ({heartbeat})")
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
        )
