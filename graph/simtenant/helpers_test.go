package simtenant

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a fake clock the tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// harness serves a Contoso tenant on a fake clock.
type harness struct {
	t      testing.TB
	srv    *Server
	tenant *Tenant
	clock  *clock
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	tenant := Contoso()
	c := &clock{now: time.Date(2025, 6, 2, 8, 30, 0, 0, time.UTC)}
	tenant.Now = c.Now
	tenant.SetAppID(testBotApp)
	srv := NewServer(tenant)
	t.Cleanup(srv.Close)
	return &harness{t: t, srv: srv, tenant: tenant, clock: c}
}

// resp is a decoded answer.
type resp struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// errCode is the Graph error code of an error answer.
func (r *resp) errCode() string {
	e, _ := r.body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func (r *resp) errMessage() string {
	e, _ := r.body["error"].(map[string]any)
	msg, _ := e["message"].(string)
	return msg
}

// values is the "value" array of a collection answer.
func (r *resp) values() []map[string]any {
	var out []map[string]any
	for _, v := range r.body["value"].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

// do sends a request to URL()+"/v1.0"+path with a bearer token. body is nil, a string
// (sent as is) or a value (sent as JSON).
func (h *harness) do(method, path string, body any) *resp {
	h.t.Helper()
	return h.doWith(method, h.srv.URL()+"/v1.0"+path, body, http.Header{"Authorization": {"Bearer test-token"}})
}

func (h *harness) doWith(method, rawURL string, body any, header http.Header) *resp {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			h.t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, rawURL, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header = header.Clone()
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	r := &resp{status: res.StatusCode, header: res.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			h.t.Fatalf("%s %s: answer is not JSON: %v\n%s", method, rawURL, err, raw)
		}
	}
	return r
}

// want fails the test unless the answer has the status (and, for errors, the code).
func (r *resp) want(t testing.TB, status int, code string) *resp {
	t.Helper()
	if r.status != status || r.errCode() != code {
		t.Fatalf("got %d %q, want %d %q\n%s", r.status, r.errCode(), status, code, r.raw)
	}
	return r
}

// dispatchOnce answers one request on a fresh Contoso tenant straight through the
// router, as the fuzz targets drive it, and fails t unless the answer is
// Graph-shaped: a status from 200 to 599, with an error exactly when it is 400 or
// more.
func dispatchOnce(t *testing.T, method, target, body string) (*Server, reply) {
	t.Helper()
	s := &Server{tenant: Contoso()}
	path, rawQuery, _ := strings.Cut(target, "?")
	c, err := newCall(method, path, rawQuery, []byte(body), "https://127.0.0.1/v1.0")
	var rep reply
	if err != nil {
		rep = fail(err)
	} else {
		rep = s.dispatch(c)
	}
	if rep.status < 200 || rep.status > 599 || (rep.status >= 400) != (rep.err != nil) {
		t.Fatalf("%s %s = %+v, want a status from 200 to 599 with an error exactly when it is 400 or more", method, target, rep)
	}
	return s, rep
}

// q escapes an OData query value for a URL.
func q(s string) string { return url.QueryEscape(s) }
