-- Issue 15: a text message to callers Callboard missed ("sorry we missed
-- you, we will call back"), per department, sent through its dialer's
-- platform. The outbox is written in the transaction that puts the call in
-- the worklist; the sender works through it.
CREATE TABLE sms_settings (
    provider_id   INTEGER PRIMARY KEY REFERENCES providers(id) ON DELETE CASCADE,
    enabled       INTEGER NOT NULL DEFAULT 1,
    template      TEXT NOT NULL,
    quiet_from    TEXT,
    quiet_to      TEXT,
    time_zone     TEXT NOT NULL DEFAULT 'UTC',
    min_gap_hours INTEGER NOT NULL DEFAULT 12,
    updated_at    TEXT NOT NULL
);

CREATE TABLE sms_outbox (
    id           INTEGER PRIMARY KEY,
    call_row_id  INTEGER NOT NULL REFERENCES calls(id),
    department   TEXT NOT NULL,
    to_number    TEXT NOT NULL,
    body         TEXT NOT NULL,
    state        TEXT NOT NULL,
    send_after   TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    platform_ref TEXT,
    detail       TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    sent_at      TEXT
);
CREATE INDEX sms_outbox_due ON sms_outbox (state, send_after);
CREATE INDEX sms_outbox_call ON sms_outbox (call_row_id);
CREATE INDEX sms_outbox_number ON sms_outbox (department, to_number, created_at);
