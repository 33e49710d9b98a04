package connector_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/infracloudio/msbotbuilder-go/core/activity"
	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/tapbot/tapbot/bot/connector"
	"github.com/tapbot/tapbot/internal/bftest"
	"go.uber.org/zap"
)

const secret = "s3cr3t-value-never-logged"

type fixture struct {
	cloud  *bftest.Cloud
	client *connector.Client
	waits  []time.Duration
	mu     sync.Mutex
}

func newFixture(t *testing.T, mutate func(*connector.Config)) *fixture {
	t.Helper()
	c, err := bftest.New(bftest.Options{ClientSecret: secret, RequireToken: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cred, err := azidentity.NewClientSecretCredential(c.TenantID(), c.AppID(), secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            azcore.ClientOptions{Cloud: cloud.Configuration{ActiveDirectoryAuthorityHost: c.AuthorityHost()}, Transport: c.Client()},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{cloud: c}
	cfg := connector.Config{
		HTTPClient:      c.Client(),
		Tokens:          connector.NewCredentialTokens(cred, connector.Scope),
		CheckServiceURL: func(*url.URL) error { return nil },
		Sleep: func(_ context.Context, d time.Duration) error {
			f.mu.Lock()
			f.waits = append(f.waits, d)
			f.mu.Unlock()
			return nil
		},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	f.client, err = connector.New(cfg, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func msg(text string) schema.Activity { return schema.Activity{Type: schema.Message, Text: text} }

const channelConv = "19:abc@thread.tacv2;messageid=1700000000000"

func TestOperationsReachTheirRoutes(t *testing.T) {
	f := newFixture(t, nil)
	ctx := context.Background()
	svc := f.cloud.ServiceURL()

	id, err := f.client.SendToConversation(ctx, svc, channelConv, msg("hello"))
	if err != nil || id == "" {
		t.Fatalf("send: id %q err %v", id, err)
	}
	rid, err := f.client.ReplyToActivity(ctx, svc, "a:1conv", "act-1", msg("reply"))
	if err != nil || rid == "" {
		t.Fatalf("reply: id %q err %v", rid, err)
	}
	if err := f.client.UpdateActivity(ctx, svc, "a:1conv", rid, msg("redacted")); err != nil {
		t.Fatalf("update: %v", err)
	}
	if err := f.client.DeleteActivity(ctx, svc, "a:1conv", rid); err != nil {
		t.Fatalf("delete: %v", err)
	}
	conv, err := f.client.CreateConversation(ctx, svc, schema.ConversationParameters{
		Bot: schema.ChannelAccount{ID: "28:bot"}, Members: []schema.ChannelAccount{{ID: "29:user"}}, TenantID: f.cloud.TenantID(),
	})
	if err != nil || conv.ID == "" {
		t.Fatalf("create conversation: %+v %v", conv, err)
	}

	calls := f.cloud.Calls()
	want := []struct{ method, conv, act string }{
		{http.MethodPost, channelConv, ""},
		{http.MethodPost, "a:1conv", "act-1"},
		{http.MethodPut, "a:1conv", rid},
		{http.MethodDelete, "a:1conv", rid},
		{http.MethodPost, "", ""},
	}
	if len(calls) != len(want) {
		t.Fatalf("want %d connector calls, got %d: %+v", len(want), len(calls), calls)
	}
	for i, w := range want {
		c := calls[i]
		if c.Method != w.method || c.ConversationID != w.conv || c.ActivityID != w.act {
			t.Errorf("call %d: got %s conv=%q act=%q, want %s conv=%q act=%q", i, c.Method, c.ConversationID, c.ActivityID, w.method, w.conv, w.act)
		}
		if c.Authorization != "Bearer bf-token-1" {
			t.Errorf("call %d: Authorization %q, want %q", i, c.Authorization, "Bearer bf-token-1")
		}
	}
	if got := f.cloud.TokenRequests(); got != 1 {
		t.Fatalf("token fetched %d times for 5 calls; want it cached", got)
	}
	tc := f.cloud.TokenCalls()[0]
	if tc.Tenant != f.cloud.TenantID() || !strings.Contains(tc.Scope, connector.Scope) || tc.GrantType != "client_credentials" {
		t.Fatalf("token request = %+v, want tenant %s, a scope with %s, grant client_credentials", tc, f.cloud.TenantID(), connector.Scope)
	}
	// The body of a reply is a clean activity: no zero-time fields Teams would read as expired.
	var body map[string]any
	if err := json.Unmarshal(calls[1].Body, &body); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"expiration", "timestamp", "localTimestamp", "relatesTo", "suggestedActions", "semanticAction"} {
		if _, ok := body[k]; ok {
			t.Errorf("reply body = %s, want no unset %q", calls[1].Body, k)
		}
	}
	if body["replyToId"] != "act-1" || body["text"] != "reply" {
		t.Errorf("reply body = %s, want replyToId act-1 and text reply", calls[1].Body)
	}
}

func TestRetriesThrottlingHonouringRetryAfter(t *testing.T) {
	f := newFixture(t, nil)
	f.cloud.FailNext(2, http.StatusTooManyRequests, "3")
	if _, err := f.client.SendToConversation(context.Background(), f.cloud.ServiceURL(), "a:1", msg("x")); err != nil {
		t.Fatalf("429 twice then success should succeed: %v", err)
	}
	if len(f.cloud.Calls()) != 1 || f.cloud.RejectedCalls() != 2 {
		t.Fatalf("want 2 rejected + 1 accepted, got %d/%d", f.cloud.RejectedCalls(), len(f.cloud.Calls()))
	}
	if len(f.waits) != 2 || f.waits[0] != 3*time.Second || f.waits[1] != 3*time.Second {
		t.Fatalf("waits %v, want two of Retry-After 3s", f.waits)
	}
}

func TestPersistentUnavailabilityIsReported(t *testing.T) {
	f := newFixture(t, func(c *connector.Config) { c.MaxAttempts = 3 })
	f.cloud.FailNext(10, http.StatusServiceUnavailable, "")
	_, err := f.client.SendToConversation(context.Background(), f.cloud.ServiceURL(), "a:1", msg("x"))
	var cerr *connector.Error
	if !errors.As(err, &cerr) || cerr.Status != http.StatusServiceUnavailable || cerr.Attempts != 3 {
		t.Fatalf("want connector.Error 503 after 3 attempts, got %v", err)
	}
	if f.cloud.RejectedCalls() != 3 {
		t.Fatalf("want exactly 3 attempts, server saw %d", f.cloud.RejectedCalls())
	}
	if len(f.waits) != 2 || f.waits[0] <= 0 || f.waits[1] < f.waits[0]/2 {
		t.Fatalf("backoff waits %v, want two, positive, the second at least half the first", f.waits)
	}
	if strings.Contains(err.Error(), "bf-token") || strings.Contains(err.Error(), secret) {
		t.Fatalf("error = %q, want it without a credential", err)
	}
}

func TestNonIdempotentPostIsNotRetriedOnServerError(t *testing.T) {
	f := newFixture(t, nil)
	f.cloud.FailNext(1, http.StatusInternalServerError, "")
	_, err := f.client.SendToConversation(context.Background(), f.cloud.ServiceURL(), "a:1", msg("x"))
	if err == nil || f.cloud.RejectedCalls() != 1 {
		t.Fatalf("POST after a 500: err=%v attempts=%d, want an error after 1 attempt (a retry could duplicate a message)", err, f.cloud.RejectedCalls())
	}
	// An update may be repeated safely.
	f.cloud.FailNext(1, http.StatusInternalServerError, "")
	if err := f.client.UpdateActivity(context.Background(), f.cloud.ServiceURL(), "a:1", "act", msg("x")); err != nil {
		t.Fatalf("PUT not retried after 500: %v", err)
	}
}

func TestTokenFailureIsAnError(t *testing.T) {
	f := newFixture(t, func(c *connector.Config) { c.MaxAttempts = 1 })
	f.cloud.FailTokens(5, http.StatusBadRequest)
	_, err := f.client.SendToConversation(context.Background(), f.cloud.ServiceURL(), "a:1", msg("x"))
	if err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("want a token error, got %v", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Fatal("token error leaks the client secret")
	}
	if f.cloud.CallCount()+f.cloud.RejectedCalls() != 0 {
		t.Fatal("request sent without a token")
	}
}

type staticTokens string

func (s staticTokens) Token(context.Context) (string, error) { return string(s), nil }

// The serviceUrl check covers the URL asked for; a redirect must not take the request,
// and with it the bearer token, anywhere else (not even another port of the same host,
// where Go's client would keep the Authorization header).
func TestRedirectsAreRefused(t *testing.T) {
	var mu sync.Mutex
	var leaked []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		leaked = append(leaked, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization"))
		mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"1"}`))
	}))
	defer other.Close()
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+r.URL.Path, status)
			}))
			defer first.Close()
			caller := &http.Client{Timeout: 5 * time.Second}
			c, err := connector.New(connector.Config{HTTPClient: caller, Tokens: staticTokens("bf-token"),
				CheckServiceURL: func(*url.URL) error { return nil }, MaxAttempts: 2,
				Sleep: func(context.Context, time.Duration) error { return nil }}, zap.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			_, sendErr := c.SendToConversation(context.Background(), first.URL, "a:1", msg("x"))
			updErr := c.UpdateActivity(context.Background(), first.URL, "a:1", "act", msg("x"))
			for _, err := range []error{sendErr, updErr} {
				var cerr *connector.Error
				if !errors.As(err, &cerr) || cerr.Status != status || cerr.Code != "redirect_refused" {
					t.Errorf("want a refused redirect (%d), got %v", status, err)
				}
			}
			if caller.CheckRedirect != nil {
				t.Error("New changed the caller's http.Client")
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(leaked) != 0 {
		t.Fatalf("the redirect target was reached: %v, want never", leaked)
	}
}

func TestServiceURLCheckRunsBeforeAnyRequest(t *testing.T) {
	f := newFixture(t, func(c *connector.Config) {
		c.CheckServiceURL = func(u *url.URL) error {
			if u.Scheme != "https" {
				return errors.New("not https")
			}
			return nil
		}
	})
	_, err := f.client.SendToConversation(context.Background(), "http://attacker.example/", "a:1", msg("x"))
	if err == nil || !strings.Contains(err.Error(), "refusing serviceUrl") {
		t.Fatalf("want refusal, got %v", err)
	}
	if f.cloud.TokenRequests() != 0 {
		t.Fatal("a token was fetched for a refused serviceUrl")
	}
}

// The library's own response machinery can send through our client.
func TestImplementsLibraryClient(t *testing.T) {
	f := newFixture(t, nil)
	resp, err := activity.NewActivityResponse(f.client)
	if err != nil {
		t.Fatal(err)
	}
	a := schema.Activity{Type: schema.Message, Text: "via library", ServiceURL: f.cloud.ServiceURL(),
		Conversation: schema.ConversationAccount{ID: "a:lib"}, ReplyToID: "act-9"}
	if err := resp.SendActivity(a); err != nil {
		t.Fatal(err)
	}
	calls := f.cloud.Calls()
	if len(calls) != 1 || calls[0].ConversationID != "a:lib" || !strings.Contains(string(calls[0].Body), `"replyToId":"act-9"`) {
		t.Fatalf("library send = %+v, want one call to a:lib replying to act-9", calls)
	}
}

func TestNewRequiresServiceURLCheck(t *testing.T) {
	if _, err := connector.New(connector.Config{}, zap.NewNop()); err == nil {
		t.Fatal("a client without a serviceUrl check was built")
	}
}
