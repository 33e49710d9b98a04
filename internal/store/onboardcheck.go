package store

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// What follows is the part of the onboarding and job contract that every backend
// shares beyond the Store interface's comments; storetest checks all of it.
//
//   - Validation lives here (Normalize…, Validate…), so that every backend refuses
//     the same input, with an error wrapping ErrInvalidOnboard,
//     ErrInvalidOnboardFilter or ErrInvalidJob.
//   - A zero time the store may stamp means the store's clock: CreatedAt and
//     UpdatedAt of CreateOnboard (a zero UpdatedAt becomes CreatedAt), UpdatedAt
//     of UpdateOnboard, Job.DueAt of ScheduleJob, now of ClaimJobs, at of
//     CompleteJob and dueAt of RescheduleJob.
//   - CreateOnboard ignores r.Version (the request starts at 1). UpdateOnboard
//     writes every field of r but ID and CreatedAt, which never change; an unknown
//     id is ErrNotFound, a stale Version or a transition CanTransition refuses is
//     ErrConflict, and either leaves the stored request as it was.
//   - Onboards orders by CreatedAt, newest first, then by ID, highest first.
//   - A job's ID is unique for good: scheduling it again is a no-op even once the
//     job is done. ScheduleJob ignores Attempts and DoneAt (a new job has neither).
//   - ClaimJobs takes due jobs by DueAt, then ID, and sets each one's lease to
//     now+lease; a lease ending at or before now is free. The result is in that
//     order too.
//   - CompleteJob keeps the first completion's time and frees the lease.
//     RescheduleJob frees the lease and keeps Attempts; on a done job it is
//     ErrConflict (the job ran elsewhere after this caller's lease ran out) and
//     changes nothing. Both are ErrNotFound for an unknown id.

// ErrConflict is wrapped by the error of a write refused because the stored
// record is not what the caller expected: a create of an id in use, a stale
// Version, a forbidden state change. Re-read and decide again.
var ErrConflict = errors.New("store: conflict")

// These are wrapped by the errors of onboarding and job calls refused because of
// their input.
var (
	ErrInvalidOnboard       = errors.New("store: invalid onboarding request")
	ErrInvalidOnboardFilter = errors.New("store: invalid onboarding filter")
	ErrInvalidJob           = errors.New("store: invalid job")
)

// Limits of onboarding requests and jobs, beyond those of tapcheck.go. Ids,
// codes and blobs are tapbot's own making, so an over-long one is a bug and
// refused; free text (Decision, Error) is cut to MaxReasonLen instead, so that a
// long Graph error cannot keep a failure from being recorded.
const (
	MaxFormLen    = 64 << 10 // bytes of OnboardRequest.Form
	MaxPayloadLen = 64 << 10 // bytes of Job.Payload
	MaxJobIDLen   = 1024     // bytes of Job.ID (it usually embeds a request id)
)

// onboardStates are the states a request may be in.
var onboardStates = []string{OnboardSubmitted, OnboardRejected, OnboardApproved, OnboardProvisioning, OnboardFailed, OnboardDone}

// transitions are the state changes allowed besides staying in the same state.
var transitions = map[[2]string]bool{
	{OnboardSubmitted, OnboardApproved}:    true,
	{OnboardSubmitted, OnboardRejected}:    true,
	{OnboardApproved, OnboardProvisioning}: true,
	{OnboardProvisioning, OnboardFailed}:   true,
	{OnboardFailed, OnboardProvisioning}:   true, // retry
	{OnboardProvisioning, OnboardDone}:     true,
}

// ValidOnboardState reports whether s is one of the Onboard… states.
func ValidOnboardState(s string) bool {
	for _, v := range onboardStates {
		if s == v {
			return true
		}
	}
	return false
}

// CanTransition reports whether a request in state from may be updated to state
// to: forward along submitted → approved → provisioning → done, submitted →
// rejected, provisioning ↔ failed, or to the same state (to record progress, such
// as Step during provisioning). Unknown states can go nowhere.
func CanTransition(from, to string) bool {
	if !ValidOnboardState(from) || !ValidOnboardState(to) {
		return false
	}
	return from == to || transitions[[2]string{from, to}]
}

// Validate reports why r cannot be written. It checks what Normalize cannot fix;
// the checks particular to a create or an update are NormalizeCreate's and
// NormalizeUpdate's.
func (r OnboardRequest) Validate() error {
	if r.ID == "" {
		return fmt.Errorf("%w: empty id", ErrInvalidOnboard)
	}
	if !ValidOnboardState(r.State) {
		return fmt.Errorf("%w %q: unknown state %q", ErrInvalidOnboard, r.ID, r.State)
	}
	if r.RequesterID == "" {
		return fmt.Errorf("%w %q: empty requester id", ErrInvalidOnboard, r.ID)
	}
	if bad := badText(
		textField{"id", r.ID, MaxIDLen},
		textField{"requester id", r.RequesterID, MaxIDLen},
		textField{"requester upn", r.RequesterUPN, MaxUPNLen},
		textField{"decider id", r.DeciderID, MaxIDLen},
		textField{"user id", r.UserID, MaxIDLen},
	); bad != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidOnboard, r.ID, bad)
	}
	if r.Step != "" {
		if err := checkCode(r.Step, MaxCodeLen); err != nil {
			return fmt.Errorf("%w %q: step %q: %v", ErrInvalidOnboard, r.ID, r.Step, err)
		}
	}
	if len(r.Form) > MaxFormLen {
		return fmt.Errorf("%w %q: form of %d bytes is longer than %d", ErrInvalidOnboard, r.ID, len(r.Form), MaxFormLen)
	}
	if r.Version < 0 {
		return fmt.Errorf("%w %q: negative version %d", ErrInvalidOnboard, r.ID, r.Version)
	}
	if bad := unrepresentable(namedTime{"start date", r.StartDate}, namedTime{"created at", r.CreatedAt}, namedTime{"updated at", r.UpdatedAt}); bad != "" {
		return fmt.Errorf("%w %q: %s", ErrInvalidOnboard, r.ID, bad)
	}
	return nil
}

// Normalize returns r as every backend must store it, or the error of Validate:
// Decision and Error made valid UTF-8 without NUL and cut to MaxReasonLen (see
// AuditEntry.Normalize). Times are left alone; NormalizeCreate and
// NormalizeUpdate stamp zero ones.
func (r OnboardRequest) Normalize() (OnboardRequest, error) {
	if err := r.Validate(); err != nil {
		return OnboardRequest{}, err
	}
	r.Decision = clip(r.Decision, MaxReasonLen)
	r.Error = clip(r.Error, MaxReasonLen)
	return r, nil
}

// NormalizeCreate returns r as CreateOnboard must insert it (Normalize, Version 1,
// a zero CreatedAt stamped now and a zero UpdatedAt CreatedAt), or why it is
// refused: also a State other than OnboardSubmitted.
func (r OnboardRequest) NormalizeCreate(now time.Time) (OnboardRequest, error) {
	r, err := r.Normalize()
	if err != nil {
		return OnboardRequest{}, err
	}
	if r.State != OnboardSubmitted {
		return OnboardRequest{}, fmt.Errorf("%w %q: a new request must be %q, not %q", ErrInvalidOnboard, r.ID, OnboardSubmitted, r.State)
	}
	r.Version = 1
	if r.CreatedAt.IsZero() {
		r.CreatedAt = now
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	return r, nil
}

// NormalizeUpdate returns r as UpdateOnboard must compare and write it
// (Normalize, a zero UpdatedAt stamped now), or why it is refused: also a Version
// below 1, which no stored request has (the caller did not read the request it
// updates). Whether r may be written depends on the stored request too, so the
// backend checks that with CheckStored.
func (r OnboardRequest) NormalizeUpdate(now time.Time) (OnboardRequest, error) {
	r, err := r.Normalize()
	if err != nil {
		return OnboardRequest{}, err
	}
	if r.Version < 1 {
		return OnboardRequest{}, fmt.Errorf("%w %q: version %d; update a request as read", ErrInvalidOnboard, r.ID, r.Version)
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = now
	}
	return r, nil
}

// CheckStored reports why UpdateOnboard may not write r over the stored request,
// which is in state at version: a stale Version, or a change of state that
// CanTransition refuses. Either error wraps ErrConflict.
func (r OnboardRequest) CheckStored(state string, version int) error {
	if version != r.Version {
		return fmt.Errorf("onboarding request %q is at version %d, not %d: %w", r.ID, version, r.Version, ErrConflict)
	}
	if !CanTransition(state, r.State) {
		return fmt.Errorf("onboarding request %q cannot go from %s to %s: %w", r.ID, state, r.State, ErrConflict)
	}
	return nil
}

// Validate reports why f cannot be applied: a state outside the known ones is
// refused rather than left to match nothing. A Limit is never refused (see
// ClampLimit).
func (f OnboardFilter) Validate() error {
	for _, s := range f.States {
		if !ValidOnboardState(s) {
			return fmt.Errorf("%w: unknown state %q", ErrInvalidOnboardFilter, s)
		}
	}
	return nil
}

// Validate reports why j cannot be scheduled. Attempts and DoneAt are ignored
// (the store keeps them), and a zero DueAt means now.
func (j Job) Validate() error {
	switch {
	case j.ID == "":
		return fmt.Errorf("%w: empty id", ErrInvalidJob)
	case len(j.ID) > MaxJobIDLen:
		return fmt.Errorf("%w: id of %d bytes is longer than %d", ErrInvalidJob, len(j.ID), MaxJobIDLen)
	case !storable(j.ID):
		return fmt.Errorf("%w %q: id is not valid UTF-8 without NUL", ErrInvalidJob, j.ID)
	}
	if err := checkCode(j.Kind, MaxActionLen); err != nil {
		return fmt.Errorf("%w %q: kind %q: %v", ErrInvalidJob, j.ID, j.Kind, err)
	}
	if len(j.Payload) > MaxPayloadLen {
		return fmt.Errorf("%w %q: payload of %d bytes is longer than %d", ErrInvalidJob, j.ID, len(j.Payload), MaxPayloadLen)
	}
	if !representable(j.DueAt) {
		return fmt.Errorf("%w %q: due at %v is outside years 1-9999", ErrInvalidJob, j.ID, j.DueAt)
	}
	return nil
}

// ValidateClaimJobs reports why ClaimJobs(now, lease, …) must be refused. A zero
// now means the store's clock, so the end of the lease is checked against year
// 9999 only when now is given.
func ValidateClaimJobs(now time.Time, lease time.Duration) error {
	if lease <= 0 {
		return fmt.Errorf("%w: lease %v is not positive", ErrInvalidJob, lease)
	}
	if !representable(now) {
		return fmt.Errorf("%w: claim time %v is outside years 1-9999", ErrInvalidJob, now)
	}
	if !now.IsZero() && !representable(now.Add(lease)) {
		return fmt.Errorf("%w: lease until %v is outside years 1-9999", ErrInvalidJob, now.Add(lease))
	}
	return nil
}

// SortJobs puts jobs in ClaimJobs' order, by DueAt, then ID: an UPDATE …
// RETURNING reports its rows in no particular order.
func SortJobs(js []Job) {
	slices.SortFunc(js, func(a, b Job) int {
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
}

// ValidateJobTime reports why CompleteJob(id, t) or RescheduleJob(id, t) must be
// refused. A zero t means now.
func ValidateJobTime(id string, t time.Time) error {
	if !representable(t) {
		return fmt.Errorf("%w %q: time %v is outside years 1-9999", ErrInvalidJob, id, t)
	}
	return nil
}
