package msgraph

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tapbot/tapbot/graph"
)

type batchStep struct {
	ID      string            `json:"id"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

type stepAnswer struct {
	Status  int
	Body    any
	Headers map[string]any // any: a hostile server may send non-strings
}

// batchFake answers POST /v1.0/$batch, one step at a time, and records the steps.
func batchFake(t *testing.T, answer func(s batchStep) stepAnswer) (*fake, *[][]batchStep) {
	var batches [][]batchStep
	f := newFake(t, func(w http.ResponseWriter, r seen) {
		if r.Method != "POST" || r.Path != "/v1.0/$batch" {
			t.Errorf("request %s %s, want POST /v1.0/$batch only", r.Method, r.Path)
			http.NotFound(w, nil)
			return
		}
		var req struct{ Requests []batchStep }
		decodeJSON(t, r.Body, &req)
		batches = append(batches, req.Requests)
		var out []any
		for _, s := range req.Requests {
			a := answer(s)
			h := a.Headers
			if h == nil {
				h = map[string]any{"Content-Type": "application/json"}
			}
			out = append(out, map[string]any{"id": s.ID, "status": a.Status, "headers": h, "body": a.Body})
		}
		writeJSON(w, 200, map[string]any{"responses": out})
	})
	return f, &batches
}

// tenantStep answers a Target batch for alice: one active role, member of the odd
// groups, one TAP.
func tenantStep(t *testing.T) func(s batchStep) stepAnswer {
	return func(s batchStep) stepAnswer {
		path, _, _ := strings.Cut(s.URL, "?")
		switch {
		case s.Method == "GET" && path == "/users/"+strings.ReplaceAll(aliceUPN, "@", "%40"):
			return stepAnswer{Status: 200, Body: aliceJSON()}
		case s.Method == "GET" && strings.HasSuffix(path, "/transitiveMemberOf"):
			return stepAnswer{Status: 200, Body: map[string]any{"value": []any{
				map[string]any{"@odata.type": "#microsoft.graph.group", "id": roleGroupID, "displayName": "Helpdesk admins", "isAssignableToRole": true},
				map[string]any{"@odata.type": "#microsoft.graph.group", "id": guids(1)[0], "displayName": "Staff", "isAssignableToRole": false},
				map[string]any{"@odata.type": "#microsoft.graph.directoryRole", "id": "r1", "roleTemplateId": "729827e3-9c14-49f7-bb1b-9608f156bbb8"},
			}}}
		case s.Method == "GET" && path == "/roleManagement/directory/roleAssignments":
			return stepAnswer{Status: 200, Body: map[string]any{"value": []any{
				map[string]any{"id": "a1", "principalId": roleGroupID, "roleDefinitionId": "729827e3-9c14-49f7-bb1b-9608f156bbb8", "directoryScopeId": "/",
					"roleDefinition": map[string]any{"id": "729827e3-9c14-49f7-bb1b-9608f156bbb8", "displayName": "Helpdesk Administrator",
						"templateId": "729827e3-9c14-49f7-bb1b-9608f156bbb8", "isBuiltIn": true}},
			}}}
		case s.Method == "GET" && (path == "/roleManagement/directory/roleEligibilityScheduleInstances" ||
			path == "/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances"):
			return stepAnswer{Status: 200, Body: map[string]any{"value": []any{}}}
		case s.Method == "GET" && strings.HasSuffix(path, "/authentication/temporaryAccessPassMethods"):
			tap := createdTAPJSON()
			delete(tap, "temporaryAccessPass")
			return stepAnswer{Status: 200, Body: map[string]any{"value": []any{tap}}}
		case s.Method == "GET" && strings.HasSuffix(path, "/authentication/methods"):
			return stepAnswer{Status: 200, Body: map[string]any{"value": []any{
				map[string]any{"@odata.type": "#microsoft.graph.passwordAuthenticationMethod", "id": "28c10230-6103-485e-b985-444c60001490"},
				map[string]any{"@odata.type": "#microsoft.graph.fido2AuthenticationMethod", "id": "f1", "displayName": "YubiKey 5", "createdDateTime": "2024-01-02T03:04:05Z"},
			}}}
		case s.Method == "POST" && strings.HasSuffix(path, "/checkMemberGroups"):
			var body struct{ GroupIDs []string }
			if err := json.Unmarshal(s.Body, &body); err != nil {
				t.Errorf("checkMemberGroups body %s: %v", s.Body, err)
			}
			var member []string
			for _, id := range body.GroupIDs {
				if strings.HasSuffix(id[:8], "1") {
					member = append(member, id)
				}
			}
			return stepAnswer{Status: 200, Body: map[string]any{"value": member}}
		}
		t.Errorf("step %s %s, want only the steps of a Target", s.Method, s.URL)
		return stepAnswer{Status: 400, Body: errBody("BadRequest", "unexpected")}
	}
}

const roleGroupID = "0f0f0f0f-0000-4000-8000-00000000a001"

func TestTargetIsTwoBatches(t *testing.T) {
	f, batches := batchFake(t, tenantStep(t))
	c, _ := f.client()
	groups := guids(25)
	tg, err := c.Target(context.Background(), aliceUPN, groups)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests()); n != 2 {
		t.Fatalf("%d HTTP requests, want two $batch", n)
	}
	if r := f.requests()[0]; r.Header.Get("Content-Encoding") != "gzip" || r.Header.Get("Authorization") != "Bearer "+testToken {
		t.Errorf("batch headers %v, want gzip and the bearer token", r.Header)
	}
	if tg.User.ID != aliceID || !tg.User.AccountEnabled {
		t.Errorf("user %+v, want alice (%s), enabled", tg.User, aliceID)
	}
	want := graph.Role{ID: "729827e3-9c14-49f7-bb1b-9608f156bbb8", RoleTemplateID: "729827e3-9c14-49f7-bb1b-9608f156bbb8", DisplayName: "Helpdesk Administrator",
		BuiltIn: true, Scope: "/", Via: roleGroupID, ViaName: "Helpdesk admins"}
	if len(tg.Roles) != 1 || tg.Roles[0] != want || tg.RolesUnknown != "" {
		t.Errorf("roles %+v (unknown %q), want [%+v] known", tg.Roles, tg.RolesUnknown, want)
	}
	if want := []string{groups[0], groups[10], groups[20]}; !slices.Equal(tg.MemberOf, want) {
		t.Errorf("member of %v, want %v", tg.MemberOf, want)
	}
	if len(tg.TAPs) != 1 || tg.TAPs[0].ID != methodID || !tg.TAPs[0].Value.IsZero() {
		t.Errorf("TAPs %+v, want %s alone without its value", tg.TAPs, methodID)
	}
	if len(tg.Methods) != 2 || tg.Methods[0].Type != "password" || tg.Methods[1].Type != "fido2" {
		t.Errorf("methods %+v, want password then fido2", tg.Methods)
	}

	steps := (*batches)[0]
	if len(steps) != 6 { // user, memberships, TAPs, methods, 20 + 5 groups
		t.Fatalf("%d steps, want 6", len(steps))
	}
	if m := steps[1]; m.URL != "/users/alice%40contoso.com/transitiveMemberOf?$select=id,displayName,isAssignableToRole&$top=999" || stepHeaderOf(m, "ConsistencyLevel") != "" {
		t.Errorf("memberships step %+v, want transitiveMemberOf with $select and $top=999: no cast, no advanced query", m)
	}
	// The roles of alice and of her one role-assignable group: assignments for both in
	// one step, eligibility per principal, PIM for Groups for alice.
	roleSteps := (*batches)[1]
	var urls []string
	for _, s := range roleSteps {
		u, err := url.QueryUnescape(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, u)
	}
	wantURLs := []string{
		"/roleManagement/directory/roleAssignments?$expand=roleDefinition&$filter=principalId in ('" + aliceID + "','" + roleGroupID + "')",
		"/roleManagement/directory/roleEligibilityScheduleInstances?$expand=roleDefinition&$filter=principalId eq '" + aliceID + "'",
		"/roleManagement/directory/roleEligibilityScheduleInstances?$expand=roleDefinition&$filter=principalId eq '" + roleGroupID + "'",
		"/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances?$filter=principalId eq '" + aliceID + "'",
	}
	if !slices.Equal(urls, wantURLs) {
		t.Errorf("role steps\n%s\nwant\n%s", strings.Join(urls, "\n"), strings.Join(wantURLs, "\n"))
	}
	user := steps[0]
	if user.Method != "GET" || !strings.HasPrefix(user.URL, "/users/alice%40contoso.com?$select=id,userPrincipalName,") {
		t.Errorf("user step %s %s: want a relative URL with a decoded $select", user.Method, user.URL)
	}
	for _, s := range steps[4:] {
		if s.Method != "POST" || s.URL != "/users/alice%40contoso.com/checkMemberGroups" || !strings.HasPrefix(stepHeaderOf(s, "Content-Type"), "application/json") {
			t.Errorf("group step %+v, want a JSON POST of /users/alice%%40contoso.com/checkMemberGroups", s)
		}
	}
}

func TestTargetUserNotFound(t *testing.T) {
	f, _ := batchFake(t, func(s batchStep) stepAnswer {
		return stepAnswer{Status: 404, Body: errBody("Request_ResourceNotFound", "Resource 'bob@contoso.com' does not exist")}
	})
	c, _ := f.client()
	_, err := c.Target(context.Background(), "bob@contoso.com", nil)
	if !errors.Is(err, graph.ErrNotFound) {
		t.Fatalf("Target = %v, want ErrNotFound", err)
	}
	var ge *graph.Error
	if !errors.As(err, &ge) || ge.Code != "Request_ResourceNotFound" || ge.RequestID != "req-Request_ResourceNotFound" {
		t.Errorf("graph.Error %+v, want code Request_ResourceNotFound, request id req-Request_ResourceNotFound", ge)
	}
}

func TestTargetFailsClosedOnAnyStep(t *testing.T) {
	base := tenantStep(t)
	failing := func(part string) func(s batchStep) stepAnswer {
		return func(s batchStep) stepAnswer {
			if strings.Contains(s.URL, part) {
				return stepAnswer{Status: 403, Body: errBody("Authorization_RequestDenied", "Insufficient privileges to complete the operation.")}
			}
			return base(s)
		}
	}
	f, _ := batchFake(t, failing("temporaryAccessPassMethods"))
	c, _ := f.client()
	if tg, err := c.Target(context.Background(), aliceUPN, guids(3)); !errors.Is(err, graph.ErrForbidden) {
		t.Fatalf("TAPs step denied: Target = %+v, %v; want ErrForbidden", tg, err)
	}
	// A role query that fails makes the roles unknown, which the gate refuses on.
	for _, part := range []string{"transitiveMemberOf", "roleAssignments", "roleEligibilityScheduleInstances", "privilegedAccess"} {
		f, _ := batchFake(t, failing(part))
		c, _ := f.client()
		tg, err := c.Target(context.Background(), aliceUPN, guids(3))
		if err != nil || !strings.Contains(tg.RolesUnknown, "permission") {
			t.Errorf("%s denied: err %v, roles unknown %q; want nil and a reason naming the permission", part, err, tg.RolesUnknown)
		}
	}
}

// Without Entra ID P2 the PIM APIs answer AadPremiumLicenseRequired: no eligibility,
// and nothing unknown. roleAssignments is not a PIM API: the same answer there is a
// failure.
func TestTargetWithoutPIMLicence(t *testing.T) {
	base := tenantStep(t)
	noLicence := func(pim bool) func(s batchStep) stepAnswer {
		return func(s batchStep) stepAnswer {
			isPIM := strings.Contains(s.URL, "Eligibility") || strings.Contains(s.URL, "eligibility")
			if isPIM == pim && strings.Contains(s.URL, "role") || pim && strings.Contains(s.URL, "privilegedAccess") {
				return stepAnswer{Status: 400, Body: errBody("AadPremiumLicenseRequired", "The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license.")}
			}
			return base(s)
		}
	}
	f, _ := batchFake(t, noLicence(true))
	c, _ := f.client()
	tg, err := c.Target(context.Background(), aliceUPN, nil)
	if err != nil || tg.RolesUnknown != "" || len(tg.Roles) != 1 {
		t.Fatalf("PIM unlicensed: err %v, roles %+v, unknown %q; want nil, the one active role, known", err, tg.Roles, tg.RolesUnknown)
	}
	f, _ = batchFake(t, noLicence(false))
	c, _ = f.client()
	if tg, err = c.Target(context.Background(), aliceUPN, nil); err != nil || tg.RolesUnknown == "" {
		t.Fatalf("roleAssignments answering AadPremiumLicenseRequired: err %v, roles unknown %q; want nil and the roles unknown", err, tg.RolesUnknown)
	}
}

func TestTargetResendsThrottledSteps(t *testing.T) {
	base := tenantStep(t)
	var throttled atomic.Bool
	f, batches := batchFake(t, func(s batchStep) stepAnswer {
		if strings.Contains(s.URL, "checkMemberGroups") && !throttled.Swap(true) {
			return stepAnswer{Status: 429, Body: errBody("TooManyRequests", "slow down"),
				Headers: map[string]any{"Content-Type": "application/json", "Retry-After": "0"}}
		}
		return base(s)
	})
	c, _ := f.client()
	tg, err := c.Target(context.Background(), aliceUPN, guids(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(*batches) != 3 || len(tg.MemberOf) != 1 { // throttled, resent, roles
		t.Errorf("%d batches, member of %v; want 3 batches (throttled, resent, roles) and 1 group", len(*batches), tg.MemberOf)
	}
}

func TestTargetGivesUpOnPersistentThrottling(t *testing.T) {
	f, batches := batchFake(t, func(s batchStep) stepAnswer {
		return stepAnswer{Status: 429, Body: errBody("TooManyRequests", "slow down"),
			Headers: map[string]any{"Content-Type": "application/json", "Retry-After": "0"}}
	})
	c, _ := f.client()
	_, err := c.Target(context.Background(), aliceID, nil)
	if !errors.Is(err, graph.ErrThrottled) {
		t.Fatalf("Target = %v, want ErrThrottled", err)
	}
	if len(*batches) != batchAttempts {
		t.Errorf("%d batches, want %d", len(*batches), batchAttempts)
	}
}

func TestTargetSurvivesMalformedAnswers(t *testing.T) {
	base := tenantStep(t)
	for name, answer := range map[string]func(s batchStep) stepAnswer{
		"missing step": func(s batchStep) stepAnswer {
			if strings.Contains(s.URL, "temporaryAccessPass") {
				return stepAnswer{Status: 200, Body: nil}
			}
			return base(s)
		},
		"wrong types": func(s batchStep) stepAnswer {
			if strings.Contains(s.URL, "temporaryAccessPass") {
				return stepAnswer{Status: 200, Body: map[string]any{"value": []any{map[string]any{"id": methodID, "lifetimeInMinutes": "sixty"}}}}
			}
			return base(s)
		},
		"non-string header": func(s batchStep) stepAnswer {
			a := base(s)
			a.Headers = map[string]any{"Content-Type": "application/json", "Retry-After": 5}
			return a
		},
		"user without id": func(s batchStep) stepAnswer {
			if strings.HasPrefix(s.URL, "/users/alice%40contoso.com?") {
				return stepAnswer{Status: 200, Body: map[string]any{"displayName": "Nobody"}}
			}
			return base(s)
		},
	} {
		t.Run(name, func(t *testing.T) {
			f, _ := batchFake(t, answer)
			c, _ := f.client()
			if _, err := c.Target(context.Background(), aliceUPN, nil); err == nil {
				t.Fatal("malformed answer accepted")
			}
		})
	}
}

func TestTargetLimitsGroups(t *testing.T) {
	f, _ := batchFake(t, tenantStep(t))
	c, _ := f.client()
	if _, err := c.Target(context.Background(), aliceUPN, guids(maxTargetGroups+1)); !errors.Is(err, graph.ErrBadRequest) {
		t.Fatalf("Target with %d groups = %v, want ErrBadRequest", maxTargetGroups+1, err)
	}
	if _, err := c.Target(context.Background(), aliceUPN, guids(maxTargetGroups)); err != nil {
		t.Fatalf("a full batch: %v", err)
	}
	if n := len(f.requests()); n != 2 { // the full target batch, the role batch
		t.Errorf("%d requests, want 2: the full target batch, the role batch", n)
	}
}

func stepHeaderOf(s batchStep, name string) string {
	for k, v := range s.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
