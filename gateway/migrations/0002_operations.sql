-- Gateway operations (sync, training, export, import, reindex), shared by every gateway replica: the replica
-- running one writes its state here and NOTIFYs channel hiremesh_gateway_operations with its id, so any
-- replica can answer GET /operations/{id} and stream it to WebSocket watchers. The running replica bumps
-- heartbeat_at; an unfinished operation whose heartbeat stops is reported failed (its replica died).
CREATE SCHEMA IF NOT EXISTS gateway;

CREATE TABLE gateway.operations (
    id            text PRIMARY KEY,
    kind          text NOT NULL,
    owner         text NOT NULL,
    status        text NOT NULL CHECK (status IN ('started', 'progress', 'completed', 'failed')),
    progress      double precision NOT NULL DEFAULT 0,
    stage         text NOT NULL DEFAULT '',
    message       text NOT NULL DEFAULT '',
    result        jsonb,
    error         jsonb,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    heartbeat_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX operations_created_idx ON gateway.operations (created_at DESC);
