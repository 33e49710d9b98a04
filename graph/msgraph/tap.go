package msgraph

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"go.uber.org/zap"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/secret"
)

// tapPolicyID is the authenticationMethodConfiguration id of the TAP policy.
const tapPolicyID = "TemporaryAccessPass"

// Lifetime bounds Graph accepts for a TAP, whatever the tenant's policy says.
const (
	minTAPLifetime = 10 * time.Minute
	maxTAPLifetime = 43200 * time.Minute // 30 days
)

// TAPPolicy returns the tenant's Temporary Access Pass method configuration.
func (c *Client) TAPPolicy(ctx context.Context) (graph.TAPPolicy, error) {
	var p graph.TAPPolicy
	err := c.do(ctx, "get TAP policy", func(ctx context.Context) error {
		res, err := c.sdk.Policies().AuthenticationMethodsPolicy().AuthenticationMethodConfigurations().
			ByAuthenticationMethodConfigurationId(tapPolicyID).Get(ctx, nil)
		if err != nil {
			return err
		}
		cfg, ok := res.(models.TemporaryAccessPassAuthenticationMethodConfigurationable)
		if !ok {
			return errors.New("answer is not a temporaryAccessPassAuthenticationMethodConfiguration")
		}
		p = mapPolicy(cfg)
		return nil
	})
	return p, err
}

func mapPolicy(cfg models.TemporaryAccessPassAuthenticationMethodConfigurationable) graph.TAPPolicy {
	// The enum's zero value is "enabled": a missing state must not read as enabled.
	state := cfg.GetState()
	p := graph.TAPPolicy{
		Enabled:         state != nil && *state == models.ENABLED_AUTHENTICATIONMETHODSTATE,
		DefaultLifetime: minutes(cfg.GetDefaultLifetimeInMinutes()),
		MinLifetime:     minutes(cfg.GetMinimumLifetimeInMinutes()),
		MaxLifetime:     minutes(cfg.GetMaximumLifetimeInMinutes()),
		UsableOnce:      deref(cfg.GetIsUsableOnce()),
		DefaultLength:   int(deref(cfg.GetDefaultLength())),
	}
	for _, t := range cfg.GetIncludeTargets() {
		if id := deref(t.GetId()); id != "" {
			p.IncludeTargets = append(p.IncludeTargets, id)
		}
	}
	for _, t := range cfg.GetExcludeTargets() {
		if id := deref(t.GetId()); id != "" {
			p.ExcludeTargets = append(p.ExcludeTargets, id)
		}
	}
	return p
}

func minutes(m *int32) time.Duration { return time.Duration(deref(m)) * time.Minute }

// TAPs lists the user's Temporary Access Pass methods. Graph returns the pass itself
// only when it is created, and this never copies one even if an answer carried it.
func (c *Client) TAPs(ctx context.Context, userID string) ([]graph.TAP, error) {
	if err := checkRef(userID); err != nil {
		return nil, err
	}
	var taps []graph.TAP
	err := c.do(ctx, "list TAPs", func(ctx context.Context) error {
		b := c.sdk.Users().ByUserId(userID).Authentication().TemporaryAccessPassMethods()
		first, err := b.Get(ctx, nil)
		if err != nil {
			return err
		}
		all, err := collect(ctx, c, first, func(ctx context.Context, link string) (models.TemporaryAccessPassAuthenticationMethodCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		})
		if err != nil {
			return err
		}
		taps = mapTAPs(all)
		return nil
	}, zap.String("user", userID))
	return taps, err
}

func mapTAPs(all []models.TemporaryAccessPassAuthenticationMethodable) []graph.TAP {
	taps := make([]graph.TAP, 0, len(all))
	for _, m := range all {
		taps = append(taps, mapTAP(m))
	}
	return taps
}

// mapTAP maps everything but the pass itself, which only CreateTAP reads.
func mapTAP(m models.TemporaryAccessPassAuthenticationMethodable) graph.TAP {
	t := graph.TAP{
		ID:              deref(m.GetId()),
		Lifetime:        minutes(m.GetLifetimeInMinutes()),
		UsableOnce:      deref(m.GetIsUsableOnce()),
		Usable:          deref(m.GetIsUsable()),
		UsabilityReason: deref(m.GetMethodUsabilityReason()),
	}
	if p := m.GetCreatedDateTime(); p != nil {
		t.Created = *p
	}
	if p := m.GetStartDateTime(); p != nil {
		t.Start = *p
	}
	return t
}

// CreateTAP creates a Temporary Access Pass for the user; zero fields of r take the
// policy's defaults. If the user already has one, Graph replaces it. The pass is
// returned only in TAP.Value, a secret.String that never prints. If Graph's answer
// lacks the pass, the error comes with the TAP's id so the caller can revoke it.
func (c *Client) CreateTAP(ctx context.Context, userID string, r graph.TAPRequest) (graph.TAP, error) {
	if err := checkRef(userID); err != nil {
		return graph.TAP{}, err
	}
	body, err := tapBody(r)
	if err != nil {
		return graph.TAP{}, err
	}
	var created models.TemporaryAccessPassAuthenticationMethodable
	err = c.do(ctx, "create TAP", func(ctx context.Context) (err error) {
		created, err = c.sdk.Users().ByUserId(userID).Authentication().TemporaryAccessPassMethods().Post(ctx, body, nil)
		if err == nil && created == nil {
			err = errors.New("empty answer")
		}
		return err
	}, zap.String("user", userID))
	if err != nil {
		return graph.TAP{}, err
	}
	t := mapTAP(created)
	pass := deref(created.GetTemporaryAccessPass())
	if pass == "" {
		return t, fmt.Errorf("graph: create TAP: answer for method %s carries no pass", t.ID)
	}
	t.Value = secret.String(pass)
	c.log.Info("TAP created", zap.String("user", userID), zap.String("method", t.ID), zap.Time("expires", t.Expires()))
	return t, nil
}

func tapBody(r graph.TAPRequest) (models.TemporaryAccessPassAuthenticationMethodable, error) {
	body := models.NewTemporaryAccessPassAuthenticationMethod()
	if r.Lifetime != 0 {
		if r.Lifetime < minTAPLifetime || r.Lifetime > maxTAPLifetime || r.Lifetime%time.Minute != 0 {
			return nil, fmt.Errorf("graph: create TAP: lifetime %s is not whole minutes from %s to %s: %w", r.Lifetime, minTAPLifetime, maxTAPLifetime, graph.ErrBadRequest)
		}
		m := int32(r.Lifetime / time.Minute)
		body.SetLifetimeInMinutes(&m)
	}
	if !r.Start.IsZero() {
		start := r.Start.UTC()
		body.SetStartDateTime(&start)
	}
	if r.UsableOnce {
		once := true
		body.SetIsUsableOnce(&once)
	}
	return body, nil
}

// DeleteTAP deletes the user's TAP method methodID (revocation).
func (c *Client) DeleteTAP(ctx context.Context, userID, methodID string) error {
	if err := checkRef(userID); err != nil {
		return err
	}
	if err := checkID("TAP method", methodID); err != nil {
		return err
	}
	return c.do(ctx, "delete TAP", func(ctx context.Context) error {
		return c.sdk.Users().ByUserId(userID).Authentication().TemporaryAccessPassMethods().
			ByTemporaryAccessPassAuthenticationMethodId(methodID).Delete(ctx, nil)
	}, zap.String("user", userID), zap.String("method", methodID))
}

// Methods lists the user's registered authentication methods, every type.
func (c *Client) Methods(ctx context.Context, userID string) ([]graph.Method, error) {
	if err := checkRef(userID); err != nil {
		return nil, err
	}
	var methods []graph.Method
	err := c.do(ctx, "list methods", func(ctx context.Context) error {
		b := c.sdk.Users().ByUserId(userID).Authentication().Methods()
		first, err := b.Get(ctx, nil)
		if err != nil {
			return err
		}
		all, err := collect(ctx, c, first, func(ctx context.Context, link string) (models.AuthenticationMethodCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		})
		if err != nil {
			return err
		}
		for _, m := range all {
			methods = append(methods, mapMethod(m))
		}
		return nil
	}, zap.String("user", userID))
	return methods, err
}

// mapMethod keeps what a checklist shows. The subtypes share no base fields beyond
// id, so name and date are read where a subtype has them. Phone numbers and mail
// addresses are left out (a card in a chat is no place for them; the phone type is
// enough), and nothing secret (a software OATH key) is ever read.
func mapMethod(m models.AuthenticationMethodable) graph.Method {
	out := graph.Method{Type: shortType(deref(m.GetOdataType())), ID: deref(m.GetId())}
	if n, ok := m.(interface{ GetDisplayName() *string }); ok {
		out.DisplayName = deref(n.GetDisplayName())
	}
	if p, ok := m.(models.PhoneAuthenticationMethodable); ok && p.GetPhoneType() != nil {
		out.DisplayName = p.GetPhoneType().String()
	}
	if d, ok := m.(interface{ GetCreatedDateTime() *time.Time }); ok && d.GetCreatedDateTime() != nil {
		out.Created = *d.GetCreatedDateTime()
	}
	// v1.0 has no passwordless Authenticator type (that is beta's deprecated
	// passwordlessMicrosoftAuthenticator); a null createdDateTime is how v1.0 says the
	// app is registered for MFA push only.
	if _, ok := m.(models.MicrosoftAuthenticatorAuthenticationMethodable); ok && out.Created.IsZero() {
		out.MFAOnly = true
	}
	return out
}

// shortType turns "#microsoft.graph.fido2AuthenticationMethod" into "fido2".
func shortType(odataType string) string {
	t := strings.TrimPrefix(odataType, "#")
	t = strings.TrimPrefix(t, "microsoft.graph.")
	return strings.TrimSuffix(t, "AuthenticationMethod")
}
