package simtenant

import (
	"fmt"
	"testing"
	"time"

	"github.com/tapbot/tapbot/graph"
)

const configs = "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/"

func TestGetTAPPolicy(t *testing.T) {
	h := newHarness(t)
	// The documented GET uses "temporaryAccessPass", the PATCH "TemporaryAccessPass".
	r := h.do("GET", configs+"temporaryAccessPass", nil).want(t, 200, "")
	b := r.body
	if b["@odata.type"] != tapConfigType || b["id"] != "TemporaryAccessPass" || b["state"] != "enabled" ||
		b["defaultLifetimeInMinutes"] != 60.0 || b["minimumLifetimeInMinutes"] != 10.0 || b["maximumLifetimeInMinutes"] != 480.0 ||
		b["isUsableOnce"] != false || b["defaultLength"] != 8.0 ||
		b["@odata.context"] != h.srv.URL()+"/v1.0/$metadata#authenticationMethodConfigurations/$entity" {
		t.Errorf("TAP policy %v, want TemporaryAccessPass enabled, lifetimes 60/10/480, not usable once, length 8, context authenticationMethodConfigurations/$entity", b)
	}
	want := fmt.Sprint([]any{
		map[string]any{"targetType": "group", "id": GroupNewHires, "isRegistrationRequired": false},
		map[string]any{"targetType": "group", "id": GroupStaff, "isRegistrationRequired": false},
	})
	if fmt.Sprint(b["includeTargets"]) != want || fmt.Sprint(b["excludeTargets"]) != "[]" {
		t.Errorf("targets %v, excluded %v; want %s and []", b["includeTargets"], b["excludeTargets"], want)
	}
}

func TestGetAuthenticatorPolicy(t *testing.T) {
	h := newHarness(t)
	b := h.do("GET", configs+"MicrosoftAuthenticator", nil).want(t, 200, "").body
	targets := b["includeTargets"].([]any)
	first := targets[0].(map[string]any)
	if b["@odata.type"] != authrConfigType || b["id"] != "MicrosoftAuthenticator" || b["state"] != "enabled" ||
		len(targets) != 1 || first["id"] != graph.AllUsers || first["authenticationMode"] != "any" || first["targetType"] != "group" {
		t.Errorf("Authenticator policy %v, want MicrosoftAuthenticator enabled for all users in mode any", b)
	}
	fs := b["featureSettings"].(map[string]any)
	if _, ok := fs["displayAppInformationRequiredState"]; !ok {
		t.Errorf("featureSettings %v, want displayAppInformationRequiredState", fs)
	}
}

func TestPatchTAPPolicy(t *testing.T) {
	h := newHarness(t)
	r := h.do("PATCH", configs+"TemporaryAccessPass", map[string]any{
		"@odata.type":  tapConfigType,
		"isUsableOnce": true,
		"excludeTargets": []map[string]any{
			{"id": GroupProtected, "targetType": "group"},
		},
	}).want(t, 204, "")
	if len(r.raw) != 0 {
		t.Errorf("204 with body %s, want none", r.raw)
	}
	p := h.tenant.TAPPolicy()
	// Changed what was sent, kept the rest.
	if !p.UsableOnce || fmt.Sprint(p.ExcludeTargets) != "["+GroupProtected+"]" || !p.Enabled ||
		p.DefaultLifetime != time.Hour || len(p.IncludeTargets) != 2 {
		t.Errorf("policy %+v, want usable once and %s excluded, the rest as before (enabled, 1h default, 2 targets)", p, GroupProtected)
	}
	h.do("PATCH", configs+"temporaryaccesspass", map[string]any{
		"@odata.type": tapConfigType, "state": "disabled", "maximumLifetimeInMinutes": 1440, "defaultLength": 12,
		"includeTargets": []map[string]any{{"id": "all_users", "targetType": "group", "isRegistrationRequired": false}},
	}).want(t, 204, "")
	b := h.do("GET", configs+"TemporaryAccessPass", nil).want(t, 200, "").body
	if b["state"] != "disabled" || b["maximumLifetimeInMinutes"] != 1440.0 || b["defaultLength"] != 12.0 ||
		fmt.Sprint(b["includeTargets"]) != "[map[id:all_users isRegistrationRequired:false targetType:group]]" {
		t.Errorf("after patch %v, want disabled, maximum 1440, length 12, all_users included", b)
	}

	for name, body := range map[string]any{
		"no @odata.type":    map[string]any{"isUsableOnce": true},
		"wrong @odata.type": map[string]any{"@odata.type": authrConfigType},
		"length 7":          map[string]any{"@odata.type": tapConfigType, "defaultLength": 7},
		"length 49":         map[string]any{"@odata.type": tapConfigType, "defaultLength": 49},
		"minimum 9":         map[string]any{"@odata.type": tapConfigType, "minimumLifetimeInMinutes": 9},
		"maximum 43201":     map[string]any{"@odata.type": tapConfigType, "maximumLifetimeInMinutes": 43201},
		"default over max":  map[string]any{"@odata.type": tapConfigType, "defaultLifetimeInMinutes": 2000},
		"min over max":      map[string]any{"@odata.type": tapConfigType, "minimumLifetimeInMinutes": 1500},
		"state":             map[string]any{"@odata.type": tapConfigType, "state": "on"},
		"unknown group":     map[string]any{"@odata.type": tapConfigType, "includeTargets": []map[string]any{{"id": "ffffffff-ffff-4fff-8fff-ffffffffffff", "targetType": "group"}}},
		"wrong type":        map[string]any{"@odata.type": tapConfigType, "isUsableOnce": "yes"},
		"malformed":         `{"@odata.type":`,
	} {
		r := h.do("PATCH", configs+"TemporaryAccessPass", body)
		if r.status != 400 || (r.errCode() != "badRequest" && r.errCode() != "BadRequest") {
			t.Errorf("%s: %d %q, want 400 badRequest or BadRequest", name, r.status, r.errCode())
		}
	}
	if got := h.tenant.TAPPolicy(); got.DefaultLength != 12 || got.UsableOnce != true {
		t.Errorf("after refused PATCHes policy = %+v, want it unchanged (length 12, usable once)", got)
	}
}

func TestPatchAuthenticatorPolicy(t *testing.T) {
	h := newHarness(t)
	h.do("PATCH", configs+"MicrosoftAuthenticator", map[string]any{
		"@odata.type": authrConfigType,
		"includeTargets": []map[string]any{
			{"id": GroupNewHires, "targetType": "group", "isRegistrationRequired": true, "authenticationMode": "deviceBasedPush"},
			{"id": GroupStaff, "targetType": "group"},
		},
		"excludeTargets":  []map[string]any{{"id": GroupProtected, "targetType": "group"}},
		"featureSettings": map[string]any{},
	}).want(t, 204, "")
	p := h.tenant.AuthenticatorPolicy()
	if len(p.IncludeTargets) != 2 || p.IncludeTargets[0] != (AuthenticatorTarget{GroupNewHires, "deviceBasedPush", true}) ||
		p.IncludeTargets[1].Mode != "any" || fmt.Sprint(p.ExcludeTargets) != "["+GroupProtected+"]" || !p.Enabled {
		t.Errorf("policy %+v, want New hires (deviceBasedPush, registration required) and Staff (any) included, %s excluded, enabled", p, GroupProtected)
	}
	h.do("PATCH", configs+"MicrosoftAuthenticator", map[string]any{"@odata.type": authrConfigType, "state": "disabled", "isSoftwareOathEnabled": true}).want(t, 204, "")
	if p := h.tenant.AuthenticatorPolicy(); p.Enabled || !p.SoftwareOathEnabled || len(p.IncludeTargets) != 2 {
		t.Errorf("policy %+v, want disabled with software OATH and the 2 targets kept", p)
	}
	h.do("PATCH", configs+"MicrosoftAuthenticator", map[string]any{
		"@odata.type":    authrConfigType,
		"includeTargets": []map[string]any{{"id": graph.AllUsers, "targetType": "group", "authenticationMode": "sms"}},
	}).want(t, 400, "badRequest")
	h.do("PATCH", configs+"MicrosoftAuthenticator", map[string]any{"state": "enabled"}).want(t, 400, "BadRequest")
}

func TestSeedValidation(t *testing.T) {
	mustPanic := func(name string, f func(t *Tenant)) {
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic, want one", name)
			}
		}()
		f(Contoso())
	}
	mustPanic("duplicate user", func(t *Tenant) { t.AddUser(graph.User{ID: NinaID, UserPrincipalName: "x@contoso.com"}) })
	mustPanic("duplicate UPN", func(t *Tenant) { t.AddUser(graph.User{UserPrincipalName: "NINA@contoso.com"}) })
	mustPanic("no UPN", func(t *Tenant) { t.AddUser(graph.User{}) })
	mustPanic("unknown member", func(t *Tenant) { t.AddMember(GroupStaff, "nobody") })
	mustPanic("unknown group", func(t *Tenant) { t.AddMember("nogroup", NinaID) })
	mustPanic("group id taken", func(t *Tenant) { t.AddGroup(NinaID, "x") })
	mustPanic("unknown principal", func(t *Tenant) { t.AssignRole("nobody", RoleGlobalAdministrator, "Global Administrator") })
	mustPanic("unknown method", func(t *Tenant) { t.AddMethod(NinaID, graph.Method{Type: "carrierPigeon"}) })
	mustPanic("TAP as a method", func(t *Tenant) { t.AddMethod(NinaID, graph.Method{Type: "temporaryAccessPass"}) })
	mustPanic("bad policy", func(t *Tenant) { t.SetTAPPolicy(graph.TAPPolicy{Enabled: true}) })
	mustPanic("bad mode", func(t *Tenant) {
		t.SetAuthenticatorPolicy(AuthenticatorPolicy{IncludeTargets: []AuthenticatorTarget{{ID: graph.AllUsers, Mode: "fax"}}})
	})
	mustPanic("unknown manager", func(t *Tenant) { t.SetManager(NinaID, "nobody") })

	tn := NewTenant("t")
	u := tn.AddUser(graph.User{UserPrincipalName: "a@b.c"})
	if !guidRE.MatchString(u.ID) || u.UserType != "Member" || u.CreatedDateTime.IsZero() || tn.ID() != "t" {
		t.Errorf("AddUser defaults %+v, want a GUID id, userType Member, a creation time, tenant id t", u)
	}
	if p := tn.TAPPolicy(); p.Enabled || p.MinLifetime != time.Hour || p.MaxLifetime != 8*time.Hour || p.DefaultLength != 8 {
		t.Errorf("default TAP policy %+v, want Entra's: disabled, lifetimes 1h to 8h, length 8", p)
	}
}
