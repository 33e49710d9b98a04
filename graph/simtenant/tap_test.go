package simtenant

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tapbot/tapbot/graph"
)

func tapPath(user string) string {
	return "/users/" + user + "/authentication/temporaryAccessPassMethods"
}

func TestCreateTAP(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", tapPath(NinaUPN), map[string]any{}).want(t, 201, "")
	b := r.body
	value, _ := b["temporaryAccessPass"].(string)
	if b["@odata.type"] != "#microsoft.graph.temporaryAccessPassAuthenticationMethod" || !guidRE.MatchString(b["id"].(string)) ||
		len(value) != 8 || strings.Trim(value, tapAlphabet) != "" ||
		b["createdDateTime"] != "2025-06-02T08:30:00Z" || b["startDateTime"] != "2025-06-02T08:30:00Z" ||
		b["lifetimeInMinutes"] != 60.0 || b["isUsableOnce"] != false || b["isUsable"] != true ||
		b["methodUsabilityReason"] != "EnabledByPolicy" {
		t.Errorf("created %v, want a TAP with a GUID id, an 8-character value, created and starting now, 60 minutes, reusable, usable, EnabledByPolicy", b)
	}
	if b["@odata.context"] != h.srv.URL()+"/v1.0/$metadata#users('"+NinaID+"')/authentication/temporaryAccessPassMethods/$entity" {
		t.Errorf("context %v, want .../$metadata#users('%s')/authentication/temporaryAccessPassMethods/$entity", b["@odata.context"], NinaID)
	}
	// The documented request: a later start, a lifetime, reusable.
	r = h.do("POST", tapPath(NinaID), `{"startDateTime":"2025-06-03T09:00:00.000Z","lifetimeInMinutes":480,"isUsableOnce":false}`).want(t, 201, "")
	if r.body["startDateTime"] != "2025-06-03T09:00:00Z" || r.body["lifetimeInMinutes"] != 480.0 ||
		r.body["isUsable"] != false || r.body["methodUsabilityReason"] != "NotYetValid" {
		t.Errorf("scheduled %v, want start 2025-06-03T09:00:00Z, 480 minutes, not usable: NotYetValid", r.body)
	}
}

func TestTAPValueOnlyAtCreation(t *testing.T) {
	h := newHarness(t)
	created := h.do("POST", tapPath(NinaID), nil).want(t, 201, "").body
	value := created["temporaryAccessPass"].(string)
	id := created["id"].(string)

	list := h.do("GET", tapPath(NinaID), nil).want(t, 200, "")
	if v := list.values(); len(v) != 1 || v[0]["id"] != id || v[0]["temporaryAccessPass"] != nil {
		t.Errorf("list %v, want the one pass %s with temporaryAccessPass null", v, id)
	}
	if _, present := list.values()[0]["temporaryAccessPass"]; !present {
		t.Error("list omits temporaryAccessPass; Graph answers it as null")
	}
	item := h.do("GET", tapPath(NinaID)+"/"+id, nil).want(t, 200, "")
	if item.body["temporaryAccessPass"] != nil || item.body["methodUsabilityReason"] != "EnabledByPolicy" {
		t.Errorf("item %v, want temporaryAccessPass null and EnabledByPolicy", item.body)
	}
	all := h.do("GET", "/users/"+NinaID+"/authentication/methods", nil).want(t, 200, "")
	for _, r := range []*resp{list, item, all} {
		if bytes.Contains(r.raw, []byte(value)) {
			t.Errorf("answer %s, want no pass value after creation", r.raw)
		}
	}
	taps := h.tenant.TAPsOf(NinaID)
	if len(taps) != 1 || taps[0].Value.Reveal() != value || taps[0].ID != id || !taps[0].Usable {
		t.Errorf("TAPsOf = %+v, want the one usable pass %s with the created value", taps, id)
	}
}

func TestTAPReplacesPrevious(t *testing.T) {
	h := newHarness(t)
	first := h.do("POST", tapPath(NinaID), nil).want(t, 201, "").body
	second := h.do("POST", tapPath(NinaID), map[string]any{"lifetimeInMinutes": 30}).want(t, 201, "").body
	if first["id"] == second["id"] || first["temporaryAccessPass"] == second["temporaryAccessPass"] {
		t.Fatalf("second pass %v, want a new id and value, not the first's %v", second, first)
	}
	v := h.do("GET", tapPath(NinaID), nil).want(t, 200, "").values()
	if len(v) != 1 || v[0]["id"] != second["id"] {
		t.Errorf("after replace %v, want the second pass alone (%v)", v, second["id"])
	}
	h.do("GET", tapPath(NinaID)+"/"+first["id"].(string), nil).want(t, 404, "itemNotFound")
}

func TestTAPDelete(t *testing.T) {
	h := newHarness(t)
	id := h.do("POST", tapPath(NinaID), nil).want(t, 201, "").body["id"].(string)
	r := h.do("DELETE", tapPath(NinaUPN)+"/"+strings.ToUpper(id), nil).want(t, 204, "")
	if len(r.raw) != 0 {
		t.Errorf("204 with body %s, want none", r.raw)
	}
	if v := h.do("GET", tapPath(NinaID), nil).want(t, 200, "").values(); len(v) != 0 {
		t.Errorf("after delete %v, want none", v)
	}
	h.do("DELETE", tapPath(NinaID)+"/"+id, nil).want(t, 404, "itemNotFound")
	h.do("GET", tapPath("nobody")+"/"+id, nil).want(t, 404, "Request_ResourceNotFound")
}

const scopeRefusal = "Converged UserCredentialPolicy does not allow creating or updating this authentication method. AuthMethodType [TemporaryAccessPass]."

func TestTAPPolicyEnforcement(t *testing.T) {
	const internalGuest = "eeeeeeee-eeee-4eee-8eee-eeeeeeeeeeee"
	tests := []struct {
		name    string
		policy  func(p *graph.TAPPolicy)
		user    string
		body    any
		status  int
		code    string
		message string
		once    bool // the created pass's isUsableOnce
	}{
		{name: "new hire, defaults", user: NinaID, status: 201},
		{name: "staff through a nested group", user: HanaID, status: 201},
		{name: "lifetime at the minimum", user: NinaID, body: map[string]any{"lifetimeInMinutes": 10}, status: 201},
		{name: "lifetime at the maximum", user: NinaID, body: map[string]any{"lifetimeInMinutes": 480}, status: 201},
		{name: "lifetime below the minimum", user: NinaID, body: map[string]any{"lifetimeInMinutes": 9}, status: 400, code: "badRequest",
			message: "Invalid LifetimeInMinutes specified. The valid range between 10 and 480."},
		{name: "lifetime above the maximum", user: NinaID, body: map[string]any{"lifetimeInMinutes": 481}, status: 400, code: "badRequest"},
		{name: "huge lifetime", user: NinaID, body: `{"lifetimeInMinutes":9223372036854775807}`, status: 400, code: "badRequest"},
		{name: "outside the policy's groups", user: ColinID, status: 400, code: "badRequest", message: scopeRefusal},
		{name: "policy disabled", user: NinaID, policy: func(p *graph.TAPPolicy) { p.Enabled = false }, status: 400, code: "badRequest", message: scopeRefusal},
		{name: "excluded group", user: ErinID, policy: func(p *graph.TAPPolicy) { p.ExcludeTargets = []string{GroupProtected} }, status: 400, code: "badRequest", message: scopeRefusal},
		{name: "all users", user: ColinID, policy: func(p *graph.TAPPolicy) { p.IncludeTargets = []string{graph.AllUsers} }, status: 201},
		{name: "user target", user: ColinID, policy: func(p *graph.TAPPolicy) { p.IncludeTargets = []string{ColinID} }, status: 201},
		{name: "external guest", user: GregID, policy: func(p *graph.TAPPolicy) { p.IncludeTargets = []string{graph.AllUsers} }, status: 400, code: "badRequest",
			message: "Temporary Access Pass cannot be added to an external guest user."},
		{name: "internal guest", user: internalGuest, status: 201},
		{name: "disabled account: Graph does not refuse", user: DanID, status: 201},
		{name: "global administrator: Graph does not refuse an app", user: GwenID, status: 201},
		{name: "one-time forced, omitted", user: NinaID, policy: func(p *graph.TAPPolicy) { p.UsableOnce = true }, status: 201, once: true},
		{name: "one-time forced, asked reusable", user: NinaID, policy: func(p *graph.TAPPolicy) { p.UsableOnce = true },
			body: map[string]any{"isUsableOnce": false}, status: 400, code: "badRequest"},
		{name: "one-time asked", user: NinaID, body: map[string]any{"isUsableOnce": true}, status: 201, once: true},
		{name: "wrong type", user: NinaID, body: `{"lifetimeInMinutes":"60"}`, status: 400, code: "BadRequest"},
		{name: "fractional lifetime", user: NinaID, body: `{"lifetimeInMinutes":60.5}`, status: 400, code: "BadRequest"},
		{name: "malformed JSON", user: NinaID, body: `{"lifetimeInMinutes":`, status: 400, code: "BadRequest"},
		{name: "bad start", user: NinaID, body: map[string]any{"startDateTime": "tomorrow"}, status: 400, code: "badRequest"},
		{name: "unknown user", user: "nobody@contoso.com", status: 404, code: "Request_ResourceNotFound"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.tenant.AddUser(graph.User{ID: internalGuest, UserPrincipalName: "ivy@contoso.com", DisplayName: "Ivy Intern", UserType: "Guest", AccountEnabled: true})
			h.tenant.AddMember(GroupNewHires, internalGuest)
			if tt.policy != nil {
				p := h.tenant.TAPPolicy()
				tt.policy(&p)
				h.tenant.SetTAPPolicy(p)
			}
			r := h.do("POST", tapPath(tt.user), tt.body).want(t, tt.status, tt.code)
			if tt.message != "" && r.errMessage() != tt.message {
				t.Errorf("message %q, want %q", r.errMessage(), tt.message)
			}
			if tt.status == 201 && r.body["isUsableOnce"] != tt.once {
				t.Errorf("isUsableOnce %v, want %v", r.body["isUsableOnce"], tt.once)
			}
			if tt.status != 201 && len(h.tenant.TAPsOf(tt.user)) != 0 {
				t.Error("a refused request created a pass")
			}
		})
	}
}

func TestTAPUsabilityOverTime(t *testing.T) {
	h := newHarness(t)
	reason := func() (string, any) {
		v := h.do("GET", tapPath(NinaID), nil).want(t, 200, "").values()[0]
		return v["methodUsabilityReason"].(string), v["isUsable"]
	}
	start := h.clock.Now().Add(time.Hour).Format(time.RFC3339)
	h.do("POST", tapPath(NinaID), map[string]any{"startDateTime": start, "lifetimeInMinutes": 60}).want(t, 201, "")
	if r, usable := reason(); r != "NotYetValid" || usable != false {
		t.Errorf("before start: %s %v, want NotYetValid false", r, usable)
	}
	if err := h.tenant.UseTAP(NinaID); err == nil || !strings.Contains(err.Error(), "NotYetValid") {
		t.Errorf("UseTAP before start = %v, want a NotYetValid error", err)
	}
	h.clock.Advance(time.Hour)
	if r, usable := reason(); r != "EnabledByPolicy" || usable != true {
		t.Errorf("at start: %s %v, want EnabledByPolicy true", r, usable)
	}
	for range 2 { // reusable: more than one sign-in
		if err := h.tenant.UseTAP(NinaID); err != nil {
			t.Errorf("UseTAP: %v", err)
		}
	}
	h.clock.Advance(time.Hour)
	if r, usable := reason(); r != "Expired" || usable != false {
		t.Errorf("at expiry: %s %v, want Expired false", r, usable)
	}

	h.do("POST", tapPath(NinaID), map[string]any{"isUsableOnce": true}).want(t, 201, "")
	if err := h.tenant.UseTAP(NinaID); err != nil {
		t.Fatal(err)
	}
	if r, _ := reason(); r != "OneTimeUsed" {
		t.Errorf("after use: %s, want OneTimeUsed", r)
	}
	if err := h.tenant.UseTAP(NinaID); err == nil {
		t.Error("a one-time pass worked twice")
	}

	// Policy changes after creation make an existing pass unusable.
	h.do("POST", tapPath(NinaID), nil).want(t, 201, "")
	p := h.tenant.TAPPolicy()
	p.UsableOnce = true
	h.tenant.SetTAPPolicy(p)
	if r, _ := reason(); r != "DisabledByPolicy" {
		t.Errorf("reusable pass under a one-time policy: %s, want DisabledByPolicy", r)
	}
	p.UsableOnce, p.Enabled = false, false
	h.tenant.SetTAPPolicy(p)
	if r, _ := reason(); r != "DisabledByPolicy" {
		t.Errorf("policy disabled: %s, want DisabledByPolicy", r)
	}

	p.Enabled = true
	h.tenant.SetTAPPolicy(p)
	h.do("POST", tapPath(DanID), nil).want(t, 201, "")
	if err := h.tenant.UseTAP(DanID); err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Errorf("UseTAP for a disabled account = %v, want an error saying disabled", err)
	}
	if err := h.tenant.UseTAP(ColinID); err == nil {
		t.Error("UseTAP without a pass")
	}
	if err := h.tenant.UseTAP("nobody"); err == nil {
		t.Error("UseTAP for an unknown user")
	}
}

func TestCreateTAPFromGo(t *testing.T) {
	h := newHarness(t)
	tap, err := h.tenant.CreateTAP(NinaUPN, graph.TAPRequest{Lifetime: 2 * time.Hour, UsableOnce: true})
	if err != nil {
		t.Fatal(err)
	}
	if tap.Value.IsZero() || tap.Lifetime != 2*time.Hour || !tap.UsableOnce || !tap.Usable || tap.Expires() != h.clock.Now().Add(2*time.Hour) {
		t.Errorf("CreateTAP = %+v, want a value, 2h, usable once, usable, expiring in 2h", tap)
	}
	_, err = h.tenant.CreateTAP(ColinID, graph.TAPRequest{})
	var ge *graph.Error
	if !errors.As(err, &ge) || !errors.Is(err, graph.ErrBadRequest) || ge.Message != scopeRefusal {
		t.Errorf("CreateTAP(Colin) = %v, want a *graph.Error, ErrBadRequest, message %q", err, scopeRefusal)
	}
	if _, err := h.tenant.CreateTAP("nobody", graph.TAPRequest{}); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("CreateTAP(nobody) = %v, want ErrNotFound", err)
	}
	if _, err := h.tenant.CreateTAP(NinaID, graph.TAPRequest{Start: h.clock.Now().Add(time.Minute)}); err != nil {
		t.Error(err)
	}
}

func TestTAPValues(t *testing.T) {
	seen := map[string]bool{}
	for range 500 {
		v := newTAPValue(48)
		if len(v) != 48 || strings.Trim(v, tapAlphabet) != "" || seen[v] {
			t.Fatalf("newTAPValue(48) = %q, want 48 characters of the alphabet, never seen before", v)
		}
		seen[v] = true
	}
	if strings.ContainsAny(tapAlphabet, "0O1lI") {
		t.Error("ambiguous characters in the alphabet")
	}
	// The policy's length applies.
	h := newHarness(t)
	p := h.tenant.TAPPolicy()
	p.DefaultLength = 48
	h.tenant.SetTAPPolicy(p)
	if v := h.do("POST", tapPath(NinaID), nil).want(t, 201, "").body["temporaryAccessPass"].(string); len(v) != 48 {
		t.Errorf("pass length %d, want the policy's 48", len(v))
	}
}

func TestAuthenticationMethods(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/users/"+HanaUPN+"/authentication/methods", nil).want(t, 200, "")
	var types []string
	for _, v := range r.values() {
		types = append(types, v["@odata.type"].(string))
	}
	want := "[#microsoft.graph.passwordAuthenticationMethod #microsoft.graph.microsoftAuthenticatorAuthenticationMethod #microsoft.graph.windowsHelloForBusinessAuthenticationMethod]"
	if "["+strings.Join(types, " ")+"]" != want {
		t.Errorf("Hana's methods %v, want %s", types, want)
	}
	if r.values()[0]["id"] != "28c10230-6103-485e-b985-444c60001490" || r.body["@odata.context"] != h.srv.URL()+"/v1.0/$metadata#users('"+HanaID+"')/authentication/methods" {
		t.Errorf("methods %v, want the password's fixed id first and context .../$metadata#users('%s')/authentication/methods", r.body, HanaID)
	}

	authr := h.do("GET", "/users/"+HanaID+"/authentication/microsoftAuthenticatorMethods", nil).want(t, 200, "").values()
	if len(authr) != 1 || authr[0]["displayName"] != "Pixel 8" || authr[0]["deviceTag"] != "SoftwareTokenActivated" || authr[0]["createdDateTime"] != "2024-03-04T09:00:00Z" {
		t.Errorf("Authenticator methods %v, want Pixel 8, SoftwareTokenActivated, created 2024-03-04T09:00:00Z", authr)
	}
	whfb := h.do("GET", "/users/"+HanaID+"/authentication/windowsHelloForBusinessMethods", nil).want(t, 200, "").values()
	if len(whfb) != 1 || whfb[0]["keyStrength"] != "normal" || whfb[0]["displayName"] != "HANA-LAPTOP" {
		t.Errorf("WHfB methods %v, want HANA-LAPTOP with keyStrength normal", whfb)
	}
	fido := h.do("GET", "/users/"+AlexID+"/authentication/fido2Methods", nil).want(t, 200, "").values()
	if len(fido) != 1 || fido[0]["model"] != "YubiKey 5 NFC" || fido[0]["attestationLevel"] != "attested" {
		t.Errorf("FIDO2 methods %v, want an attested YubiKey 5 NFC", fido)
	}
	phone := h.do("GET", "/users/"+MaxID+"/authentication/phoneMethods", nil).want(t, 200, "").values()
	if len(phone) != 1 || phone[0]["phoneNumber"] != "+1 4255550102" || phone[0]["phoneType"] != "mobile" {
		t.Errorf("phone methods %v, want mobile +1 4255550102", phone)
	}

	// Nina has nothing until her TAP.
	if v := h.do("GET", "/users/"+NinaID+"/authentication/methods", nil).want(t, 200, "").values(); len(v) != 0 {
		t.Errorf("Nina's methods %v, want none", v)
	}
	h.do("POST", tapPath(NinaID), nil).want(t, 201, "")
	v := h.do("GET", "/users/"+NinaID+"/authentication/methods", nil).want(t, 200, "").values()
	if len(v) != 1 || v[0]["@odata.type"] != tapODataType || v[0]["temporaryAccessPass"] != nil {
		t.Errorf("Nina's methods after a TAP %v, want the TAP alone, its value null", v)
	}
	// She registers Authenticator with it.
	h.tenant.AddMethod(NinaID, graph.Method{Type: "microsoftAuthenticator", DisplayName: "iPhone 16"})
	if v := h.do("GET", "/users/"+NinaID+"/authentication/microsoftAuthenticatorMethods", nil).want(t, 200, "").values(); len(v) != 1 {
		t.Errorf("Nina's Authenticator methods %v, want 1", v)
	}
	h.do("GET", "/users/nobody/authentication/methods", nil).want(t, 404, "Request_ResourceNotFound")
	h.do("POST", "/users/"+NinaID+"/authentication/fido2Methods", map[string]any{}).want(t, 405, "Request_BadRequest")
}

// BenchmarkCreateTAP measures one TAP creation over HTTPS: the round trip, JSON both
// ways, the policy checks and the crypto/rand value.
func BenchmarkCreateTAP(b *testing.B) {
	h := newHarness(b)
	hdr := http.Header{"Authorization": {"Bearer t"}, "Content-Type": {"application/json"}}
	url := h.srv.URL() + "/v1.0" + tapPath(NinaID)
	for b.Loop() {
		req, _ := http.NewRequest("POST", url, strings.NewReader(`{"lifetimeInMinutes":60}`))
		req.Header = hdr.Clone()
		res, err := h.srv.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body) // drained, so the connection is reused
		_ = res.Body.Close()
		if res.StatusCode != 201 {
			b.Fatal(res.Status)
		}
	}
}
