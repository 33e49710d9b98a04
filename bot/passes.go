package bot

import (
	"errors"
	"time"

	"github.com/tapbot/tapbot/internal/store"
)

// ScheduledPass is a Temporary Access Pass that one flow asks the TAP flow to issue on
// tapbot's own schedule (onboarding's start-day pass for a new hire's manager): tapbot
// is the requester of record, To is the recipient's stored 1:1 conversation. It lives
// here, beside the other things every flow shares, so that flows need not import
// each other.
type ScheduledPass struct {
	RequestID string // keys the intent, the delivery and the audit rows; once per pass
	UserID    string // the new hire's object id
	UPN       string
	Lifetime  time.Duration // 0: the policy's default
	Start     time.Time     // zero: valid at once
	To        store.Reference
	Reason    string // the audit row's ticket: who gets it and why
}

// ErrPassNotIssued wraps the reason a scheduled pass was not issued, in words for the
// helpdesk: a check refused it, the user already has one, or issuing failed (and
// whatever was created is gone again).
var ErrPassNotIssued = errors.New("pass not issued")
