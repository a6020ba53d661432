-- IVR flows reach replicas (a supervisor's remote desktop designs and
-- reads them too). Replication keys rows by an integer id: flow_versions
-- gets one (its (flow_id, version) stays unique), since a rowid alone can
-- change in a VACUUM INTO copy (backups, cluster snapshots).
CREATE TABLE flow_versions_new (
    id            INTEGER PRIMARY KEY,
    flow_id       INTEGER NOT NULL REFERENCES flows(id) ON DELETE CASCADE,
    version       INTEGER NOT NULL,
    definition    TEXT NOT NULL,
    published_at  TEXT NOT NULL,
    published_by  TEXT NOT NULL,
    rolled_back_from INTEGER,
    UNIQUE (flow_id, version)
);
INSERT INTO flow_versions_new (flow_id, version, definition, published_at, published_by, rolled_back_from)
    SELECT flow_id, version, definition, published_at, published_by, rolled_back_from
      FROM flow_versions ORDER BY flow_id, version;
DROP TABLE flow_versions;
ALTER TABLE flow_versions_new RENAME TO flow_versions;

CREATE TRIGGER flows_ins AFTER INSERT ON flows BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('flows', NEW.id); END;
CREATE TRIGGER flows_upd AFTER UPDATE ON flows BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('flows', NEW.id); END;
CREATE TRIGGER flows_del AFTER DELETE ON flows BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('flows', OLD.id); END;
CREATE TRIGGER flow_versions_ins AFTER INSERT ON flow_versions BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('flow_versions', NEW.id); END;
CREATE TRIGGER flow_versions_upd AFTER UPDATE ON flow_versions BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('flow_versions', NEW.id); END;
CREATE TRIGGER flow_versions_del AFTER DELETE ON flow_versions BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('flow_versions', OLD.id); END;
CREATE TRIGGER ivr_steps_ins AFTER INSERT ON ivr_steps BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('ivr_steps', NEW.id); END;
CREATE TRIGGER ivr_steps_upd AFTER UPDATE ON ivr_steps BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('ivr_steps', NEW.id); END;
CREATE TRIGGER ivr_steps_del AFTER DELETE ON ivr_steps BEGIN INSERT INTO row_changes (tbl, row_id) VALUES ('ivr_steps', OLD.id); END;
