package store

import (
	"strings"
	"time"
)

// What follows maps each record to the columns of its table, in one order that
// both backends share, so that a scan, an insert and a copy cannot disagree about
// it: a record's Fields are pointers to its fields in the order of its …Columns,
// for Scan to fill or, as arguments, for an INSERT of every column to write. Only
// times differ between backends (SQLite keeps fixed-width text, PostgreSQL
// timestamptz), so a backend hands Fields its Times.

// Times is a backend's encoding of time columns: Time wraps a time field of a
// NOT NULL column, Null one of a nullable column (where NULL is the zero time),
// each as a value that the backend's driver both scans into and takes as an
// argument.
type Times interface {
	Time(*time.Time) any
	Null(*time.Time) any
}

// Record is a pointer to a record with Fields: what a backend scans a row into.
type Record[T any] interface {
	*T
	Fields(Times) []any
}

// The columns of each table, in the order of the Fields of its record.
const (
	ReferenceColumns = `conversation_id, scope, tenant_id, user_aad_object_id, team_id, service_url, bot_id, raw, updated_at`
	AuditColumns     = `id, at, request_id, requester_id, requester_upn, target_id, target_upn,
		action, outcome, reason, ticket, method_id, expires`
	DeliveryColumns = `id, target_id, target_upn, method_id, requester_id, service_url,
		conversation_id, activity_id, expires, redacted_at, redact_reason,
		attempts, next_attempt_at, checked_at`
	ClaimColumns   = `key, claimed_at`
	OnboardColumns = `id, state, requester_id, requester_upn, form, decider_id, decision, user_id,
		step, error, start_date, version, created_at, updated_at`
	JobColumns       = `id, kind, payload, due_at, attempts, done_at`
	ChecklistColumns = `user_id, user_upn, request_id, manager_id, no_smartphone, conversation_id,
		activity_id, progress, started_at, updated_at, done_at, version`
	IntentColumns  = `id, target_id, target_upn, requester_id, state, method_id, started_at, lease_until, updated_at`
	ConfirmColumns = `id, request_id, tenant_id, requester_id, target_id, target_upn, path, confirmer_id,
		lifetime_minutes, once, replace_existing, reason, state, decided_by, created_at, expires_at, decided_at,
		requester_name, starts_at, question_service_url, question_conversation_id, question_activity_id,
		waiting_service_url, waiting_conversation_id, waiting_activity_id`

	// A copy carries what the Store interface does not show too.
	JobRowColumns    = JobColumns + `, lease_until`
	IntentRowColumns = IntentColumns + `, created_at`
)

// Fields are r's fields in the order of ReferenceColumns.
func (r *Reference) Fields(t Times) []any {
	return []any{&r.ConversationID, &r.Scope, &r.TenantID, &r.UserAADObjectID, &r.TeamID,
		&r.ServiceURL, &r.BotID, &r.Raw, t.Time(&r.UpdatedAt)}
}

// Fields are e's fields in the order of AuditColumns.
func (e *AuditEntry) Fields(t Times) []any {
	return []any{&e.ID, t.Time(&e.Time), &e.RequestID, &e.RequesterID, &e.RequesterUPN, &e.TargetID, &e.TargetUPN,
		&e.Action, &e.Outcome, &e.Reason, &e.Ticket, &e.MethodID, t.Null(&e.Expires)}
}

// Fields are d's fields in the order of DeliveryColumns.
func (d *Delivery) Fields(t Times) []any {
	return []any{&d.ID, &d.TargetID, &d.TargetUPN, &d.MethodID, &d.RequesterID, &d.ServiceURL,
		&d.ConversationID, &d.ActivityID, t.Time(&d.Expires), t.Null(&d.RedactedAt), &d.RedactReason,
		&d.Attempts, t.Null(&d.NextAttempt), t.Null(&d.CheckedAt)}
}

// Fields are c's fields in the order of ClaimColumns.
func (c *ClaimRow) Fields(t Times) []any { return []any{&c.Key, t.Time(&c.At)} }

// Fields are r's fields in the order of OnboardColumns.
func (r *OnboardRequest) Fields(t Times) []any {
	return []any{&r.ID, &r.State, &r.RequesterID, &r.RequesterUPN, &r.Form, &r.DeciderID, &r.Decision, &r.UserID,
		&r.Step, &r.Error, t.Null(&r.StartDate), &r.Version, t.Time(&r.CreatedAt), t.Time(&r.UpdatedAt)}
}

// Fields are j's fields in the order of JobColumns.
func (j *Job) Fields(t Times) []any {
	return []any{&j.ID, &j.Kind, &j.Payload, t.Time(&j.DueAt), &j.Attempts, t.Null(&j.DoneAt)}
}

// Fields are j's fields in the order of JobRowColumns.
func (j *JobRow) Fields(t Times) []any { return append(j.Job.Fields(t), t.Null(&j.LeaseUntil)) }

// Fields are c's fields in the order of ChecklistColumns.
func (c *Checklist) Fields(t Times) []any {
	return []any{&c.UserID, &c.UserUPN, &c.RequestID, &c.ManagerID, &c.NoSmartphone, &c.ConversationID,
		&c.ActivityID, &c.Progress, t.Time(&c.StartedAt), t.Time(&c.UpdatedAt), t.Null(&c.DoneAt), &c.Version}
}

// Fields are i's fields in the order of IntentColumns.
func (i *TAPIntent) Fields(t Times) []any {
	return []any{&i.ID, &i.TargetID, &i.TargetUPN, &i.RequesterID, &i.State, &i.MethodID,
		t.Time(&i.StartedAt), t.Time(&i.LeaseUntil), t.Time(&i.UpdatedAt)}
}

// Fields are i's fields in the order of IntentRowColumns.
func (i *IntentRow) Fields(t Times) []any { return append(i.TAPIntent.Fields(t), t.Null(&i.CreatedAt)) }

// Fields are c's fields in the order of ConfirmColumns.
func (c *TAPConfirmation) Fields(t Times) []any {
	return []any{&c.ID, &c.RequestID, &c.TenantID, &c.RequesterID, &c.TargetID, &c.TargetUPN, &c.Path, &c.ConfirmerID,
		&c.LifetimeMinutes, &c.Once, &c.Replace, &c.Reason, &c.State, &c.DecidedBy,
		t.Time(&c.CreatedAt), t.Time(&c.ExpiresAt), t.Null(&c.DecidedAt),
		&c.RequesterName, t.Null(&c.Start), &c.Question.ServiceURL, &c.Question.ConversationID, &c.Question.ActivityID,
		&c.Waiting.ServiceURL, &c.Waiting.ConversationID, &c.Waiting.ActivityID}
}

// SetExcluded is the SET list of an upsert that overwrites every column but key
// with the new row's ("a = excluded.a, b = excluded.b"), for ON CONFLICT (key)
// DO UPDATE SET …, which both dialects spell alike.
func SetExcluded(columns, key string) string {
	var set []string
	for _, c := range strings.Split(columns, ",") {
		if c = strings.TrimSpace(c); c != key {
			set = append(set, c+" = excluded."+c)
		}
	}
	return strings.Join(set, ", ")
}
