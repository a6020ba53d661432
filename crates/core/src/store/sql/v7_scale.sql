-- Issue 17: a year of calls. Indexes the console's queries walk in order
-- (checked by EXPLAIN QUERY PLAN tests in store/calls.rs and store/stats.rs)
-- and the worklist counts kept as a summary, maintained by triggers in the
-- same transaction as the change to the call.

-- A department's calls of one status, newest first (the live queue, the
-- status filters): walked in order instead of sorted.
DROP INDEX calls_status_dept;
CREATE INDEX calls_status_dept ON calls (status, department, created_at);

-- The hangup worklist: one view of one department in each order the console
-- offers. Partial: only missed and hung-up calls are in them, so other calls
-- never pay for them. They also cover the SLA-breach counts (sla_due_at).
DROP INDEX calls_work_state;
CREATE INDEX calls_work_sla ON calls (work_state, department, sla_due_at) WHERE work_state IS NOT NULL;
CREATE INDEX calls_work_since ON calls (work_state, department, worklist_since) WHERE work_state IS NOT NULL;
CREATE INDEX calls_work_attempts ON calls (work_state, department, attempts) WHERE work_state IS NOT NULL;
CREATE INDEX calls_work_number ON calls (work_state, department, mobile_number) WHERE work_state IS NOT NULL;
CREATE INDEX calls_work_callback ON calls (work_state, department, next_callback_at) WHERE work_state IS NOT NULL;

-- How many missed/hung-up calls each department has in each worklist view:
-- what /api/stats shows, without counting a year of resolved calls on
-- every read. Rows whose count fell to 0 stay (n = 0).
CREATE TABLE worklist_counts (
    department TEXT NOT NULL,
    work_state TEXT NOT NULL,
    status     TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (department, work_state, status)
) WITHOUT ROWID;

INSERT INTO worklist_counts (department, work_state, status, n)
    SELECT department, work_state, status, COUNT(*) FROM calls
     WHERE work_state IS NOT NULL GROUP BY department, work_state, status;

CREATE TRIGGER worklist_counts_ins AFTER INSERT ON calls WHEN NEW.work_state IS NOT NULL BEGIN
    INSERT INTO worklist_counts (department, work_state, status, n)
        VALUES (NEW.department, NEW.work_state, NEW.status, 1)
        ON CONFLICT (department, work_state, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER worklist_counts_del AFTER DELETE ON calls WHEN OLD.work_state IS NOT NULL BEGIN
    UPDATE worklist_counts SET n = n - 1
     WHERE department = OLD.department AND work_state = OLD.work_state AND status = OLD.status;
END;
CREATE TRIGGER worklist_counts_upd AFTER UPDATE ON calls
    WHEN OLD.work_state IS NOT NEW.work_state OR OLD.status IS NOT NEW.status
      OR OLD.department IS NOT NEW.department BEGIN
    UPDATE worklist_counts SET n = n - 1
     WHERE OLD.work_state IS NOT NULL AND department = OLD.department
       AND work_state = OLD.work_state AND status = OLD.status;
    INSERT INTO worklist_counts (department, work_state, status, n)
        SELECT NEW.department, NEW.work_state, NEW.status, 1 WHERE NEW.work_state IS NOT NULL
        ON CONFLICT (department, work_state, status) DO UPDATE SET n = n + 1;
END;
