-- Candidate e-mails (issue 18). The outbox is written by search_svc in the same transaction as the application
-- change that causes it; screening_svc's mail relay queues a delivery job per queued row and records the outcome
-- here, so this table is the one source of truth for a message's state.
ALTER TABLE catalog.candidates ADD COLUMN email_opt_out boolean NOT NULL DEFAULT false;

CREATE TABLE catalog.notifications (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    -- Deleting a candidate (or the application) deletes its e-mails: they hold its address and name.
    application_id      uuid NOT NULL REFERENCES catalog.applications (id) ON DELETE CASCADE,
    candidate_id        uuid NOT NULL REFERENCES catalog.candidates (id) ON DELETE CASCADE,
    job_id              uuid NOT NULL,
    application_status  text NOT NULL
                        CHECK (application_status IN ('pending', 'reviewing', 'accepted', 'rejected', 'hired')),
    recipient           text NOT NULL DEFAULT '',
    subject             text NOT NULL,
    body                text NOT NULL,
    state               text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed', 'skipped')),
    attempts            integer NOT NULL DEFAULT 0,
    -- The last delivery error (failed, or queued between retries), or why nothing is sent (skipped).
    error               text NOT NULL DEFAULT '',
    queue_job_id        bigint,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    last_attempt_at     timestamptz,
    sent_at             timestamptz,
    -- One e-mail per (application, status), however often the change that leads there is retried.
    UNIQUE (application_id, application_status)
);
CREATE INDEX notifications_created_idx ON catalog.notifications (created_at DESC, id DESC);
CREATE INDEX notifications_candidate_idx ON catalog.notifications (candidate_id, created_at DESC);
CREATE INDEX notifications_state_idx ON catalog.notifications (state, created_at DESC);
-- What the relay sweeps: small, because delivered rows leave it.
CREATE INDEX notifications_queued_idx ON catalog.notifications (created_at) WHERE state = 'queued';
