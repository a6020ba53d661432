-- Issue 7 (part B): SLA clocks in business hours, agents and callback
-- routing, retention and its runs.

-- Business hours (JSON, NULL = 24×7) and callback routing (JSON) per department.
ALTER TABLE providers ADD COLUMN business_hours TEXT;
ALTER TABLE providers ADD COLUMN routing TEXT NOT NULL DEFAULT '{"strategy":"none","skills":[]}';

-- When the breach scheduler found the call's SLA run out (NULL: not breached).
ALTER TABLE calls ADD COLUMN sla_breached_at TEXT;
-- Calls already past due when this migration runs are breached already: the
-- scheduler must not announce years of history as new breaches.
UPDATE calls SET sla_breached_at = sla_due_at
 WHERE sla_due_at IS NOT NULL AND sla_due_at < strftime('%Y-%m-%dT%H:%M:%fZ', 'now');
-- The breach scheduler's "next running deadline": only clocks still running
-- are in it, so finding the next one never walks past old breaches.
CREATE INDEX calls_sla_running ON calls (sla_due_at)
    WHERE sla_due_at IS NOT NULL AND sla_breached_at IS NULL AND resolved_at IS NULL;

-- Agent skills (JSON list of lower-case words).
ALTER TABLE users ADD COLUMN skills TEXT NOT NULL DEFAULT '[]';

-- Each user's availability; no row = offline.
CREATE TABLE agent_states (
    user_id          INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    state            TEXT NOT NULL CHECK (state IN ('available', 'busy', 'away', 'offline')),
    since            TEXT NOT NULL,
    last_assigned_at TEXT
);

-- Per department: the agent the last round-robin assignment went to.
CREATE TABLE routing_cursors (
    department   TEXT PRIMARY KEY,
    last_user_id INTEGER NOT NULL
);

-- Finished calls moved out of `calls` by retention in `archive` mode: the
-- same columns (less the computed work_state) and when they were archived.
CREATE TABLE calls_archive (
    id               INTEGER PRIMARY KEY,
    provider_id      INTEGER NOT NULL,
    department       TEXT NOT NULL,
    call_id          TEXT NOT NULL,
    mobile_number    TEXT,
    caller_name      TEXT,
    did              TEXT,
    direction        TEXT,
    status           TEXT,
    raw_status       TEXT,
    agent_id         TEXT,
    agent_name       TEXT,
    started_at       TEXT,
    answered_at      TEXT,
    ended_at         TEXT,
    duration_seconds INTEGER,
    recording_url    TEXT,
    metadata         TEXT NOT NULL DEFAULT '{}',
    assignee_id      INTEGER,
    assigned_at      TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_outcome     TEXT,
    next_callback_at TEXT,
    resolved_at      TEXT,
    worklist_since   TEXT,
    sla_due_at       TEXT,
    sla_breached_at  TEXT,
    event_at         TEXT,
    events_count     INTEGER NOT NULL DEFAULT 0,
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    archived_at      TEXT NOT NULL
);
CREATE INDEX calls_archive_dept_created ON calls_archive (department, created_at);

-- Dispositions of archived calls, keyed by the archived call's id.
CREATE TABLE dispositions_archive (
    id               INTEGER PRIMARY KEY,
    call_row_id      INTEGER NOT NULL,
    user_id          INTEGER,
    actor            TEXT NOT NULL,
    category_id      INTEGER,
    category         TEXT NOT NULL,
    sub_category     TEXT,
    notes            TEXT,
    outcome          TEXT NOT NULL,
    next_callback_at TEXT,
    created_at       TEXT NOT NULL
);
CREATE INDEX dispositions_archive_call ON dispositions_archive (call_row_id);

-- Every retention run, scheduled or on demand, with what it did.
CREATE TABLE retention_runs (
    id                 INTEGER PRIMARY KEY,
    trigger            TEXT NOT NULL CHECK (trigger IN ('schedule', 'manual')),
    actor              TEXT NOT NULL,
    mode               TEXT NOT NULL,
    calls_days         INTEGER NOT NULL,
    raw_days           INTEGER NOT NULL,
    started_at         TEXT NOT NULL,
    finished_at        TEXT,
    calls_archived     INTEGER NOT NULL DEFAULT 0,
    calls_deleted      INTEGER NOT NULL DEFAULT 0,
    raw_events_deleted INTEGER NOT NULL DEFAULT 0,
    batches            INTEGER NOT NULL DEFAULT 0,
    error              TEXT
);

CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX raw_events_received ON raw_events (received_at);

-- Remote mode follows these too (see v4_replica.sql): agents' states and
-- the retention runs' log.
CREATE TRIGGER agent_states_ins AFTER INSERT ON agent_states BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('agent_states', NEW.user_id); END;
CREATE TRIGGER agent_states_upd AFTER UPDATE ON agent_states BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('agent_states', NEW.user_id); END;
CREATE TRIGGER agent_states_del AFTER DELETE ON agent_states BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('agent_states', OLD.user_id); END;
CREATE TRIGGER retention_runs_ins AFTER INSERT ON retention_runs BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('retention_runs', NEW.id); END;
CREATE TRIGGER retention_runs_upd AFTER UPDATE ON retention_runs BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('retention_runs', NEW.id); END;
CREATE TRIGGER retention_runs_del AFTER DELETE ON retention_runs BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('retention_runs', OLD.id); END;
