-- Issue 15: platforms that report a call back only through their call
-- webhooks (Knowlarity, Dialpad, Ozonetel): the outbound call's event finds
-- the open attempt to its number.
CREATE INDEX callback_attempts_open ON callback_attempts (department, customer)
    WHERE state IN ('requested', 'dialling');
