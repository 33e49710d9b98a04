package simtenant

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tapbot/tapbot/graph"
)

// AuthenticatorPolicy is the tenant's Microsoft Authenticator authentication-method
// configuration.
type AuthenticatorPolicy struct {
	Enabled             bool
	IncludeTargets      []AuthenticatorTarget
	ExcludeTargets      []string // group ids
	SoftwareOathEnabled bool
}

// AuthenticatorTarget is one includeTargets entry of the Authenticator policy.
type AuthenticatorTarget struct {
	ID                   string // group id or graph.AllUsers
	Mode                 string // authenticationMode: any, push or deviceBasedPush
	RegistrationRequired bool
}

// The documented bounds of the TAP policy (temporaryAccessPassAuthenticationMethodConfiguration).
const (
	minTAPLength, maxTAPLength   = 8, 48
	minTAPMinutes, maxTAPMinutes = 10, 43200
)

const (
	tapConfigID     = "TemporaryAccessPass"
	authrConfigID   = "MicrosoftAuthenticator"
	tapConfigType   = "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration"
	authrConfigType = "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration"
)

// authenticationModes are the Authenticator policy's documented modes.
var authenticationModes = []string{"any", "push", "deviceBasedPush"}

// SetTAPPolicy replaces the Temporary Access Pass policy. It panics on values Graph
// would refuse (length 8-48, lifetimes 10-43200 minutes with min ≤ default ≤ max,
// targets all_users or existing groups).
func (t *Tenant) SetTAPPolicy(p graph.TAPPolicy) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.validateTAPPolicyLocked(p); err != nil {
		panic("simtenant: SetTAPPolicy: " + err.Message)
	}
	t.tapPolicy = clonePolicy(p)
}

// TAPPolicy is the current Temporary Access Pass policy.
func (t *Tenant) TAPPolicy() graph.TAPPolicy {
	t.mu.Lock()
	defer t.mu.Unlock()
	return clonePolicy(t.tapPolicy)
}

// SetAuthenticatorPolicy replaces the Microsoft Authenticator policy. It panics on an
// unknown authentication mode or target.
func (t *Tenant) SetAuthenticatorPolicy(p AuthenticatorPolicy) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.validateAuthenticatorLocked(p); err != nil {
		panic("simtenant: SetAuthenticatorPolicy: " + err.Message)
	}
	t.authr = cloneAuthenticator(p)
}

// AuthenticatorPolicy is the current Microsoft Authenticator policy.
func (t *Tenant) AuthenticatorPolicy() AuthenticatorPolicy {
	t.mu.Lock()
	defer t.mu.Unlock()
	return cloneAuthenticator(t.authr)
}

func clonePolicy(p graph.TAPPolicy) graph.TAPPolicy {
	p.IncludeTargets = slices.Clone(p.IncludeTargets)
	p.ExcludeTargets = slices.Clone(p.ExcludeTargets)
	return p
}

func cloneAuthenticator(p AuthenticatorPolicy) AuthenticatorPolicy {
	p.IncludeTargets = slices.Clone(p.IncludeTargets)
	p.ExcludeTargets = slices.Clone(p.ExcludeTargets)
	return p
}

// The refusals below have the documented bounds; their wording is the fake's, modelled
// on the LifetimeInMinutes refusal Graph is known to answer.

func errPolicyRange(prop string, lo, hi int) *graph.Error {
	return gerr(http.StatusBadRequest, "badRequest", "Invalid %s specified. The valid range is between %d and %d.", prop, lo, hi)
}

func (t *Tenant) validateTAPPolicyLocked(p graph.TAPPolicy) *graph.Error {
	if p.DefaultLength < minTAPLength || p.DefaultLength > maxTAPLength {
		return errPolicyRange("defaultLength", minTAPLength, maxTAPLength)
	}
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"minimumLifetimeInMinutes", p.MinLifetime}, {"maximumLifetimeInMinutes", p.MaxLifetime}, {"defaultLifetimeInMinutes", p.DefaultLifetime}} {
		if f.d%time.Minute != 0 || f.d < minTAPMinutes*time.Minute || f.d > maxTAPMinutes*time.Minute {
			return errPolicyRange(f.name, minTAPMinutes, maxTAPMinutes)
		}
	}
	if p.MinLifetime > p.MaxLifetime || p.DefaultLifetime < p.MinLifetime || p.DefaultLifetime > p.MaxLifetime {
		return gerr(http.StatusBadRequest, "badRequest", "defaultLifetimeInMinutes must be between minimumLifetimeInMinutes and maximumLifetimeInMinutes.")
	}
	return t.validateTargetsLocked(append(slices.Clone(p.IncludeTargets), p.ExcludeTargets...))
}

func (t *Tenant) validateAuthenticatorLocked(p AuthenticatorPolicy) *graph.Error {
	ids := slices.Clone(p.ExcludeTargets)
	for _, it := range p.IncludeTargets {
		if !slices.Contains(authenticationModes, it.Mode) {
			return gerr(http.StatusBadRequest, "badRequest", "Invalid authenticationMode '%s'. Valid values: any, push, deviceBasedPush.", it.Mode)
		}
		ids = append(ids, it.ID)
	}
	return t.validateTargetsLocked(ids)
}

// validateTargetsLocked requires every target to be all_users, a group or a user.
func (t *Tenant) validateTargetsLocked(ids []string) *graph.Error {
	for _, id := range ids {
		if id != graph.AllUsers && t.groupLocked(id) == nil && t.userByIDLocked(id) == nil {
			return gerr(http.StatusBadRequest, "badRequest", "Target '%s' is neither all_users nor a group or user of the tenant.", id)
		}
	}
	return nil
}

// targetJSONLocked is an authenticationMethodTarget (include) or an excludeTarget.
// all_users is a "group" target, as Entra writes it.
func (t *Tenant) targetJSONLocked(id string, include bool) map[string]any {
	typ := "group"
	if t.userByIDLocked(id) != nil {
		typ = "user"
	}
	obj := map[string]any{"targetType": typ, "id": id}
	if include {
		obj["isRegistrationRequired"] = false
	}
	return obj
}

func (s *Server) methodConfiguration(c *call, id string) reply {
	var kind string
	switch {
	case strings.EqualFold(id, tapConfigID):
		kind = tapConfigID
	case strings.EqualFold(id, authrConfigID):
		kind = authrConfigID
	default:
		// Graph has more configurations (Fido2, Sms, Email...); the fake serves two.
		return fail(gerr(http.StatusNotFound, "itemNotFound", "The authentication method configuration '%s' was not found.", id))
	}
	switch c.method {
	case http.MethodGet:
		t := s.tenant
		t.mu.Lock()
		defer t.mu.Unlock()
		if kind == tapConfigID {
			return ok(t.tapPolicyJSONLocked(c))
		}
		return ok(t.authenticatorJSONLocked(c))
	case http.MethodPatch:
		if kind == tapConfigID {
			return s.patchTAPPolicy(c)
		}
		return s.patchAuthenticator(c)
	}
	return fail(errMethod())
}

func (t *Tenant) tapPolicyJSONLocked(c *call) map[string]any {
	p := t.tapPolicy
	include := []map[string]any{}
	for _, id := range p.IncludeTargets {
		include = append(include, t.targetJSONLocked(id, true))
	}
	exclude := []map[string]any{}
	for _, id := range p.ExcludeTargets {
		exclude = append(exclude, t.targetJSONLocked(id, false))
	}
	return map[string]any{
		"@odata.context":               c.context("authenticationMethodConfigurations/$entity"),
		"@odata.type":                  tapConfigType,
		"id":                           tapConfigID,
		"state":                        state(p.Enabled),
		"defaultLifetimeInMinutes":     int(p.DefaultLifetime / time.Minute),
		"defaultLength":                p.DefaultLength,
		"minimumLifetimeInMinutes":     int(p.MinLifetime / time.Minute),
		"maximumLifetimeInMinutes":     int(p.MaxLifetime / time.Minute),
		"isUsableOnce":                 p.UsableOnce,
		"includeTargets@odata.context": c.context("policies/authenticationMethodsPolicy/authenticationMethodConfigurations('TemporaryAccessPass')/microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration/includeTargets"),
		"includeTargets":               include,
		"excludeTargets":               exclude,
	}
}

func (t *Tenant) authenticatorJSONLocked(c *call) map[string]any {
	p := t.authr
	include := []map[string]any{}
	for _, it := range p.IncludeTargets {
		obj := t.targetJSONLocked(it.ID, true)
		obj["isRegistrationRequired"] = it.RegistrationRequired
		obj["authenticationMode"] = it.Mode
		include = append(include, obj)
	}
	exclude := []map[string]any{}
	for _, id := range p.ExcludeTargets {
		exclude = append(exclude, t.targetJSONLocked(id, false))
	}
	// Number matching is always on; the application-name and location context
	// features are Microsoft-managed ("default") unless an admin changed them.
	feature := map[string]any{
		"state":         "default",
		"includeTarget": map[string]any{"targetType": "group", "id": graph.AllUsers},
		"excludeTarget": map[string]any{"targetType": "group", "id": "00000000-0000-0000-0000-000000000000"},
	}
	return map[string]any{
		"@odata.context":        c.context("authenticationMethodConfigurations/$entity"),
		"@odata.type":           authrConfigType,
		"id":                    authrConfigID,
		"state":                 state(p.Enabled),
		"isSoftwareOathEnabled": p.SoftwareOathEnabled,
		"includeTargets":        include,
		"excludeTargets":        exclude,
		"featureSettings": map[string]any{
			"displayAppInformationRequiredState":      feature,
			"displayLocationInformationRequiredState": feature,
		},
	}
}

func state(enabled bool) string {
	if enabled {
		return "enabled"
	}
	return "disabled"
}

// wireTarget is a target in a PATCH body.
type wireTarget struct {
	ID                     string `json:"id"`
	TargetType             string `json:"targetType"`
	IsRegistrationRequired bool   `json:"isRegistrationRequired"`
	AuthenticationMode     string `json:"authenticationMode"`
}

// parseState reads a PATCH's state.
func parseState(s *string, current bool) (bool, *graph.Error) {
	if s == nil {
		return current, nil
	}
	switch *s {
	case "enabled":
		return true, nil
	case "disabled":
		return false, nil
	}
	return false, gerr(http.StatusBadRequest, "badRequest", "Invalid value '%s' for property 'state'.", *s)
}

// checkODataType enforces the update pages' note: the body must carry the
// configuration's @odata.type.
func checkODataType(got *string, want string) *graph.Error {
	if got == nil || *got != want {
		return gerr(http.StatusBadRequest, "BadRequest", "The request body must include \"@odata.type\": \"%s\".", want)
	}
	return nil
}

func targetIDs(ts []wireTarget) []string {
	ids := make([]string, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	return ids
}

// patchTAPPolicy applies PATCH .../TemporaryAccessPass: present properties change,
// absent ones keep their values, the answer is 204 with no body.
func (s *Server) patchTAPPolicy(c *call) reply {
	var in struct {
		ODataType                *string       `json:"@odata.type"`
		State                    *string       `json:"state"`
		DefaultLifetimeInMinutes *int          `json:"defaultLifetimeInMinutes"`
		MinimumLifetimeInMinutes *int          `json:"minimumLifetimeInMinutes"`
		MaximumLifetimeInMinutes *int          `json:"maximumLifetimeInMinutes"`
		IsUsableOnce             *bool         `json:"isUsableOnce"`
		DefaultLength            *int          `json:"defaultLength"`
		IncludeTargets           *[]wireTarget `json:"includeTargets"`
		ExcludeTargets           *[]wireTarget `json:"excludeTargets"`
	}
	if err := decodeJSON(c.body, &in); err != nil {
		return fail(err)
	}
	if err := checkODataType(in.ODataType, tapConfigType); err != nil {
		return fail(err)
	}
	t := s.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	p := clonePolicy(t.tapPolicy)
	var err *graph.Error
	if p.Enabled, err = parseState(in.State, p.Enabled); err != nil {
		return fail(err)
	}
	for _, f := range []struct {
		name string
		in   *int
		out  *time.Duration
	}{
		{"defaultLifetimeInMinutes", in.DefaultLifetimeInMinutes, &p.DefaultLifetime},
		{"minimumLifetimeInMinutes", in.MinimumLifetimeInMinutes, &p.MinLifetime},
		{"maximumLifetimeInMinutes", in.MaximumLifetimeInMinutes, &p.MaxLifetime},
	} {
		if f.in == nil {
			continue
		}
		if *f.in < minTAPMinutes || *f.in > maxTAPMinutes {
			return fail(errPolicyRange(f.name, minTAPMinutes, maxTAPMinutes))
		}
		*f.out = time.Duration(*f.in) * time.Minute
	}
	if in.IsUsableOnce != nil {
		p.UsableOnce = *in.IsUsableOnce
	}
	if in.DefaultLength != nil {
		p.DefaultLength = *in.DefaultLength
	}
	if in.IncludeTargets != nil {
		p.IncludeTargets = targetIDs(*in.IncludeTargets)
	}
	if in.ExcludeTargets != nil {
		p.ExcludeTargets = targetIDs(*in.ExcludeTargets)
	}
	if err := t.validateTAPPolicyLocked(p); err != nil {
		return fail(err)
	}
	t.tapPolicy = p
	return noContent()
}

// patchAuthenticator applies PATCH .../MicrosoftAuthenticator. featureSettings are
// accepted and not modelled.
func (s *Server) patchAuthenticator(c *call) reply {
	var in struct {
		ODataType             *string       `json:"@odata.type"`
		State                 *string       `json:"state"`
		IsSoftwareOathEnabled *bool         `json:"isSoftwareOathEnabled"`
		IncludeTargets        *[]wireTarget `json:"includeTargets"`
		ExcludeTargets        *[]wireTarget `json:"excludeTargets"`
	}
	if err := decodeJSON(c.body, &in); err != nil {
		return fail(err)
	}
	if err := checkODataType(in.ODataType, authrConfigType); err != nil {
		return fail(err)
	}
	t := s.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	p := cloneAuthenticator(t.authr)
	var err *graph.Error
	if p.Enabled, err = parseState(in.State, p.Enabled); err != nil {
		return fail(err)
	}
	if in.IsSoftwareOathEnabled != nil {
		p.SoftwareOathEnabled = *in.IsSoftwareOathEnabled
	}
	if in.IncludeTargets != nil {
		p.IncludeTargets = nil
		for _, w := range *in.IncludeTargets {
			mode := w.AuthenticationMode
			if mode == "" {
				mode = "any"
			}
			p.IncludeTargets = append(p.IncludeTargets, AuthenticatorTarget{ID: w.ID, Mode: mode, RegistrationRequired: w.IsRegistrationRequired})
		}
	}
	if in.ExcludeTargets != nil {
		p.ExcludeTargets = targetIDs(*in.ExcludeTargets)
	}
	if err := t.validateAuthenticatorLocked(p); err != nil {
		return fail(err)
	}
	t.authr = p
	return noContent()
}
