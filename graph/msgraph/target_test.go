package msgraph

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
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
			t.Errorf("unexpected %s %s", r.Method, r.Path)
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
		case s.Method == "GET" && strings.HasSuffix(path, "/transitiveMemberOf/graph.directoryRole"):
			return stepAnswer{Status: 200, Body: map[string]any{"value": []any{
				map[string]any{"@odata.type": "#microsoft.graph.directoryRole", "id": "r1", "roleTemplateId": "729827e3-9c14-49f7-bb1b-9608f156bbb8", "displayName": "Helpdesk Administrator"},
			}}}
		case s.Method == "GET" && strings.HasSuffix(path, "/authentication/temporaryAccessPassMethods"):
			tap := createdTAPJSON()
			delete(tap, "temporaryAccessPass")
			return stepAnswer{Status: 200, Body: map[string]any{"value": []any{tap}}}
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
		t.Errorf("unexpected step %s %s", s.Method, s.URL)
		return stepAnswer{Status: 400, Body: errBody("BadRequest", "unexpected")}
	}
}

func TestTargetIsOneBatch(t *testing.T) {
	f, batches := batchFake(t, tenantStep(t))
	c, _ := f.client()
	groups := guids(25)
	tg, err := c.Target(context.Background(), aliceUPN, groups)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests()); n != 1 {
		t.Fatalf("%d HTTP requests, want one $batch", n)
	}
	if r := f.requests()[0]; r.Header.Get("Content-Encoding") != "gzip" || r.Header.Get("Authorization") != "Bearer "+testToken {
		t.Errorf("batch headers %v", r.Header)
	}
	if tg.User.ID != aliceID || !tg.User.AccountEnabled {
		t.Errorf("user %+v", tg.User)
	}
	if len(tg.ActiveRoles) != 1 || tg.ActiveRoles[0].RoleTemplateID != "729827e3-9c14-49f7-bb1b-9608f156bbb8" {
		t.Errorf("roles %+v", tg.ActiveRoles)
	}
	if want := []string{groups[0], groups[10], groups[20]}; !slices.Equal(tg.MemberOf, want) {
		t.Errorf("member of %v", tg.MemberOf)
	}
	if len(tg.TAPs) != 1 || tg.TAPs[0].ID != methodID || !tg.TAPs[0].Value.IsZero() {
		t.Errorf("TAPs %+v", tg.TAPs)
	}

	steps := (*batches)[0]
	if len(steps) != 5 { // user, roles, TAPs, 20 + 5 groups
		t.Fatalf("%d steps", len(steps))
	}
	user := steps[0]
	if user.Method != "GET" || !strings.HasPrefix(user.URL, "/users/alice%40contoso.com?$select=id,userPrincipalName,") {
		t.Errorf("user step %s %s: want a relative URL with a decoded $select", user.Method, user.URL)
	}
	for _, s := range steps[3:] {
		if s.Method != "POST" || s.URL != "/users/alice%40contoso.com/checkMemberGroups" || !strings.HasPrefix(stepHeaderOf(s, "Content-Type"), "application/json") {
			t.Errorf("group step %+v", s)
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
		t.Fatalf("err %v", err)
	}
	var ge *graph.Error
	if !errors.As(err, &ge) || ge.Code != "Request_ResourceNotFound" || ge.RequestID != "req-Request_ResourceNotFound" {
		t.Errorf("graph.Error %+v", ge)
	}
}

func TestTargetFailsClosedOnAnyStep(t *testing.T) {
	base := tenantStep(t)
	f, _ := batchFake(t, func(s batchStep) stepAnswer {
		if strings.Contains(s.URL, "transitiveMemberOf") {
			return stepAnswer{Status: 403, Body: errBody("Authorization_RequestDenied", "Insufficient privileges to complete the operation.")}
		}
		return base(s)
	})
	c, _ := f.client()
	tg, err := c.Target(context.Background(), aliceUPN, guids(3))
	if !errors.Is(err, graph.ErrForbidden) {
		t.Fatalf("err %v, target %+v", err, tg)
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
	if len(*batches) != 2 || len(tg.MemberOf) != 1 {
		t.Errorf("%d batches, member of %v", len(*batches), tg.MemberOf)
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
		t.Fatalf("err %v", err)
	}
	if len(*batches) != batchAttempts {
		t.Errorf("%d batches", len(*batches))
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
		t.Fatalf("err %v", err)
	}
	if _, err := c.Target(context.Background(), aliceUPN, guids(maxTargetGroups)); err != nil {
		t.Fatalf("a full batch: %v", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests", n)
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
