-- Issue 15: Convoso recordings that are not ready when the call is first
-- seen. A talked-on call of a provider with the Convoso API connector that
-- arrives without a recording is queued here in the same transaction; the
-- leader's recording task asks Convoso's call log again with backoff until
-- the record carries one (`fetched`) or the last try has been spent
-- (`given_up`, with the reason). A call that gains its recording any other
-- way (a later webhook) leaves the queue.
CREATE TABLE recording_fetches (
    call_row_id  INTEGER PRIMARY KEY REFERENCES calls(id) ON DELETE CASCADE,
    provider_id  INTEGER NOT NULL REFERENCES providers(id) ON DELETE CASCADE,
    -- Convoso's own call id (`call_id`, else `call_log_id`, else `id`).
    convoso_id   TEXT NOT NULL,
    -- The call's start (store timestamp): the centre of the window asked for.
    started_at   TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'pending'
                 CHECK (state IN ('pending', 'fetched', 'given_up')),
    -- Tries spent (a try met by an open circuit is postponed, not spent).
    tries        INTEGER NOT NULL DEFAULT 0,
    -- When the row is next due (also its lease while a try runs).
    next_at      TEXT NOT NULL,
    last_error   TEXT,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX recording_fetches_due ON recording_fetches (state, next_at);
CREATE INDEX recording_fetches_provider ON recording_fetches (provider_id, state);
