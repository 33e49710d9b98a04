// Package itest runs tapbot's flows end to end: the real endpoint (inbound JWTs
// signed by test keys), the real flows, the real msgraph-sdk-go client against the
// simulated Contoso tenant (graph/simtenant) over TLS, a real store, and a fake Bot
// Connector. Most tests run in one process on SQLite; process_test.go and
// replicas_test.go start real `tapbot serve` processes (killed, stopped, several on
// one PostgreSQL cluster). It lives apart from the flow packages so their unit tests
// stay free of the Graph SDK.
package itest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/bot/audit"
	"github.com/tapbot/tapbot/bot/botauth"
	"github.com/tapbot/tapbot/bot/connector"
	"github.com/tapbot/tapbot/bot/tap"
	"github.com/tapbot/tapbot/graph/msgraph"
	"github.com/tapbot/tapbot/graph/simtenant"
	"github.com/tapbot/tapbot/internal/bftest"
	"github.com/tapbot/tapbot/internal/store"
	"github.com/tapbot/tapbot/internal/store/sqlite"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// clock is the shared fake time of the flow and the fake tenant.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

type staticToken struct{}

func (staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "graph-test-token", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// syncBuffer collects every log line, JSON-encoded exactly as production writes them.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type env struct {
	t       testing.TB
	cloud   *bftest.Cloud
	graph   *simtenant.Server
	tenant  *simtenant.Tenant
	store   store.Store
	dbPath  string
	handler *bot.Handler
	flow    *tap.Flow
	srv     *httptest.Server
	reg     *prometheus.Registry
	logs    *syncBuffer
	clock   *clock
	token   string
	faults  *graphFaults
}

type option func(*tap.Config)

// newEnv runs the flows on a fresh SQLite database.
func newEnv(t testing.TB, opts ...option) *env {
	t.Helper()
	return newEnvOn(t, nil, opts...)
}

// newEnvOn runs the flows on st, or on a fresh SQLite database if st is nil.
func newEnvOn(t testing.TB, st store.Store, opts ...option) *env {
	t.Helper()
	cloud, err := bftest.New(bftest.Options{AppID: "8f0c2a1e-3b4d-4e5f-9a6b-7c8d9e0f1a2b", TenantID: simtenant.ContosoTenantID})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cloud.Close)
	clk := &clock{}
	tenant := simtenant.Contoso()
	tenant.Now = clk.now
	gs := simtenant.NewServer(tenant)
	t.Cleanup(gs.Close)

	logs := &syncBuffer{}
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(logs), zap.DebugLevel))

	faults := &graphFaults{base: gs.Client().Transport}
	gc, err := msgraph.New(msgraph.Config{Credential: staticToken{}, BaseURL: gs.URL() + "/v1.0",
		HTTPClient: &http.Client{Transport: faults}}, log)
	if err != nil {
		t.Fatal(err)
	}
	v, err := botauth.New(botauth.Config{AppID: cloud.AppID(), TenantID: cloud.TenantID(), MetadataURL: cloud.MetadataURL(), HTTPClient: cloud.Client()}, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	conn, err := connector.New(connector.Config{HTTPClient: cloud.Client(), CheckServiceURL: func(*url.URL) error { return nil },
		BaseBackoff: time.Millisecond}, log)
	if err != nil {
		t.Fatal(err)
	}
	var dbPath string
	if st == nil {
		dbPath = t.TempDir() + "/tapbot.db"
		sq, err := sqlite.Open(context.Background(), dbPath, log)
		if err != nil {
			t.Fatal(err)
		}
		st = sq
	}
	t.Cleanup(func() { _ = st.Close() })
	reg := prometheus.NewRegistry()
	h := bot.New(bot.Config{}, v, conn, st, bot.NewMetrics(reg), log)
	cfg := tap.Config{
		HelpdeskGroups: []string{simtenant.GroupHelpdesk},
		Rules:          tap.Rules{ProtectedGroups: []string{simtenant.GroupProtected}, ScopeGroups: []string{simtenant.GroupNewHires, simtenant.GroupStaff}},
		Now:            clk.now,
	}
	for _, o := range opts {
		o(&cfg)
	}
	flow, err := tap.New(cfg, gc, conn, st, log)
	if err != nil {
		t.Fatal(err)
	}
	flow.Register(h)
	audit.New(audit.Config{AuditorGroups: []string{simtenant.GroupApprovers}, Now: clk.now}, gc, st).Register(h)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	e := &env{cloud: cloud, graph: gs, tenant: tenant, store: st, dbPath: dbPath, handler: h, flow: flow, srv: srv,
		reg: reg, logs: logs, clock: clk, token: cloud.Mint(bftest.TokenOptions{}), t: t, faults: faults}
	return e
}

const (
	personalConv = "a:1contoso-hana-tapbot-personal"
	channelConv  = "19:contoso-onboarding@thread.tacv2;messageid=1"
	botAccount   = "28:8f0c2a1e-3b4d-4e5f-9a6b-7c8d9e0f1a2b"
)

var activitySeq atomic.Int64

// activity builds a Teams activity from the Contoso user with object id from.
func (e *env) activity(typ, scope, from, text string) map[string]any {
	conv := map[string]any{"id": personalConv, "conversationType": "personal", "tenantId": simtenant.ContosoTenantID}
	channelData := map[string]any{"tenant": map[string]any{"id": simtenant.ContosoTenantID}}
	var entities []any
	if scope == "channel" {
		conv = map[string]any{"id": channelConv, "conversationType": "channel", "isGroup": true, "tenantId": simtenant.ContosoTenantID}
		channelData["team"] = map[string]any{"id": "19:contoso-it-helpdesk-general@thread.tacv2"}
		if text != "" {
			text = "<at>tapbot</at> " + text
			entities = []any{map[string]any{"type": "mention", "text": "<at>tapbot</at>", "mentioned": map[string]any{"id": botAccount}}}
		}
	}
	a := map[string]any{
		"type": typ, "id": fmt.Sprintf("act-%d", activitySeq.Add(1)), "serviceUrl": e.cloud.ServiceURL(), "channelId": "msteams",
		"from":         map[string]any{"id": "29:" + from, "aadObjectId": from},
		"recipient":    map[string]any{"id": botAccount, "name": "tapbot"},
		"conversation": conv, "channelData": channelData, "text": text,
	}
	if entities != nil {
		a["entities"] = entities
	}
	return a
}

// post sends an activity and returns the HTTP status and decoded body.
func (e *env) post(a map[string]any) (int, map[string]any) {
	raw, _ := json.Marshal(a)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL, bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// command sends text and waits until the turn's background work is done.
func (e *env) command(scope, from, text string) []bftest.ConnectorCall {
	e.t.Helper()
	before := len(e.cloud.Calls())
	if status, _ := e.post(e.activity("message", scope, from, text)); status != http.StatusOK {
		e.t.Fatalf("POST %q: status %d, want 200", text, status)
	}
	e.drain()
	return e.cloud.Calls()[before:]
}

// invoke sends an Action.Execute and returns the invoke response body.
func (e *env) invoke(from, verb string, data any) map[string]any {
	e.t.Helper()
	a := e.activity("invoke", "personal", from, "")
	a["name"] = "adaptiveCard/action"
	a["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": verb, "data": data}}
	status, body := e.post(a)
	if status != http.StatusOK {
		e.t.Fatalf("invoke %s: status %d, want 200", verb, status)
	}
	e.drain()
	return body
}

// drain waits for background work (Later) to finish: the handler's Shutdown waits
// for it and leaves the handler usable.
func (e *env) drain() {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.handler.Shutdown(ctx); err != nil {
		e.t.Fatalf("background work did not finish: %v", err)
	}
}

// sent is what the bot sent in one connector call.
type sent struct {
	Text        string `json:"text"`
	Attachments []struct {
		Content json.RawMessage `json:"content"`
	} `json:"attachments"`
}

func decode(t testing.TB, c bftest.ConnectorCall) sent {
	t.Helper()
	var s sent
	if err := json.Unmarshal(c.Body, &s); err != nil {
		t.Fatalf("decode %s %s: %v", c.Method, c.Path, err)
	}
	return s
}

func (s sent) card() string {
	if len(s.Attachments) == 0 {
		return ""
	}
	return string(s.Attachments[0].Content)
}

// tapValue extracts the pass from a TAP card: the monospace run.
func tapValue(card string) string {
	var c struct {
		Body []struct {
			Type    string `json:"type"`
			Inlines []struct {
				Text     string `json:"text"`
				FontType string `json:"fontType"`
			} `json:"inlines"`
		} `json:"body"`
	}
	if json.Unmarshal([]byte(card), &c) != nil {
		return ""
	}
	for _, el := range c.Body {
		for _, r := range el.Inlines {
			if r.FontType == "Monospace" {
				return r.Text
			}
		}
	}
	return ""
}

// everythingOutsideTheOneToOne gathers every place a TAP must never appear: log
// lines, the database files, metrics, and messages to conversations other than the
// requester's 1:1 chat.
func (e *env) everythingOutsideTheOneToOne(extra ...string) map[string]string {
	e.t.Helper()
	places := map[string]string{"logs": e.logs.String()}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if b, err := os.ReadFile(e.dbPath + suffix); err == nil {
			places["db"+suffix] = string(b)
		}
	}
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	places["metrics"] = rec.Body.String()
	var public strings.Builder
	for _, c := range e.cloud.Calls() {
		if c.ConversationID != personalConv && !strings.HasPrefix(c.ConversationID, "a:new-") {
			public.Write(c.Body)
		}
	}
	places["non-1:1 messages"] = public.String()
	for i, x := range extra {
		places[fmt.Sprintf("extra %d", i)] = x
	}
	return places
}
