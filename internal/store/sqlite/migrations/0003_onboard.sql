-- Onboarding requests: a manager's request for a new hire's account, and where
-- its provisioning stands. version is the compare-and-set key of UpdateOnboard;
-- the state machine itself is store.CanTransition's, checked on every update.
-- Never a password. Times are fixed-width UTC RFC 3339 text, so that text order is
-- time order.
CREATE TABLE onboard_requests (
	id            TEXT PRIMARY KEY NOT NULL,
	state         TEXT NOT NULL CHECK (state IN ('submitted', 'rejected', 'approved', 'provisioning', 'failed', 'done')),
	requester_id  TEXT NOT NULL CHECK (requester_id <> ''),
	requester_upn TEXT NOT NULL,
	form          BLOB,
	decider_id    TEXT NOT NULL,
	decision      TEXT NOT NULL,
	user_id       TEXT NOT NULL,
	step          TEXT NOT NULL,
	error         TEXT NOT NULL,
	-- NULL when the form gave none.
	start_date    TEXT,
	version       INTEGER NOT NULL CHECK (version > 0),
	created_at    TEXT NOT NULL,
	updated_at    TEXT NOT NULL
);

-- Serve Onboards: one requester's requests, or all, newest first (the id breaks
-- ties in created_at without a sort), and the requests in some states (pending
-- approval, failed), few enough to sort. Updates never change created_at or id,
-- so only onboard_requests_state costs them anything.
CREATE INDEX onboard_requests_requester ON onboard_requests (requester_id, created_at, id);
CREATE INDEX onboard_requests_created ON onboard_requests (created_at, id);
CREATE INDEX onboard_requests_state ON onboard_requests (state);

-- Durable scheduled work. A claimer leases a due job by setting lease_until;
-- another may take it once that has passed. attempts counts claims.
CREATE TABLE jobs (
	id          TEXT PRIMARY KEY NOT NULL,
	kind        TEXT NOT NULL CHECK (kind <> ''),
	payload     BLOB,
	due_at      TEXT NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	-- NULL when no one holds the job.
	lease_until TEXT,
	-- NULL until done.
	done_at     TEXT
);

-- Serves ClaimJobs. Partial, like deliveries_due, so it holds only the jobs still
-- to run, however many are done: the claim walks it in (due_at, id) order and
-- stops at its limit. (An index on (done_at IS NULL, due_at) would hold the done
-- ones too, and SQLite uses it only for a WHERE written as (done_at IS NULL) = 1.)
CREATE INDEX jobs_due ON jobs (due_at, id) WHERE done_at IS NULL;
