-- Issue 16: the supervisor cockpit. Thresholds per department with amber
-- and red levels, where alerts go, each threshold's current level, and the
-- log of alerts (sent or held back by the quiet period).

-- One row per department and figure. `amber`/`red` NULL: that level is off.
CREATE TABLE thresholds (
    id             INTEGER PRIMARY KEY,
    department     TEXT NOT NULL,
    metric         TEXT NOT NULL CHECK (metric IN ('waiting_count', 'longest_wait_seconds',
                       'service_level', 'abandon_rate', 'callbacks_overdue', 'provider_quiet_minutes')),
    amber          REAL,
    red            REAL,
    -- The rolling window of `service_level` and `abandon_rate`.
    window_minutes INTEGER NOT NULL DEFAULT 30 CHECK (window_minutes BETWEEN 1 AND 1440),
    -- After an alert, the same threshold alerts again at the same or a lower
    -- level only once this many minutes have passed.
    quiet_minutes  INTEGER NOT NULL DEFAULT 10 CHECK (quiet_minutes BETWEEN 0 AND 1440),
    updated_at     TEXT NOT NULL,
    UNIQUE (department, metric)
);

-- Where alerts go: `webhook` (any JSON receiver), `slack`, `teams` (their
-- incoming-webhook URLs) or `email` (an address, sent through the SMTP
-- settings kept in `settings` under `alert_smtp`).
CREATE TABLE alert_channels (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL CHECK (kind IN ('webhook', 'slack', 'teams', 'email')),
    target     TEXT NOT NULL,
    -- NULL: every department; else a JSON list of slugs.
    departments TEXT,
    created_at TEXT NOT NULL
);

-- Each threshold's level as last evaluated, and its last alert.
CREATE TABLE threshold_state (
    department       TEXT NOT NULL,
    metric           TEXT NOT NULL,
    level            TEXT NOT NULL CHECK (level IN ('ok', 'amber', 'red')),
    value            REAL,
    since            TEXT NOT NULL,
    last_alert_at    TEXT,
    last_alert_level TEXT,
    PRIMARY KEY (department, metric)
);

-- Every crossing into amber or red: sent, or suppressed by the quiet period.
CREATE TABLE alert_log (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    department  TEXT NOT NULL,
    metric      TEXT NOT NULL,
    level       TEXT NOT NULL,
    value       REAL,
    threshold   REAL,
    -- `pending` (being sent), `sent`, `failed` (some channel failed),
    -- `suppressed` (inside the quiet period) or `no_channel`.
    status      TEXT NOT NULL,
    -- JSON list of {channel, target, ok, error} once sent.
    deliveries  TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX alert_log_at ON alert_log (at);
