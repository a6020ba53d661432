-- Issue 13: optional TOTP second factor at sign-in. Its own table (never
-- replicated, unlike users): the secret must stay on the receiver.
CREATE TABLE user_totp (
    user_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret TEXT NOT NULL,
    -- NULL: set up but not confirmed with a code yet (sign-in does not ask).
    enabled_at TEXT
);
