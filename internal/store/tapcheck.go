package store

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// What follows is the part of the audit, delivery and claim contract that every
// backend shares beyond the Store interface's comments; storetest checks all of it.
//
//   - Validation lives here, so that every backend refuses the same input, with an
//     error wrapping one of the ErrInvalid… sentinels below.
//   - A zero time argument or field that the store may stamp (AuditEntry.Time,
//     DueDeliveries' now, MarkRedacted's at, Claim's at) means the store's clock.
//   - AppendAudit cuts over-long text instead of refusing it (see Normalize).
//   - AuditFilter.Target matches TargetUPN with ASCII letters folded and every other
//     character compared exactly (UPNs are ASCII), so that all backends agree; in
//     SQLite that is lower(), in PostgreSQL lower(x COLLATE "C").
//   - DueDeliveries and OpenDeliveries order by Expires, then ID; DeliveriesToCheck
//     by CheckedAt (never checked first), then Expires, then ID.
//   - DueDeliveries and DeliveriesToCheck skip deliveries whose NextAttempt is after
//     their now, so that a delivery backing off never holds a place in a batch.
//   - OpenDeliveries("") and MarkRedacted("", …) find nothing, not the records saved
//     without an id.

// These are wrapped by the errors of calls refused because of their input, so that
// callers can tell bad input from a broken store.
var (
	ErrInvalidAudit       = errors.New("store: invalid audit entry")
	ErrInvalidAuditFilter = errors.New("store: invalid audit filter")
	ErrInvalidDelivery    = errors.New("store: invalid delivery")
	ErrInvalidClaim       = errors.New("store: invalid claim")
)

// Usual values of Delivery.RedactReason. The store requires a reason but not one of
// these.
const (
	RedactExpired  = "expired"
	RedactRevoked  = "revoked"
	RedactReplaced = "replaced"
	RedactUsed     = "used"
	// RedactGaveUp closes a delivery whose card could not be updated after the
	// redaction job's last attempt: the value may still show, and the audit log
	// says so.
	RedactGaveUp = "gave_up"
)

// Limits of list calls: a Limit of 0 (or less) means DefaultLimit, and more than
// MaxLimit means MaxLimit.
const (
	DefaultLimit = 100
	MaxLimit     = 10000
)

// Maximum lengths, in characters (runes) unless noted. An audit entry's text field
// longer than its maximum is cut rather than refused: losing the end of a ticket
// text is better than losing the record of a decision, or than refusing a decision
// because it cannot be recorded. Codes and claim keys are tapbot's own making, so
// an over-long one is a bug and refused.
const (
	MaxIDLen     = 256 // AuditEntry RequestID, RequesterID, TargetID, MethodID; cut
	MaxUPNLen    = 320 // AuditEntry RequesterUPN, TargetUPN; cut
	MaxReasonLen = 1000
	MaxTicketLen = 500
	MaxActionLen = 64   // AuditEntry.Action; refused
	MaxCodeLen   = 64   // a redaction reason; refused
	MaxClaimLen  = 1024 // bytes of a Claim key; refused
)

// Ellipsis ends a text field that was cut to its maximum length, so that a reader
// of the audit log can see that it was.
const Ellipsis = "…"

// ClampLimit turns a requested list limit into the one to apply.
func ClampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultLimit
	case n > MaxLimit:
		return MaxLimit
	}
	return n
}

// Validate reports why e cannot be appended. It checks only what cutting cannot
// fix (see Normalize): the action, the outcome and the times. ID is ignored: the
// store assigns it.
func (e AuditEntry) Validate() error {
	if err := checkCode(string(e.Action), MaxActionLen); err != nil {
		return fmt.Errorf("%w: action %q: %v", ErrInvalidAudit, e.Action, err)
	}
	switch e.Outcome {
	case OutcomeAllowed, OutcomeRefused, OutcomeFailed:
	default:
		return fmt.Errorf("%w: outcome %q is not %q, %q or %q", ErrInvalidAudit, e.Outcome, OutcomeAllowed, OutcomeRefused, OutcomeFailed)
	}
	// A zero Time means "now"; a zero Expires means "no TAP concerned".
	if bad := unrepresentable(namedTime{"time", e.Time}, namedTime{"expires", e.Expires}); bad != "" {
		return fmt.Errorf("%w: %s", ErrInvalidAudit, bad)
	}
	return nil
}

// Normalize returns e as every backend must store it, or the error of Validate. The
// text fields are made valid UTF-8 without NUL (PostgreSQL's text type takes
// neither): each run of invalid bytes and each NUL becomes U+FFFD. Then a field
// longer than its Max…Len is cut to that many runes, the last being Ellipsis.
// ID is left alone (the store assigns it) and so is a zero Time (the store stamps
// it).
func (e AuditEntry) Normalize() (AuditEntry, error) {
	if err := e.Validate(); err != nil {
		return AuditEntry{}, err
	}
	e.RequestID = clip(e.RequestID, MaxIDLen)
	e.RequesterID = clip(e.RequesterID, MaxIDLen)
	e.RequesterUPN = clip(e.RequesterUPN, MaxUPNLen)
	e.TargetID = clip(e.TargetID, MaxIDLen)
	e.TargetUPN = clip(e.TargetUPN, MaxUPNLen)
	e.Reason = clip(e.Reason, MaxReasonLen)
	e.Ticket = clip(e.Ticket, MaxTicketLen)
	e.MethodID = clip(e.MethodID, MaxIDLen)
	return e, nil
}

// Validate reports why f cannot be applied. An Outcome outside the known ones is
// refused rather than left to match nothing, which would hide a typo in a rate
// limit. A Limit is never refused (see ClampLimit), and a Since at or after Until
// simply matches nothing.
func (f AuditFilter) Validate() error {
	switch f.Outcome {
	case "", OutcomeAllowed, OutcomeRefused, OutcomeFailed:
	default:
		return fmt.Errorf("%w: outcome %q is not %q, %q or %q", ErrInvalidAuditFilter, f.Outcome, OutcomeAllowed, OutcomeRefused, OutcomeFailed)
	}
	if bad := unrepresentable(namedTime{"since", f.Since}, namedTime{"until", f.Until}); bad != "" {
		return fmt.Errorf("%w: %s", ErrInvalidAuditFilter, bad)
	}
	return nil
}

// Validate reports why d cannot be saved. Unlike the audit log's text, a delivery's
// fields are ids that locate a message: cutting or mending one would point the
// redaction at nothing, so a bad one is refused instead.
func (d Delivery) Validate() error {
	for _, f := range []struct{ name, value string }{
		{"id", d.ID},
		{"conversation id", d.ConversationID},
		{"activity id", d.ActivityID},
		{"service url", d.ServiceURL},
		{"method id", d.MethodID},
	} {
		if f.value == "" {
			return fmt.Errorf("%w %q: empty %s", ErrInvalidDelivery, d.ID, f.name)
		}
	}
	if bad := badText(
		textField{"id", d.ID, 0},
		textField{"target id", d.TargetID, 0},
		textField{"target upn", d.TargetUPN, 0},
		textField{"method id", d.MethodID, 0},
		textField{"requester id", d.RequesterID, 0},
		textField{"service url", d.ServiceURL, 0},
		textField{"conversation id", d.ConversationID, 0},
		textField{"activity id", d.ActivityID, 0},
		textField{"redact reason", d.RedactReason, 0},
	); bad != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidDelivery, d.ID, bad)
	}
	if d.Expires.IsZero() {
		return fmt.Errorf("%w %q: zero expires", ErrInvalidDelivery, d.ID)
	}
	if d.Attempts < 0 {
		return fmt.Errorf("%w %q: negative attempts %d", ErrInvalidDelivery, d.ID, d.Attempts)
	}
	if bad := unrepresentable(namedTime{"expires", d.Expires}, namedTime{"redacted at", d.RedactedAt},
		namedTime{"next attempt", d.NextAttempt}, namedTime{"checked at", d.CheckedAt}); bad != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidDelivery, d.ID, bad)
	}
	// Redacted-ness is RedactedAt; a reason without it, or it without a reason,
	// is a half-done redaction.
	if d.RedactedAt.IsZero() != (d.RedactReason == "") {
		return fmt.Errorf("%w %q: redacted at and redact reason must be set together", ErrInvalidDelivery, d.ID)
	}
	if d.RedactReason != "" {
		if err := checkCode(d.RedactReason, MaxCodeLen); err != nil {
			return fmt.Errorf("%w %q: redact reason %q: %v", ErrInvalidDelivery, d.ID, d.RedactReason, err)
		}
	}
	return nil
}

// ValidateRedaction reports why MarkRedacted(id, at, reason) must be refused. A
// zero at means "now".
func ValidateRedaction(id string, at time.Time, reason string) error {
	if err := checkCode(reason, MaxCodeLen); err != nil {
		return fmt.Errorf("%w %q: redact reason %q: %v", ErrInvalidDelivery, id, reason, err)
	}
	if !representable(at) {
		return fmt.Errorf("%w %q: redacted at %v is outside years 1-9999", ErrInvalidDelivery, id, at)
	}
	return nil
}

// ValidateDeliveryTime reports why a DeferRedaction or MarkChecked of delivery id
// at t must be refused; what names t for the message. A zero t means "now".
func ValidateDeliveryTime(id, what string, t time.Time) error {
	if !representable(t) {
		return fmt.Errorf("%w %q: %s %v is outside years 1-9999", ErrInvalidDelivery, id, what, t)
	}
	return nil
}

// ValidateClaim reports why Claim(key, at) must be refused. A zero at means "now".
// Keys are compared byte for byte (case matters).
func ValidateClaim(key string, at time.Time) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalidClaim)
	case len(key) > MaxClaimLen:
		return fmt.Errorf("%w: key of %d bytes is longer than %d", ErrInvalidClaim, len(key), MaxClaimLen)
	case !storable(key):
		return fmt.Errorf("%w %q: key is not valid UTF-8 without NUL", ErrInvalidClaim, key)
	case !representable(at):
		return fmt.Errorf("%w %q: claimed at %v is outside years 1-9999", ErrInvalidClaim, key, at)
	}
	return nil
}

// ValidateDueTime reports why DueDeliveries(now, …) must be refused. A zero now
// means the store's clock.
func ValidateDueTime(now time.Time) error {
	if !representable(now) {
		return fmt.Errorf("%w: due time %v is outside years 1-9999", ErrInvalidDelivery, now)
	}
	return nil
}

// textField is a text field and what it is, for badText's message, with the most
// runes it may hold (0: no limit).
type textField struct {
	name, value string
	limit       int
}

// badText describes the first field that is not storable or is longer than its
// limit, or returns "".
func badText(fields ...textField) string {
	for _, f := range fields {
		if !storable(f.value) {
			return f.name + " is not valid UTF-8 without NUL"
		}
		if f.limit > 0 && utf8.RuneCountInString(f.value) > f.limit {
			return fmt.Sprintf("%s is longer than %d characters", f.name, f.limit)
		}
	}
	return ""
}

// namedTime is a time and what it is, for unrepresentable's message.
type namedTime struct {
	name string
	t    time.Time
}

// unrepresentable describes the first time RFC 3339 text cannot hold (outside years
// 1-9999; zero times mean "unset" and pass), or returns "". Such a time could be
// written but never read back.
func unrepresentable(times ...namedTime) string {
	for _, nt := range times {
		if !representable(nt.t) {
			return fmt.Sprintf("%s %v is outside years 1-9999", nt.name, nt.t)
		}
	}
	return ""
}

// representable reports whether t is zero or has a UTC year in 1-9999: RFC 3339 has
// no representation for other years, so such a time could be written but never
// read back (and would sort wrongly as text).
func representable(t time.Time) bool {
	y := t.UTC().Year()
	return t.IsZero() || (y >= 1 && y <= 9999)
}

// storable reports whether s is text every backend keeps as is.
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// checkCode checks a short machine-made code (an action, a redaction reason): 1 to
// limit runes of valid UTF-8 with no space or control character.
func checkCode(s string, limit int) error {
	switch {
	case s == "":
		return errors.New("empty")
	case !utf8.ValidString(s):
		return errors.New("not valid UTF-8")
	case utf8.RuneCountInString(s) > limit:
		return fmt.Errorf("longer than %d characters", limit)
	case strings.IndexFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
		return errors.New("contains a space or control character")
	}
	return nil
}

// clip makes s storable (each run of invalid bytes and each NUL becomes U+FFFD)
// and at most limit runes long, cutting a longer s to limit-1 runes and Ellipsis.
func clip(s string, limit int) string {
	if !storable(s) {
		s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	}
	if len(s) <= limit || utf8.RuneCountInString(s) <= limit {
		return s
	}
	n := 0
	for i := range s {
		if n == limit-1 {
			return s[:i] + Ellipsis
		}
		n++
	}
	return s // unreachable: s has more than limit runes
}
