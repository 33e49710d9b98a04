package msgraph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tapbot/tapbot/graph"
)

const (
	aliceID  = "11111111-1111-4111-8111-111111111111"
	aliceUPN = "alice@contoso.com"
	methodID = "22222222-2222-4222-8222-222222222222"
	tapValue = "Xy7!q-TAP-SECRET-9"
)

func aliceJSON() map[string]any {
	return map[string]any{
		"id": aliceID, "userPrincipalName": aliceUPN, "mail": aliceUPN, "displayName": "Alice",
		"userType": "Member", "accountEnabled": true, "createdDateTime": "2026-01-02T03:04:05Z",
	}
}

func TestNewValidatesConfig(t *testing.T) {
	if _, err := New(Config{}, nil); err == nil {
		t.Error("no credential accepted")
	}
	for _, base := range []string{"http://graph.example/v1.0", "graph.microsoft.com/v1.0", "https://graph.example/v1.0?x=1", "://"} {
		if _, err := New(Config{Credential: staticToken{}, BaseURL: base}, nil); err == nil {
			t.Errorf("New with base URL %q accepted, want an error", base)
		}
	}
	c, err := New(Config{Credential: staticToken{}}, nil)
	if err != nil || c.base != DefaultBaseURL {
		t.Fatalf("New with defaults = %v, %v; want base %s, nil", c, err, DefaultBaseURL)
	}
}

func TestUserSelectsMapsAndSendsToken(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r seen) { writeJSON(w, 200, aliceJSON()) })
	c, _ := f.client()
	u, err := c.User(context.Background(), aliceUPN)
	if err != nil {
		t.Fatal(err)
	}
	want := graph.User{ID: aliceID, UserPrincipalName: aliceUPN, Mail: aliceUPN, DisplayName: "Alice", UserType: "Member",
		AccountEnabled: true, CreatedDateTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	if !u.CreatedDateTime.Equal(want.CreatedDateTime) {
		t.Errorf("created %v, want %v", u.CreatedDateTime, want.CreatedDateTime)
	}
	u.CreatedDateTime = want.CreatedDateTime
	if u != want {
		t.Errorf("User = %+v, want %+v", u, want)
	}
	r := f.requests()[0]
	if r.Method != "GET" || r.Path != "/v1.0/users/"+aliceUPN {
		t.Errorf("request %s %s, want GET /v1.0/users/%s", r.Method, r.Path, aliceUPN)
	}
	if got := r.Query.Get("$select"); got != strings.Join(userSelect, ",") {
		t.Errorf("$select %q, want %q", got, strings.Join(userSelect, ","))
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+testToken {
		t.Errorf("Authorization %q, want %q", got, "Bearer "+testToken)
	}
}

func TestNotFoundIsTyped(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r seen) {
		graphError(w, 404, "Request_ResourceNotFound", "Resource 'bob@contoso.com' does not exist")
	})
	c, _ := f.client()
	_, err := c.User(context.Background(), "bob@contoso.com")
	if !errors.Is(err, graph.ErrNotFound) {
		t.Fatalf("User = %v, want ErrNotFound", err)
	}
	var ge *graph.Error
	if !errors.As(err, &ge) || ge.Code != "Request_ResourceNotFound" || ge.RequestID != "req-Request_ResourceNotFound" || ge.Status != 404 {
		t.Fatalf("graph.Error %+v, want status 404, code Request_ResourceNotFound, request id req-Request_ResourceNotFound", ge)
	}
	if !strings.HasPrefix(err.Error(), "graph: get user: ") {
		t.Errorf("error %q, want it to start \"graph: get user: \"", err)
	}
}

func TestErrorWithoutMessageDoesNotPanic(t *testing.T) {
	// ODataError.Error dereferences the message; an answer without one must still
	// come back as a typed error.
	f := newFake(t, func(w http.ResponseWriter, r seen) {
		writeJSON(w, 403, map[string]any{"error": map[string]any{"code": "Authorization_RequestDenied"}})
	})
	c, _ := f.client()
	_, err := c.User(context.Background(), aliceID)
	if !errors.Is(err, graph.ErrForbidden) {
		t.Fatalf("User = %v, want ErrForbidden", err)
	}
}

func TestRefsAreCheckedBeforeAnyRequest(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r seen) { t.Errorf("request made: %s %s, want none", r.Method, r.Path) })
	c, _ := f.client()
	ctx := context.Background()
	bad := []string{"", "../../me", "alice@contoso.com/../admin", "a?b@contoso.com", "alice", "alice@contoso",
		"al ice@contoso.com", "alice@contoso.com\r\nX-Injected: 1", "\x00@x.y", strings.Repeat("a", 300) + "@contoso.com",
		"$alice@contoso.com", "alice.@contoso.com", "alice@-contoso.com"}
	for _, ref := range bad {
		_, err := c.User(ctx, ref)
		if !errors.Is(err, graph.ErrBadRequest) && !errors.Is(err, graph.ErrNotFound) {
			t.Errorf("User(%q) = %v, want ErrBadRequest or ErrNotFound", ref, err)
		}
		if _, err := c.Target(ctx, ref, nil); err == nil {
			t.Errorf("Target(%q) accepted, want an error", ref)
		}
		if _, err := c.TAPs(ctx, ref); err == nil {
			t.Errorf("TAPs(%q) accepted, want an error", ref)
		}
		if _, err := c.CreateTAP(ctx, ref, graph.TAPRequest{}); err == nil {
			t.Errorf("CreateTAP(%q) accepted, want an error", ref)
		}
		if err := c.DeleteTAP(ctx, ref, methodID); err == nil {
			t.Errorf("DeleteTAP(%q) accepted, want an error", ref)
		}
	}
	// A mail address that cannot be a UPN is "not found" (callers then try mail);
	// path-breaking input is a bad request.
	if _, err := c.User(ctx, "a+b@contoso.com"); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("User(plus address) = %v, want ErrNotFound", err)
	}
	if _, err := c.User(ctx, "a?b"); !errors.Is(err, graph.ErrBadRequest) {
		t.Errorf("User(%q) = %v, want ErrBadRequest", "a?b", err)
	}
	if err := c.DeleteTAP(ctx, aliceID, "../x"); !errors.Is(err, graph.ErrBadRequest) {
		t.Errorf("DeleteTAP with method id ../x = %v, want ErrBadRequest", err)
	}
	if _, err := c.CheckMemberGroups(ctx, aliceID, []string{"not-a-guid"}); !errors.Is(err, graph.ErrBadRequest) {
		t.Errorf("CheckMemberGroups with group id not-a-guid = %v, want ErrBadRequest", err)
	}
	if _, err := c.UserByMail(ctx, "no-at-sign"); !errors.Is(err, graph.ErrBadRequest) {
		t.Errorf("UserByMail(no-at-sign) = %v, want ErrBadRequest", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests, want 0", n)
	}
}

func TestUserByMailEscapesTheFilter(t *testing.T) {
	var answer []any
	f := newFake(t, func(w http.ResponseWriter, r seen) { writeJSON(w, 200, map[string]any{"value": answer}) })
	c, _ := f.client()
	ctx := context.Background()

	answer = []any{aliceJSON()}
	// Quotes, '+' and '&' must survive: doubled for OData, percent-encoded for the URL.
	mail := "o'brien+x&y')or('1'eq'1@contoso.com"
	u, err := c.UserByMail(ctx, mail)
	if err != nil || u.ID != aliceID {
		t.Fatalf("UserByMail = %+v, %v; want Alice, nil", u, err)
	}
	r := f.requests()[0]
	if r.Path != "/v1.0/users" {
		t.Errorf("path %s, want /v1.0/users", r.Path)
	}
	if got, want := r.Query.Get("$filter"), "mail eq 'o''brien+x&y'')or(''1''eq''1@contoso.com'"; got != want {
		t.Errorf("$filter on the wire\n got %s\nwant %s", got, want)
	}
	if r.Query.Get("$top") != "2" {
		t.Errorf("$top %q, want 2", r.Query.Get("$top"))
	}

	answer = nil
	if _, err := c.UserByMail(ctx, "nobody@contoso.com"); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("UserByMail with no match = %v, want ErrNotFound", err)
	}
	answer = []any{aliceJSON(), aliceJSON()}
	if _, err := c.UserByMail(ctx, "shared@contoso.com"); !errors.Is(err, graph.ErrConflict) {
		t.Errorf("UserByMail with two matches = %v, want ErrConflict", err)
	}
}

func guids(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%08d-0000-4000-8000-000000000000", i+1)
	}
	return ids
}

func TestCheckMemberGroupsChunksAndGzips(t *testing.T) {
	groups := guids(45)
	f := newFake(t, func(w http.ResponseWriter, r seen) {
		var body struct{ GroupIDs []string }
		decodeJSON(t, r.Body, &body)
		var member []string
		for _, id := range body.GroupIDs {
			if strings.HasSuffix(id[:8], "1") { // 1, 11, 21, 31, 41
				member = append(member, id)
			}
		}
		writeJSON(w, 200, map[string]any{"value": member})
	})
	c, _ := f.client()
	got, err := c.CheckMemberGroups(context.Background(), aliceID, groups)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{groups[0], groups[10], groups[20], groups[30], groups[40]}
	if !slices.Equal(got, want) {
		t.Errorf("CheckMemberGroups = %v, want %v", got, want)
	}
	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 (20+20+5)", len(reqs))
	}
	for _, r := range reqs {
		if r.Method != "POST" || r.Path != "/v1.0/users/"+aliceID+"/checkMemberGroups" || r.Header.Get("Content-Encoding") != "gzip" {
			t.Errorf("request %s %s %v, want gzipped POST /v1.0/users/%s/checkMemberGroups", r.Method, r.Path, r.Header, aliceID)
		}
	}
	if none, err := c.CheckMemberGroups(context.Background(), aliceID, nil); err != nil || none != nil || len(f.requests()) != 3 {
		t.Errorf("CheckMemberGroups(nil) = %v, %v with %d requests in all; want nil, nil and still 3", none, err, len(f.requests()))
	}
}

func tapPolicyJSON() map[string]any {
	return map[string]any{
		"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration",
		"id":          "TemporaryAccessPass", "state": "enabled",
		"defaultLifetimeInMinutes": 60, "defaultLength": 8, "minimumLifetimeInMinutes": 10, "maximumLifetimeInMinutes": 480,
		"isUsableOnce":   true,
		"includeTargets": []any{map[string]any{"id": "all_users", "targetType": "group", "isRegistrationRequired": false}},
		"excludeTargets": []any{map[string]any{"id": "33333333-3333-4333-8333-333333333333", "targetType": "group"}},
	}
}

func TestTAPPolicy(t *testing.T) {
	answer := tapPolicyJSON()
	status := 200
	f := newFake(t, func(w http.ResponseWriter, r seen) {
		if status != 200 {
			graphError(w, status, "accessDenied", "Request Authorization failed")
			return
		}
		writeJSON(w, 200, answer)
	})
	c, _ := f.client()
	p, err := c.TAPPolicy(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !p.Enabled || p.DefaultLifetime != time.Hour || p.MinLifetime != 10*time.Minute || p.MaxLifetime != 8*time.Hour ||
		!p.UsableOnce || p.DefaultLength != 8 || !slices.Equal(p.IncludeTargets, []string{graph.AllUsers}) ||
		!slices.Equal(p.ExcludeTargets, []string{"33333333-3333-4333-8333-333333333333"}) {
		t.Errorf("TAPPolicy = %+v, want enabled, 1h default, 10m to 8h, usable once, length 8, all users but 33333333-…", p)
	}
	if got := f.requests()[0].Path; got != "/v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass" {
		t.Errorf("path %s, want /v1.0/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass", got)
	}

	delete(answer, "state") // the enum's zero value is "enabled": absent must not read so
	if p, err := c.TAPPolicy(context.Background()); err != nil || p.Enabled {
		t.Errorf("TAPPolicy without state = %+v, %v; want disabled, nil", p, err)
	}
	answer["@odata.type"] = "#microsoft.graph.emailAuthenticationMethodConfiguration"
	if _, err := c.TAPPolicy(context.Background()); err == nil {
		t.Error("other configuration type accepted")
	}
	status = 403
	if _, err := c.TAPPolicy(context.Background()); !errors.Is(err, graph.ErrForbidden) {
		t.Errorf("TAPPolicy on a 403 = %v, want ErrForbidden", err)
	}
}

func createdTAPJSON() map[string]any {
	return map[string]any{
		"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethod",
		"id":          methodID, "temporaryAccessPass": tapValue, "createdDateTime": "2026-03-01T10:00:00Z",
		"startDateTime": "2026-03-01T10:00:00Z", "lifetimeInMinutes": 60, "isUsableOnce": true, "isUsable": true,
		"methodUsabilityReason": "EnabledByPolicy",
	}
}

func TestCreateTAPRetriesThrottlingAndKeepsTheSecret(t *testing.T) {
	var calls atomic.Int32
	f := newFake(t, func(w http.ResponseWriter, r seen) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			graphError(w, 429, "TooManyRequests", "slow down")
			return
		}
		writeJSON(w, 201, createdTAPJSON())
	})
	c, logs := f.client()
	start := time.Date(2026, 3, 1, 11, 0, 0, 0, time.FixedZone("CET", 3600))
	tp, err := c.CreateTAP(context.Background(), aliceID, graph.TAPRequest{Start: start, Lifetime: time.Hour, UsableOnce: true})
	if err != nil {
		t.Fatal(err)
	}
	if tp.Value.Reveal() != tapValue || tp.ID != methodID || tp.Lifetime != time.Hour || !tp.UsableOnce || !tp.Usable ||
		tp.UsabilityReason != "EnabledByPolicy" || !tp.Expires().Equal(time.Date(2026, 3, 1, 11, 0, 0, 0, time.UTC)) {
		t.Errorf("CreateTAP = %+v, want the created pass: its value and id, 1h, usable once, usable, EnabledByPolicy, expiring 11:00 UTC", tp)
	}
	reqs := f.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2: 429 then 201", len(reqs))
	}
	r := reqs[1]
	if r.Method != "POST" || r.Path != "/v1.0/users/"+aliceID+"/authentication/temporaryAccessPassMethods" || r.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("request %s %s %v, want gzipped POST /v1.0/users/%s/authentication/temporaryAccessPassMethods", r.Method, r.Path, r.Header, aliceID)
	}
	var body map[string]any
	decodeJSON(t, r.Body, &body)
	if body["lifetimeInMinutes"] != float64(60) || body["isUsableOnce"] != true || body["startDateTime"] != "2026-03-01T10:00:00Z" {
		t.Errorf("body %v, want lifetimeInMinutes 60, isUsableOnce true, startDateTime 2026-03-01T10:00:00Z", body)
	}
	if _, ok := body["temporaryAccessPass"]; ok {
		t.Errorf("body %v, want no temporaryAccessPass in a request", body)
	}
	if s := fmt.Sprintf("%v %+v %#v", tp, tp, tp); strings.Contains(s, tapValue) {
		t.Errorf("TAP prints as %s, want the value hidden", s)
	}
	if s := logText(logs); strings.Contains(s, tapValue) || !strings.Contains(s, "TAP created") {
		t.Errorf("log:\n%s\nwant \"TAP created\" and never the value", s)
	}
}

func TestRetriedPOSTKeepsItsBody(t *testing.T) {
	// The SDK orders its middleware at random per client; with compression inside
	// retry, a retried POST went out as plain JSON labelled gzip. Every client built
	// here must resend the compressed body intact.
	var calls atomic.Int32
	f := newFake(t, func(w http.ResponseWriter, r seen) {
		if len(r.Body) == 0 || r.Body[0] != '{' {
			t.Errorf("attempt %d: body %q, Content-Encoding %q; want the JSON body intact", calls.Load(), r.Body, r.Header.Get("Content-Encoding"))
		}
		if calls.Add(1)%2 == 1 {
			w.Header().Set("Retry-After", "0")
			graphError(w, 429, "TooManyRequests", "slow down")
			return
		}
		writeJSON(w, 201, createdTAPJSON())
	})
	for i := 0; i < 8; i++ {
		c, _ := f.client()
		if _, err := c.CreateTAP(context.Background(), aliceID, graph.TAPRequest{Lifetime: time.Hour}); err != nil {
			t.Fatalf("client %d: %v", i, err)
		}
	}
	for i, r := range f.requests() {
		var body map[string]any
		decodeJSON(t, r.Body, &body)
		if body["lifetimeInMinutes"] != float64(60) {
			t.Errorf("request %d body %v, want lifetimeInMinutes 60", i, body)
		}
	}
}

func TestMiddlewareOrderIsFixed(t *testing.T) {
	for i := 0; i < 10; i++ {
		ms := middlewares()
		if len(ms) != len(middlewareOrder) {
			t.Fatalf("%d middlewares, want %d: the SDK's defaults changed, review middlewareOrder", len(ms), len(middlewareOrder))
		}
		for j, m := range ms {
			if reflect.TypeOf(m) != middlewareOrder[j] {
				t.Fatalf("middleware %d is %T, want %v", j, m, middlewareOrder[j])
			}
		}
	}
}

func TestCreateTAPRequestShape(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r seen) {
		m := createdTAPJSON()
		if strings.Contains(string(r.Body), "nopass") {
			delete(m, "temporaryAccessPass")
		}
		writeJSON(w, 201, m)
	})
	c, _ := f.client()
	ctx := context.Background()
	if _, err := c.CreateTAP(ctx, aliceUPN, graph.TAPRequest{}); err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	decodeJSON(t, f.requests()[0].Body, &body)
	for _, k := range []string{"lifetimeInMinutes", "isUsableOnce", "startDateTime"} {
		if _, ok := body[k]; ok {
			t.Errorf("zero request sent %s: %v, want it left out", k, body)
		}
	}
	for _, d := range []time.Duration{5 * time.Minute, 31 * 24 * time.Hour, 90 * time.Second} {
		if _, err := c.CreateTAP(ctx, aliceID, graph.TAPRequest{Lifetime: d}); !errors.Is(err, graph.ErrBadRequest) {
			t.Errorf("CreateTAP with lifetime %s = %v, want ErrBadRequest", d, err)
		}
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests, want 1 (bad lifetimes are refused before sending)", n)
	}
}

func TestCreateTAPErrorsAreTyped(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r seen) {
		graphError(w, 400, "badRequest", "The Temporary Access Pass policy is disabled for this user.")
	})
	c, logs := f.client()
	_, err := c.CreateTAP(context.Background(), aliceID, graph.TAPRequest{})
	if !errors.Is(err, graph.ErrBadRequest) || !strings.HasPrefix(err.Error(), "graph: create TAP: ") {
		t.Fatalf("CreateTAP = %v, want ErrBadRequest starting \"graph: create TAP: \"", err)
	}
	if !strings.Contains(logText(logs), "request_id:req-badRequest") {
		t.Errorf("log:\n%s\nwant the failure with request_id:req-badRequest", logText(logs))
	}
}

func TestTAPsNeverCarryAValue(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r seen) {
		// Graph never returns the pass here; even a server that did must not leak it.
		writeJSON(w, 200, map[string]any{"value": []any{createdTAPJSON()}})
	})
	c, _ := f.client()
	taps, err := c.TAPs(context.Background(), aliceUPN)
	if err != nil || len(taps) != 1 {
		t.Fatalf("TAPs = %v, %v; want 1 pass, nil", taps, err)
	}
	if !taps[0].Value.IsZero() || taps[0].ID != methodID {
		t.Errorf("TAP %+v, want id %s and no value", taps[0], methodID)
	}
	if p := f.requests()[0].Path; p != "/v1.0/users/"+aliceUPN+"/authentication/temporaryAccessPassMethods" {
		t.Errorf("path %s, want /v1.0/users/%s/authentication/temporaryAccessPassMethods", p, aliceUPN)
	}
}

func TestDeleteTAP(t *testing.T) {
	status := 204
	f := newFake(t, func(w http.ResponseWriter, r seen) {
		if status == 204 {
			w.WriteHeader(204)
			return
		}
		graphError(w, status, "itemNotFound", "gone")
	})
	c, _ := f.client()
	if err := c.DeleteTAP(context.Background(), aliceID, methodID); err != nil {
		t.Fatal(err)
	}
	r := f.requests()[0]
	if r.Method != "DELETE" || r.Path != "/v1.0/users/"+aliceID+"/authentication/temporaryAccessPassMethods/"+methodID {
		t.Errorf("request %s %s, want DELETE /v1.0/users/%s/authentication/temporaryAccessPassMethods/%s", r.Method, r.Path, aliceID, methodID)
	}
	status = 404
	if err := c.DeleteTAP(context.Background(), aliceID, methodID); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("DeleteTAP on a 404 = %v, want ErrNotFound", err)
	}
}

func TestMethodsMapSubtypes(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r seen) {
		writeJSON(w, 200, map[string]any{"value": []any{
			map[string]any{"@odata.type": "#microsoft.graph.passwordAuthenticationMethod", "id": "28c10230-6103-485e-b985-444c60001490"},
			map[string]any{"@odata.type": "#microsoft.graph.microsoftAuthenticatorAuthenticationMethod", "id": "m1", "displayName": "Pixel 9", "createdDateTime": "2026-02-01T00:00:00Z"},
			map[string]any{"@odata.type": "#microsoft.graph.phoneAuthenticationMethod", "id": "p1", "phoneNumber": "+1 555 0100", "phoneType": "mobile"},
			map[string]any{"@odata.type": "#microsoft.graph.fido2AuthenticationMethod", "id": "f1", "displayName": "YubiKey 5"},
			map[string]any{"@odata.type": "#microsoft.graph.softwareOathAuthenticationMethod", "id": "s1", "secretKey": "JBSWY3DPEHPK3PXP"},
			map[string]any{"@odata.type": "#microsoft.graph.someFutureAuthenticationMethod", "id": "x1"},
		}})
	})
	c, _ := f.client()
	ms, err := c.Methods(context.Background(), aliceID)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, m := range ms {
		types = append(types, m.Type)
	}
	if want := []string{"password", "microsoftAuthenticator", "phone", "fido2", "softwareOath", "someFuture"}; !slices.Equal(types, want) {
		t.Errorf("types %v, want %v", types, want)
	}
	if ms[1].DisplayName != "Pixel 9" || ms[1].Created.IsZero() || ms[2].DisplayName != "mobile" || ms[3].DisplayName != "YubiKey 5" {
		t.Errorf("methods %+v, want Pixel 9 with its creation time, the phone as mobile, YubiKey 5", ms)
	}
	if s := fmt.Sprintf("%+v", ms); strings.Contains(s, "555") || strings.Contains(s, "JBSWY3DP") {
		t.Errorf("methods %s, want neither the phone number nor the OATH secret", s)
	}
}

func TestPersistentUnavailability(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r seen) {
		w.Header().Set("Retry-After", "0")
		graphError(w, 503, "serviceNotAvailable", "try later")
	})
	c, _ := f.client()
	_, err := c.User(context.Background(), aliceID)
	if !errors.Is(err, graph.ErrUnavailable) {
		t.Fatalf("User = %v, want ErrUnavailable", err)
	}
	if n := len(f.requests()); n != 4 {
		t.Errorf("%d requests, want 1 + 3 retries", n)
	}
}

func TestNonJSONErrorKeepsItsStatus(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r seen) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		_, _ = w.Write([]byte("<html>Bad Gateway</html>"))
	})
	c, _ := f.client()
	_, err := c.User(context.Background(), aliceID)
	var ge *graph.Error
	if !errors.Is(err, graph.ErrUnavailable) || !errors.As(err, &ge) || ge.Status != 502 {
		t.Fatalf("User = %v, want ErrUnavailable as a *graph.Error with status 502", err)
	}
}

func TestTransportFailureIsUnavailable(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r seen) {})
	c, _ := f.client()
	f.srv.Close()
	_, err := c.User(context.Background(), aliceID)
	if !errors.Is(err, graph.ErrUnavailable) {
		t.Fatalf("User = %v, want ErrUnavailable", err)
	}
}

func TestCallerCancellationStaysAContextError(t *testing.T) {
	release := make(chan struct{})
	f := newFake(t, func(w http.ResponseWriter, r seen) { <-release })
	defer close(release)
	c, _ := f.client()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.User(ctx, aliceID)
	if !errors.Is(err, context.DeadlineExceeded) || errors.Is(err, graph.ErrUnavailable) {
		t.Fatalf("User = %v, want context.DeadlineExceeded, not ErrUnavailable", err)
	}
}
