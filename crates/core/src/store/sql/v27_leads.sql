-- Issue 15: the Convoso lead webhook. One row per lead of a department
-- (the platform's lead id), updated by later deliveries; calls carry the
-- lead id in `metadata.lead_id` and are linked to it by that.
CREATE TABLE leads (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id  INTEGER NOT NULL REFERENCES providers(id),
    department   TEXT NOT NULL,
    lead_id      TEXT NOT NULL,
    first_name   TEXT,
    last_name    TEXT,
    -- E.164 when the number is valid (with the lead's `phone_code`, else
    -- the provider's region), else as received.
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
    -- The platform's own times (store timestamps); `modified_at` orders
    -- deliveries: an older one never overwrites a newer one.
    created_at   TEXT,
    modified_at  TEXT,
    -- The newest applied delivery as received (JSON; forms as their object).
    raw          TEXT NOT NULL,
    received_at  TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1,
    UNIQUE (department, lead_id)
);
CREATE INDEX leads_department ON leads (department, updated_at);

-- A lead's calls: the calls of its department whose metadata names it.
CREATE INDEX calls_lead ON calls (department, json_extract(metadata, '$.lead_id'))
    WHERE json_extract(metadata, '$.lead_id') IS NOT NULL;

-- The delivery log holds lead deliveries too: `kind` tells them from call
-- events, so a call's mapping preview, duplicate check and replay never
-- take a lead body for a call event.
ALTER TABLE raw_events ADD COLUMN kind TEXT NOT NULL DEFAULT 'call';

CREATE TRIGGER leads_ins AFTER INSERT ON leads BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('leads', NEW.id); END;
CREATE TRIGGER leads_upd AFTER UPDATE ON leads BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('leads', NEW.id); END;
CREATE TRIGGER leads_del AFTER DELETE ON leads BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('leads', OLD.id); END;
