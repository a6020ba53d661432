-- An IVR flow's `sms` node, in a dialect with no in-call SMS verb, queues
-- its text in the missed-call outbox (same sender, retries and failure
-- recording). `kind` tells the two apart on the call; `ivr_node` names the
-- node, and the unique index keeps one text per call per node even when the
-- platform asks for the same step again or the flow loops back.
ALTER TABLE sms_outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'missed_call';
ALTER TABLE sms_outbox ADD COLUMN ivr_node TEXT;
CREATE UNIQUE INDEX sms_outbox_ivr_node ON sms_outbox (call_row_id, ivr_node)
    WHERE ivr_node IS NOT NULL;

-- The step log says what became of an `sms` node's text (queued, or why
-- not): a reason code on the node's row.
ALTER TABLE ivr_steps ADD COLUMN detail TEXT;
