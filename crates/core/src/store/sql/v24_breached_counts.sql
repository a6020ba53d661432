-- How many open worklist calls (pending, assigned, attempted) of each
-- department have had their callback SLA run out and marked
-- (`sla_breached_at`, written by the SLA watch the moment a clock runs out):
-- /api/stats reads its breach counts here instead of counting every open
-- call past its deadline (108k of them in a year of 5M calls: 40 ms a read).
-- Deadlines run out with time, not with a write, so the few calls due but
-- not yet marked are still counted from `calls_sla_running`.
CREATE TABLE sla_breached_counts (
    department TEXT PRIMARY KEY,
    n          INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO sla_breached_counts (department, n)
    SELECT department, COUNT(*) FROM calls
     WHERE work_state IN ('pending', 'assigned', 'attempted') AND sla_breached_at IS NOT NULL
     GROUP BY department;

CREATE TRIGGER sla_breached_counts_ins AFTER INSERT ON calls
    WHEN NEW.sla_breached_at IS NOT NULL AND NEW.work_state IN ('pending', 'assigned', 'attempted') BEGIN
    INSERT INTO sla_breached_counts (department, n) VALUES (NEW.department, 1)
        ON CONFLICT (department) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER sla_breached_counts_del AFTER DELETE ON calls
    WHEN OLD.sla_breached_at IS NOT NULL AND OLD.work_state IN ('pending', 'assigned', 'attempted') BEGIN
    UPDATE sla_breached_counts SET n = n - 1 WHERE department = OLD.department;
END;
CREATE TRIGGER sla_breached_counts_upd AFTER UPDATE ON calls
    WHEN OLD.sla_breached_at IS NOT NEW.sla_breached_at OR OLD.work_state IS NOT NEW.work_state
      OR OLD.department IS NOT NEW.department BEGIN
    UPDATE sla_breached_counts SET n = n - 1
     WHERE department = OLD.department AND OLD.sla_breached_at IS NOT NULL
       AND OLD.work_state IN ('pending', 'assigned', 'attempted');
    INSERT INTO sla_breached_counts (department, n)
        SELECT NEW.department, 1
         WHERE NEW.sla_breached_at IS NOT NULL AND NEW.work_state IN ('pending', 'assigned', 'attempted')
        ON CONFLICT (department) DO UPDATE SET n = n + 1;
END;

-- The open worklist by offer time, with what the callback SLA figures read
-- of each call: the clocks run out in a report's range are counted from the
-- range's open calls. v23's index, by deadline, made a 15-minute window read
-- every open call whose clock had run out (108k in a year of 5M calls, 10 ms
-- for each of /api/stats' four reports); /api/stats no longer uses it.
DROP INDEX calls_open_sla;
CREATE INDEX calls_open_offered
    ON calls (COALESCE(started_at, created_at), sla_due_at, department, direction, started_at, created_at)
    WHERE work_state IN ('pending', 'assigned', 'attempted');
