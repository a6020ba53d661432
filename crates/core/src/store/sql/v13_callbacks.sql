-- Issue 15: calling missed callers back through the department's platform.
-- A department's dialer keeps only public settings here; its credentials
-- live in the secret store beside the database.
CREATE TABLE dialers (
    provider_id INTEGER PRIMARY KEY REFERENCES providers(id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    fields      TEXT NOT NULL DEFAULT '{}',
    updated_at  TEXT NOT NULL
);

-- One row per call back: who dialled, through what, and how it ended. The
-- status URL given to the platform carries a token; only its hash is kept.
CREATE TABLE callback_attempts (
    id               INTEGER PRIMARY KEY,
    call_row_id      INTEGER NOT NULL REFERENCES calls(id),
    department       TEXT NOT NULL,
    user_id          INTEGER REFERENCES users(id),
    actor            TEXT NOT NULL,
    via              TEXT NOT NULL,
    agent            TEXT NOT NULL,
    customer         TEXT NOT NULL,
    token_hash       TEXT NOT NULL UNIQUE,
    state            TEXT NOT NULL,
    platform_ref     TEXT,
    raw_status       TEXT,
    detail           TEXT,
    duration_seconds INTEGER,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    ended_at         TEXT
);
CREATE INDEX callback_attempts_call ON callback_attempts (call_row_id);
