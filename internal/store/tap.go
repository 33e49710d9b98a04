package store

import "time"

// AuditEntry is one row of the append-only audit log: every TAP and onboarding
// decision, allowed or refused. It never holds a TAP value or password; the type has
// no field for one.
type AuditEntry struct {
	ID           int64 // assigned by the store, increasing
	Time         time.Time
	RequestID    string // the request id of the activity that caused it
	RequesterID  string // Entra object id (from.aadObjectId)
	RequesterUPN string
	TargetID     string // Entra object id of the user acted on, when known
	TargetUPN    string // as typed or resolved
	Action       Action
	Outcome      Outcome
	Reason       string // refusal code or failure summary (e.g. "privileged_role")
	Ticket       string // the requester's reason or ticket text
	MethodID     string // TAP method id in Graph
	Expires      time.Time
}

// AuditFilter selects audit rows. Zero fields do not filter.
type AuditFilter struct {
	Since, Until time.Time // Since inclusive, Until exclusive
	Target       string    // matches TargetID or TargetUPN (case-insensitive UPN)
	RequesterID  string
	Action       Action
	Outcome      Outcome
	Limit        int // newest first; 0 means 100, capped at 10000
}

// Delivery is a TAP card sent to a requester's 1:1 chat: what the redaction job needs
// to remove the value from that message when the TAP expires or is revoked. It holds
// where the message is, never the value.
type Delivery struct {
	ID             string // tapbot's id for the delivery (unique)
	TargetID       string
	TargetUPN      string
	MethodID       string
	RequesterID    string
	ServiceURL     string
	ConversationID string
	ActivityID     string
	Expires        time.Time
	RedactedAt     time.Time // zero until redacted
	RedactReason   string    // "expired", "revoked", "replaced", "used", "gave_up"
	// Attempts counts failed redactions (card updates); NextAttempt, when set, is
	// the earliest time of the next, so one stuck card backs off instead of
	// blocking the others.
	Attempts    int
	NextAttempt time.Time
	// CheckedAt is when the used-pass check last asked Graph about this pass (zero:
	// never); the check takes the least recently checked first.
	CheckedAt time.Time
}
