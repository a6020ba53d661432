-- Issue 13: the console's sign-in moves to an HttpOnly cookie. Such a
-- browser session also ends after a time without use (idle_seconds set), so
-- it remembers when it was last used; bearer sessions (API, desktop) leave
-- both NULL and keep their absolute expiry only.
ALTER TABLE tokens ADD COLUMN idle_seconds INTEGER;
ALTER TABLE tokens ADD COLUMN last_used_at TEXT;
