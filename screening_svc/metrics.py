"""Prometheus metrics of screening_svc (`hiremesh_screening_...`), served with the gRPC metrics.

Two owners append here: LLM/engine metrics (latency, tokens, fallbacks) and durable-task metrics below.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

# --- durable tasks (tasks.py / queue.py / runner.py) -----------------------------------------------------
TASKS_SUBMITTED = Counter(
    "hiremesh_screening_tasks_submitted_total",
    "Screening tasks queued by SubmitScreening / SubmitBatchScreening on this process.",
)
TASKS_FINISHED = Counter(
    "hiremesh_screening_tasks_finished_total",
    "Screening task attempts that ended the task, by final state, on this process's workers.",
    ["state"],
)
TASK_RETRIES = Counter(
    "hiremesh_screening_task_retries_total",
    "Screening tasks sent back to the queue: 'error' (transient failure), 'stalled' (worker lost) or "
    "'orphaned' (its submitter died before queueing it).",
    ["reason"],
)
TASKS_BY_STATE = Gauge(
    "hiremesh_screening_tasks",
    "Screening tasks in the database by state (refreshed every few seconds).",
    ["state"],
)
QUEUE_DEPTH = Gauge(
    "hiremesh_screening_queue_depth",
    "Screening jobs waiting in the procrastinate queue (status todo).",
)
TASK_DURATION = Histogram(
    "hiremesh_screening_task_duration_seconds",
    "Wall time of a successful task attempt, from claim to stored result.",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
)
GUARDRAIL_UNCHECKED = Counter(
    "hiremesh_screening_guardrail_unchecked_total",
    "Results stored without a safety check because guardrail_svc could not be reached.",
)

# --- candidate e-mails (mail/) ---------------------------------------------------------------------------
MAIL_FINISHED = Counter(
    "hiremesh_mail_finished_total",
    "Candidate e-mails this process finished delivering, by outcome ('sent', 'failed', 'skipped').",
    ["outcome"],
)
MAIL_ATTEMPTS_FAILED = Counter(
    "hiremesh_mail_attempts_failed_total",
    "SMTP delivery attempts that failed, by kind ('transient': retried; 'permanent': recipient refused).",
    ["kind"],
)

# --- engines and agents (engines/, agents.py) ------------------------------------------------------------
LLM_LATENCY = Histogram(
    "hiremesh_screening_llm_request_seconds",
    "Wall time of one LLM chat completion call including retries, by call ('analysis'/'questions') and outcome.",
    ["call", "outcome"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300),
)
LLM_TOKENS = Counter(
    "hiremesh_screening_llm_tokens_total",
    "Tokens reported by the LLM server, by kind ('prompt'/'completion').",
    ["kind"],
)
LLM_RETRIES = Counter(
    "hiremesh_screening_llm_retries_total",
    "LLM attempts retried after a transient failure, by cause ('429', '5xx', 'timeout', 'connection').",
    ["cause"],
)
ENGINE_FALLBACKS = Counter(
    "hiremesh_screening_engine_fallbacks_total",
    "Times the auto engine used the evidence engine because the LLM failed, by cause.",
    ["cause"],
)
ENGINE_RUNS = Counter(
    "hiremesh_screening_engine_runs_total",
    "Analyses produced, by the engine that produced them and whether it was a fallback.",
    ["engine", "degraded"],
)
AGENT_DURATION = Histogram(
    "hiremesh_screening_agent_seconds",
    "Wall time of one agent step, by agent and outcome ('ok'/'error').",
    ["agent", "outcome"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
)
