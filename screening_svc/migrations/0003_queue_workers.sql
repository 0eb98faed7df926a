-- Names of the task-queue workers (issue 18). procrastinate's own table holds only an id and a heartbeat; each
-- worker this service starts records its host:pid, role and queues here so the task monitor can show who is
-- who. The heartbeat and the jobs stay in procrastinate's tables, the only source of truth for them.
CREATE TABLE screening.queue_workers (
    worker_id    bigint PRIMARY KEY,
    name         text NOT NULL,
    queues       text[] NOT NULL DEFAULT '{}',
    concurrency  integer NOT NULL DEFAULT 1,
    started_at   timestamptz NOT NULL DEFAULT now()
);
