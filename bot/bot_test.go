package bot_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/bot/botauth"
	"github.com/tapbot/tapbot/bot/command"
	"github.com/tapbot/tapbot/bot/connector"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/internal/bftest"
	"github.com/tapbot/tapbot/internal/store"
	"github.com/tapbot/tapbot/internal/store/sqlite"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

const (
	userAAD = "11111111-1111-4111-8111-111111111111"
	botID   = "28:bot"
)

type env struct {
	t       *testing.T
	cloud   *bftest.Cloud
	handler *bot.Handler
	srv     *httptest.Server
	store   *sqlite.Store
	logs    *observer.ObservedLogs
	token   string
}

func newEnv(t *testing.T, loadKeys bool, register func(h *bot.Handler)) *env {
	t.Helper()
	cloud, err := bftest.New(bftest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cloud.Close)
	core, logs := observer.New(zap.DebugLevel)
	log := zap.New(core)
	v, err := botauth.New(botauth.Config{AppID: cloud.AppID(), TenantID: cloud.TenantID(),
		MetadataURL: cloud.MetadataURL(), HTTPClient: cloud.Client()}, log)
	if err != nil {
		t.Fatal(err)
	}
	if loadKeys {
		if err := v.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := connector.New(connector.Config{
		HTTPClient: cloud.Client(), CheckServiceURL: func(*url.URL) error { return nil },
		MaxAttempts: 2, BaseBackoff: time.Millisecond,
	}, log)
	if err != nil {
		t.Fatal(err)
	}
	st, err := sqlite.Open(context.Background(), t.TempDir()+"/tapbot.db", zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	h := bot.New(bot.Config{MaxBodyBytes: 64 << 10}, v, conn, st, bot.NewMetrics(prometheus.NewRegistry()), log)
	if register != nil {
		register(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, cloud: cloud, handler: h, srv: srv, store: st, logs: logs, token: cloud.Mint(bftest.TokenOptions{})}
}

var nextID atomic.Int64

// activity returns a Teams-shaped activity of the given scope.
func (e *env) activity(typ, scope, text string) map[string]any {
	conv := map[string]any{"id": "a:personal-1", "conversationType": "personal", "tenantId": e.cloud.TenantID()}
	channelData := map[string]any{"tenant": map[string]any{"id": e.cloud.TenantID()}}
	if scope == "channel" {
		conv = map[string]any{"id": "19:chan@thread.tacv2;messageid=1", "conversationType": "channel", "isGroup": true, "tenantId": e.cloud.TenantID()}
		channelData["team"] = map[string]any{"id": "19:team@thread.tacv2"}
		channelData["channel"] = map[string]any{"id": "19:chan@thread.tacv2"}
	}
	return map[string]any{
		"type": typ, "id": fmt.Sprintf("act-%d", nextID.Add(1)), "timestamp": time.Now().UTC().Format(time.RFC3339Nano),
		"serviceUrl": e.cloud.ServiceURL(), "channelId": "msteams",
		"from":         map[string]any{"id": "29:user", "name": "Hana", "aadObjectId": userAAD},
		"recipient":    map[string]any{"id": botID, "name": "tapbot"},
		"conversation": conv, "channelData": channelData, "text": text,
	}
}

func (e *env) post(body any, header string) *http.Response {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL, bytes.NewReader(raw))
	if header != "" {
		req.Header.Set("Authorization", header)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (e *env) send(a map[string]any) *http.Response { return e.post(a, "Bearer "+e.token) }

func (e *env) waitCalls(n int) []bftest.ConnectorCall {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	calls, err := e.cloud.WaitCalls(ctx, n)
	if err != nil {
		e.t.Fatalf("waiting for connector calls: %v; got %d, want %d", err, len(e.cloud.Calls()), n)
	}
	return calls
}

type sent struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	ReplyToID   string `json:"replyToId"`
	Attachments []struct {
		ContentType string          `json:"contentType"`
		Content     json.RawMessage `json:"content"`
	} `json:"attachments"`
	From struct {
		ID string `json:"id"`
	} `json:"from"`
}

func decodeSent(t *testing.T, c bftest.ConnectorCall) sent {
	t.Helper()
	var s sent
	if err := json.Unmarshal(c.Body, &s); err != nil {
		t.Fatalf("decode connector body: %v", err)
	}
	return s
}

func TestHelpInEveryForm(t *testing.T) {
	tests := []struct {
		name, scope, text string
		mention           bool
		wantLabel         string
	}{
		{"slash command in personal chat", "personal", "/help", false, "in this personal chat"},
		{"no slash, upper case", "personal", "  HELP  ", false, "in this personal chat"},
		{"mention in channel", "channel", "<at>tapbot</at> help", true, "in this channel"},
		{"mention with slash and nbsp", "channel", "<at>tapbot</at>\u00a0/Help", true, "in this channel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, true, nil)
			a := e.activity("message", tt.scope, tt.text)
			if tt.mention {
				a["entities"] = []any{map[string]any{"type": "mention", "text": "<at>tapbot</at>",
					"mentioned": map[string]any{"id": botID, "name": "tapbot"}}}
			}
			if resp := e.send(a); resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200", resp.StatusCode)
			}
			calls := e.waitCalls(1)
			c := calls[0]
			if c.Method != http.MethodPost || c.ActivityID != a["id"] || c.ConversationID != a["conversation"].(map[string]any)["id"] {
				t.Fatalf("reply went to %s %s, want POST to activity %v in conversation %v", c.Method, c.Path, a["id"], a["conversation"].(map[string]any)["id"])
			}
			s := decodeSent(t, c)
			if len(s.Attachments) != 1 || s.Attachments[0].ContentType != cards.ContentType {
				t.Fatalf("reply = %s, want one Adaptive Card attachment", c.Body)
			}
			card := string(s.Attachments[0].Content)
			for _, want := range []string{`"version":"1.5"`, `"/help"`, tt.wantLabel} {
				if !strings.Contains(card, want) {
					t.Errorf("help card = %s, want it to contain %q", card, want)
				}
			}
			if s.From.ID != botID {
				t.Errorf("reply from %q, want the bot %q", s.From.ID, botID)
			}
		})
	}
}

func TestCommandScopes(t *testing.T) {
	e := newEnv(t, true, func(h *bot.Handler) {
		h.HandleCommand(bot.Command{Name: "secret", Usage: "/secret", Description: "personal only",
			Scopes: []store.Scope{store.ScopePersonal},
			Run: func(ctx context.Context, t *bot.Turn, _ command.Command) error {
				return t.ReplyText(ctx, "private thing")
			}})
	})
	a := e.activity("message", "channel", "<at>tapbot</at> secret")
	a["entities"] = []any{map[string]any{"type": "mention", "text": "<at>tapbot</at>", "mentioned": map[string]any{"id": botID}}}
	e.send(a)
	s := decodeSent(t, e.waitCalls(1)[0])
	if strings.Contains(s.Text, "private thing") || !strings.Contains(s.Text, "can't be used in this channel") {
		t.Fatalf("personal-only command in a channel replied %q, want %q and not its output", s.Text, "can't be used in this channel")
	}
	// And /help lists it only where it works.
	e.cloud.Reset()
	e.send(e.activity("message", "personal", "help"))
	if card := string(decodeSent(t, e.waitCalls(1)[0]).Attachments[0].Content); !strings.Contains(card, "/secret") {
		t.Fatalf("personal help = %s, want it to list /secret", card)
	}
}

func TestUnknownTextGetsAHint(t *testing.T) {
	e := newEnv(t, true, nil)
	e.send(e.activity("message", "personal", "hello there"))
	s := decodeSent(t, e.waitCalls(1)[0])
	if !strings.Contains(s.Text, "/help") {
		t.Fatalf("hint = %q, want it to point to /help", s.Text)
	}
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t, true, nil)
	big := e.activity("message", "personal", strings.Repeat("x", 70<<10))
	tests := []struct {
		name   string
		body   any
		header string
		want   int
	}{
		{"body too large", big, "Bearer " + e.token, http.StatusRequestEntityTooLarge},
		{"malformed JSON", []byte(`{"type":"message",`), "Bearer " + e.token, http.StatusBadRequest},
		{"wrong JSON type", []byte(`{"type":42}`), "Bearer " + e.token, http.StatusBadRequest},
		{"no type", []byte(`{"text":"hi"}`), "Bearer " + e.token, http.StatusBadRequest},
		{"no token", e.activity("message", "personal", "help"), "", http.StatusUnauthorized},
		{"forged token", e.activity("message", "personal", "help"), "Bearer " + e.cloud.Mint(bftest.TokenOptions{Alg: "none"}), http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := e.post(tt.body, tt.header)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			body, _ := io.ReadAll(resp.Body)
			for _, internal := range []string{"json:", "unexpected", "goroutine", ".go:", "cannot unmarshal"} {
				if strings.Contains(string(body), internal) {
					t.Fatalf("response = %q, want no internals such as %q", body, internal)
				}
			}
		})
	}
	if n := len(e.cloud.Calls()); n != 0 {
		t.Fatalf("rejected requests caused %d connector calls, want 0", n)
	}
	for _, entry := range e.logs.All() {
		line := entry.Message + fmt.Sprint(entry.ContextMap())
		if strings.Contains(line, e.token[len(e.token)-30:]) {
			t.Fatalf("log line = %s, want it without the token", line)
		}
	}
	if e.logs.FilterMessage("activity rejected: unauthorized").Len() != 2 {
		t.Fatalf("%d unauthorized log lines, want 2 (one per unauthorized request)", e.logs.FilterMessage("activity rejected: unauthorized").Len())
	}
}

func TestOtherTenantRefused(t *testing.T) {
	e := newEnv(t, true, nil)
	a := e.activity("message", "personal", "help")
	a["conversation"].(map[string]any)["tenantId"] = "99999999-9999-4999-8999-999999999999"
	a["channelData"] = map[string]any{"tenant": map[string]any{"id": "99999999-9999-4999-8999-999999999999"}}
	if resp := e.send(a); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("activity from another tenant: status %d, want 401", resp.StatusCode)
	}
}

func TestColdStartWithoutKeysAnswers503(t *testing.T) {
	e := newEnv(t, false, nil)
	e.cloud.SetDown(true)
	resp := e.send(e.activity("message", "personal", "help"))
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("status %d Retry-After %q; want 503 with Retry-After", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t, true, nil)
	resp, err := http.Get(e.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: status %d, want 405", resp.StatusCode)
	}
}

func TestInstallStoresReferenceAndWelcomes(t *testing.T) {
	e := newEnv(t, true, nil)
	a := e.activity("conversationUpdate", "personal", "")
	a["membersAdded"] = []any{map[string]any{"id": botID}}
	if resp := e.send(a); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	ref, err := e.store.PersonalReference(context.Background(), e.cloud.TenantID(), userAAD)
	if err != nil {
		t.Fatalf("reference not stored: %v", err)
	}
	if ref.ConversationID != "a:personal-1" || ref.ServiceURL != e.cloud.ServiceURL() || ref.BotID != botID {
		t.Fatalf("stored reference = %+v, want conversation a:personal-1, service URL %s, bot %s", ref, e.cloud.ServiceURL(), botID)
	}
	if !strings.Contains(decodeSent(t, e.waitCalls(1)[0]).Text, "/help") {
		t.Fatal("no welcome mentioning /help, want one")
	}
	// Teams announces the same install with an installationUpdate too: one hello.
	inst := e.activity("installationUpdate", "personal", "")
	inst["action"] = "add"
	if resp := e.send(inst); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	if n := len(e.cloud.Calls()); n != 1 {
		t.Fatalf("%d messages for one install, want one welcome", n)
	}

	// A team install stores the channel with its team id.
	e.cloud.Reset()
	ch := e.activity("installationUpdate", "channel", "")
	ch["action"] = "add"
	e.send(ch)
	cref, err := e.store.Reference(context.Background(), "19:chan@thread.tacv2;messageid=1")
	if err != nil || cref.Scope != store.ScopeChannel || cref.TeamID != "19:team@thread.tacv2" || cref.UserAADObjectID != "" {
		t.Fatalf("channel reference = %+v, %v; want a channel reference of team 19:team@thread.tacv2 with no user", cref, err)
	}
	// The channel itself is reachable for new posts, not only the thread.
	base, err := e.store.Reference(context.Background(), "19:chan@thread.tacv2")
	if err != nil || !strings.Contains(string(base.Raw), `"id":"19:chan@thread.tacv2"`) || strings.Contains(string(base.Raw), "messageid") {
		t.Fatalf("channel's own reference = %+v, %v; want raw id 19:chan@thread.tacv2 without messageid", base, err)
	}
}

func TestFirstMessageStoresReference(t *testing.T) {
	e := newEnv(t, true, nil)
	e.send(e.activity("message", "personal", "help"))
	e.waitCalls(1)
	if _, err := e.store.PersonalReference(context.Background(), e.cloud.TenantID(), userAAD); err != nil {
		t.Fatalf("reference of a chatting user not stored: %v", err)
	}
}

func TestUnknownActivityTypesAreAcknowledged(t *testing.T) {
	e := newEnv(t, true, nil)
	for _, typ := range []string{"typing", "messageReaction", "event", "somethingNew"} {
		if resp := e.send(e.activity(typ, "personal", "")); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d, want 200", typ, resp.StatusCode)
		}
	}
	if len(e.cloud.Calls()) != 0 {
		t.Fatalf("ignored activities caused %d connector calls, want 0", len(e.cloud.Calls()))
	}
}

func TestInvokeAnsweredInResponseBody(t *testing.T) {
	e := newEnv(t, true, func(h *bot.Handler) {
		h.HandleAction("ping", func(_ context.Context, _ *bot.Turn, data map[string]any) (*cards.Card, error) {
			return &cards.Card{Body: []cards.Element{cards.TextBlock{Text: "pong " + fmt.Sprint(data["n"])}}}, nil
		})
		h.HandleAction("broken", func(context.Context, *bot.Turn, map[string]any) (*cards.Card, error) {
			return nil, errors.New("graph said no: secret-detail")
		})
	})
	invoke := func(name, verb string) (int, map[string]any) {
		a := e.activity("invoke", "personal", "")
		a["name"] = name
		a["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": verb, "data": map[string]any{"n": 7}}, "trigger": "manual"}
		resp := e.send(a)
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}

	status, body := invoke("adaptiveCard/action", "ping")
	if status != http.StatusOK || body["statusCode"] != float64(200) || body["type"] != cards.ContentType {
		t.Fatalf("ping = %d %v, want 200 with statusCode 200 and type %s", status, body, cards.ContentType)
	}
	if raw, _ := json.Marshal(body["value"]); !strings.Contains(string(raw), "pong 7") {
		t.Fatalf("ping card = %s, want it to contain %q", raw, "pong 7")
	}
	if _, body = invoke("adaptiveCard/action", "nope"); body["statusCode"] != float64(400) {
		t.Fatalf("unknown verb = %v, want statusCode 400", body)
	}
	_, body = invoke("adaptiveCard/action", "broken")
	if raw, _ := json.Marshal(body); body["statusCode"] != float64(500) || strings.Contains(string(raw), "secret-detail") {
		t.Fatalf("failing action = %s, want statusCode 500 without the error's detail", raw)
	}
	if status, _ = invoke("composeExtension/query", ""); status != http.StatusNotImplemented {
		t.Fatalf("other invoke: status %d, want 501", status)
	}
	if len(e.cloud.Calls()) != 0 {
		t.Fatalf("invokes caused %d connector calls, want 0 (answers in the response body)", len(e.cloud.Calls()))
	}
}

func TestSubmitUpdatesTheCard(t *testing.T) {
	var got map[string]any
	e := newEnv(t, true, func(h *bot.Handler) {
		h.HandleAction("choose", func(_ context.Context, _ *bot.Turn, data map[string]any) (*cards.Card, error) {
			got = data
			return &cards.Card{Body: []cards.Element{cards.TextBlock{Text: "chosen"}}}, nil
		})
	})
	a := e.activity("message", "personal", "")
	a["replyToId"] = "card-activity-1"
	a["value"] = map[string]any{"verb": "choose", "pick": "b"}
	e.send(a)
	c := e.waitCalls(1)[0]
	if got["pick"] != "b" {
		t.Fatalf("action data = %v, want pick=b", got)
	}
	if c.Method != http.MethodPut || c.ActivityID != "card-activity-1" || !strings.Contains(string(c.Body), "chosen") {
		t.Fatalf("call = %s %s, want PUT to card-activity-1 with the new card (updated in place)", c.Method, c.Path)
	}
}

func TestSlowWorkIsAcknowledgedFirst(t *testing.T) {
	release := make(chan struct{})
	finished := make(chan struct{})
	e := newEnv(t, true, func(h *bot.Handler) {
		h.HandleCommand(bot.Command{Name: "slow", Usage: "/slow", Scopes: []store.Scope{store.ScopePersonal},
			Run: func(_ context.Context, t *bot.Turn, _ command.Command) error {
				t.Later(func(ctx context.Context) {
					<-release
					_ = t.ReplyText(ctx, "done at last")
					close(finished)
				})
				return nil
			}})
	})
	// The HTTP answer comes back while the work is still blocked.
	if resp := e.send(e.activity("message", "personal", "/slow")); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	shut := make(chan error, 1)
	go func() { shut <- e.handler.Shutdown(context.Background()) }()
	select {
	case <-shut:
		t.Fatal("Shutdown returned while background work was running, want it to wait")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-finished
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	if s := decodeSent(t, e.waitCalls(1)[0]); s.Text != "done at last" {
		t.Fatalf("proactive reply = %q, want %q", s.Text, "done at last")
	}
}

func TestConnectorOutageIsRetriedThenReported(t *testing.T) {
	e := newEnv(t, true, nil)
	e.cloud.FailNext(4, http.StatusServiceUnavailable, "")
	if resp := e.send(e.activity("message", "personal", "help")); resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", resp.StatusCode)
	}
	// Two attempts for the help card, then two for the apology: all refused.
	if got := e.cloud.RejectedCalls(); got != 4 {
		t.Fatalf("connector saw %d attempts, want 4", got)
	}
	failed := e.logs.FilterMessage("command failed").All()
	if len(failed) != 1 || !strings.Contains(fmt.Sprint(failed[0].ContextMap()["error"]), "status 503") {
		t.Fatalf("command failed log lines = %v, want one with an error of status 503", failed)
	}
}

// newDevEnv is an endpoint in dev mode (no token, as the Agents Playground sends):
// the handler built with cfg and the Connector client conn, registered by register.
func newDevEnv(t *testing.T, cfg bot.Config, conn *connector.Client, register func(h *bot.Handler)) *env {
	t.Helper()
	cloud, err := bftest.New(bftest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cloud.Close)
	if conn == nil {
		if conn, err = connector.New(connector.Config{HTTPClient: cloud.Client(), CheckServiceURL: func(*url.URL) error { return nil }}, zap.NewNop()); err != nil {
			t.Fatal(err)
		}
	}
	st, err := sqlite.Open(context.Background(), t.TempDir()+"/tapbot.db", zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	h := bot.New(cfg, botauth.DevValidator{TenantID: cloud.TenantID()}, conn, st, bot.NewMetrics(prometheus.NewRegistry()), zap.NewNop())
	if register != nil {
		register(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &env{t: t, cloud: cloud, handler: h, srv: srv, store: st}
}

// TestOnlyTeamsReachesFlows: an activity Teams would never send (a Web Chat or Direct
// Line client writing its own from, channelData and conversation) is refused before
// routing, in dev mode too, where no token vouches for the channel.
func TestOnlyTeamsReachesFlows(t *testing.T) {
	var ran atomic.Int32
	e := newDevEnv(t, bot.Config{}, nil, func(h *bot.Handler) {
		h.HandleCommand(bot.Command{Name: "tap", Usage: "/tap", Scopes: []store.Scope{store.ScopePersonal, store.ScopeGroupChat, store.ScopeChannel},
			Run: func(context.Context, *bot.Turn, command.Command) error { ran.Add(1); return nil }})
	})
	tenant := e.cloud.TenantID()
	tests := []struct {
		name   string
		mutate func(a map[string]any)
	}{
		{"webchat without tenant or type", func(a map[string]any) {
			a["channelId"] = "webchat"
			a["conversation"] = map[string]any{"id": "attacker-conv"}
			a["channelData"] = map[string]any{"tenant": map[string]any{"id": tenant}}
		}},
		{"webchat with Teams fields", func(a map[string]any) { a["channelId"] = "webchat" }},
		{"directline", func(a map[string]any) { a["channelId"] = "directline" }},
		{"no conversation tenant", func(a map[string]any) { delete(a["conversation"].(map[string]any), "tenantId") }},
		{"tenants disagree", func(a map[string]any) {
			a["conversation"].(map[string]any)["tenantId"] = "99999999-9999-4999-8999-999999999999"
		}},
		{"no conversation type", func(a map[string]any) { delete(a["conversation"].(map[string]any), "conversationType") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := e.activity("message", "personal", "tap nina@contoso.com")
			tt.mutate(a)
			if resp := e.post(a, ""); resp.StatusCode != http.StatusForbidden {
				t.Errorf("status %d, want 403", resp.StatusCode)
			}
		})
	}
	if n := ran.Load(); n != 0 {
		t.Fatalf("refused activities reached the command %d times, want 0", n)
	}
	// The control: the same activity as Teams sends it gets through.
	if resp := e.post(e.activity("message", "personal", "tap nina@contoso.com"), ""); resp.StatusCode != http.StatusOK || ran.Load() != 1 {
		t.Fatalf("Teams activity: status %d, ran %d; want 200, 1", resp.StatusCode, ran.Load())
	}
}

// TestSlowConnectorDoesNotPileUp: with a Connector that never answers, replies give
// up within the inline timeout instead of retrying for half a minute, and activities
// beyond MaxInFlight are shed at once with 503 and Retry-After rather than each
// holding a goroutine.
func TestSlowConnectorDoesNotPileUp(t *testing.T) {
	slow, conn := neverAnswers(t)
	const maxInFlight = 4
	const inline = 300 * time.Millisecond
	e := newDevEnv(t, bot.Config{MaxInFlight: maxInFlight, InlineTimeout: inline}, conn, nil)

	const n = 40
	statuses := make(chan int, n)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			a := e.activity("message", "personal", "help")
			a["serviceUrl"] = slow.URL
			resp := e.post(a, "")
			if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After, want one")
			}
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	// The answered ones were cut at the inline timeout (the Connector never
	// answers, so without it they would still hang); the rest were shed.
	if counts[http.StatusOK] < 1 || counts[http.StatusServiceUnavailable] == 0 || counts[http.StatusOK]+counts[http.StatusServiceUnavailable] != n {
		t.Fatalf("statuses %v for %d activities with %d in flight at most, want only 200s and 503s, some of each", counts, n, maxInFlight)
	}
}
