package store

import "time"

// Onboarding request states. A request moves forward only:
// submitted → approved → provisioning → done, or submitted → rejected, and
// provisioning ↔ failed (a retry continues from the failed step).
const (
	OnboardSubmitted    = "submitted"
	OnboardRejected     = "rejected"
	OnboardApproved     = "approved"
	OnboardProvisioning = "provisioning"
	OnboardFailed       = "failed"
	OnboardDone         = "done"
)

// OnboardRequest is a manager's request to create an account for a new hire, and
// where its provisioning stands. It never holds the account's password.
type OnboardRequest struct {
	ID           string // request id, carried in every card of the request
	State        string
	RequesterID  string // Entra object id of the manager who asked
	RequesterUPN string
	Form         []byte // JSON of the validated form (names, UPN, licence, groups…)
	DeciderID    string // approver or rejecter
	Decision     string // rejection reason or approval note
	UserID       string // object id of the created user, once created
	Step         string // last provisioning step completed (e.g. "user", "manager", "groups", "licence")
	Error        string // last failure, for the Retry card; no secrets
	StartDate    time.Time
	Version      int // incremented by every successful update; compare-and-set key
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// OnboardFilter selects requests. Zero fields do not filter.
type OnboardFilter struct {
	RequesterID string
	States      []string
	Limit       int // newest first; 0 means 100
}

// Job is durable scheduled work (start-date announcements, reminders, checks). Due
// jobs are claimed with a lease so that with several replicas each runs once.
type Job struct {
	ID       string // unique; scheduling the same id again is a no-op
	Kind     string // e.g. "onboard.startday"
	Payload  []byte
	DueAt    time.Time
	Attempts int
	DoneAt   time.Time // zero until done
}
