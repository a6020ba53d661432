-- Text search over the calls without reading a department's rows: the
-- caller's number and name in a trigram index (any fragment of three
-- characters or more is found through it, in any case). Contentless (the
-- text stays in `calls`), and `contentless_delete` so that a trigger can
-- drop a call's entry by its id alone. The call id is searched from its
-- start on its own index (`calls_call_id`), not here.
CREATE VIRTUAL TABLE calls_search USING fts5 (
    mobile_number,
    caller_name,
    content = '',
    contentless_delete = 1,
    tokenize = 'trigram'
);

INSERT INTO calls_search (rowid, mobile_number, caller_name)
    SELECT id, mobile_number, caller_name FROM calls
    WHERE mobile_number IS NOT NULL OR caller_name IS NOT NULL;

CREATE TRIGGER calls_search_ins AFTER INSERT ON calls
WHEN NEW.mobile_number IS NOT NULL OR NEW.caller_name IS NOT NULL
BEGIN
    INSERT INTO calls_search (rowid, mobile_number, caller_name)
        VALUES (NEW.id, NEW.mobile_number, NEW.caller_name);
END;

-- Most updates of a call (a new status, an answer time) set the number and
-- name to what they were: those leave the index alone.
CREATE TRIGGER calls_search_upd AFTER UPDATE OF id, mobile_number, caller_name ON calls
WHEN OLD.id IS NOT NEW.id
  OR OLD.mobile_number IS NOT NEW.mobile_number
  OR OLD.caller_name IS NOT NEW.caller_name
BEGIN
    DELETE FROM calls_search WHERE rowid = OLD.id;
    INSERT INTO calls_search (rowid, mobile_number, caller_name)
        SELECT NEW.id, NEW.mobile_number, NEW.caller_name
        WHERE NEW.mobile_number IS NOT NULL OR NEW.caller_name IS NOT NULL;
END;

CREATE TRIGGER calls_search_del AFTER DELETE ON calls
BEGIN
    DELETE FROM calls_search WHERE rowid = OLD.id;
END;
