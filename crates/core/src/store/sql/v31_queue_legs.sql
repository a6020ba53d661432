-- The agents' phones rung for a caller waiting in a Twilio queue
-- (`store::queue_waits`). On disk, not in one receiver's memory, so that the
-- phones still ringing stop when an agent takes the caller or the caller
-- leaves, whichever receiver Twilio asks, and after a restart. Each slice
-- of the wait is a new row: its id tells a slice's late answers from the
-- next slice's.
CREATE TABLE ivr_queue_waits (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    provider_id INTEGER NOT NULL,
    call_id     TEXT NOT NULL,
    -- 1 while no agent has taken the caller.
    open        INTEGER NOT NULL DEFAULT 1,
    -- The agent's call that took the caller (Twilio's DequeingCallSid).
    taken_by    TEXT,
    since       TEXT NOT NULL,
    UNIQUE (provider_id, call_id)
);
CREATE INDEX ivr_queue_waits_since ON ivr_queue_waits (since);

CREATE TABLE ivr_queue_legs (
    sid     TEXT PRIMARY KEY,
    wait_id INTEGER NOT NULL,
    number  TEXT NOT NULL
);
CREATE INDEX ivr_queue_legs_wait ON ivr_queue_legs (wait_id);
