-- Per department: whether a missed or hung-up call settles itself when the
-- caller is reached (calls again and is answered, or is dialled back and
-- answers). On by default, as before this switch.
ALTER TABLE providers ADD COLUMN auto_resolve INTEGER NOT NULL DEFAULT 1;
