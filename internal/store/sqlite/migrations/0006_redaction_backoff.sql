-- Redaction that backs off per delivery, so that a card whose update keeps failing
-- never blocks the others (issue 9): attempts counts failed card updates and
-- next_attempt_at (NULL: at once) is when the next may run; checked_at (NULL: never)
-- is when the used-pass check last asked Graph about the pass, so that the check
-- rotates through every open delivery instead of asking about the same ones each run.
-- Times as in 0002.
ALTER TABLE deliveries ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0);
ALTER TABLE deliveries ADD COLUMN next_attempt_at TEXT;
ALTER TABLE deliveries ADD COLUMN checked_at TEXT;

-- The used-pass check's walk: least recently checked first (NULL, never, before
-- any time), over what is still to redact.
CREATE INDEX deliveries_check ON deliveries (checked_at, expires, id) WHERE redacted_at IS NULL;
