-- TAP intents: written before tapbot asks Graph for a pass, closed once the pass is
-- delivered and recorded (done), refused by Graph (failed) or deleted again (undone).
-- An intent still open when its lease ends belongs to a process that stopped;
-- reconciliation deletes whatever it created. Times as in 0002.
CREATE TABLE tap_intents (
	id           TEXT PRIMARY KEY NOT NULL,
	target_id    TEXT NOT NULL CHECK (target_id <> ''),
	target_upn   TEXT NOT NULL,
	requester_id TEXT NOT NULL CHECK (requester_id <> ''),
	state        TEXT NOT NULL CHECK (state IN ('pending', 'created', 'done', 'failed', 'undone')),
	method_id    TEXT NOT NULL,
	started_at   TEXT NOT NULL,
	lease_until  TEXT NOT NULL,
	-- When Graph created the pass; NULL until then.
	created_at   TEXT,
	updated_at   TEXT NOT NULL
);

-- One open intent per target: the per-target claim that keeps two /tap for one user
-- (from two people, two replicas, or one activity delivered twice) from both
-- creating a pass. The database refuses the second even if a check were skipped.
CREATE UNIQUE INDEX tap_intents_open_target ON tap_intents (target_id) WHERE state IN ('pending', 'created');
-- The rate limit's count of one requester's intents since a time.
CREATE INDEX tap_intents_requester ON tap_intents (requester_id, started_at);
-- Reconciliation's walk over abandoned intents.
CREATE INDEX tap_intents_lease ON tap_intents (lease_until, id) WHERE state IN ('pending', 'created');
-- The "issued meanwhile" check: passes created for a target since a time.
CREATE INDEX tap_intents_target_created ON tap_intents (target_id, created_at);

-- The readiness probe's write (sqlite.Store.Ping): one row, rewritten each time, so
-- that a full disk or a read-only file shows on /readyz.
CREATE TABLE health (
	id        INTEGER PRIMARY KEY CHECK (id = 1),
	probed_at TEXT NOT NULL
);
