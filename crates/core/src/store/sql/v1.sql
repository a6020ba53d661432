CREATE TABLE providers (
    id                  INTEGER PRIMARY KEY,
    slug                TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    icon                TEXT NOT NULL DEFAULT 'phone',
    display_order       INTEGER NOT NULL DEFAULT 0,
    did_numbers         TEXT NOT NULL DEFAULT '[]',
    field_mapping       TEXT NOT NULL DEFAULT '{}',
    status_map          TEXT NOT NULL DEFAULT '{}',
    auth_scheme         TEXT NOT NULL DEFAULT 'api_key',
    auth_config         TEXT NOT NULL DEFAULT '{}',
    api_key_hash        TEXT NOT NULL,
    api_key_hint        TEXT NOT NULL,
    prev_key_hash       TEXT,
    prev_key_expires_at TEXT,
    sla_minutes         INTEGER NOT NULL DEFAULT 30,
    active              INTEGER NOT NULL DEFAULT 1,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name  TEXT,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent')),
    departments   TEXT NOT NULL DEFAULT '[]',
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE tokens (
    id           INTEGER PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('session', 'login_link')),
    created_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    revoked_at   TEXT
);

CREATE TABLE calls (
    id               INTEGER PRIMARY KEY,
    provider_id      INTEGER NOT NULL REFERENCES providers(id),
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
    assignee_id      INTEGER REFERENCES users(id),
    assigned_at      TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_outcome     TEXT,
    next_callback_at TEXT,
    resolved_at      TEXT,
    worklist_since   TEXT,
    sla_due_at       TEXT,
    event_at         TEXT,
    events_count     INTEGER NOT NULL DEFAULT 0,
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    -- The one definition of the worklist views: every missed or hangup call is
    -- in exactly one of them, by construction.
    work_state       TEXT GENERATED ALWAYS AS (
        CASE WHEN status IN ('missed', 'hangup') THEN
            CASE WHEN resolved_at IS NOT NULL THEN 'resolved'
                 WHEN attempts > 0 THEN 'attempted'
                 WHEN assignee_id IS NOT NULL THEN 'assigned'
                 ELSE 'pending' END
        END) VIRTUAL,
    UNIQUE (provider_id, call_id)
);
CREATE INDEX calls_call_id ON calls (call_id);
CREATE INDEX calls_status_dept ON calls (status, department);
CREATE INDEX calls_dept_created ON calls (department, created_at);
CREATE INDEX calls_created ON calls (created_at);
CREATE INDEX calls_work_state ON calls (work_state, department);
CREATE INDEX calls_assignee ON calls (assignee_id);

CREATE TABLE raw_events (
    id           INTEGER PRIMARY KEY,
    provider_id  INTEGER NOT NULL REFERENCES providers(id),
    received_at  TEXT NOT NULL,
    method       TEXT NOT NULL,
    content_type TEXT,
    payload      TEXT,
    body_hash    TEXT NOT NULL,
    event_id     TEXT,
    event_at     TEXT,
    outcome      TEXT NOT NULL CHECK (outcome IN ('applied', 'duplicate', 'mapping_failed', 'rejected')),
    error        TEXT,
    warnings     TEXT NOT NULL DEFAULT '[]',
    call_row_id  INTEGER REFERENCES calls(id),
    call_id      TEXT,
    duplicate_of INTEGER,
    replayed_at  TEXT,
    request_id   TEXT
);
CREATE INDEX raw_events_provider ON raw_events (provider_id, id);
CREATE INDEX raw_events_body_hash ON raw_events (provider_id, body_hash);
CREATE INDEX raw_events_event_id ON raw_events (provider_id, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX raw_events_call ON raw_events (call_row_id);
CREATE INDEX raw_events_failed ON raw_events (provider_id, received_at) WHERE outcome = 'mapping_failed';

CREATE TABLE event_log (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    type       TEXT NOT NULL,
    department TEXT,
    audience   TEXT NOT NULL DEFAULT 'all',
    data       TEXT NOT NULL
);

CREATE TABLE categories (
    id             INTEGER PRIMARY KEY,
    department     TEXT,
    name           TEXT NOT NULL,
    sub_categories TEXT NOT NULL DEFAULT '[]',
    display_order  INTEGER NOT NULL DEFAULT 0,
    active         INTEGER NOT NULL DEFAULT 1,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE UNIQUE INDEX categories_name ON categories (COALESCE(department, ''), name COLLATE NOCASE);

CREATE TABLE dispositions (
    id               INTEGER PRIMARY KEY,
    call_row_id      INTEGER NOT NULL REFERENCES calls(id),
    user_id          INTEGER REFERENCES users(id),
    actor            TEXT NOT NULL,
    category_id      INTEGER REFERENCES categories(id),
    category         TEXT NOT NULL,
    sub_category     TEXT,
    notes            TEXT,
    outcome          TEXT NOT NULL,
    next_callback_at TEXT,
    created_at       TEXT NOT NULL
);
CREATE INDEX dispositions_call ON dispositions (call_row_id);

CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    at       TEXT NOT NULL,
    actor_id INTEGER,
    actor    TEXT NOT NULL,
    action   TEXT NOT NULL,
    target   TEXT,
    details  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON audit_log (at);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
