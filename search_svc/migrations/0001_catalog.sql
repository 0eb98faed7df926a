-- The talent catalog. Owned by search_svc; analytics_svc reads it.
CREATE EXTENSION IF NOT EXISTS vector;
CREATE SCHEMA IF NOT EXISTS catalog;

CREATE TABLE catalog.candidates (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name              text NOT NULL DEFAULT '',
    email             text NOT NULL DEFAULT '',
    phone             text NOT NULL DEFAULT '',
    location          text NOT NULL DEFAULT '',
    headline          text NOT NULL DEFAULT '',
    years_experience  double precision NOT NULL DEFAULT 0 CHECK (years_experience >= 0),
    skills            text[] NOT NULL DEFAULT '{}',
    resume_file_name  text NOT NULL DEFAULT '',
    resume_media_type text NOT NULL DEFAULT '',
    resume_sha256     text,
    resume_text       text NOT NULL DEFAULT '',
    embedding         vector(384),
    tsv               tsvector,
    embedded_at       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX candidates_resume_sha256_key ON catalog.candidates (resume_sha256) WHERE resume_sha256 IS NOT NULL;
CREATE INDEX candidates_embedding_hnsw ON catalog.candidates USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
CREATE INDEX candidates_tsv_gin ON catalog.candidates USING gin (tsv);
CREATE INDEX candidates_skills_gin ON catalog.candidates USING gin (skills);
CREATE INDEX candidates_location_idx ON catalog.candidates (lower(location));
CREATE INDEX candidates_updated_at_idx ON catalog.candidates (updated_at);
CREATE INDEX candidates_created_id_idx ON catalog.candidates (created_at, id);

CREATE TABLE catalog.jobs (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    title            text NOT NULL,
    description      text NOT NULL DEFAULT '',
    company          text NOT NULL DEFAULT '',
    department       text NOT NULL DEFAULT '',
    location         text NOT NULL DEFAULT '',
    min_experience   double precision NOT NULL DEFAULT 0 CHECK (min_experience >= 0),
    max_experience   double precision NOT NULL DEFAULT 0 CHECK (max_experience >= 0),
    required_skills  text[] NOT NULL DEFAULT '{}',
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    embedding        vector(384),
    tsv              tsvector,
    embedded_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_embedding_hnsw ON catalog.jobs USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
CREATE INDEX jobs_tsv_gin ON catalog.jobs USING gin (tsv);
CREATE INDEX jobs_skills_gin ON catalog.jobs USING gin (required_skills);
CREATE INDEX jobs_status_idx ON catalog.jobs (status);
CREATE INDEX jobs_updated_at_idx ON catalog.jobs (updated_at);
CREATE INDEX jobs_created_id_idx ON catalog.jobs (created_at, id);

CREATE TABLE catalog.applications (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    candidate_id  uuid NOT NULL REFERENCES catalog.candidates (id) ON DELETE CASCADE,
    job_id        uuid NOT NULL REFERENCES catalog.jobs (id) ON DELETE CASCADE,
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'reviewing', 'accepted', 'rejected', 'hired')),
    notes         text NOT NULL DEFAULT '',
    applied_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    decided_at    timestamptz,
    UNIQUE (candidate_id, job_id)
);
CREATE INDEX applications_job_idx ON catalog.applications (job_id, status);
CREATE INDEX applications_updated_at_idx ON catalog.applications (updated_at);
