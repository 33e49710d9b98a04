package postgres

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/jackc/pgx/v5"
)

// EntraScope is the scope of the access tokens Azure Database for PostgreSQL
// flexible server takes as passwords from Microsoft Entra identities (managed
// identity, workload identity, service principal). The token goes in the password
// field; the user name is the database role made for that identity. See "Integrate
// Azure Database for PostgreSQL with Service Connector",
// https://learn.microsoft.com/azure/service-connector/how-to-integrate-postgres
// (its samples request this scope and pass the token as Password).
const EntraScope = "https://ossrdbms-aad.database.windows.net/.default"

// refreshMargin is how long before its expiry a token stops being handed to new
// connections: a connection being set up must not present a token that expires
// during the handshake. Tokens live 60-90 minutes, so a token is fetched about
// once an hour, not once per connection.
const refreshMargin = 5 * time.Minute

// entraPassword supplies Entra access tokens as connection passwords, through
// pgxpool's BeforeConnect. A token only needs to be valid when a connection logs
// in: the server does not end sessions whose token expires later.
type entraPassword struct {
	cred azcore.TokenCredential
	now  func() time.Time

	mu    sync.Mutex // serialises fetches, so a burst of new connections asks once
	token azcore.AccessToken
}

func newEntraPassword(cred azcore.TokenCredential, now func() time.Time) *entraPassword {
	return &entraPassword{cred: cred, now: now}
}

// beforeConnect sets the password of a connection about to be made.
func (p *entraPassword) beforeConnect(ctx context.Context, cc *pgx.ConnConfig) error {
	token, err := p.get(ctx)
	if err != nil {
		return err
	}
	cc.Password = token
	return nil
}

// get returns the cached token, or a new one once the cached one is within
// refreshMargin of its expiry.
func (p *entraPassword) get(ctx context.Context) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.token.Token != "" && p.now().Before(p.token.ExpiresOn.Add(-refreshMargin)) {
		return p.token.Token, nil
	}
	tok, err := p.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{EntraScope}})
	if err != nil {
		return "", fmt.Errorf("get a Microsoft Entra token for the database: %w", err)
	}
	p.token = tok
	return tok.Token, nil
}
