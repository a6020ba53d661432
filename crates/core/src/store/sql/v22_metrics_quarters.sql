-- A change counter per department and quarter hour (UTC) of when calls were
-- offered (`metrics::OFFERED_AT`): every insert, update or delete of a call
-- moves the counter of its quarter (both quarters when it moves). The metrics
-- keep each quarter's sums between reports while its counter stands still,
-- so a month of history is summed again only where it changed. Shipped to
-- cluster peers like any table; triggers keep it on replicas. A time SQLite
-- cannot read counts under the quarter '' (never in a report's range), so
-- that no write ever fails on it.
CREATE TABLE metrics_quarters (
    quarter    TEXT NOT NULL,
    department TEXT NOT NULL,
    changes    INTEGER NOT NULL,
    PRIMARY KEY (quarter, department)
) WITHOUT ROWID;

INSERT INTO metrics_quarters (quarter, department, changes)
    SELECT COALESCE(strftime('%Y-%m-%dT%H:', COALESCE(started_at, created_at))
               || printf('%02d', (CAST(strftime('%M', COALESCE(started_at, created_at)) AS INTEGER) / 15) * 15), ''),
           department, COUNT(*)
      FROM calls GROUP BY 1, 2;

CREATE TRIGGER metrics_quarters_ins AFTER INSERT ON calls BEGIN
    INSERT INTO metrics_quarters (quarter, department, changes)
        VALUES (COALESCE(strftime('%Y-%m-%dT%H:', COALESCE(NEW.started_at, NEW.created_at))
                    || printf('%02d', (CAST(strftime('%M', COALESCE(NEW.started_at, NEW.created_at)) AS INTEGER) / 15) * 15), ''),
                NEW.department, 1)
        ON CONFLICT (quarter, department) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER metrics_quarters_upd AFTER UPDATE ON calls BEGIN
    INSERT INTO metrics_quarters (quarter, department, changes)
        VALUES (COALESCE(strftime('%Y-%m-%dT%H:', COALESCE(NEW.started_at, NEW.created_at))
                    || printf('%02d', (CAST(strftime('%M', COALESCE(NEW.started_at, NEW.created_at)) AS INTEGER) / 15) * 15), ''),
                NEW.department, 1)
        ON CONFLICT (quarter, department) DO UPDATE SET changes = changes + 1;
    INSERT INTO metrics_quarters (quarter, department, changes)
        SELECT COALESCE(strftime('%Y-%m-%dT%H:', COALESCE(OLD.started_at, OLD.created_at))
                   || printf('%02d', (CAST(strftime('%M', COALESCE(OLD.started_at, OLD.created_at)) AS INTEGER) / 15) * 15), ''),
               OLD.department, 1
         WHERE OLD.department IS NOT NEW.department
            OR COALESCE(OLD.started_at, OLD.created_at) IS NOT COALESCE(NEW.started_at, NEW.created_at)
        ON CONFLICT (quarter, department) DO UPDATE SET changes = changes + 1;
END;

CREATE TRIGGER metrics_quarters_del AFTER DELETE ON calls BEGIN
    INSERT INTO metrics_quarters (quarter, department, changes)
        VALUES (COALESCE(strftime('%Y-%m-%dT%H:', COALESCE(OLD.started_at, OLD.created_at))
                    || printf('%02d', (CAST(strftime('%M', COALESCE(OLD.started_at, OLD.created_at)) AS INTEGER) / 15) * 15), ''),
                OLD.department, 1)
        ON CONFLICT (quarter, department) DO UPDATE SET changes = changes + 1;
END;
