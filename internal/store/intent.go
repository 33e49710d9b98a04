package store

import (
	"errors"
	"fmt"
	"time"
)

// IntentState is where a TAP intent stands. A pass exists in Graph at most while an
// intent is open (pending or created) or after it is done; reconciliation moves every
// open intent whose owner stopped to undone (or failed), deleting what it created.
type IntentState string

const (
	// IntentPending: written before CreateTAP; whether Graph created a pass is not
	// known yet.
	IntentPending IntentState = "pending"
	// IntentCreated: Graph answered with the pass's method id; it is not yet
	// delivered and recorded.
	IntentCreated IntentState = "created"
	// IntentDone: the pass was delivered to the requester's 1:1 chat and its
	// delivery recorded, in the same transaction that closed the intent.
	IntentDone IntentState = "done"
	// IntentFailed: Graph refused to create a pass; none exists.
	IntentFailed IntentState = "failed"
	// IntentUndone: whatever the intent may have created was deleted again.
	IntentUndone IntentState = "undone"
)

// Open reports whether the intent still holds its target (and may have a live,
// undelivered pass behind it).
func (s IntentState) Open() bool { return s == IntentPending || s == IntentCreated }

// TAPIntent is the durable record, written before Graph is asked, that tapbot is
// creating a pass for TargetID on RequesterID's request. It is what lets a crash at
// any step be undone: reconciliation finds intents whose lease ran out while open.
type TAPIntent struct {
	ID          string // the request id of the /tap (or card action) that began it
	TargetID    string
	TargetUPN   string
	RequesterID string
	State       IntentState
	MethodID    string    // set once Graph answered (IntentCreated onwards)
	StartedAt   time.Time // zero: the store's clock
	// LeaseUntil is when the intent counts as abandoned if it is still open: the
	// process that began it is then presumed dead and reconciliation may take over.
	LeaseUntil time.Time
	UpdatedAt  time.Time
}

// TAPLimits are checked atomically with writing an intent, so that concurrent
// requests cannot all pass a check made before any of them wrote.
type TAPLimits struct {
	// MaxPerRequester bounds the intents (not failed ones) one requester may begin
	// since Since; 0 means no limit.
	MaxPerRequester int
	Since           time.Time
	// ChangedSince refuses the intent when another intent for the same target
	// created a pass at or after this time: the caller's view of the target's
	// passes (read then) is stale, and creating now would silently replace a pass
	// someone else just issued. Zero skips the check.
	ChangedSince time.Time
}

// Errors of BeginTAP. Each is a refusal to explain, not a broken store.
var (
	// ErrTargetBusy: another open intent holds the target.
	ErrTargetBusy = errors.New("store: a pass for this user is being issued right now")
	// ErrRateLimited: the requester reached MaxPerRequester.
	ErrRateLimited = errors.New("store: requester reached the pass limit")
	// ErrTargetChanged: a pass was issued for the target after ChangedSince.
	ErrTargetChanged = errors.New("store: a pass was issued for this user meanwhile")
	// ErrInvalidIntent wraps input a backend refuses.
	ErrInvalidIntent = errors.New("store: invalid TAP intent")
	// ErrIntentState: the intent is not in a state that allows the change (it was
	// closed by reconciliation, say). The caller no longer owns it.
	ErrIntentState = errors.New("store: TAP intent not in the expected state")
)

// Validate reports why i cannot begin.
func (i TAPIntent) Validate() error {
	switch {
	case i.ID == "":
		return fmt.Errorf("%w: empty id", ErrInvalidIntent)
	case i.TargetID == "" || i.RequesterID == "":
		return fmt.Errorf("%w %q: target and requester are required", ErrInvalidIntent, i.ID)
	case i.LeaseUntil.IsZero():
		return fmt.Errorf("%w %q: no lease", ErrInvalidIntent, i.ID)
	}
	if bad := unrepresentable(namedTime{"started at", i.StartedAt}, namedTime{"lease until", i.LeaseUntil}); bad != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidIntent, i.ID, bad)
	}
	return nil
}
