-- Issue 16 (console): the call history screen finds a caller's calls by
-- number (`GET /api/calls?number=`), and flags repeat callers
-- (`repeat=true`): both look calls up by number, newest first.
CREATE INDEX calls_number ON calls (mobile_number, created_at);
