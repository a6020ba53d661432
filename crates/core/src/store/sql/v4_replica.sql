-- Issue 5: remote mode. The receiver records which rows changed (so a
-- replica can follow exactly, deletes included) and honours Idempotency-Key;
-- a replica keeps its cursor and its outbox of writes made while offline.

-- Every insert, update or delete of a replicated table, in commit order. A
-- replica asks for the rows changed after the last id it holds.
CREATE TABLE row_changes (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    tbl    TEXT NOT NULL,
    row_id INTEGER NOT NULL
);

CREATE TRIGGER providers_ins AFTER INSERT ON providers BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('providers', NEW.id); END;
CREATE TRIGGER providers_upd AFTER UPDATE ON providers BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('providers', NEW.id); END;
CREATE TRIGGER providers_del AFTER DELETE ON providers BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('providers', OLD.id); END;
CREATE TRIGGER users_ins AFTER INSERT ON users BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('users', NEW.id); END;
CREATE TRIGGER users_upd AFTER UPDATE ON users BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('users', NEW.id); END;
CREATE TRIGGER users_del AFTER DELETE ON users BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('users', OLD.id); END;
CREATE TRIGGER categories_ins AFTER INSERT ON categories BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('categories', NEW.id); END;
CREATE TRIGGER categories_upd AFTER UPDATE ON categories BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('categories', NEW.id); END;
CREATE TRIGGER categories_del AFTER DELETE ON categories BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('categories', OLD.id); END;
CREATE TRIGGER calls_ins AFTER INSERT ON calls BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('calls', NEW.id); END;
CREATE TRIGGER calls_upd AFTER UPDATE ON calls BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('calls', NEW.id); END;
CREATE TRIGGER calls_del AFTER DELETE ON calls BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('calls', OLD.id); END;
CREATE TRIGGER raw_events_ins AFTER INSERT ON raw_events BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('raw_events', NEW.id); END;
CREATE TRIGGER raw_events_upd AFTER UPDATE ON raw_events BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('raw_events', NEW.id); END;
CREATE TRIGGER raw_events_del AFTER DELETE ON raw_events BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('raw_events', OLD.id); END;
CREATE TRIGGER dispositions_ins AFTER INSERT ON dispositions BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('dispositions', NEW.id); END;
CREATE TRIGGER dispositions_upd AFTER UPDATE ON dispositions BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('dispositions', NEW.id); END;
CREATE TRIGGER dispositions_del AFTER DELETE ON dispositions BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('dispositions', OLD.id); END;
CREATE TRIGGER audit_log_ins AFTER INSERT ON audit_log BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('audit_log', NEW.id); END;
CREATE TRIGGER audit_log_del AFTER DELETE ON audit_log BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('audit_log', OLD.id); END;
CREATE TRIGGER external_users_ins AFTER INSERT ON external_users BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('external_users', NEW.id); END;
CREATE TRIGGER external_users_upd AFTER UPDATE ON external_users BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('external_users', NEW.id); END;
CREATE TRIGGER external_users_del AFTER DELETE ON external_users BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('external_users', OLD.id); END;
CREATE TRIGGER voicemails_ins AFTER INSERT ON voicemails BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('voicemails', NEW.id); END;
CREATE TRIGGER voicemails_upd AFTER UPDATE ON voicemails BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('voicemails', NEW.id); END;
CREATE TRIGGER voicemails_del AFTER DELETE ON voicemails BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('voicemails', OLD.id); END;
CREATE TRIGGER connectors_ins AFTER INSERT ON connectors BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('connectors', NEW.provider_id); END;
CREATE TRIGGER connectors_upd AFTER UPDATE ON connectors BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('connectors', NEW.provider_id); END;
CREATE TRIGGER connectors_del AFTER DELETE ON connectors BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('connectors', OLD.provider_id); END;
CREATE TRIGGER sync_runs_ins AFTER INSERT ON sync_runs BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('sync_runs', NEW.id); END;
CREATE TRIGGER sync_runs_upd AFTER UPDATE ON sync_runs BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('sync_runs', NEW.id); END;
CREATE TRIGGER sync_runs_del AFTER DELETE ON sync_runs BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('sync_runs', OLD.id); END;

-- Receiver: the answer to each write sent with an `Idempotency-Key`, so a
-- retry gets the stored answer instead of applying the write twice.
-- `status` is NULL while only the effect is recorded (its transaction
-- committed, the answer not yet stored).
CREATE TABLE idempotency_keys (
    key          TEXT PRIMARY KEY,
    principal    TEXT NOT NULL,
    method       TEXT NOT NULL,
    path         TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER,
    body         TEXT,
    created_at   TEXT NOT NULL
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Replica: what it mirrors and how far it has followed (key/value).
CREATE TABLE replica_state (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Replica: writes accepted locally, delivered to the receiver in `id` order.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key  TEXT NOT NULL UNIQUE,
    method           TEXT NOT NULL,
    path             TEXT NOT NULL,
    body             TEXT,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'delivered', 'conflict', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    response_status  INTEGER,
    response_body    TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);
CREATE INDEX outbox_state ON outbox (state, id);
