package msgraph

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// staticToken is a credential that always has the same token.
type staticToken struct{}

const testToken = "test-token"

func (staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: testToken, ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// seen is a request as the fake received it, body gunzipped.
type seen struct {
	Method string
	Path   string // decoded
	Query  url.Values
	Header http.Header
	Body   []byte
}

// fake is a small Graph stand-in over TLS: route answers one request, and every
// request is recorded. It decodes gzip bodies as the SDK's middleware sends them.
type fake struct {
	t     *testing.T
	srv   *httptest.Server
	route func(w http.ResponseWriter, r seen)
	mu    sync.Mutex
	reqs  []seen
}

func newFake(t *testing.T, route func(w http.ResponseWriter, r seen)) *fake {
	t.Helper()
	f := &fake{t: t, route: route}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) serve(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, "bad gzip", http.StatusBadRequest)
			return
		}
		body = zr
	}
	raw, _ := io.ReadAll(body)
	s := seen{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: raw}
	f.mu.Lock()
	f.reqs = append(f.reqs, s)
	f.mu.Unlock()
	f.route(w, s)
}

func (f *fake) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

// client returns a Client on f and the log it writes, at Debug.
func (f *fake) client() (*Client, *observer.ObservedLogs) {
	f.t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	c, err := New(Config{Credential: staticToken{}, BaseURL: f.srv.URL + "/v1.0", HTTPClient: f.srv.Client()}, zap.New(core))
	if err != nil {
		f.t.Fatal(err)
	}
	return c, logs
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func graphError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("request-id", "hdr-"+code)
	writeJSON(w, status, errBody(code, msg))
}

func errBody(code, msg string) map[string]any {
	return map[string]any{"error": map[string]any{
		"code": code, "message": msg,
		"innerError": map[string]any{"request-id": "req-" + code, "date": "2026-01-01T00:00:00"},
	}}
}

// logText is every captured log line with its fields, for "never logged" checks.
func logText(logs *observer.ObservedLogs) string {
	var b strings.Builder
	for _, e := range logs.All() {
		fmt.Fprintf(&b, "%s %s %v\n", e.Level, e.Message, e.ContextMap())
	}
	return b.String()
}

func decodeJSON(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(v); err != nil {
		t.Fatalf("decode %q: %v", raw, err)
	}
}
