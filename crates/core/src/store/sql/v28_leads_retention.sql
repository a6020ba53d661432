-- Issue 15: retention takes leads too. A lead goes with its calls: once no
-- call of its department names it any more and it has not changed for the
-- calls' retention period, it is archived here (mode `archive`, like its
-- calls in `calls_archive`) or deleted (mode `delete`).
CREATE TABLE leads_archive (
    id           INTEGER PRIMARY KEY,
    provider_id  INTEGER NOT NULL,
    department   TEXT NOT NULL,
    lead_id      TEXT NOT NULL,
    first_name   TEXT,
    last_name    TEXT,
    phone        TEXT,
    email        TEXT,
    status       TEXT,
    status_name  TEXT,
    list_id      TEXT,
    owner_id     TEXT,
    address1     TEXT,
    city         TEXT,
    state        TEXT,
    postal_code  TEXT,
    created_at   TEXT,
    modified_at  TEXT,
    raw          TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    version      INTEGER NOT NULL,
    archived_at  TEXT NOT NULL
);
CREATE INDEX leads_archive_dept_lead ON leads_archive (department, lead_id);

-- Retention walks leads from the least recently changed.
CREATE INDEX leads_updated ON leads (updated_at);

ALTER TABLE retention_runs ADD COLUMN leads_archived INTEGER NOT NULL DEFAULT 0;
ALTER TABLE retention_runs ADD COLUMN leads_deleted INTEGER NOT NULL DEFAULT 0;
