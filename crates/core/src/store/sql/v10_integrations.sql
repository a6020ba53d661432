-- Issue 13: scoped, revocable integration tokens for a CRM or BI tool
-- (read-only calls and/or metrics, optionally limited to departments, with
-- an expiry) instead of a person's session or the admin token. Only the
-- SHA-256 of the token is kept; the table is never replicated.
CREATE TABLE integration_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    scopes TEXT NOT NULL,
    departments TEXT,
    expires_at TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    last_used_at TEXT
);
