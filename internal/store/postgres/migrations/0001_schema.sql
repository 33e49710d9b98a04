-- tapbot's schema on PostgreSQL: the tables of the SQLite backend's migrations
-- 0001-0006, in PostgreSQL's dialect. Times are timestamptz (microseconds, UTC
-- instants); ids that lists order by are COLLATE "C", so that they sort byte by
-- byte as in SQLite whatever the database's collation.

-- Conversation references, one row per Bot Framework conversation, rewritten on
-- every inbound activity so the newest service URL and raw reference win.
CREATE TABLE conversation_references (
	conversation_id    text PRIMARY KEY,
	scope              text NOT NULL,
	tenant_id          text NOT NULL,
	user_aad_object_id text NOT NULL,
	team_id            text NOT NULL,
	service_url        text NOT NULL,
	bot_id             text NOT NULL,
	raw                bytea,
	updated_at         timestamptz NOT NULL
);

-- Serves PersonalReference: equality on the first three columns, newest first.
CREATE INDEX conversation_references_personal
	ON conversation_references (tenant_id, user_aad_object_id, scope, updated_at);

-- The audit log: every TAP and onboarding decision, allowed or refused. Rows are
-- only ever added: the triggers below make the database itself refuse to change,
-- remove or truncate one, whoever asks (grant tapbot's role no more than SELECT and
-- INSERT on it, too: see the README). Audit orders by id.
CREATE TABLE audit (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at            timestamptz NOT NULL,
	request_id    text NOT NULL,
	requester_id  text NOT NULL,
	requester_upn text NOT NULL,
	target_id     text NOT NULL,
	target_upn    text NOT NULL,
	action        text NOT NULL CHECK (action <> ''),
	outcome       text NOT NULL CHECK (outcome IN ('allowed', 'refused', 'failed')),
	reason        text NOT NULL,
	ticket        text NOT NULL,
	method_id     text NOT NULL,
	-- NULL when the entry concerns no TAP.
	expires       timestamptz
);

-- Serve the filters of Audit and CountAudit: a time range; a target by id or by
-- UPN (lower() under "C" folds ASCII only, and the filter folds the same way); and
-- the rate limits' count of one requester's actions of one kind since a time.
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_target_id ON audit (target_id);
CREATE INDEX audit_target_upn ON audit (lower(target_upn COLLATE "C"));
CREATE INDEX audit_requester_action ON audit (requester_id, action, at);

CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit log is append-only' USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_no_change BEFORE UPDATE OR DELETE ON audit
	FOR EACH ROW EXECUTE FUNCTION audit_append_only();
-- Row triggers do not fire on TRUNCATE.
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
	FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();

-- TAP cards sent to requesters' 1:1 chats: where each message is, so that the
-- redaction job can remove the TAP value from it. Never the value itself.
-- attempts counts failed card updates and next_attempt_at (NULL: at once) is when
-- the next may run; checked_at (NULL: never) is when the used-pass check last
-- asked Graph about the pass.
CREATE TABLE deliveries (
	id              text COLLATE "C" PRIMARY KEY,
	target_id       text NOT NULL,
	target_upn      text NOT NULL,
	method_id       text NOT NULL,
	requester_id    text NOT NULL,
	service_url     text NOT NULL,
	conversation_id text NOT NULL,
	activity_id     text NOT NULL,
	expires         timestamptz NOT NULL,
	-- NULL until redacted; redact_reason is '' until then.
	redacted_at     timestamptz,
	redact_reason   text NOT NULL,
	attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	next_attempt_at timestamptz,
	checked_at      timestamptz
);

-- Partial, so they hold only what is still to redact (see the SQLite backend's
-- 0002 and 0006 for the walks they serve).
CREATE INDEX deliveries_due ON deliveries (expires, id) WHERE redacted_at IS NULL;
CREATE INDEX deliveries_open ON deliveries (target_id, expires, id) WHERE redacted_at IS NULL;
CREATE INDEX deliveries_check ON deliveries (checked_at NULLS FIRST, expires, id) WHERE redacted_at IS NULL;

-- Keys of card actions already handled, for exactly-once handling of an action
-- Teams delivers twice (to any replica).
CREATE TABLE claims (
	key        text PRIMARY KEY,
	claimed_at timestamptz NOT NULL
);

-- Onboarding requests; version is the compare-and-set key of UpdateOnboard, the
-- state machine store.CanTransition's. Never a password.
CREATE TABLE onboard_requests (
	id            text COLLATE "C" PRIMARY KEY,
	state         text NOT NULL CHECK (state IN ('submitted', 'rejected', 'approved', 'provisioning', 'failed', 'done')),
	requester_id  text NOT NULL CHECK (requester_id <> ''),
	requester_upn text NOT NULL,
	form          bytea,
	decider_id    text NOT NULL,
	decision      text NOT NULL,
	user_id       text NOT NULL,
	step          text NOT NULL,
	error         text NOT NULL,
	-- NULL when the form gave none.
	start_date    timestamptz,
	version       integer NOT NULL CHECK (version > 0),
	created_at    timestamptz NOT NULL,
	updated_at    timestamptz NOT NULL
);

CREATE INDEX onboard_requests_requester ON onboard_requests (requester_id, created_at, id);
CREATE INDEX onboard_requests_created ON onboard_requests (created_at, id);
CREATE INDEX onboard_requests_state ON onboard_requests (state);

-- Durable scheduled work. A claimer leases a due job by setting lease_until
-- (FOR UPDATE SKIP LOCKED keeps two replicas off one job); another may take it once
-- that has passed. attempts counts claims.
CREATE TABLE jobs (
	id          text COLLATE "C" PRIMARY KEY,
	kind        text NOT NULL CHECK (kind <> ''),
	payload     bytea,
	due_at      timestamptz NOT NULL,
	attempts    integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	-- NULL when no one holds the job.
	lease_until timestamptz,
	-- NULL until done.
	done_at     timestamptz
);

CREATE INDEX jobs_due ON jobs (due_at, id) WHERE done_at IS NULL;

-- New hires' passwordless set-up checklists, one per user; version is the
-- compare-and-set key of UpdateChecklist, progress opaque JSON of the flow's.
CREATE TABLE checklists (
	user_id         text COLLATE "C" PRIMARY KEY CHECK (user_id <> ''),
	user_upn        text NOT NULL,
	request_id      text NOT NULL,
	manager_id      text NOT NULL,
	no_smartphone   boolean NOT NULL,
	conversation_id text NOT NULL,
	activity_id     text NOT NULL,
	progress        bytea,
	started_at      timestamptz NOT NULL,
	updated_at      timestamptz NOT NULL,
	-- NULL until every step is done; once set, never NULL again.
	done_at         timestamptz,
	version         integer NOT NULL CHECK (version > 0)
);

CREATE INDEX checklists_open ON checklists (started_at, user_id) WHERE done_at IS NULL;

CREATE FUNCTION checklists_done_stays() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.done_at IS NOT NULL AND NEW.done_at IS NULL THEN
		RAISE EXCEPTION 'checklist done_at cannot be cleared' USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END;
$$;

CREATE TRIGGER checklists_done_stays BEFORE UPDATE OF done_at ON checklists
	FOR EACH ROW EXECUTE FUNCTION checklists_done_stays();

-- TAP intents: written before tapbot asks Graph for a pass, closed once the pass is
-- delivered and recorded (done), refused by Graph (failed) or deleted again (undone).
-- An intent still open when its lease ends belongs to a replica that stopped;
-- reconciliation (on any replica) deletes whatever it created.
CREATE TABLE tap_intents (
	id           text COLLATE "C" PRIMARY KEY,
	target_id    text NOT NULL CHECK (target_id <> ''),
	target_upn   text NOT NULL,
	requester_id text NOT NULL CHECK (requester_id <> ''),
	state        text NOT NULL CHECK (state IN ('pending', 'created', 'done', 'failed', 'undone')),
	method_id    text NOT NULL,
	started_at   timestamptz NOT NULL,
	lease_until  timestamptz NOT NULL,
	-- When Graph created the pass; NULL until then.
	created_at   timestamptz,
	updated_at   timestamptz NOT NULL
);

-- One open intent per target: BeginTAP serialises on the target with an advisory
-- lock and checks first; this index is the backstop that refuses a second open
-- intent even if a check were skipped.
CREATE UNIQUE INDEX tap_intents_open_target ON tap_intents (target_id) WHERE state IN ('pending', 'created');
CREATE INDEX tap_intents_requester ON tap_intents (requester_id, started_at);
CREATE INDEX tap_intents_lease ON tap_intents (lease_until, id) WHERE state IN ('pending', 'created');
CREATE INDEX tap_intents_target_created ON tap_intents (target_id, created_at);

-- The readiness probe's write (Store.Ping): one row, rewritten each time, so that a
-- read-only or full database shows on /readyz.
CREATE TABLE health (
	id        integer PRIMARY KEY CHECK (id = 1),
	probed_at timestamptz NOT NULL
);
