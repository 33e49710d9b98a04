-- The audit log: every TAP and onboarding decision, allowed or refused. Rows are
-- only ever added, and the triggers below make the database itself refuse to change
-- or remove one, whoever asks. AUTOINCREMENT keeps ids increasing for good (never
-- reusing the largest), and Audit orders by id.
-- Times are fixed-width UTC RFC 3339 text, so that text order is time order.
CREATE TABLE audit (
	id            INTEGER PRIMARY KEY AUTOINCREMENT CHECK (id > 0),
	at            TEXT NOT NULL,
	request_id    TEXT NOT NULL,
	requester_id  TEXT NOT NULL,
	requester_upn TEXT NOT NULL,
	target_id     TEXT NOT NULL,
	target_upn    TEXT NOT NULL,
	action        TEXT NOT NULL CHECK (action <> ''),
	outcome       TEXT NOT NULL CHECK (outcome IN ('allowed', 'refused', 'failed')),
	reason        TEXT NOT NULL,
	ticket        TEXT NOT NULL,
	method_id     TEXT NOT NULL,
	-- NULL when the entry concerns no TAP.
	expires       TEXT
);

-- Serve the filters of Audit and CountAudit: a time range; a target by id or by
-- UPN (lower() folds ASCII only, and the filter folds the same way); and the rate
-- limits' count of one requester's actions of one kind since a time.
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_target_id ON audit (target_id);
CREATE INDEX audit_target_upn ON audit (lower(target_upn));
CREATE INDEX audit_requester_action ON audit (requester_id, action, at);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit log is append-only');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit log is append-only');
END;

-- INSERT OR REPLACE (and REPLACE INTO) would delete the row whose id it reuses
-- without firing audit_no_delete (delete triggers fire on REPLACE only with
-- recursive_triggers on), so an insert may not name an id in use. (When the
-- database chooses the id, NEW.id is -1 here, which CHECK (id > 0) keeps unused.)
CREATE TRIGGER audit_no_replace BEFORE INSERT ON audit
WHEN EXISTS (SELECT 1 FROM audit WHERE id = NEW.id)
BEGIN
	SELECT RAISE(ABORT, 'audit log is append-only');
END;

-- TAP cards sent to requesters' 1:1 chats: where each message is, so that the
-- redaction job can remove the TAP value from it. Never the value itself.
CREATE TABLE deliveries (
	id              TEXT PRIMARY KEY NOT NULL,
	target_id       TEXT NOT NULL,
	target_upn      TEXT NOT NULL,
	method_id       TEXT NOT NULL,
	requester_id    TEXT NOT NULL,
	service_url     TEXT NOT NULL,
	conversation_id TEXT NOT NULL,
	activity_id     TEXT NOT NULL,
	expires         TEXT NOT NULL,
	-- NULL until redacted; redact_reason is '' until then.
	redacted_at     TEXT,
	redact_reason   TEXT NOT NULL
);

-- Partial, so both hold only what is still to redact: DueDeliveries walks
-- deliveries_due in order and stops at its limit; OpenDeliveries reads one target's
-- stretch of deliveries_open. The id in each breaks ties in Expires without a sort.
CREATE INDEX deliveries_due ON deliveries (expires, id) WHERE redacted_at IS NULL;
CREATE INDEX deliveries_open ON deliveries (target_id, expires, id) WHERE redacted_at IS NULL;

-- Keys of card actions already handled, for exactly-once handling of an action
-- Teams delivers twice.
CREATE TABLE claims (
	key        TEXT PRIMARY KEY NOT NULL,
	claimed_at TEXT NOT NULL
);
