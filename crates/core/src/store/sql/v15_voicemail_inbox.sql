-- Issue 16: the voicemail inbox. Who listened and who handled a voicemail,
-- and when; a handled voicemail leaves the open inbox.
ALTER TABLE voicemails ADD COLUMN listened_at TEXT;
ALTER TABLE voicemails ADD COLUMN listened_by TEXT;
ALTER TABLE voicemails ADD COLUMN handled_at TEXT;
ALTER TABLE voicemails ADD COLUMN handled_by TEXT;
CREATE INDEX voicemails_open ON voicemails (department, handled_at, created_at);
