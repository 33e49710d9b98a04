package connector

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// Scope is the Bot Connector's OAuth scope in Microsoft's public cloud.
const Scope = "https://api.botframework.com/.default"

// refreshBefore renews a token this long before it expires, so a request never leaves
// with a token that dies in flight.
const refreshBefore = 5 * time.Minute

// CredentialTokens adapts an azidentity credential to TokenSource and keeps the current
// token in memory: the hot path is one atomic load, and only one caller at a time asks
// the credential for a new token.
type CredentialTokens struct {
	cred  azcore.TokenCredential
	scope string
	now   func() time.Time

	mu  sync.Mutex
	cur atomic.Pointer[azcore.AccessToken]
}

// NewCredentialTokens returns a TokenSource for scope (default Scope).
func NewCredentialTokens(cred azcore.TokenCredential, scope string) *CredentialTokens {
	if scope == "" {
		scope = Scope
	}
	return &CredentialTokens{cred: cred, scope: scope, now: time.Now}
}

// Token returns a bearer token valid for at least refreshBefore.
func (t *CredentialTokens) Token(ctx context.Context) (string, error) {
	if tok := t.cur.Load(); tok != nil && t.now().Add(refreshBefore).Before(tok.ExpiresOn) {
		return tok.Token, nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if tok := t.cur.Load(); tok != nil && t.now().Add(refreshBefore).Before(tok.ExpiresOn) {
		return tok.Token, nil
	}
	tok, err := t.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{t.scope}})
	if err != nil {
		// azidentity errors describe the credential and endpoint, never the secret.
		return "", fmt.Errorf("token for %s: %w", t.scope, err)
	}
	t.cur.Store(&tok)
	return tok.Token, nil
}
