package simtenant

import (
	"bytes"
	"compress/gzip"
	"crypto/tls"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
)

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestAuthorizationRequired(t *testing.T) {
	h := newHarness(t)
	for _, auth := range []string{"", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "token"} {
		hdr := http.Header{}
		if auth != "" {
			hdr.Set("Authorization", auth)
		}
		r := h.doWith("GET", h.srv.URL()+"/v1.0/users/"+NinaID, nil, hdr).want(t, 401, "InvalidAuthenticationToken")
		if r.errMessage() != "Access token is empty." {
			t.Errorf("%q: message %q, want \"Access token is empty.\"", auth, r.errMessage())
		}
		if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%q: WWW-Authenticate %q, want a Bearer challenge", auth, r.header.Get("WWW-Authenticate"))
		}
	}
	h.doWith("GET", h.srv.URL()+"/v1.0/users/"+NinaID, nil, http.Header{"Authorization": {"bearer x"}}).want(t, 200, "")
}

func TestErrorShape(t *testing.T) {
	h := newHarness(t)
	hdr := http.Header{"Authorization": {"Bearer t"}, "Client-Request-Id": {"c0ffee00-0000-4000-8000-000000000000"}}
	r := h.doWith("GET", h.srv.URL()+"/v1.0/users/nobody@contoso.com", nil, hdr).want(t, 404, "Request_ResourceNotFound")
	if r.errMessage() != "Resource 'nobody@contoso.com' does not exist or one of its queried reference-property objects are not present." {
		t.Errorf("message %q, want Graph's \"Resource '…' does not exist or one of its queried reference-property objects are not present.\"", r.errMessage())
	}
	inner := r.body["error"].(map[string]any)["innerError"].(map[string]any)
	if inner["request-id"] != r.header.Get("request-id") || !guidRE.MatchString(r.header.Get("request-id")) {
		t.Errorf("innerError request-id %v, header %q; want the same GUID in both", inner["request-id"], r.header.Get("request-id"))
	}
	if inner["client-request-id"] != "c0ffee00-0000-4000-8000-000000000000" || r.header.Get("client-request-id") == "" {
		t.Errorf("innerError %v, header client-request-id %q; want c0ffee00-0000-4000-8000-000000000000 echoed in both", inner, r.header.Get("client-request-id"))
	}
	if inner["date"] != "2025-06-02T08:30:00" {
		t.Errorf("date %v, want Graph's zone-less format on the tenant clock", inner["date"])
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
}

func TestRouting(t *testing.T) {
	h := newHarness(t)
	for _, tt := range []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/groups", 400, "BadRequest"},
		{"GET", "/users/" + NinaID + "/drive", 400, "BadRequest"},
		{"GET", "/users/" + NinaID + "/authentication/nope", 400, "BadRequest"},
		{"GET", "/users/" + NinaID + "/authentication/temporaryAccessPassMethods/a/b", 400, "BadRequest"},
		{"GET", "/me", 400, "BadRequest"},
		{"DELETE", "/users/" + NinaID, 405, "Request_BadRequest"},
		{"PUT", "/users", 405, "Request_BadRequest"},
		{"GET", "/users/" + NinaID + "/checkMemberGroups", 405, "Request_BadRequest"},
		{"PUT", "/users/" + NinaID + "/authentication/temporaryAccessPassMethods", 405, "Request_BadRequest"},
		{"GET", "/$batch", 405, "Request_BadRequest"},
		{"DELETE", "/roleManagement/directory/roleEligibilityScheduleInstances", 405, "Request_BadRequest"},
		{"DELETE", "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass", 405, "Request_BadRequest"},
		{"GET", "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/Fido2", 404, "itemNotFound"},
		{"GET", "/USERS/" + strings.ToUpper(NinaUPN), 200, ""},
	} {
		r := h.do(tt.method, tt.path, nil)
		if r.status != tt.status || r.errCode() != tt.code {
			t.Errorf("%s %s: %d %q, want %d %q", tt.method, tt.path, r.status, r.errCode(), tt.status, tt.code)
		}
	}
	r := h.doWith("GET", h.srv.URL()+"/v2/users", nil, http.Header{"Authorization": {"Bearer t"}}).want(t, 400, "BadRequest")
	if r.errMessage() != "Invalid version: v2" {
		t.Errorf("message %q, want \"Invalid version: v2\"", r.errMessage())
	}
	// Beta serves only the Autopilot profiles (devices.go); v1.0 does not have them.
	h.doWith("GET", h.srv.URL()+"/beta/users", nil, http.Header{"Authorization": {"Bearer t"}}).want(t, 400, "BadRequest")
	h.doWith("GET", h.srv.URL()+"/v1.0/deviceManagement/windowsAutopilotDeploymentProfiles", nil, http.Header{"Authorization": {"Bearer t"}}).want(t, 400, "BadRequest")
}

func TestGzipRequestBody(t *testing.T) {
	h := newHarness(t)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write([]byte(`{"groupIds":["` + GroupNewHires + `","` + GroupStaff + `"]}`))
	_ = zw.Close()
	hdr := http.Header{"Authorization": {"Bearer t"}, "Content-Encoding": {"gzip"}, "Content-Type": {"application/json"}}
	r := h.doWith("POST", h.srv.URL()+"/v1.0/users/"+NinaID+"/checkMemberGroups", buf.Bytes(), hdr).want(t, 200, "")
	if v := r.body["value"].([]any); len(v) != 1 || v[0] != GroupNewHires {
		t.Errorf("checkMemberGroups from a gzipped body = %v, want [%s]", v, GroupNewHires)
	}
	// Not gzip at all, and an encoding Graph does not take (kiota retries uncompressed on 415).
	h.doWith("POST", h.srv.URL()+"/v1.0/users/"+NinaID+"/checkMemberGroups", "not gzip", hdr).want(t, 400, "BadRequest")
	hdr.Set("Content-Encoding", "br")
	h.doWith("POST", h.srv.URL()+"/v1.0/users/"+NinaID+"/checkMemberGroups", "{}", hdr).want(t, 415, "UnsupportedMediaType")
}

func TestFailNextWithRetryAfter(t *testing.T) {
	h := newHarness(t)
	h.srv.FailNext(2, 429, "3")
	h.srv.FailNext(1, 503, "")
	r := h.do("GET", "/users/"+NinaID, nil).want(t, 429, "TooManyRequests")
	if r.header.Get("Retry-After") != "3" {
		t.Errorf("Retry-After %q, want 3", r.header.Get("Retry-After"))
	}
	h.do("GET", "/users/"+NinaID, nil).want(t, 429, "TooManyRequests")
	r = h.do("GET", "/users/"+NinaID, nil).want(t, 503, "serviceNotAvailable")
	if _, ok := r.header["Retry-After"]; ok {
		t.Error("Retry-After sent though none was asked for")
	}
	h.do("GET", "/users/"+NinaID, nil).want(t, 200, "")
	if n := h.srv.RequestCount(); n != 4 {
		t.Errorf("RequestCount %d, want 4", n)
	}
	got := h.srv.Requests()
	if got[0].Status != 429 || got[3].Status != 200 || got[3].Path != "/v1.0/users/"+NinaID || got[3].Method != "GET" {
		t.Errorf("requests %+v, want the first answered 429 and the fourth GET /v1.0/users/%s answered 200", got, NinaID)
	}
	h.srv.FailNext(1, 500, "")
	h.do("GET", "/users/"+NinaID, nil).want(t, 500, "generalException")
}

func TestForbidAndReset(t *testing.T) {
	h := newHarness(t)
	h.srv.Forbid("/users/*/authentication")
	h.srv.FailNext(5, 429, "1")
	h.srv.Reset()
	h.do("GET", "/users/"+NinaID, nil).want(t, 200, "")
	if h.srv.RequestCount() != 1 {
		t.Fatalf("after Reset RequestCount = %d, want 1", h.srv.RequestCount())
	}
	h.srv.Forbid("/users/*/authentication")
	r := h.do("GET", "/users/"+NinaID+"/authentication/methods", nil).want(t, 403, "Authorization_RequestDenied")
	if r.errMessage() != "Insufficient privileges to complete the operation." {
		t.Errorf("message %q, want \"Insufficient privileges to complete the operation.\"", r.errMessage())
	}
	h.do("GET", "/users/"+NinaID, nil).want(t, 200, "")
	h.do("GET", "/users/"+NinaID+"/transitiveMemberOf", nil).want(t, 200, "")
}

func TestCertPoolTrustsServer(t *testing.T) {
	h := newHarness(t)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: h.srv.CertPool()}}}
	defer client.CloseIdleConnections()
	req, _ := http.NewRequest("GET", h.srv.URL()+"/v1.0/users/"+NinaID, nil)
	req.Header.Set("Authorization", "Bearer t")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("status %d, want 200", res.StatusCode)
	}
	if !strings.HasPrefix(h.srv.URL(), "https://127.0.0.1:") || h.srv.Certificate() == nil || h.srv.Tenant() != h.tenant {
		t.Errorf("URL %q, certificate set %v, Tenant() the served tenant %v; want https://127.0.0.1:…, true, true", h.srv.URL(), h.srv.Certificate() != nil, h.srv.Tenant() == h.tenant)
	}
}

// TestConcurrentUse runs readers, TAP creators and policy writers at once under -race.
func TestConcurrentUse(t *testing.T) {
	h := newHarness(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 10 {
				switch i % 4 {
				case 0:
					h.do("POST", "/users/"+NinaID+"/authentication/temporaryAccessPassMethods", map[string]any{}).want(t, 201, "")
				case 1:
					h.do("GET", "/users/"+NinaID+"/authentication/methods", nil).want(t, 200, "")
				case 2:
					h.do("POST", "/$batch", map[string]any{"requests": []map[string]any{
						{"id": "1", "method": "GET", "url": "/users/" + HanaID},
						{"id": "2", "method": "GET", "url": "/users/" + HanaID + "/transitiveMemberOf?$select=id,isAssignableToRole"},
					}}).want(t, 200, "")
				case 3:
					h.do("PATCH", "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass",
						map[string]any{"@odata.type": tapConfigType, "defaultLength": 8 + i}).want(t, 204, "")
					_ = h.tenant.TAPsOf(NinaID)
				}
			}
		})
	}
	wg.Wait()
	if got := h.srv.RequestCount(); got != 80 {
		t.Errorf("RequestCount = %d, want 80", got)
	}
	if got := len(h.srv.BatchedRequests()); got != 40 {
		t.Errorf("%d batched requests, want 40", got)
	}
	if taps := h.tenant.TAPsOf(NinaID); len(taps) != 1 {
		t.Errorf("Nina has %d TAPs, want exactly one after concurrent replaces", len(taps))
	}
}

func TestFailPathFailsBatchItems(t *testing.T) {
	h := newHarness(t)
	h.srv.FailPath("/roleManagement/directory/roleAssignments", http.StatusServiceUnavailable)
	r := h.do("POST", "/$batch", map[string]any{"requests": []map[string]any{
		{"id": "1", "method": "GET", "url": "/users/" + HanaID},
		{"id": "2", "method": "GET", "url": "/roleManagement/directory/roleAssignments?$filter=principalId eq '" + HanaID + "'"},
	}}).want(t, 200, "")
	items := responsesByID(t, r)
	if items["1"]["status"] != 200.0 || items["2"]["status"] != 503.0 {
		t.Errorf("items %v, want 1: 200 and 2: 503", items)
	}
	h.do("GET", "/roleManagement/directory/roleAssignments", nil).want(t, 503, "serviceNotAvailable")
	h.srv.Reset()
	h.do("GET", "/roleManagement/directory/roleAssignments", nil).want(t, 200, "")
}
