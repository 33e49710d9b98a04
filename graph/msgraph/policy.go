package msgraph

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"go.uber.org/zap"

	"github.com/tapbot/tapbot/graph"
)

// authenticatorPolicyID is the authenticationMethodConfiguration id of the Microsoft
// Authenticator policy.
const authenticatorPolicyID = "MicrosoftAuthenticator"

// AuthenticatorPolicy returns the tenant's Microsoft Authenticator method configuration.
func (c *Client) AuthenticatorPolicy(ctx context.Context) (graph.AuthenticatorPolicy, error) {
	var p graph.AuthenticatorPolicy
	err := c.do(ctx, "get Authenticator policy", func(ctx context.Context) error {
		cfg, err := c.authenticatorConfig(ctx)
		if err != nil {
			return err
		}
		p = mapAuthenticator(cfg)
		return nil
	})
	return p, err
}

func (c *Client) authenticatorConfig(ctx context.Context) (models.MicrosoftAuthenticatorAuthenticationMethodConfigurationable, error) {
	res, err := c.sdk.Policies().AuthenticationMethodsPolicy().AuthenticationMethodConfigurations().
		ByAuthenticationMethodConfigurationId(authenticatorPolicyID).Get(ctx, nil)
	if err != nil {
		return nil, err
	}
	cfg, ok := res.(models.MicrosoftAuthenticatorAuthenticationMethodConfigurationable)
	if !ok {
		return nil, errors.New("answer is not a microsoftAuthenticatorAuthenticationMethodConfiguration")
	}
	return cfg, nil
}

func (c *Client) tapConfig(ctx context.Context) (models.TemporaryAccessPassAuthenticationMethodConfigurationable, error) {
	res, err := c.sdk.Policies().AuthenticationMethodsPolicy().AuthenticationMethodConfigurations().
		ByAuthenticationMethodConfigurationId(tapPolicyID).Get(ctx, nil)
	if err != nil {
		return nil, err
	}
	cfg, ok := res.(models.TemporaryAccessPassAuthenticationMethodConfigurationable)
	if !ok {
		return nil, errors.New("answer is not a temporaryAccessPassAuthenticationMethodConfiguration")
	}
	return cfg, nil
}

func mapAuthenticator(cfg models.MicrosoftAuthenticatorAuthenticationMethodConfigurationable) graph.AuthenticatorPolicy {
	// As for TAP: the enum's zero value is "enabled", so a missing state is disabled.
	state := cfg.GetState()
	p := graph.AuthenticatorPolicy{Enabled: state != nil && *state == models.ENABLED_AUTHENTICATIONMETHODSTATE}
	for _, t := range cfg.GetIncludeTargets() {
		id := deref(t.GetId())
		if id == "" {
			continue
		}
		// A mode this SDK does not know (a value Graph added later) maps to "": callers
		// treat it as unknown, and updates refuse to write it back as something else.
		mode := ""
		if m := t.GetAuthenticationMode(); m != nil {
			mode = m.String()
		}
		p.Targets = append(p.Targets, graph.AuthenticatorTarget{ID: id, Mode: mode, RegistrationRequired: deref(t.GetIsRegistrationRequired())})
	}
	for _, t := range cfg.GetExcludeTargets() {
		if id := deref(t.GetId()); id != "" {
			p.Exclude = append(p.Exclude, id)
		}
	}
	return p
}

// UpdateTAPPolicy changes the Temporary Access Pass policy to p in the fields tapbot
// manages: state, includeTargets, the three lifetimes and isUsableOnce. The default
// length and the excluded groups are left as they are, and so is a lifetime that is
// zero in p.
//
// Graph replaces includeTargets as a whole, so p.IncludeTargets must list every
// target, old and new. Targets already in the policy keep their targetType and
// isRegistrationRequired, which graph.TAPPolicy does not carry (the policy is read
// first for them); new ones are groups, or graph.AllUsers. An empty IncludeTargets is
// refused: it would switch Temporary Access Pass off for everyone.
func (c *Client) UpdateTAPPolicy(ctx context.Context, p graph.TAPPolicy) error {
	if err := checkTargets(p.IncludeTargets); err != nil {
		return fmt.Errorf("graph: update TAP policy: %w", err)
	}
	body := models.NewTemporaryAccessPassAuthenticationMethodConfiguration()
	if err := setLifetimes(body, p); err != nil {
		return fmt.Errorf("graph: update TAP policy: %w", err)
	}
	body.SetState(methodState(p.Enabled))
	once := p.UsableOnce
	body.SetIsUsableOnce(&once)
	return c.do(ctx, "update TAP policy", func(ctx context.Context) error {
		current, err := c.tapConfig(ctx)
		if err != nil {
			return err
		}
		known := map[string]models.AuthenticationMethodTargetable{}
		for _, t := range current.GetIncludeTargets() {
			known[strings.ToLower(deref(t.GetId()))] = t
		}
		targets := make([]models.AuthenticationMethodTargetable, 0, len(p.IncludeTargets))
		for _, id := range p.IncludeTargets {
			t := models.NewAuthenticationMethodTarget()
			fillTarget(t, id, known[strings.ToLower(id)])
			targets = append(targets, t)
		}
		body.SetIncludeTargets(targets)
		_, err = c.sdk.Policies().AuthenticationMethodsPolicy().AuthenticationMethodConfigurations().
			ByAuthenticationMethodConfigurationId(tapPolicyID).Patch(ctx, body, nil)
		return err
	}, zap.Bool("enabled", p.Enabled), zap.Strings("include", p.IncludeTargets))
}

// UpdateAuthenticatorPolicy changes the Microsoft Authenticator policy to p in the
// fields tapbot manages: state and includeTargets (each with its authenticationMode).
// Excluded groups, feature settings (number matching, app and location context) and
// software OATH are left as they are. As with UpdateTAPPolicy, p.Targets must list
// every target, existing targets keep their targetType, and no targets is refused.
func (c *Client) UpdateAuthenticatorPolicy(ctx context.Context, p graph.AuthenticatorPolicy) error {
	ids := make([]string, len(p.Targets))
	modes := make([]models.MicrosoftAuthenticatorAuthenticationMode, len(p.Targets))
	for i, t := range p.Targets {
		ids[i] = t.ID
		m, _ := models.ParseMicrosoftAuthenticatorAuthenticationMode(t.Mode)
		mode, ok := m.(*models.MicrosoftAuthenticatorAuthenticationMode)
		if !ok {
			return fmt.Errorf("graph: update Authenticator policy: target %s has authentication mode %s, not any, push or deviceBasedPush: %w", shown(t.ID), shown(t.Mode), graph.ErrBadRequest)
		}
		modes[i] = *mode
	}
	if err := checkTargets(ids); err != nil {
		return fmt.Errorf("graph: update Authenticator policy: %w", err)
	}
	body := models.NewMicrosoftAuthenticatorAuthenticationMethodConfiguration()
	body.SetState(methodState(p.Enabled))
	return c.do(ctx, "update Authenticator policy", func(ctx context.Context) error {
		current, err := c.authenticatorConfig(ctx)
		if err != nil {
			return err
		}
		known := map[string]models.AuthenticationMethodTargetable{}
		for _, t := range current.GetIncludeTargets() {
			known[strings.ToLower(deref(t.GetId()))] = t
		}
		targets := make([]models.MicrosoftAuthenticatorAuthenticationMethodTargetable, 0, len(p.Targets))
		for i, want := range p.Targets {
			t := models.NewMicrosoftAuthenticatorAuthenticationMethodTarget()
			fillTarget(t, want.ID, known[strings.ToLower(want.ID)])
			required := want.RegistrationRequired
			t.SetIsRegistrationRequired(&required)
			t.SetAuthenticationMode(&modes[i])
			targets = append(targets, t)
		}
		body.SetIncludeTargets(targets)
		_, err = c.sdk.Policies().AuthenticationMethodsPolicy().AuthenticationMethodConfigurations().
			ByAuthenticationMethodConfigurationId(authenticatorPolicyID).Patch(ctx, body, nil)
		return err
	}, zap.Bool("enabled", p.Enabled), zap.Strings("include", ids))
}

// fillTarget sets a target's id, targetType and isRegistrationRequired: from the
// policy's existing target with that id if there is one, else a group target that
// does not require registration.
func fillTarget(t models.AuthenticationMethodTargetable, id string, existing models.AuthenticationMethodTargetable) {
	t.SetId(&id)
	typ := models.GROUP_AUTHENTICATIONMETHODTARGETTYPE
	required := false
	if existing != nil {
		if et := existing.GetTargetType(); et != nil {
			typ = *et
		}
		required = deref(existing.GetIsRegistrationRequired())
	}
	t.SetTargetType(&typ)
	t.SetIsRegistrationRequired(&required)
}

// checkTargets validates policy target ids: graph.AllUsers or object ids, at least one.
func checkTargets(ids []string) error {
	if len(ids) == 0 {
		return fmt.Errorf("a policy without targets would switch the method off for everyone: %w", graph.ErrBadRequest)
	}
	for _, id := range ids {
		if id == graph.AllUsers {
			continue
		}
		if err := checkID("policy target", id); err != nil {
			return err
		}
	}
	return nil
}

// setLifetimes copies p's non-zero lifetimes into body, refusing values Graph would
// refuse (whole minutes from 10 to 43200, minimum ≤ default ≤ maximum) before any
// request is made.
func setLifetimes(body models.TemporaryAccessPassAuthenticationMethodConfigurationable, p graph.TAPPolicy) error {
	for _, f := range []struct {
		name string
		d    time.Duration
		set  func(*int32)
	}{
		{"default lifetime", p.DefaultLifetime, body.SetDefaultLifetimeInMinutes},
		{"minimum lifetime", p.MinLifetime, body.SetMinimumLifetimeInMinutes},
		{"maximum lifetime", p.MaxLifetime, body.SetMaximumLifetimeInMinutes},
	} {
		if f.d == 0 {
			continue
		}
		if f.d < minTAPLifetime || f.d > maxTAPLifetime || f.d%time.Minute != 0 {
			return fmt.Errorf("%s %s is not whole minutes from %s to %s: %w", f.name, f.d, minTAPLifetime, maxTAPLifetime, graph.ErrBadRequest)
		}
		m := int32(f.d / time.Minute)
		f.set(&m)
	}
	given := slices.DeleteFunc([]time.Duration{p.MinLifetime, p.DefaultLifetime, p.MaxLifetime}, func(d time.Duration) bool { return d == 0 })
	if !slices.IsSorted(given) {
		return fmt.Errorf("lifetimes must satisfy minimum ≤ default ≤ maximum (got %s ≤ %s ≤ %s): %w", p.MinLifetime, p.DefaultLifetime, p.MaxLifetime, graph.ErrBadRequest)
	}
	return nil
}

func methodState(enabled bool) *models.AuthenticationMethodState {
	s := models.DISABLED_AUTHENTICATIONMETHODSTATE
	if enabled {
		s = models.ENABLED_AUTHENTICATIONMETHODSTATE
	}
	return &s
}
