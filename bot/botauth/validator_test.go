package botauth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/tapbot/tapbot/bot/botauth"
	"github.com/tapbot/tapbot/internal/bftest"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// clock is a settable time source so refresh rate limits can be tested without sleeping.
type clock struct{ offset atomic.Int64 }

func (c *clock) now() time.Time          { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *clock) advance(d time.Duration) { c.offset.Add(int64(d)) }

type fixture struct {
	cloud *bftest.Cloud
	v     *botauth.Validator
	clock *clock
	logs  *observer.ObservedLogs
}

func newFixture(t *testing.T, load bool) *fixture {
	t.Helper()
	cloud, err := bftest.New(bftest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cloud.Close)
	core, logs := observer.New(zap.DebugLevel)
	clk := &clock{}
	v, err := botauth.New(botauth.Config{
		AppID: cloud.AppID(), TenantID: cloud.TenantID(), MetadataURL: cloud.MetadataURL(),
		HTTPClient: cloud.Client(), Now: clk.now,
	}, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{cloud: cloud, v: v, clock: clk, logs: logs}
	if load {
		if err := v.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) activity() schema.Activity {
	return schema.Activity{
		Type: schema.Message, ServiceURL: f.cloud.ServiceURL(), ChannelID: "msteams",
		Conversation: schema.ConversationAccount{ID: "a:1", TenantID: f.cloud.TenantID()},
		ChannelData:  map[string]any{"tenant": map[string]any{"id": f.cloud.TenantID()}},
	}
}

func (f *fixture) auth(a schema.Activity, header string) error {
	_, err := f.v.AuthenticateRequest(context.Background(), a, header, nil, "")
	return err
}

func otherKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestAuthenticateRequest(t *testing.T) {
	f := newFixture(t, true)
	stranger := otherKey(t)
	now := time.Now()
	bearer := func(o bftest.TokenOptions) string { return "Bearer " + f.cloud.Mint(o) }

	tests := []struct {
		name   string
		header func() string
		mutate func(*schema.Activity)
		reason string // substring of the rejection; "" means accepted
	}{
		{name: "valid token", header: func() string { return bearer(bftest.TokenOptions{}) }},
		{name: "expired within skew is accepted", header: func() string {
			return bearer(bftest.TokenOptions{Expiry: now.Add(-4 * time.Minute)})
		}},
		{name: "no header", header: func() string { return "" }, reason: "missing bearer"},
		{name: "not a bearer", header: func() string { return "Basic " + f.cloud.Mint(bftest.TokenOptions{}) }, reason: "missing bearer"},
		{name: "garbage token", header: func() string { return "Bearer not.a.jwt" }, reason: "malformed"},
		{name: "bad signature", header: func() string { return bearer(bftest.TokenOptions{SignWith: stranger}) }, reason: "signature is invalid"},
		{name: "alg none", header: func() string { return bearer(bftest.TokenOptions{Alg: "none"}) }, reason: "signing method none is invalid"},
		{name: "alg HS256 with public key", header: func() string { return bearer(bftest.TokenOptions{Alg: "HS256"}) }, reason: "signing method HS256 is invalid"},
		{name: "alg PS256 not listed", header: func() string { return bearer(bftest.TokenOptions{Alg: "PS256"}) }, reason: "signing method PS256 is invalid"},
		{name: "unknown kid", header: func() string { return bearer(bftest.TokenOptions{KID: "no-such-key", SignWith: stranger}) }, reason: "unknown signing key"},
		{name: "no kid", header: func() string { return bearer(bftest.TokenOptions{OmitKID: true}) }, reason: "no kid"},
		{name: "expired beyond skew", header: func() string {
			return bearer(bftest.TokenOptions{NotBefore: now.Add(-time.Hour), Expiry: now.Add(-6 * time.Minute)})
		}, reason: "expired"},
		{name: "no expiry", header: func() string { return bearer(bftest.TokenOptions{Claims: map[string]any{"exp": nil}}) }, reason: "exp claim is required"},
		{name: "not yet valid", header: func() string { return bearer(bftest.TokenOptions{NotBefore: now.Add(10 * time.Minute)}) }, reason: "not valid yet"},
		{name: "wrong issuer", header: func() string { return bearer(bftest.TokenOptions{Issuer: "https://sts.windows.net/evil/"}) }, reason: "issuer"},
		{name: "wrong audience", header: func() string { return bearer(bftest.TokenOptions{Audience: "11111111-2222-3333-4444-555555555555"}) }, reason: "aud"},
		{name: "serviceurl claim differs", header: func() string { return bearer(bftest.TokenOptions{ServiceURL: "https://evil.example/"}) }, reason: "serviceurl"},
		{name: "serviceurl claim missing", header: func() string {
			return bearer(bftest.TokenOptions{Claims: map[string]any{"serviceurl": nil}})
		}, reason: "serviceurl"},
		{name: "activity serviceUrl differs", header: func() string { return bearer(bftest.TokenOptions{}) },
			mutate: func(a *schema.Activity) { a.ServiceURL = "https://evil.example/" }, reason: "serviceurl"},
		{name: "key not endorsed for channel", header: func() string { return bearer(bftest.TokenOptions{}) },
			mutate: func(a *schema.Activity) { a.ChannelID = "facebook" }, reason: "not endorsed"},
		{name: "other tenant", header: func() string { return bearer(bftest.TokenOptions{}) },
			mutate: func(a *schema.Activity) {
				a.Conversation.TenantID = "99999999-9999-4999-8999-999999999999"
				a.ChannelData = map[string]any{"tenant": map[string]any{"id": "99999999-9999-4999-8999-999999999999"}}
			}, reason: "from tenant"},
		{name: "two tenants", header: func() string { return bearer(bftest.TokenOptions{}) },
			mutate: func(a *schema.Activity) { a.Conversation.TenantID = "99999999-9999-4999-8999-999999999999" }, reason: "two tenants"},
		{name: "no tenant", header: func() string { return bearer(bftest.TokenOptions{}) },
			mutate: func(a *schema.Activity) { a.Conversation.TenantID = ""; a.ChannelData = nil }, reason: "no tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := f.activity()
			if tt.mutate != nil {
				tt.mutate(&a)
			}
			header := tt.header()
			err := f.auth(a, header)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("rejected a valid request: %v", err)
				}
				return
			}
			var rej *botauth.RejectedError
			if !errors.As(err, &rej) {
				t.Fatalf("err = %v, want a RejectedError containing %q", err, tt.reason)
			}
			if !strings.Contains(rej.Reason, tt.reason) {
				t.Fatalf("rejection reason = %q, want it to contain %q", rej.Reason, tt.reason)
			}
			if tok, _ := strings.CutPrefix(header, "Bearer "); len(tok) > 20 && strings.Contains(err.Error(), tok[len(tok)-20:]) {
				t.Fatalf("rejection = %q, want it without the token", err)
			}
		})
	}
}

func TestEndorsementRequired(t *testing.T) {
	f := newFixture(t, false)
	if err := f.cloud.Endorsements(f.cloud.CurrentKID(), "webchat"); err != nil {
		t.Fatal(err)
	}
	if err := f.v.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := f.auth(f.activity(), "Bearer "+f.cloud.Mint(bftest.TokenOptions{}))
	var rej *botauth.RejectedError
	if !errors.As(err, &rej) || !strings.Contains(rej.Reason, "not endorsed") {
		t.Fatalf("key without msteams endorsement: err = %v, want a RejectedError saying %q", err, "not endorsed")
	}
}

func TestNoNetworkWhenKeysCached(t *testing.T) {
	f := newFixture(t, true)
	before := f.cloud.MetadataHits() + f.cloud.JWKSHits()
	for range 50 {
		if err := f.auth(f.activity(), "Bearer "+f.cloud.Mint(bftest.TokenOptions{})); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.cloud.MetadataHits() + f.cloud.JWKSHits(); got != before {
		t.Fatalf("validating with cached keys fetched %d documents, want 0", got-before)
	}
}

func TestCachedKeysSurviveOutage(t *testing.T) {
	f := newFixture(t, true)
	f.cloud.SetDown(true)
	f.clock.advance(time.Hour)
	if err := f.v.Refresh(context.Background()); err == nil {
		t.Fatal("refresh against a down endpoint reported success, want an error")
	}
	if err := f.auth(f.activity(), "Bearer "+f.cloud.Mint(bftest.TokenOptions{})); err != nil {
		t.Fatalf("cached keys stopped working during an outage: %v", err)
	}
	if !f.v.Ready() {
		t.Fatal("validator not ready although keys are cached, want ready")
	}
}

func TestColdStartOutageIsUnavailable(t *testing.T) {
	f := newFixture(t, false)
	f.cloud.SetDown(true)
	err := f.auth(f.activity(), "Bearer "+f.cloud.Mint(bftest.TokenOptions{}))
	if !errors.Is(err, botauth.ErrKeysUnavailable) {
		t.Fatalf("cold start with metadata down: err = %v, want %v", err, botauth.ErrKeysUnavailable)
	}
	if f.v.Ready() {
		t.Fatal("ready without keys, want not ready")
	}
	// Recovery: once the endpoint is back and the rate limit has passed, requests work.
	f.cloud.SetDown(false)
	f.clock.advance(2 * time.Minute)
	if err := f.auth(f.activity(), "Bearer "+f.cloud.Mint(bftest.TokenOptions{})); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
}

func TestRefreshOnUnknownKidIsRateLimited(t *testing.T) {
	f := newFixture(t, true)
	// Microsoft starts signing with a key we have not seen yet.
	kid := f.cloud.NewKey(false)
	token := "Bearer " + f.cloud.Mint(bftest.TokenOptions{})
	hits := f.cloud.JWKSHits()
	if err := f.auth(f.activity(), token); err == nil {
		t.Fatal("token signed by an unpublished key accepted, want it rejected")
	}
	if f.cloud.JWKSHits() != hits {
		t.Fatalf("%d JWKS fetches within the rate limit, want 0", f.cloud.JWKSHits()-hits)
	}
	if err := f.cloud.PublishKey(kid, true); err != nil {
		t.Fatal(err)
	}
	f.clock.advance(2 * time.Minute)
	if err := f.auth(f.activity(), token); err != nil {
		t.Fatalf("new key not picked up after refresh: %v", err)
	}
	if f.cloud.JWKSHits() != hits+1 {
		t.Fatalf("%d refetches, want 1", f.cloud.JWKSHits()-hits)
	}
	// A flood of made-up kids within the interval costs no fetch at all.
	stranger := otherKey(t)
	for i := range 20 {
		bad := "Bearer " + f.cloud.Mint(bftest.TokenOptions{KID: "made-up-" + string(rune('a'+i)), SignWith: stranger})
		if err := f.auth(f.activity(), bad); err == nil {
			t.Fatal("made-up kid accepted, want it rejected")
		}
	}
	if f.cloud.JWKSHits() != hits+1 {
		t.Fatalf("unknown kids triggered %d extra fetches, want 0", f.cloud.JWKSHits()-hits-1)
	}
}

func TestConcurrentColdStartFetchesOnce(t *testing.T) {
	f := newFixture(t, false)
	token := "Bearer " + f.cloud.Mint(bftest.TokenOptions{})
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- f.auth(f.activity(), token)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := f.cloud.JWKSHits(); got != 1 {
		t.Fatalf("32 concurrent cold requests fetched the JWKS %d times, want once", got)
	}
}

func TestRunRefreshesInBackground(t *testing.T) {
	cloud, err := bftest.New(bftest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cloud.Close()
	v, err := botauth.New(botauth.Config{
		AppID: cloud.AppID(), TenantID: cloud.TenantID(), MetadataURL: cloud.MetadataURL(),
		HTTPClient: cloud.Client(), RefreshInterval: 10 * time.Millisecond,
	}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { v.Run(ctx); close(done) }()
	deadline := time.After(10 * time.Second)
	for cloud.JWKSHits() < 3 {
		select {
		case <-deadline:
			t.Fatalf("background refresh ran %d times in 10s, want 3 or more", cloud.JWKSHits())
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	<-done
	if !v.Ready() {
		t.Fatal("not ready after background refresh")
	}
}

func TestNewValidatesConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  botauth.Config
		want string
	}{
		{"no app id", botauth.Config{TenantID: "t"}, "app id"},
		{"no tenant", botauth.Config{AppID: "a"}, "tenant"},
		{"cleartext metadata", botauth.Config{AppID: "a", TenantID: "t", MetadataURL: "http://login.example/meta"}, "https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := botauth.New(tt.cfg, zap.NewNop())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("want error about %q, got %v", tt.want, err)
			}
		})
	}
}

func TestDevValidatorChecksTenant(t *testing.T) {
	d := botauth.DevValidator{TenantID: "7a1c4e2b-5d3f-4b8a-9c6e-2f1d0b3a4c5e"}
	ok := schema.Activity{Conversation: schema.ConversationAccount{TenantID: d.TenantID}}
	if _, err := d.AuthenticateRequest(context.Background(), ok, "", nil, ""); err != nil {
		t.Fatalf("dev validator refused its tenant: %v", err)
	}
	other := schema.Activity{Conversation: schema.ConversationAccount{TenantID: "99999999-9999-4999-8999-999999999999"}}
	if _, err := d.AuthenticateRequest(context.Background(), other, "", nil, ""); err == nil {
		t.Fatal("dev validator accepted another tenant")
	}
}

func BenchmarkAuthenticateRequest(b *testing.B) {
	cloud, err := bftest.New(bftest.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer cloud.Close()
	v, err := botauth.New(botauth.Config{AppID: cloud.AppID(), TenantID: cloud.TenantID(),
		MetadataURL: cloud.MetadataURL(), HTTPClient: cloud.Client()}, zap.NewNop())
	if err != nil {
		b.Fatal(err)
	}
	if err := v.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	header := "Bearer " + cloud.Mint(bftest.TokenOptions{})
	a := schema.Activity{ServiceURL: cloud.ServiceURL(), ChannelID: "msteams",
		Conversation: schema.ConversationAccount{TenantID: cloud.TenantID()}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.AuthenticateRequest(context.Background(), a, header, nil, ""); err != nil {
			b.Fatal(err)
		}
	}
}

func TestVerifiedTokenCacheHonoursExpiryAndKeyRemoval(t *testing.T) {
	f := newFixture(t, true)
	token := "Bearer " + f.cloud.Mint(bftest.TokenOptions{Expiry: time.Now().Add(10 * time.Minute)})
	if err := f.auth(f.activity(), token); err != nil {
		t.Fatal(err)
	}
	// Same token, activity from elsewhere: per-activity checks still run on a cache hit.
	evil := f.activity()
	evil.ServiceURL = "https://evil.example/"
	if err := f.auth(evil, token); err == nil {
		t.Fatal("cached token accepted for another serviceUrl")
	}
	// Past expiry plus skew, the cached verdict no longer counts.
	f.clock.advance(16 * time.Minute)
	if err := f.auth(f.activity(), token); err == nil {
		t.Fatal("cached token accepted after expiry")
	}

	// A key withdrawn from the JWKS invalidates tokens it signed, cached or not.
	f2 := newFixture(t, true)
	old := f2.cloud.CurrentKID()
	token2 := "Bearer " + f2.cloud.Mint(bftest.TokenOptions{})
	if err := f2.auth(f2.activity(), token2); err != nil {
		t.Fatal(err)
	}
	f2.cloud.RotateKey()
	if err := f2.cloud.RemoveKey(old); err != nil {
		t.Fatal(err)
	}
	f2.clock.advance(2 * time.Minute)
	if err := f2.v.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := f2.auth(f2.activity(), token2); err == nil {
		t.Fatal("token of a withdrawn key accepted from cache")
	}
}
