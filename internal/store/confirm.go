package store

import (
	"errors"
	"fmt"
	"time"
)

// ConfirmState is where a pass waiting for a second person's confirmation stands.
// Only pending moves, and only once: to confirmed, denied, cancelled or expired.
type ConfirmState string

// The confirmation states.
const (
	ConfirmPending   ConfirmState = "pending"
	ConfirmConfirmed ConfirmState = "confirmed"
	ConfirmDenied    ConfirmState = "denied"    // "this wasn't me", or the manager said no
	ConfirmCancelled ConfirmState = "cancelled" // by the requester
	ConfirmExpired   ConfirmState = "expired"
)

// ConfirmPath is who was asked to confirm a pass for an established account.
type ConfirmPath string

// The confirmation paths, in the order TAPBOT_TAP_VERIFY names them.
const (
	PathTarget   ConfirmPath = "target"   // the account holder, in their 1:1 chat
	PathManager  ConfirmPath = "manager"  // the account holder's manager in Entra
	PathHelpdesk ConfirmPath = "helpdesk" // another member of the helpdesk, in its channel
)

// ErrConfirmationPending is CreateConfirmation's answer while another confirmation
// for the same target is pending: one question at a time per account.
var ErrConfirmationPending = errors.New("store: a pass for this user is already waiting for confirmation")

// TAPConfirmation is a /tap for an established account that waits for a second
// person. It holds what is needed to issue the pass once confirmed (every check runs
// again then), never a pass value.
type TAPConfirmation struct {
	ID          string // random: the question's buttons carry it
	RequestID   string // the /tap's request id, which the audit rows share
	TenantID    string
	RequesterID string
	TargetID    string
	TargetUPN   string
	Path        ConfirmPath
	// ConfirmerID is the one person who may answer on PathTarget and PathManager;
	// empty on PathHelpdesk, where any helpdesk member but the requester may.
	ConfirmerID     string
	LifetimeMinutes int
	Once            bool
	Replace         bool // the requester already agreed to replace an existing pass
	Reason          string
	State           ConfirmState
	DecidedBy       string // who moved it out of pending (empty for expiry)
	CreatedAt       time.Time
	ExpiresAt       time.Time
	DecidedAt       time.Time // zero while pending
	// RequesterName is the requester's display name as Teams sent it with the /tap:
	// what the alert of a denied request names them by (an object id says nothing
	// to the security team at a glance).
	RequesterName string
	// Start is when the pass is to become valid (/tap … from …); zero: at once.
	Start time.Time
	// Question and Waiting are where the question to the confirmer and the
	// requester's waiting card were posted (RecordConfirmationCards); once the
	// confirmation is decided both are updated, so that no card keeps buttons that
	// no longer act. Zero until recorded.
	Question, Waiting CardRef
}

// CardRef is a posted card: its Bot Connector endpoint, conversation and activity.
type CardRef struct {
	ServiceURL     string
	ConversationID string
	ActivityID     string
}

// Posted reports whether r names a card.
func (r CardRef) Posted() bool { return r.ConversationID != "" && r.ActivityID != "" }

// ErrInvalidConfirmation wraps the error of a confirmation refused for its input.
var ErrInvalidConfirmation = errors.New("store: invalid confirmation")

// Validate reports why c cannot be created.
func (c TAPConfirmation) Validate() error {
	switch {
	case c.ID == "" || c.RequesterID == "" || c.TargetID == "":
		return fmt.Errorf("%w %q: id, requester and target are required", ErrInvalidConfirmation, c.ID)
	case c.State != ConfirmPending:
		return fmt.Errorf("%w %q: a new confirmation is pending, not %q", ErrInvalidConfirmation, c.ID, c.State)
	case c.Path != PathTarget && c.Path != PathManager && c.Path != PathHelpdesk:
		return fmt.Errorf("%w %q: unknown path %q", ErrInvalidConfirmation, c.ID, c.Path)
	case c.ExpiresAt.IsZero():
		return fmt.Errorf("%w %q: no expiry", ErrInvalidConfirmation, c.ID)
	}
	if !c.Question.storable() || !c.Waiting.storable() {
		return fmt.Errorf("%w %q: card reference that cannot be stored", ErrInvalidConfirmation, c.ID)
	}
	for _, s := range []string{c.ID, c.RequestID, c.TenantID, c.RequesterID, c.TargetID, c.TargetUPN, c.ConfirmerID, c.Reason, c.RequesterName} {
		if !storable(s) {
			return fmt.Errorf("%w %q: text that cannot be stored", ErrInvalidConfirmation, c.ID)
		}
	}
	if bad := unrepresentable(namedTime{"created at", c.CreatedAt}, namedTime{"expires at", c.ExpiresAt}, namedTime{"start", c.Start}); bad != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidConfirmation, c.ID, bad)
	}
	return nil
}

// ValidCards reports why question and waiting cannot be recorded for confirmation id.
func ValidCards(id string, question, waiting CardRef) error {
	if !storable(id) || !question.storable() || !waiting.storable() {
		return fmt.Errorf("%w %q: card reference that cannot be stored", ErrInvalidConfirmation, id)
	}
	return nil
}

func (r CardRef) storable() bool {
	return storable(r.ServiceURL) && storable(r.ConversationID) && storable(r.ActivityID)
}

// ValidDecision reports why a pending confirmation may not move to state.
func ValidDecision(id string, state ConfirmState) error {
	switch state {
	case ConfirmConfirmed, ConfirmDenied, ConfirmCancelled, ConfirmExpired:
		return nil
	}
	return fmt.Errorf("%w %q: cannot decide %q", ErrInvalidConfirmation, id, state)
}
