-- AIP-155 request ids of SubmitScreening: a repeated id is answered with the task the first request queued.
CREATE TABLE screening.request_ids (
    request_id  text PRIMARY KEY CHECK (length(request_id) BETWEEN 1 AND 64),
    task_id     uuid NOT NULL REFERENCES screening.tasks (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX request_ids_created_idx ON screening.request_ids (created_at);
