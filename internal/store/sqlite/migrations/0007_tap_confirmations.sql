-- Passes for established accounts that wait for a second person's confirmation
-- (TAPBOT_TAP_VERIFY). A row moves out of 'pending' once, by compare-and-set, so a
-- double click, a redelivered activity or two replicas decide it once. Times as in
-- 0002.
CREATE TABLE tap_confirmations (
	id               TEXT PRIMARY KEY NOT NULL,
	request_id       TEXT NOT NULL,
	tenant_id        TEXT NOT NULL,
	requester_id     TEXT NOT NULL CHECK (requester_id <> ''),
	target_id        TEXT NOT NULL CHECK (target_id <> ''),
	target_upn       TEXT NOT NULL,
	path             TEXT NOT NULL CHECK (path IN ('target', 'manager', 'helpdesk')),
	confirmer_id     TEXT NOT NULL,
	lifetime_minutes INTEGER NOT NULL,
	once             INTEGER NOT NULL,
	replace_existing INTEGER NOT NULL,
	reason           TEXT NOT NULL,
	state            TEXT NOT NULL CHECK (state IN ('pending', 'confirmed', 'denied', 'cancelled', 'expired')),
	decided_by       TEXT NOT NULL,
	created_at       TEXT NOT NULL,
	expires_at       TEXT NOT NULL,
	-- NULL while pending.
	decided_at       TEXT
);

-- One question at a time per account.
CREATE UNIQUE INDEX tap_confirmations_pending_target ON tap_confirmations (target_id) WHERE state = 'pending';
-- The expiry sweep's walk.
CREATE INDEX tap_confirmations_due ON tap_confirmations (expires_at, id) WHERE state = 'pending';
