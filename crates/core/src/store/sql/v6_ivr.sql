-- IVR flows (issue 14): flows with a draft, immutable published versions,
-- the IVR state of each call, and a log of every step.

CREATE TABLE flows (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    -- The draft being edited (JSON: name, entry, nodes); may be invalid.
    draft         TEXT NOT NULL,
    -- Newest published version; 0: never published.
    version       INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE flow_versions (
    flow_id       INTEGER NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
    version       INTEGER NOT NULL,
    definition    TEXT NOT NULL,
    published_at  TEXT NOT NULL,
    published_by  TEXT NOT NULL,
    -- Set when this version re-publishes an older one (a rollback).
    rolled_back_from INTEGER,
    PRIMARY KEY (flow_id, version)
);

-- A call in the IVR: the flow version it started on (kept to its end),
-- its state, and the last answer given (a retried request gets it again).
CREATE TABLE ivr_calls (
    provider_id   INTEGER NOT NULL,
    call_id       TEXT NOT NULL,
    call_row_id   INTEGER,
    flow_id       INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    state         TEXT NOT NULL,
    step          INTEGER NOT NULL,
    dialect       TEXT NOT NULL,
    last_request  TEXT,
    last_at       TEXT,
    last_response TEXT,
    last_content_type TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    PRIMARY KEY (provider_id, call_id)
);

-- One row per node visited (or left): the source of flow analytics.
CREATE TABLE ivr_steps (
    id            INTEGER PRIMARY KEY,
    flow_id       INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    provider_id   INTEGER NOT NULL,
    call_id       TEXT NOT NULL,
    step          INTEGER NOT NULL,
    node          TEXT NOT NULL,
    node_type     TEXT NOT NULL,
    edge          TEXT,
    resumed       INTEGER NOT NULL DEFAULT 0,
    event         TEXT NOT NULL,
    at            TEXT NOT NULL,
    request_id    TEXT
);
CREATE INDEX ivr_steps_flow ON ivr_steps (flow_id, node);
CREATE INDEX ivr_steps_call ON ivr_steps (provider_id, call_id, id);

ALTER TABLE providers ADD COLUMN flow_id INTEGER;
ALTER TABLE providers ADD COLUMN ivr_dialect TEXT;
ALTER TABLE calls ADD COLUMN exit_reason TEXT;
ALTER TABLE calls ADD COLUMN ivr_node TEXT;
