package store

import (
	"errors"
	"fmt"
	"time"
)

// What follows is the part of the checklist contract that every backend shares
// beyond the Store interface's comments; storetest checks all of it.
//
//   - Validation lives here (Validate, NormalizeCreate, NormalizeUpdate), so that
//     every backend refuses the same input, with an error wrapping
//     ErrInvalidChecklist.
//   - A zero time the store may stamp means the store's clock: StartedAt and
//     UpdatedAt of CreateChecklist (a zero UpdatedAt becomes StartedAt) and
//     UpdatedAt of UpdateChecklist. A zero DoneAt means not done.
//   - CreateChecklist ignores c.Version (the checklist starts at 1).
//     UpdateChecklist writes every field but UserID and StartedAt, which never
//     change, and DoneAt once set: the first completion's time stays, whatever
//     c.DoneAt says (zero included). An unknown UserID is ErrNotFound, a stale
//     Version ErrConflict, and either leaves the stored checklist as it was.
//   - OpenChecklists orders by StartedAt, oldest first, then by UserID, and
//     applies ClampLimit to its limit.

// ErrInvalidChecklist is wrapped by the error of a checklist call refused because
// of its input.
var ErrInvalidChecklist = errors.New("store: invalid checklist")

// Limits of checklists, beyond those of tapcheck.go. Everything in a checklist is
// tapbot's or Teams' own making, so an over-long field is a bug and refused.
const (
	MaxProgressLen       = 64 << 10 // bytes of Checklist.Progress
	MaxConversationIDLen = 1024     // bytes of Checklist.ConversationID and ActivityID
)

// Validate reports why c cannot be written. It checks what no backend may store;
// the checks particular to a create or an update are NormalizeCreate's and
// NormalizeUpdate's.
func (c Checklist) Validate() error {
	// The user id is the key: an Entra object id (a GUID), so one line of text
	// without spaces.
	if err := checkCode(c.UserID, MaxIDLen); err != nil {
		return fmt.Errorf("%w: user id %q: %v", ErrInvalidChecklist, c.UserID, err)
	}
	if !storable(c.UserID) {
		return fmt.Errorf("%w: user id %q is not valid UTF-8 without NUL", ErrInvalidChecklist, c.UserID)
	}
	if bad := badText(
		textField{"user upn", c.UserUPN, MaxUPNLen},
		textField{"request id", c.RequestID, MaxIDLen},
		textField{"manager id", c.ManagerID, MaxIDLen},
	); bad != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidChecklist, c.UserID, bad)
	}
	// Teams' ids, limited in bytes.
	for _, f := range []textField{{"conversation id", c.ConversationID, 0}, {"activity id", c.ActivityID, 0}} {
		if bad := badText(f); bad != "" {
			return fmt.Errorf("%w %q: %s", ErrInvalidChecklist, c.UserID, bad)
		}
		if len(f.value) > MaxConversationIDLen {
			return fmt.Errorf("%w %q: %s of %d bytes is longer than %d", ErrInvalidChecklist, c.UserID, f.name, len(f.value), MaxConversationIDLen)
		}
	}
	if len(c.Progress) > MaxProgressLen {
		return fmt.Errorf("%w %q: progress of %d bytes is longer than %d", ErrInvalidChecklist, c.UserID, len(c.Progress), MaxProgressLen)
	}
	if c.Version < 0 {
		return fmt.Errorf("%w %q: negative version %d", ErrInvalidChecklist, c.UserID, c.Version)
	}
	if bad := unrepresentable(namedTime{"started at", c.StartedAt}, namedTime{"updated at", c.UpdatedAt}, namedTime{"done at", c.DoneAt}); bad != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidChecklist, c.UserID, bad)
	}
	return nil
}

// NormalizeCreate returns c as CreateChecklist must insert it (Version 1, a zero
// StartedAt stamped now and a zero UpdatedAt StartedAt), or the error of
// Validate.
func (c Checklist) NormalizeCreate(now time.Time) (Checklist, error) {
	if err := c.Validate(); err != nil {
		return Checklist{}, err
	}
	c.Version = 1
	if c.StartedAt.IsZero() {
		c.StartedAt = now
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.StartedAt
	}
	return c, nil
}

// NormalizeUpdate returns c as UpdateChecklist must compare and write it (a zero
// UpdatedAt stamped now), or why it is refused: the error of Validate, or a
// Version below 1, which no stored checklist has (the caller did not read the
// checklist it updates).
func (c Checklist) NormalizeUpdate(now time.Time) (Checklist, error) {
	if err := c.Validate(); err != nil {
		return Checklist{}, err
	}
	if c.Version < 1 {
		return Checklist{}, fmt.Errorf("%w %q: version %d; update a checklist as read", ErrInvalidChecklist, c.UserID, c.Version)
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = now
	}
	return c, nil
}
