package store

import "time"

// Tables are the tables every backend keeps, by the names both use; Counts and
// storecopy key on them. The schemas hold two more, which no copy carries:
// schema_migrations (each database's own migration bookkeeping) and health (the
// readiness probe's scratch row). storecopy's tests hold every other table of
// each schema to be listed here.
var Tables = []string{"conversation_references", "audit", "deliveries", "claims", "onboard_requests", "jobs", "checklists",
	"tap_intents", "tap_confirmations"}

// Rows receives every row of a store, table by table, when an installation moves
// from one backend to another (see storecopy). It carries what the Store interface
// does not show (leases, creation times), so a copy is whole.
type Rows interface {
	Reference(Reference) error
	// Audit receives the audit log in id order, ids included.
	Audit(AuditEntry) error
	Delivery(Delivery) error
	Claim(ClaimRow) error
	Onboard(OnboardRequest) error
	Job(JobRow) error
	Checklist(Checklist) error
	TAPIntent(IntentRow) error
	Confirmation(TAPConfirmation) error
}

// ClaimRow is a claimed key (see Store.Claim).
type ClaimRow struct {
	Key string
	At  time.Time
}

// JobRow is a job with its lease (zero: free).
type JobRow struct {
	Job
	LeaseUntil time.Time
}

// IntentRow is a TAP intent with the time Graph created its pass (zero: not yet),
// which BeginTAP's changed-since check reads.
type IntentRow struct {
	TAPIntent
	CreatedAt time.Time
}
