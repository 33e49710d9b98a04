package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tapbot/tapbot/internal/store/postgres/pgtest"
)

// fakeCredential issues numbered tokens that live for ttl on a fake clock, and
// records the scopes it was asked for.
type fakeCredential struct {
	mu     sync.Mutex
	clock  *fakeClock
	ttl    time.Duration
	scopes [][]string
	fail   error
}

func (c *fakeCredential) GetToken(_ context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.scopes = append(c.scopes, opts.Scopes)
	if c.fail != nil {
		return azcore.AccessToken{}, c.fail
	}
	return azcore.AccessToken{Token: fmt.Sprintf("token-%d", len(c.scopes)), ExpiresOn: c.clock.now().Add(c.ttl)}, nil
}

func (c *fakeCredential) calls() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.scopes)
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestEntraPasswordCachesUntilShortlyBeforeExpiry(t *testing.T) {
	clock := &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	cred := &fakeCredential{clock: clock, ttl: time.Hour}
	p := newEntraPassword(cred, clock.now)
	password := func() string {
		t.Helper()
		var cc pgx.ConnConfig
		if err := p.beforeConnect(t.Context(), &cc); err != nil {
			t.Fatalf("beforeConnect: %v", err)
		}
		return cc.Password
	}

	if got := password(); got != "token-1" {
		t.Fatalf("password = %q, want the first token", got)
	}
	if got := cred.scopes[0]; len(got) != 1 || got[0] != "https://ossrdbms-aad.database.windows.net/.default" {
		t.Errorf("scopes = %q, want Azure Database for PostgreSQL's", got)
	}
	clock.advance(time.Hour - refreshMargin - time.Second)
	if got := password(); got != "token-1" || cred.calls() != 1 {
		t.Errorf("before the margin: password %q after %d token requests, want token-1 after 1", got, cred.calls())
	}
	clock.advance(time.Second)
	if got := password(); got != "token-2" || cred.calls() != 2 {
		t.Errorf("at the margin: password %q after %d token requests, want token-2 after 2", got, cred.calls())
	}

	// A failure is the connection's error and is not cached: the next connection asks again.
	clock.advance(2 * time.Hour)
	cred.fail = errors.New("entra is down")
	var cc pgx.ConnConfig
	if err := p.beforeConnect(t.Context(), &cc); err == nil || cc.Password != "" {
		t.Fatalf("beforeConnect with a failing credential = %v, password %q; want an error and no password", err, cc.Password)
	}
	cred.fail = nil
	if got := password(); got != "token-4" {
		t.Errorf("after the failure: password %q, want a fresh token-4", got)
	}
}

// Through a real pool: connections made while the token is valid reuse it, and a
// connection made after it expired gets a new one.
func TestEntraPasswordOnNewConnections(t *testing.T) {
	url := pgtest.NewDatabase(t) // trust authentication: the password is sent but not checked
	clock := &fakeClock{t: time.Now()}
	cred := &fakeCredential{clock: clock, ttl: time.Hour}
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu   sync.Mutex
		sent []string
	)
	before := newEntraPassword(cred, clock.now).beforeConnect
	pc.BeforeConnect = func(ctx context.Context, cc *pgx.ConnConfig) error {
		err := before(ctx, cc)
		mu.Lock()
		sent = append(sent, cc.Password)
		mu.Unlock()
		return err
	}
	pool, err := pgxpool.NewWithConfig(t.Context(), pc)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	// Hold three connections at once, so the pool must open three.
	var conns []*pgxpool.Conn
	for range 3 {
		c, err := pool.Acquire(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for _, c := range conns {
		c.Release()
	}
	if cred.calls() != 1 || len(sent) != 3 {
		t.Fatalf("3 connections: %d token requests, %d passwords sent; want 1 and 3", cred.calls(), len(sent))
	}

	clock.advance(time.Hour)
	pool.Reset() // the old connections go; the next Acquire connects anew
	c, err := pool.Acquire(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	c.Release()
	if cred.calls() != 2 || sent[len(sent)-1] != "token-2" {
		t.Errorf("connection after expiry: %d token requests, password %q; want 2 and token-2", cred.calls(), sent[len(sent)-1])
	}
}

func TestOpenWithEntraCredential(t *testing.T) {
	url := pgtest.NewDatabase(t)
	cred := &fakeCredential{clock: &fakeClock{t: time.Now()}, ttl: time.Hour}
	s, err := Open(t.Context(), Config{URL: url, Credential: cred}, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	if cred.calls() != 1 {
		t.Errorf("%d token requests, want 1", cred.calls())
	}
}
