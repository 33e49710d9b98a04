package simtenant

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/secret"
)

// tapAlphabet is what generated passes are made of: letters and digits without the
// look-alikes (0/O, 1/l/I), plus "+" and "!", which real passes contain (Microsoft's
// examples: "+drkzqAD", "TAPRocks!"), so that a client that renders a pass in
// Markdown or a card meets them in tests.
const tapAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789+!"

// The methodUsabilityReason values.
const (
	reasonEnabled    = "EnabledByPolicy"
	reasonDisabled   = "DisabledByPolicy"
	reasonExpired    = "Expired"
	reasonNotYet     = "NotYetValid"
	reasonOneTimeUse = "OneTimeUsed"
)

type tap struct {
	id         string
	value      secret.String
	created    time.Time
	start      time.Time
	lifetime   time.Duration
	usableOnce bool
	used       bool
}

// tapParams is a create request; nil fields were not supplied and take the policy's
// defaults.
type tapParams struct {
	start      *time.Time
	lifetime   *int // minutes
	usableOnce *bool
}

// CreateTAP creates a Temporary Access Pass for a user (id or UPN) as POST
// .../temporaryAccessPassMethods does, with the same checks and errors (a *graph.Error).
// Zero request fields take the policy's defaults. It replaces the user's current pass.
func (t *Tenant) CreateTAP(userRef string, req graph.TAPRequest) (graph.TAP, error) {
	var p tapParams
	if !req.Start.IsZero() {
		p.start = &req.Start
	}
	if req.Lifetime != 0 {
		m := int(req.Lifetime / time.Minute)
		p.lifetime = &m
	}
	if req.UsableOnce {
		p.usableOnce = &req.UsableOnce
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.resolveUserLocked(userRef)
	if err != nil {
		return graph.TAP{}, err
	}
	tp, err := t.createTAPLocked(u, p)
	if err != nil {
		return graph.TAP{}, err
	}
	return t.tapValueLocked(u.ID, tp, true), nil
}

// createTAPLocked applies Graph's rules for creating a pass, in the order a request
// meets them.
func (t *Tenant) createTAPLocked(u *user, p tapParams) (*tap, *graph.Error) {
	// Entra documents this refusal and its text ("Configure Temporary Access Pass ...",
	// Guest access). Internal guests (a tenant UPN with userType Guest) may get a pass.
	if u.IsGuest() && strings.Contains(strings.ToUpper(u.UserPrincipalName), "#EXT#") {
		return nil, gerr(http.StatusBadRequest, "badRequest", "Temporary Access Pass cannot be added to an external guest user.")
	}
	// Entra's article still says a pass can be created for any user and only sign-in
	// is restricted, but Graph has refused creation for users out of the policy's scope
	// (or with the policy disabled) with this message since 2023 (MicrosoftDocs/azure-docs
	// #111778, and clients that match on it). The fake follows the service.
	pol := t.tapPolicy
	if !pol.Enabled || !t.inScopeLocked(u.ID, pol.IncludeTargets, pol.ExcludeTargets) {
		return nil, gerr(http.StatusBadRequest, "badRequest", "Converged UserCredentialPolicy does not allow creating or updating this authentication method. AuthMethodType [TemporaryAccessPass].")
	}
	lifetime := pol.DefaultLifetime
	if p.lifetime != nil {
		lo, hi := int(pol.MinLifetime/time.Minute), int(pol.MaxLifetime/time.Minute)
		if *p.lifetime < lo || *p.lifetime > hi {
			// Code and text as Graph answers (microsoftgraph/microsoft-graph-docs#12187).
			return nil, gerr(http.StatusBadRequest, "badRequest", "Invalid LifetimeInMinutes specified. The valid range between %d and %d.", lo, hi)
		}
		lifetime = time.Duration(*p.lifetime) * time.Minute
	}
	usableOnce := pol.UsableOnce
	if p.usableOnce != nil {
		// "A multi-use Temporary Access Pass (isUsableOnce = false) can only be created
		// ... if it is allowed by the policy" (Create temporaryAccessPassMethod). The
		// refusal's wording is not documented.
		if pol.UsableOnce && !*p.usableOnce {
			return nil, gerr(http.StatusBadRequest, "badRequest", "The Temporary Access Pass policy only allows one-time use passes. IsUsableOnce must be true.")
		}
		usableOnce = *p.usableOnce
	}
	now := t.now()
	start := now
	if p.start != nil {
		// A start in the past is accepted: the lifetime still counts from it.
		start = p.start.UTC()
	}
	tp := &tap{
		id:         newGUID(),
		value:      secret.String(newTAPValue(pol.DefaultLength)),
		created:    now,
		start:      start,
		lifetime:   lifetime,
		usableOnce: usableOnce,
	}
	// One pass per user: a new one deletes the previous, valid or not (v1.0 Create
	// temporaryAccessPassMethod).
	t.taps[u.ID] = tp
	return tp, nil
}

// newTAPValue draws n characters from tapAlphabet with crypto/rand.
func newTAPValue(n int) string {
	size := big.NewInt(int64(len(tapAlphabet)))
	var b strings.Builder
	for range n {
		i, err := rand.Int(rand.Reader, size)
		if err != nil {
			panic(err) // crypto/rand does not fail
		}
		b.WriteByte(tapAlphabet[i.Int64()])
	}
	return b.String()
}

// usabilityLocked computes methodUsabilityReason from the clock and the policy. The
// precedence (used, then the validity window, then the policy) is an assumption:
// Graph documents the values, not their order.
func (t *Tenant) usabilityLocked(userID string, tp *tap) string {
	now := t.now()
	pol := t.tapPolicy
	switch {
	case tp.usableOnce && tp.used:
		return reasonOneTimeUse
	case now.Before(tp.start):
		return reasonNotYet
	case !now.Before(tp.start.Add(tp.lifetime)):
		return reasonExpired
	case !pol.Enabled || !t.inScopeLocked(userID, pol.IncludeTargets, pol.ExcludeTargets) ||
		pol.UsableOnce && !tp.usableOnce:
		// Entra's troubleshooting: a multi-use pass is blocked while the policy requires
		// one-time passes.
		return reasonDisabled
	}
	return reasonEnabled
}

// tapValueLocked is a pass as graph.TAP; the value only when withValue.
func (t *Tenant) tapValueLocked(userID string, tp *tap, withValue bool) graph.TAP {
	reason := t.usabilityLocked(userID, tp)
	v := graph.TAP{
		ID: tp.id, Created: tp.created, Start: tp.start, Lifetime: tp.lifetime,
		UsableOnce: tp.usableOnce, Usable: reason == reasonEnabled, UsabilityReason: reason,
	}
	if withValue {
		v.Value = tp.value
	}
	return v
}

// TAPsOf lists a user's passes (none or one) with their values, which Graph never
// returns after creation: it is for tests to sign in with.
func (t *Tenant) TAPsOf(userID string) []graph.TAP {
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.userByIDLocked(userID)
	if u == nil || t.taps[u.ID] == nil {
		return nil
	}
	return []graph.TAP{t.tapValueLocked(u.ID, t.taps[u.ID], true)}
}

// UseTAP simulates the user signing in with their pass. It fails as sign-in would
// (no pass, not usable now, account disabled); a one-time pass becomes OneTimeUsed.
func (t *Tenant) UseTAP(userID string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.userByIDLocked(userID)
	if u == nil {
		return errors.New("simtenant: unknown user " + userID)
	}
	tp := t.taps[u.ID]
	if tp == nil {
		return errors.New("simtenant: user has no Temporary Access Pass")
	}
	if !u.AccountEnabled {
		return errors.New("simtenant: account is disabled")
	}
	if reason := t.usabilityLocked(u.ID, tp); reason != reasonEnabled {
		return fmt.Errorf("simtenant: Temporary Access Pass not usable: %s", reason)
	}
	if tp.usableOnce {
		tp.used = true
	}
	return nil
}
