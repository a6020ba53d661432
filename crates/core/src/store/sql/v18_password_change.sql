-- A user who must choose a new password before anything else: the first
-- start's administrator, whose password was printed, or a user an admin
-- gave a temporary one.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;
-- A session signed in by that password: it may only change it (or sign out).
ALTER TABLE tokens ADD COLUMN password_change INTEGER NOT NULL DEFAULT 0;
