-- Issue 6: presets, authentication schemes, Cloudonix domains, Dialpad
-- voicemails and user mapping, connector runs.

-- The shared secret of signature schemes (HMAC, Twilio, JWT). Unlike API keys
-- it cannot be stored as a hash: verifying a signature needs the secret.
ALTER TABLE providers ADD COLUMN signing_secret TEXT;
-- Cloudonix domains this provider owns (JSON list), for /api/session/update.
ALTER TABLE providers ADD COLUMN domains TEXT NOT NULL DEFAULT '[]';
-- The preset the provider was created from, if any.
ALTER TABLE providers ADD COLUMN preset TEXT;

-- A platform's user id (Dialpad's) → a Callboard user.
CREATE TABLE external_users (
    id          INTEGER PRIMARY KEY,
    platform    TEXT NOT NULL,
    external_id TEXT NOT NULL,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    UNIQUE (platform, external_id)
);
CREATE INDEX external_users_user ON external_users (user_id);

-- Voicemails left on calls (Dialpad), one per call.
CREATE TABLE voicemails (
    id               INTEGER PRIMARY KEY,
    call_row_id      INTEGER NOT NULL UNIQUE REFERENCES calls(id),
    department       TEXT NOT NULL,
    link             TEXT,
    transcript       TEXT,
    duration_seconds INTEGER,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX voicemails_dept ON voicemails (department, created_at);

-- API pollers (Convoso): one per provider. The auth token itself is in the
-- receiver's secret store (secrets.json), never in this database.
CREATE TABLE connectors (
    provider_id      INTEGER PRIMARY KEY REFERENCES providers(id),
    kind             TEXT NOT NULL,
    base_url         TEXT NOT NULL,
    has_auth_token   INTEGER NOT NULL DEFAULT 0,
    interval_seconds INTEGER NOT NULL DEFAULT 900,
    enabled          INTEGER NOT NULL DEFAULT 1,
    options          TEXT NOT NULL DEFAULT '{}',
    synced_until     TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

-- Runs of API pollers: what each did.
CREATE TABLE sync_runs (
    id          INTEGER PRIMARY KEY,
    provider_id INTEGER NOT NULL REFERENCES providers(id),
    kind        TEXT NOT NULL,
    window_from TEXT,
    window_to   TEXT,
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    scanned     INTEGER NOT NULL DEFAULT 0,
    inserted    INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    failed      INTEGER NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    error       TEXT
);
CREATE INDEX sync_runs_provider ON sync_runs (provider_id, id);
