-- The archive is read, not only written: the Retention screen shows how far
-- back it reaches, and admins export a period of it (oldest first).
CREATE INDEX calls_archive_created ON calls_archive (created_at);
