-- Gateway users and their API keys. Owned by the gateway; tokens are stored only as SHA-256 digests.
CREATE SCHEMA IF NOT EXISTS auth;

CREATE TABLE auth.users (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9_.@-]{1,64}$'),
    role        text NOT NULL CHECK (role IN ('admin', 'recruiter', 'viewer')),
    disabled    boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth.api_keys (
    id            text PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES auth.users (id) ON DELETE CASCADE,
    token_sha256  text NOT NULL UNIQUE,
    label         text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_keys_user_idx ON auth.api_keys (user_id);

-- Shared settings of every gateway replica, e.g. the JWT signing secret.
CREATE TABLE auth.settings (
    name   text PRIMARY KEY,
    value  text NOT NULL
);
