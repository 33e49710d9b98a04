// Package store keeps tapbot's durable state: conversation references, the
// append-only audit log, TAP intents and deliveries, claims that make card actions and
// redelivered activities act once, onboarding requests, jobs and checklists. The Store
// interface is what the rest of tapbot consumes; each backend (embedded SQLite by
// default, PostgreSQL for replicas) passes the shared conformance suite in storetest.
// What the backends share besides lives here too, so that they cannot drift apart:
// the validation of input (…check.go), the mapping of records to columns
// (columns.go) and the tables a copy between them carries (export.go).
package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// ErrNotFound is returned when a looked-up record does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrInvalidReference is wrapped by the error of a SaveReference that was refused
// because of its input, so callers can tell a bad reference from a broken store.
var ErrInvalidReference = errors.New("store: invalid reference")

// Scope is the kind of Teams conversation a reference points at.
type Scope string

const (
	ScopePersonal  Scope = "personal"
	ScopeGroupChat Scope = "groupChat"
	ScopeChannel   Scope = "channel"
)

// Reference is what the bot needs to message a conversation later (proactively):
// the Bot Framework conversation reference plus the keys we look it up by.
type Reference struct {
	ConversationID string // Bot Framework conversation id (primary key)
	Scope          Scope
	TenantID       string
	// UserAADObjectID is the Entra object id of the user for personal (1:1)
	// conversations; empty otherwise.
	UserAADObjectID string
	// TeamID is the Teams team id (channelData.team.id) for channel conversations.
	TeamID     string
	ServiceURL string
	BotID      string
	// Raw is the JSON of the full schema.ConversationReference, kept verbatim so
	// later code can rebuild an outbound activity without losing fields.
	Raw       []byte
	UpdatedAt time.Time
}

// Store is tapbot's durable state. Implementations are safe for concurrent use.
type Store interface {
	// SaveReference inserts or replaces the reference for r.ConversationID.
	SaveReference(ctx context.Context, r Reference) error
	// Reference returns the reference stored for a conversation id, or ErrNotFound.
	Reference(ctx context.Context, conversationID string) (Reference, error)
	// PersonalReference returns the most recently updated personal (1:1)
	// reference of a user in a tenant, or ErrNotFound.
	PersonalReference(ctx context.Context, tenantID, userAADObjectID string) (Reference, error)

	// AppendAudit adds a row and returns its id. The audit log is append-only: there
	// is no method to change or delete rows, and backends refuse it at the database
	// level too.
	AppendAudit(ctx context.Context, e AuditEntry) (int64, error)
	// Audit lists rows matching f, newest first.
	Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
	// CountAudit counts rows matching f (Limit ignored); rate limits use it.
	CountAudit(ctx context.Context, f AuditFilter) (int, error)

	// SaveDelivery records a TAP card sent (insert or replace by ID).
	SaveDelivery(ctx context.Context, d Delivery) error
	// DueDeliveries lists unredacted deliveries whose Expires is at or before now
	// and whose NextAttempt is zero or at or before now, oldest first, at most limit.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// DeliveriesToCheck lists unredacted deliveries whose Expires is after now and
	// whose NextAttempt is zero or at or before now, least recently checked
	// (CheckedAt; never checked first) first, then by Expires and ID, at most limit.
	DeliveriesToCheck(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// MarkChecked sets CheckedAt (the store's now if zero). An unknown id is ErrNotFound.
	MarkChecked(ctx context.Context, id string, at time.Time) error
	// DeferRedaction records a failed redaction of an unredacted delivery: Attempts
	// goes up by one and NextAttempt becomes next. It returns the new Attempts; for a
	// delivery already redacted it changes nothing and returns 0. An unknown id is
	// ErrNotFound.
	DeferRedaction(ctx context.Context, id string, next time.Time) (int, error)
	// OpenDeliveries lists the unredacted deliveries for a target user.
	OpenDeliveries(ctx context.Context, targetID string) ([]Delivery, error)
	// MarkRedacted sets RedactedAt and RedactReason once; it reports false if the
	// delivery was already redacted (so concurrent redactions act once).
	MarkRedacted(ctx context.Context, id string, at time.Time, reason string) (bool, error)

	// Claim records key as used and reports whether this call claimed it: the basis
	// of exactly-once handling of card actions that Teams may deliver twice.
	Claim(ctx context.Context, key string, at time.Time) (bool, error)

	// BeginTAP writes i as IntentPending, atomically with the checks of lim: it is
	// ErrTargetBusy while another open intent holds i.TargetID, ErrTargetChanged or
	// ErrRateLimited as lim says, and ErrConflict for an id in use. Nothing is written
	// then.
	BeginTAP(ctx context.Context, i TAPIntent, lim TAPLimits) error
	// TAPCreated moves a pending intent to IntentCreated with Graph's method id.
	TAPCreated(ctx context.Context, id, methodID string, at time.Time) error
	// CompleteTAP saves d and moves the intent from created to done, in one
	// transaction.
	CompleteTAP(ctx context.Context, id string, d Delivery, at time.Time) error
	// EndTAP closes an open intent as IntentFailed or IntentUndone.
	EndTAP(ctx context.Context, id string, state IntentState, at time.Time) error
	// The three moves above are ErrIntentState when the intent is not in the state
	// they move from (reconciliation closed it): the caller no longer owns it.

	// TAPIntent returns an intent by id, or ErrNotFound.
	TAPIntent(ctx context.Context, id string) (TAPIntent, error)
	// AbandonedTAPs lists open intents whose LeaseUntil is before now, oldest lease
	// first, at most limit.
	AbandonedTAPs(ctx context.Context, now time.Time, limit int) ([]TAPIntent, error)
	// TakeOverTAP gives the caller an abandoned intent to reconcile: it moves the
	// lease of an open intent whose lease ended before now to leaseUntil and reports
	// true, or reports false when the intent is closed or another caller took it over
	// first (so one replica reconciles it).
	TakeOverTAP(ctx context.Context, id string, now, leaseUntil time.Time) (bool, error)

	// CreateConfirmation writes a pending confirmation. It is ErrConfirmationPending
	// while another pending one holds c.TargetID, ErrConflict for an id in use.
	CreateConfirmation(ctx context.Context, c TAPConfirmation) error
	// Confirmation returns a confirmation by id, or ErrNotFound.
	Confirmation(ctx context.Context, id string) (TAPConfirmation, error)
	// DecideConfirmation moves a pending confirmation to state (compare-and-set: one
	// decision however many replicas, clicks or redeliveries) and returns it. One
	// already decided is ErrConflict; an unknown id ErrNotFound.
	DecideConfirmation(ctx context.Context, id string, state ConfirmState, by string, at time.Time) (TAPConfirmation, error)
	// RecordConfirmationCards records where a confirmation's question and waiting
	// card were posted, whatever its state, and returns it as it stands then (a
	// question answered before its card was recorded still gets its cards updated).
	// ErrNotFound for an unknown id.
	RecordConfirmationCards(ctx context.Context, id string, question, waiting CardRef) (TAPConfirmation, error)
	// DueConfirmations lists pending confirmations whose ExpiresAt is at or before
	// now, oldest first, at most limit.
	DueConfirmations(ctx context.Context, now time.Time, limit int) ([]TAPConfirmation, error)

	// CreateOnboard inserts a new request (State must be OnboardSubmitted, Version is set to 1).
	// A second create with the same ID is ErrConflict (the submit was redelivered).
	CreateOnboard(ctx context.Context, r OnboardRequest) error
	// Onboard returns a request by id, or ErrNotFound.
	Onboard(ctx context.Context, id string) (OnboardRequest, error)
	// UpdateOnboard writes r if the stored Version equals r.Version and the state change
	// is allowed (forward only, see onboard.go); it returns the stored request with
	// Version+1. A stale Version or a forbidden transition is ErrConflict, so concurrent
	// approvals and double clicks have exactly one effect.
	UpdateOnboard(ctx context.Context, r OnboardRequest) (OnboardRequest, error)
	// Onboards lists requests, newest first.
	Onboards(ctx context.Context, f OnboardFilter) ([]OnboardRequest, error)

	// ScheduleJob inserts a job unless one with the same ID exists (then it is a no-op
	// and reports false).
	ScheduleJob(ctx context.Context, j Job) (bool, error)
	// ClaimJobs leases up to limit due, undone jobs (DueAt ≤ now) whose lease is free or
	// expired, for lease; each claim increments Attempts. Concurrent callers never get
	// the same job while its lease runs.
	ClaimJobs(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]Job, error)
	// CompleteJob marks a job done (idempotent).
	CompleteJob(ctx context.Context, id string, at time.Time) error
	// RescheduleJob releases a claimed job to run again at dueAt (back-off after a failure).
	RescheduleJob(ctx context.Context, id string, dueAt time.Time) error

	// CreateChecklist inserts a checklist (Version set to 1); a second create for the same
	// UserID is ErrConflict.
	CreateChecklist(ctx context.Context, c Checklist) error
	// Checklist returns the checklist of a user, or ErrNotFound.
	Checklist(ctx context.Context, userID string) (Checklist, error)
	// UpdateChecklist writes c if the stored Version equals c.Version (else ErrConflict)
	// and returns it with Version+1. DoneAt, once set, cannot be cleared.
	UpdateChecklist(ctx context.Context, c Checklist) (Checklist, error)
	// OpenChecklists lists checklists not done, oldest StartedAt first, at most limit (≤0 → 100).
	OpenChecklists(ctx context.Context, limit int) ([]Checklist, error)

	// Ping checks that the store is reachable (for /readyz).
	Ping(ctx context.Context) error
	// Close releases the store's resources.
	Close() error
}

// Validate reports why r cannot be saved. It lives here rather than in each backend
// so that every backend refuses exactly the same input.
func (r Reference) Validate() error {
	if r.ConversationID == "" {
		return fmt.Errorf("%w: empty conversation id", ErrInvalidReference)
	}
	switch r.Scope {
	case ScopePersonal, ScopeGroupChat, ScopeChannel:
	default:
		return fmt.Errorf("%w %q: unknown scope %q", ErrInvalidReference, r.ConversationID, r.Scope)
	}
	// A zero UpdatedAt means "now". Outside years 1-9999 RFC 3339 has no
	// representation, so such a time could be written but never read back.
	if y := r.UpdatedAt.UTC().Year(); !r.UpdatedAt.IsZero() && (y < 1 || y > 9999) {
		return fmt.Errorf("%w %q: updated at %v is outside years 1-9999", ErrInvalidReference, r.ConversationID, r.UpdatedAt)
	}
	return nil
}

// DefaultPath is where the embedded database lives when configuration names no
// other place: <state dir>/tapbot/tapbot.db, the state dir being $XDG_STATE_HOME or
// else $HOME/.local/state, following the XDG base directory specification (the
// database is state that should survive restarts but is not user configuration).
func DefaultPath() (string, error) {
	// The XDG spec says a relative path in XDG_STATE_HOME is invalid and must be
	// ignored, rather than resolved against whatever the working directory is.
	if dir := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "tapbot", "tapbot.db"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("store: default path: no state directory (set XDG_STATE_HOME or HOME): %w", err)
	}
	return filepath.Join(home, ".local", "state", "tapbot", "tapbot.db"), nil
}
