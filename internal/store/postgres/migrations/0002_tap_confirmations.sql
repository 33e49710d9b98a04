-- Passes for established accounts that wait for a second person's confirmation
-- (TAPBOT_TAP_VERIFY). A row moves out of 'pending' once, by compare-and-set, so a
-- double click, a redelivered activity or two replicas decide it once.
CREATE TABLE tap_confirmations (
	id               text COLLATE "C" PRIMARY KEY,
	request_id       text NOT NULL,
	tenant_id        text NOT NULL,
	requester_id     text NOT NULL CHECK (requester_id <> ''),
	target_id        text NOT NULL CHECK (target_id <> ''),
	target_upn       text NOT NULL,
	path             text NOT NULL CHECK (path IN ('target', 'manager', 'helpdesk')),
	confirmer_id     text NOT NULL,
	lifetime_minutes integer NOT NULL,
	once             boolean NOT NULL,
	replace_existing boolean NOT NULL,
	reason           text NOT NULL,
	state            text NOT NULL CHECK (state IN ('pending', 'confirmed', 'denied', 'cancelled', 'expired')),
	decided_by       text NOT NULL,
	created_at       timestamptz NOT NULL,
	expires_at       timestamptz NOT NULL,
	-- NULL while pending.
	decided_at       timestamptz
);

-- One question at a time per account.
CREATE UNIQUE INDEX tap_confirmations_pending_target ON tap_confirmations (target_id) WHERE state = 'pending';
-- The expiry sweep's walk.
CREATE INDEX tap_confirmations_due ON tap_confirmations (expires_at, id) WHERE state = 'pending';
