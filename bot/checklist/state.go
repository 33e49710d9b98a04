package checklist

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/tapbot/tapbot/graph"
)

// Status is where a step stands.
type Status string

// Step statuses. The strings are stored and match cards.ChecklistStatus (a test
// holds the two packages to the same words).
const (
	StatusTodo    Status = "todo"
	StatusClaimed Status = "claimed" // the hire says it is done; Graph does not show it yet
	StatusDone    Status = "done"    // Graph shows it (or something only possible after it)
)

// StepState is one step's progress.
type StepState struct {
	ID     string `json:"id"`
	Status Status `json:"status"`
	// DoneAt is when the step was done: Graph's own time for the evidence where it has
	// one (a method's creation time), else when tapbot first saw the evidence.
	DoneAt time.Time `json:"doneAt,omitzero"`
	// SeenAt is when tapbot first saw the evidence (the tick itself).
	SeenAt time.Time `json:"seenAt,omitzero"`
	// ClaimedAt is when the step first became claimed, by the hire or, for
	// phone-sign-in, by Apply. It stays set once the step is done.
	ClaimedAt time.Time `json:"claimedAt,omitzero"`
	// The helpdesk's "I'm stuck" card for this step, while it throttles further
	// presses: when it was first asked for, its activity id ("" while it is being
	// posted), its Issue button's nonce, and the presses after the first.
	StuckAt       time.Time `json:"stuckAt,omitzero"`
	StuckActivity string    `json:"stuckActivity,omitempty"`
	StuckNonce    string    `json:"stuckNonce,omitempty"`
	StuckAgain    int       `json:"stuckAgain,omitempty"`
	StuckLastAt   time.Time `json:"stuckLastAt,omitzero"`
	// StuckHandler is who pressed the card's "Issue new TAP" first.
	StuckHandler string `json:"stuckHandler,omitempty"`
}

// Progress is a hire's checklist progress, steps in the order of their path.
type Progress struct {
	Steps []StepState `json:"steps"`
}

// NewProgress starts a checklist: every step of the path to do.
func NewProgress(steps []StepText) Progress {
	p := Progress{Steps: make([]StepState, len(steps))}
	for i, s := range steps {
		p.Steps[i] = StepState{ID: s.ID, Status: StatusTodo}
	}
	return p
}

func (p Progress) clone() Progress {
	return Progress{Steps: slices.Clone(p.Steps)}
}

// Step returns a step's state by id.
func (p Progress) Step(id string) (StepState, bool) {
	for _, s := range p.Steps {
		if s.ID == id {
			return s, true
		}
	}
	return StepState{}, false
}

// Evidence is what Graph shows about the hire's sign-in set-up.
type Evidence struct {
	TAPUsedOrExpired bool // a TAP that was used (one-time) or has expired
	TAPCreated       bool // any TAP exists or existed
	Authenticator    bool // a Microsoft Authenticator method is registered
	// PhoneSignIn: an Authenticator is registered for passwordless phone sign-in
	// (Graph gives it a createdDateTime); an Authenticator without one is MFA-only.
	PhoneSignIn      bool
	AuthenticatorMFA bool // an Authenticator is registered for MFA push only
	Device           bool // any device is registered or joined for the hire
	JoinedDevice     bool // a device is Entra joined or hybrid joined (graph.Device.Joined)
	WindowsHello     bool // a Windows Hello for Business method is registered
	FIDO2            bool // a FIDO2 security key is registered
	// At is Graph's time for the evidence of a step, by step id, where Graph has one
	// (creation times of TAPs and methods). Steps missing here are dated when seen.
	At map[string]time.Time
}

// Any reports whether Graph shows anything at all.
func (e Evidence) Any() bool {
	return e.TAPCreated || e.TAPUsedOrExpired || e.Authenticator || e.Device || e.JoinedDevice || e.WindowsHello || e.FIDO2
}

// EvidenceFrom reads the evidence out of what Graph lists for the hire: their
// authentication methods, their TAPs (without values) and the devices they registered
// or joined (registeredDevices).
func EvidenceFrom(methods []graph.Method, taps []graph.TAP, devices []graph.Device, now time.Time) Evidence {
	ev := Evidence{At: map[string]time.Time{}, Device: len(devices) > 0, JoinedDevice: slices.ContainsFunc(devices, graph.Device.Joined)}
	earliest := func(t time.Time, ids ...string) {
		if t.IsZero() {
			return
		}
		for _, id := range ids {
			if old, ok := ev.At[id]; !ok || t.Before(old) {
				ev.At[id] = t
			}
		}
	}
	for _, t := range taps {
		ev.TAPCreated = true
		earliest(t.Created, StepTAP)
		switch {
		case t.UsabilityReason == "Expired" || t.UsabilityReason == "OneTimeUsed":
			ev.TAPUsedOrExpired = true
		case t.Lifetime > 0 && !now.Before(t.Expires()):
			ev.TAPUsedOrExpired = true
		}
	}
	for _, m := range methods {
		switch m.Type {
		case "temporaryAccessPass":
			ev.TAPCreated = true
			earliest(m.Created, StepTAP)
		case "microsoftAuthenticator", "passwordlessMicrosoftAuthenticator":
			ev.Authenticator = true
			earliest(m.Created, StepInstall, StepAddAccount, StepSignIn)
			if m.MFAOnly {
				ev.AuthenticatorMFA = true
			} else {
				ev.PhoneSignIn = true
				earliest(m.Created, StepPhoneSignIn)
			}
		case "windowsHelloForBusiness":
			ev.WindowsHello = true
			earliest(m.Created, StepHello)
		case "fido2":
			ev.FIDO2 = true
			earliest(m.Created, StepKey)
		}
	}
	return ev
}

// verdict is what the evidence says about one step.
type verdict int

const (
	unseen   verdict = iota
	likely           // consistent with the step, but Graph cannot tell: at most claimed
	verified         // done
)

// judge maps evidence to a step. The rules, with what Graph can and cannot tell:
//
//   - tap: a TAP was created or used, or any later method or device exists. Those need
//     a sign-in, and a new hire's only credential is the TAP (the password is never
//     shared), so a later step implies this one even after the TAP was deleted.
//   - install, add-account, sign-in: an Authenticator method is registered. Graph sees
//     the registration only, so the three tick together with it.
//   - phone-sign-in: Graph tells the two registrations apart. An Authenticator
//     registered for passwordless phone sign-in has a createdDateTime; one registered
//     for MFA push only has none (null createdDateTime and device, v1.0
//     microsoftAuthenticatorAuthenticationMethod). The step is done only with a
//     phone sign-in registration; an MFA-only one leaves it to do, however many
//     devices are joined (a TAP typed at the laptop gets through Autopilot too): that
//     is the pitfall the step's stuck hint addresses. A hire's "I did this" stays
//     waiting for confirmation until Graph shows it.
//   - laptop, laptop-key: a device is joined (trustType AzureAd: Entra joined, as
//     Autopilot joins it; ServerAd: hybrid joined), or Windows Hello is registered
//     (which needs a joined device, and the device list can lag). A registered device
//     (Workplace) is no laptop: registering Authenticator for phone sign-in registers
//     the phone itself (the method's device, v1.0
//     microsoftAuthenticatorAuthenticationMethod). Nor is a device Graph lists without
//     its trustType (limited information, without Device.Read.All): the step can't
//     tell, so it waits for Windows Hello.
//   - hello: Windows Hello for Business is registered.
//   - key: a FIDO2 security key is registered.
func judge(id string, ev Evidence) verdict {
	yes := func(b bool) verdict {
		if b {
			return verified
		}
		return unseen
	}
	switch id {
	case StepTAP:
		return yes(ev.Any())
	case StepInstall, StepAddAccount, StepSignIn:
		return yes(ev.Authenticator)
	case StepPhoneSignIn:
		return yes(ev.PhoneSignIn)
	case StepLaptop, StepLaptopKey:
		return yes(ev.JoinedDevice || ev.WindowsHello)
	case StepHello:
		return yes(ev.WindowsHello)
	case StepKey:
		return yes(ev.FIDO2)
	}
	return unseen
}

// doneTime is when a step was done: Graph's time for its evidence where it has one
// (not after now), else now. The TAP step, implied by any later method, falls back to
// the earliest time Graph shows for anything, so it is never dated after them.
func doneTime(id string, ev Evidence, now time.Time) time.Time {
	ok := func(t time.Time) bool { return !t.IsZero() && !t.After(now) }
	if t := ev.At[id]; ok(t) {
		return t
	}
	if id == StepTAP {
		first := now
		for _, t := range ev.At {
			if ok(t) && t.Before(first) {
				first = t
			}
		}
		return first
	}
	return now
}

// Apply ticks the steps the evidence shows. It never undoes a tick: a TAP that
// expires or a method deleted later does not make a done step to do again. Steps the
// evidence cannot confirm keep their status. Apply does not change p.
func Apply(p Progress, ev Evidence, now time.Time) Progress {
	p = p.clone()
	for i := range p.Steps {
		s := &p.Steps[i]
		if s.Status == StatusDone {
			continue
		}
		switch judge(s.ID, ev) {
		case verified:
			s.Status, s.DoneAt, s.SeenAt = StatusDone, doneTime(s.ID, ev, now), now
		case likely:
			if s.Status == StatusTodo {
				s.Status, s.ClaimedAt = StatusClaimed, now
			}
		}
	}
	return p
}

// ErrUnknownStep is Claim's answer for a step id the progress has not got.
var ErrUnknownStep = errors.New("checklist: unknown step")

// Claim records that the hire says they did a step Graph does not show yet: a step
// to do becomes claimed ("waiting for confirmation"), never done; only Apply marks
// steps done. Claiming a claimed or done step changes nothing.
func Claim(p Progress, stepID string, now time.Time) (Progress, error) {
	i := slices.IndexFunc(p.Steps, func(s StepState) bool { return s.ID == stepID })
	if i < 0 {
		return p, fmt.Errorf("%w %q", ErrUnknownStep, stepID)
	}
	if p.Steps[i].Status != StatusTodo {
		return p, nil
	}
	p = p.clone()
	p.Steps[i].Status, p.Steps[i].ClaimedAt = StatusClaimed, now
	return p, nil
}

// Done reports whether every step is done. An empty checklist is not done.
func Done(p Progress) bool {
	if len(p.Steps) == 0 {
		return false
	}
	for _, s := range p.Steps {
		if s.Status != StatusDone {
			return false
		}
	}
	return true
}

// Next is the step the hire should work on: the first step to do, else the first
// step waiting for confirmation, else "" (all done).
func Next(p Progress) string {
	for _, s := range p.Steps {
		if s.Status == StatusTodo {
			return s.ID
		}
	}
	for _, s := range p.Steps {
		if s.Status == StatusClaimed {
			return s.ID
		}
	}
	return ""
}
