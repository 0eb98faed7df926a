-- Screening tasks, results, agent traces and safety reports. Owned by screening_svc; analytics_svc reads it.
CREATE SCHEMA IF NOT EXISTS screening;

CREATE TABLE screening.tasks (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    application_id  uuid,
    candidate_id    uuid NOT NULL,
    job_id          uuid NOT NULL,
    engine          text NOT NULL DEFAULT 'auto' CHECK (engine IN ('auto', 'llm', 'evidence')),
    priority        integer NOT NULL DEFAULT 0,
    state           text NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    stage           text NOT NULL DEFAULT 'queued',
    percent         double precision NOT NULL DEFAULT 0,
    message         text NOT NULL DEFAULT '',
    attempts        integer NOT NULL DEFAULT 0,
    error           text NOT NULL DEFAULT '',
    result_id       uuid,
    queue_job_id    bigint,
    -- Bumped on every change; watchers use it to drop notifications older than the state they read.
    version         bigint NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz
);
CREATE INDEX tasks_state_idx ON screening.tasks (state);
CREATE INDEX tasks_application_idx ON screening.tasks (application_id);
CREATE INDEX tasks_updated_at_idx ON screening.tasks (updated_at);
CREATE INDEX tasks_job_idx ON screening.tasks (job_id);

-- One result per (candidate, job, engine_version): re-running a task is idempotent.
CREATE TABLE screening.results (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    task_id          uuid REFERENCES screening.tasks (id) ON DELETE SET NULL,
    application_id   uuid,
    candidate_id     uuid NOT NULL,
    job_id           uuid NOT NULL,
    engine           text NOT NULL,
    engine_version   text NOT NULL,
    model            text NOT NULL DEFAULT '',
    match_score      integer NOT NULL CHECK (match_score BETWEEN 0 AND 100),
    skills_score     double precision NOT NULL DEFAULT 0,
    experience_score double precision NOT NULL DEFAULT 0,
    semantic_score   double precision NOT NULL DEFAULT 0,
    confidence       double precision NOT NULL DEFAULT 0,
    recommendation   text NOT NULL DEFAULT '',
    analysis         jsonb NOT NULL,
    degraded         boolean NOT NULL DEFAULT false,
    degraded_reason  text NOT NULL DEFAULT '',
    pii_count        integer NOT NULL DEFAULT 0,
    bias_count       integer NOT NULL DEFAULT 0,
    toxicity_score   double precision NOT NULL DEFAULT 0,
    has_safety_issues boolean NOT NULL DEFAULT false,
    -- False when guardrail_svc could not be reached: the result is kept, its safety is unknown.
    safety_checked   boolean NOT NULL DEFAULT true,
    safety_report    jsonb NOT NULL DEFAULT '{}'::jsonb,
    traces           jsonb NOT NULL DEFAULT '[]'::jsonb,
    duration_ms      double precision NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (candidate_id, job_id, engine_version)
);
CREATE INDEX results_job_idx ON screening.results (job_id, match_score DESC);
CREATE INDEX results_application_idx ON screening.results (application_id);
CREATE INDEX results_updated_at_idx ON screening.results (updated_at);
CREATE INDEX results_created_id_idx ON screening.results (created_at DESC, id DESC);
CREATE INDEX results_candidate_idx ON screening.results (candidate_id);
