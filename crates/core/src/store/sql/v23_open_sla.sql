-- The open worklist by SLA deadline, with what the callback SLA figures need
-- of each call (department, when it was offered, direction): counting the
-- clocks run out by now (`/api/stats`, the metrics) reads this index alone,
-- not a row per open call. Only missed and hung-up calls not yet resolved
-- are in it.
CREATE INDEX calls_open_sla ON calls (sla_due_at, department, started_at, created_at, direction)
    WHERE work_state IN ('pending', 'assigned', 'attempted');
