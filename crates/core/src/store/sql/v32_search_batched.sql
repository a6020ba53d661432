-- The number-search index (`calls_search`, v21) is written once per write
-- transaction instead of once per change of a call. FTS5 writes what it
-- holds in memory to a new segment at every statement savepoint, and each
-- call upsert is such a statement (it fires triggers): each webhook wrote
-- and later merged a segment of its own. The triggers now only note which
-- calls need their entry written again; `search::flush`, run by the writer
-- before each commit, writes them all in one statement (one segment per
-- transaction).
--
-- `indexed` is 1 when the index may hold an entry for the call from an
-- earlier transaction (deleted before the new one is written), 0 for a call
-- inserted since the last flush.
CREATE TABLE calls_search_pending (
    id      INTEGER PRIMARY KEY,
    indexed INTEGER NOT NULL
);

DROP TRIGGER calls_search_ins;
DROP TRIGGER calls_search_upd;
DROP TRIGGER calls_search_del;

CREATE TRIGGER calls_search_ins AFTER INSERT ON calls
WHEN NEW.mobile_number IS NOT NULL OR NEW.caller_name IS NOT NULL
BEGIN
    INSERT INTO calls_search_pending (id, indexed) VALUES (NEW.id, 0)
        ON CONFLICT (id) DO NOTHING;
END;

-- Most updates of a call (a new status, an answer time) set the number and
-- name to what they were: those leave the index alone.
CREATE TRIGGER calls_search_upd AFTER UPDATE OF id, mobile_number, caller_name ON calls
WHEN OLD.id IS NOT NEW.id
  OR OLD.mobile_number IS NOT NEW.mobile_number
  OR OLD.caller_name IS NOT NEW.caller_name
BEGIN
    INSERT INTO calls_search_pending (id, indexed) VALUES (OLD.id, 1)
        ON CONFLICT (id) DO NOTHING;
    INSERT INTO calls_search_pending (id, indexed) VALUES (NEW.id, 0)
        ON CONFLICT (id) DO NOTHING;
END;

CREATE TRIGGER calls_search_del AFTER DELETE ON calls
BEGIN
    INSERT INTO calls_search_pending (id, indexed) VALUES (OLD.id, 1)
        ON CONFLICT (id) DO NOTHING;
END;
