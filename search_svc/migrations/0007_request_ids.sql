-- AIP-155 request ids of creates (CreateCandidate, CreateJob, CreateApplication): a repeated id is answered
-- with the row the first request created, so a retry after a lost reply creates nothing twice. Written in
-- the same transaction as the row; rows older than a week are pruned by search_svc.
CREATE TABLE catalog.request_ids (
    kind          text NOT NULL CHECK (kind IN ('candidate', 'job', 'application')),
    request_id    text NOT NULL CHECK (length(request_id) BETWEEN 1 AND 64),
    resource_id   uuid NOT NULL,
    deduplicated  boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, request_id)
);
CREATE INDEX request_ids_created_idx ON catalog.request_ids (created_at);
