-- New hires' passwordless set-up checklists, one per user. version is the
-- compare-and-set key of UpdateChecklist; progress is opaque JSON of the flow's.
-- Times are fixed-width UTC RFC 3339 text, so that text order is time order.
CREATE TABLE checklists (
	user_id         TEXT PRIMARY KEY NOT NULL CHECK (user_id <> ''),
	user_upn        TEXT NOT NULL,
	request_id      TEXT NOT NULL,
	manager_id      TEXT NOT NULL,
	no_smartphone   INTEGER NOT NULL CHECK (no_smartphone IN (0, 1)),
	conversation_id TEXT NOT NULL,
	activity_id     TEXT NOT NULL,
	progress        BLOB,
	started_at      TEXT NOT NULL,
	updated_at      TEXT NOT NULL,
	-- NULL until every step is done; once set, never NULL again.
	done_at         TEXT,
	version         INTEGER NOT NULL CHECK (version > 0)
);

-- Serves OpenChecklists. Partial, like jobs_due, so it holds only the checklists
-- still open, however many are done: the list walks it in (started_at, user_id)
-- order and stops at its limit.
CREATE INDEX checklists_open ON checklists (started_at, user_id) WHERE done_at IS NULL;

-- The database keeps done_at set too, whoever writes.
CREATE TRIGGER checklists_done_stays BEFORE UPDATE OF done_at ON checklists
WHEN OLD.done_at IS NOT NULL AND NEW.done_at IS NULL
BEGIN
	SELECT RAISE(ABORT, 'checklist done_at cannot be cleared');
END;
