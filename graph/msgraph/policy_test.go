package msgraph

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/graph/simtenant"
)

func TestContractAuthenticatorPolicy(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()
	p, err := c.AuthenticatorPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []graph.AuthenticatorTarget{{ID: graph.AllUsers, Mode: graph.AuthenticatorAny}}
	if !p.Enabled || !slices.Equal(p.Targets, want) || len(p.Exclude) != 0 {
		t.Errorf("AuthenticatorPolicy = %+v, want enabled, targets %v, no exclusions", p, want)
	}

	srv.Tenant().SetAuthenticatorPolicy(simtenant.AuthenticatorPolicy{
		IncludeTargets: []simtenant.AuthenticatorTarget{
			{ID: graph.AllUsers, Mode: "push"},
			{ID: simtenant.GroupNewHires, Mode: "deviceBasedPush", RegistrationRequired: true},
		},
		ExcludeTargets: []string{simtenant.GroupProtected},
	})
	p, err = c.AuthenticatorPolicy(ctx)
	want = []graph.AuthenticatorTarget{
		{ID: graph.AllUsers, Mode: graph.AuthenticatorPush},
		{ID: simtenant.GroupNewHires, Mode: graph.AuthenticatorDeviceBasedPush, RegistrationRequired: true},
	}
	if err != nil || p.Enabled || !slices.Equal(p.Targets, want) || !slices.Equal(p.Exclude, []string{simtenant.GroupProtected}) {
		t.Errorf("AuthenticatorPolicy = %+v, %v; want disabled, targets %v, %s excluded, nil", p, err, want, simtenant.GroupProtected)
	}
	if p.Targets[0].Passwordless() || !p.Targets[1].Passwordless() {
		t.Error("Passwordless")
	}

	srv.Forbid("/policies")
	if _, err := c.AuthenticatorPolicy(ctx); !errors.Is(err, graph.ErrForbidden) {
		t.Errorf("AuthenticatorPolicy without permission = %v, want ErrForbidden", err)
	}
}

func TestContractUpdateTAPPolicy(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()
	tenant := srv.Tenant()
	before := tenant.TAPPolicy()
	before.Enabled = false
	before.ExcludeTargets = []string{simtenant.GroupProtected}
	before.DefaultLength = 12
	tenant.SetTAPPolicy(before)

	p, err := c.TAPPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.Enabled = true
	p.IncludeTargets = append(p.IncludeTargets, simtenant.GroupApprovers)
	p.DefaultLifetime, p.MaxLifetime = 2*time.Hour, 4*time.Hour
	p.UsableOnce = true
	if err := c.UpdateTAPPolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	got := tenant.TAPPolicy()
	if !got.Enabled || !slices.Equal(got.IncludeTargets, []string{simtenant.GroupNewHires, simtenant.GroupStaff, simtenant.GroupApprovers}) ||
		got.DefaultLifetime != 2*time.Hour || got.MaxLifetime != 4*time.Hour || got.MinLifetime != 10*time.Minute || !got.UsableOnce {
		t.Errorf("after update %+v, want enabled, New hires, Staff and Approvers, 2h default, 10m to 4h, usable once", got)
	}
	// What tapbot does not manage is left alone.
	if got.DefaultLength != 12 || !slices.Equal(got.ExcludeTargets, []string{simtenant.GroupProtected}) {
		t.Errorf("after update %+v, want the unmanaged fields kept: length 12, %s excluded", got, simtenant.GroupProtected)
	}
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	if last.Method != http.MethodPatch || last.Path != "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass" || last.Status != 204 {
		t.Errorf("last request %+v, want PATCH of .../authenticationMethodConfigurations/TemporaryAccessPass answered 204", last)
	}

	// Graph's own refusal (a target that is no group of the tenant) comes back typed.
	p.IncludeTargets = []string{"0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d4ffff"}
	var ge *graph.Error
	if err := c.UpdateTAPPolicy(ctx, p); !errors.Is(err, graph.ErrBadRequest) || !errors.As(err, &ge) || ge.Code != "badRequest" {
		t.Errorf("UpdateTAPPolicy with an unknown target = %v, want ErrBadRequest as a *graph.Error with code badRequest", err)
	}
	srv.Forbid("/policies")
	p.IncludeTargets = []string{graph.AllUsers}
	if err := c.UpdateTAPPolicy(ctx, p); !errors.Is(err, graph.ErrForbidden) {
		t.Errorf("UpdateTAPPolicy without permission = %v, want ErrForbidden", err)
	}
}

func TestContractUpdateAuthenticatorPolicy(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()
	tenant := srv.Tenant()
	tenant.SetAuthenticatorPolicy(simtenant.AuthenticatorPolicy{
		IncludeTargets:      []simtenant.AuthenticatorTarget{{ID: graph.AllUsers, Mode: "push", RegistrationRequired: true}},
		ExcludeTargets:      []string{simtenant.GroupProtected},
		SoftwareOathEnabled: true,
	})
	p, err := c.AuthenticatorPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p.Enabled = true
	p.Targets = append(p.Targets, graph.AuthenticatorTarget{ID: simtenant.GroupNewHires, Mode: graph.AuthenticatorAny})
	if err := c.UpdateAuthenticatorPolicy(ctx, p); err != nil {
		t.Fatal(err)
	}
	got := tenant.AuthenticatorPolicy()
	want := []simtenant.AuthenticatorTarget{
		{ID: graph.AllUsers, Mode: "push", RegistrationRequired: true},
		{ID: simtenant.GroupNewHires, Mode: "any"},
	}
	if !got.Enabled || !slices.Equal(got.IncludeTargets, want) || !got.SoftwareOathEnabled ||
		!slices.Equal(got.ExcludeTargets, []string{simtenant.GroupProtected}) {
		t.Errorf("after update %+v, want enabled, targets %v, software OATH and the exclusion kept", got, want)
	}
}

func TestUpdatePolicyBodies(t *testing.T) {
	// A user target with registration required, as Graph can hold it: an update
	// that adds a group must keep it as it is.
	userID := "33333333-3333-4333-8333-333333333333"
	groupID := "44444444-4444-4444-8444-444444444444"
	f := newFake(t, func(w http.ResponseWriter, r seen) {
		switch {
		case r.Method == http.MethodPatch:
			w.WriteHeader(http.StatusNoContent)
		case strings.HasSuffix(r.Path, "/TemporaryAccessPass"):
			writeJSON(w, 200, map[string]any{
				"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration", "id": "TemporaryAccessPass",
				"state": "disabled", "defaultLength": 8, "includeTargets": []any{
					map[string]any{"id": userID, "targetType": "user", "isRegistrationRequired": true},
				},
			})
		default:
			writeJSON(w, 200, map[string]any{
				"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration", "id": "MicrosoftAuthenticator",
				"state": "enabled", "includeTargets": []any{
					map[string]any{"id": userID, "targetType": "user", "isRegistrationRequired": true, "authenticationMode": "push"},
				},
			})
		}
	})
	c, _ := f.client()
	ctx := context.Background()
	if err := c.UpdateTAPPolicy(ctx, graph.TAPPolicy{Enabled: true, IncludeTargets: []string{userID, groupID}}); err != nil {
		t.Fatal(err)
	}
	var tapBody map[string]any
	decodeJSON(t, f.requests()[1].Body, &tapBody)
	wantTAP := map[string]any{
		"@odata.type":  "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
		"state":        "enabled",
		"isUsableOnce": false,
		"includeTargets": []any{
			map[string]any{"id": userID, "targetType": "user", "isRegistrationRequired": true},
			map[string]any{"id": groupID, "targetType": "group", "isRegistrationRequired": false},
		},
	}
	if !jsonEqual(tapBody, wantTAP) {
		t.Errorf("TAP PATCH body %s, want %v", f.requests()[1].Body, wantTAP)
	}

	err := c.UpdateAuthenticatorPolicy(ctx, graph.AuthenticatorPolicy{Enabled: true, Targets: []graph.AuthenticatorTarget{
		{ID: userID, Mode: graph.AuthenticatorPush, RegistrationRequired: true},
		{ID: groupID, Mode: graph.AuthenticatorAny},
	}})
	if err != nil {
		t.Fatal(err)
	}
	var authBody map[string]any
	decodeJSON(t, f.requests()[3].Body, &authBody)
	wantAuth := map[string]any{
		"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethodConfiguration",
		"state":       "enabled",
		"includeTargets": []any{
			map[string]any{"id": userID, "targetType": "user", "isRegistrationRequired": true, "authenticationMode": "push"},
			map[string]any{"id": groupID, "targetType": "group", "isRegistrationRequired": false, "authenticationMode": "any"},
		},
	}
	if !jsonEqual(authBody, wantAuth) {
		t.Errorf("Authenticator PATCH body %s, want %v", f.requests()[3].Body, wantAuth)
	}
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestUpdatePolicyRefusedBeforeAnyRequest(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r seen) { t.Errorf("request made: %s %s, want none", r.Method, r.Path) })
	c, _ := f.client()
	ctx := context.Background()
	group := "44444444-4444-4444-8444-444444444444"
	for name, p := range map[string]graph.TAPPolicy{
		"no targets":         {Enabled: true},
		"bad target":         {IncludeTargets: []string{"../groups"}},
		"too short":          {IncludeTargets: []string{group}, DefaultLifetime: 5 * time.Minute},
		"not whole minutes":  {IncludeTargets: []string{group}, MaxLifetime: 90 * time.Second},
		"too long":           {IncludeTargets: []string{group}, MaxLifetime: 31 * 24 * time.Hour},
		"default over max":   {IncludeTargets: []string{group}, DefaultLifetime: 2 * time.Hour, MaxLifetime: time.Hour},
		"min over default":   {IncludeTargets: []string{group}, MinLifetime: 2 * time.Hour, DefaultLifetime: time.Hour},
		"min over max alone": {IncludeTargets: []string{graph.AllUsers}, MinLifetime: 2 * time.Hour, MaxLifetime: time.Hour},
	} {
		if err := c.UpdateTAPPolicy(ctx, p); !errors.Is(err, graph.ErrBadRequest) {
			t.Errorf("UpdateTAPPolicy(%s) = %v, want ErrBadRequest", name, err)
		}
	}
	for name, p := range map[string]graph.AuthenticatorPolicy{
		"no targets":   {Enabled: true},
		"bad target":   {Targets: []graph.AuthenticatorTarget{{ID: "x", Mode: graph.AuthenticatorAny}}},
		"unknown mode": {Targets: []graph.AuthenticatorTarget{{ID: group, Mode: "passwordless"}}},
		"no mode":      {Targets: []graph.AuthenticatorTarget{{ID: group}}},
	} {
		if err := c.UpdateAuthenticatorPolicy(ctx, p); !errors.Is(err, graph.ErrBadRequest) {
			t.Errorf("UpdateAuthenticatorPolicy(%s) = %v, want ErrBadRequest", name, err)
		}
	}
}

func TestContractGroup(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()
	g, err := c.Group(ctx, simtenant.GroupHelpdesk)
	if err != nil || g != (graph.Group{ID: simtenant.GroupHelpdesk, DisplayName: "Helpdesk"}) {
		t.Errorf("Group(Helpdesk) = %+v, %v; want Helpdesk, nil", g, err)
	}
	last := srv.Requests()[len(srv.Requests())-1]
	if last.Path != "/v1.0/groups/"+simtenant.GroupHelpdesk || last.Query.Get("$select") != "id,displayName" {
		t.Errorf("last request %+v, want /v1.0/groups/%s with $select=id,displayName", last, simtenant.GroupHelpdesk)
	}
	for _, id := range []string{"0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d4ffff", simtenant.NinaID} {
		if _, err := c.Group(ctx, id); !errors.Is(err, graph.ErrNotFound) {
			t.Errorf("Group(%s) = %v, want ErrNotFound", id, err)
		}
	}
	n := srv.RequestCount()
	for _, id := range []string{"", "helpdesk", "../users", simtenant.GroupHelpdesk + "/members"} {
		if _, err := c.Group(ctx, id); !errors.Is(err, graph.ErrBadRequest) {
			t.Errorf("Group(%q) = %v, want ErrBadRequest", id, err)
		}
	}
	if srv.RequestCount() != n {
		t.Error("an invalid id reached Graph")
	}
	srv.Forbid("/groups")
	if _, err := c.Group(ctx, simtenant.GroupHelpdesk); !errors.Is(err, graph.ErrForbidden) {
		t.Errorf("Group, forbidden = %v, want ErrForbidden", err)
	}
}

// jwtCredential returns an unsigned JWT with the given payload, as Entra's tokens
// are shaped (the signature is not checked).
type jwtCredential struct{ token string }

func (c jwtCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: c.token, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func jwt(t *testing.T, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"typ":"JWT","alg":"RS256","kid":"k1"}`)) + "." + enc(payload) + ".c2lnbmF0dXJl"
}

func TestGrantedRoles(t *testing.T) {
	srv := simtenant.NewServer(simtenant.Contoso())
	t.Cleanup(srv.Close)
	client := func(token string) (*Client, *observer.ObservedLogs) {
		core, logs := observer.New(zap.DebugLevel)
		c, err := New(Config{Credential: jwtCredential{token}, BaseURL: srv.URL() + "/v1.0", HTTPClient: srv.Client()}, zap.New(core))
		if err != nil {
			t.Fatal(err)
		}
		return c, logs
	}
	ctx := context.Background()
	token := jwt(t, map[string]any{"aud": "https://graph.microsoft.com", "roles": []string{"User.Read.All", "GroupMember.Read.All", "User.Read.All", " "}})
	c, logs := client(token)
	roles, err := c.GrantedRoles(ctx)
	if err != nil || !slices.Equal(roles, []string{"GroupMember.Read.All", "User.Read.All"}) {
		t.Errorf("GrantedRoles = %v, %v; want [GroupMember.Read.All User.Read.All], nil", roles, err)
	}
	if srv.RequestCount() != 0 {
		t.Error("reading the token's roles sent a request to Graph")
	}
	if strings.Contains(logText(logs), token) || strings.Contains(logText(logs), strings.Split(token, ".")[1]) {
		t.Error("token logged")
	}

	// No roles claim: an app without application permissions.
	c, _ = client(jwt(t, map[string]any{"aud": "https://graph.microsoft.com"}))
	if roles, err := c.GrantedRoles(ctx); err != nil || roles == nil || len(roles) != 0 {
		t.Errorf("GrantedRoles without a roles claim = %#v, %v; want an empty non-nil list, nil", roles, err)
	}
	// Tokens whose payload cannot be read fail without quoting the token.
	for _, bad := range []string{"opaque-token", "a.b", "a.!!!.c", "a." + base64.RawURLEncoding.EncodeToString([]byte("not json")) + ".c", "a.b.c.d.e"} {
		c, logs := client(bad)
		roles, err := c.GrantedRoles(ctx)
		if !errors.Is(err, errUnreadableToken) || roles != nil {
			t.Errorf("GrantedRoles with token %q = %v, %v; want nil, errUnreadableToken", bad, roles, err)
		}
		if strings.Contains(err.Error(), bad) || strings.Contains(logText(logs), bad) {
			t.Errorf("error %v or the log quotes token %q, want it quoted nowhere", err, bad)
		}
	}
}
