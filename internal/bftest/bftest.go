// Package bftest is a fake of the Microsoft cloud services a Bot Framework bot talks
// to, for tests and benchmarks that must run without a network:
//
//   - the Bot Framework inbound token issuer: an OpenID metadata document and a JWKS
//     in the channel service's real shape (including the "endorsements" extension),
//     plus Mint, which signs tokens the way the channel does — or deliberately wrongly,
//     for negative tests;
//   - a Microsoft Entra ID token endpoint that MSAL (and so azidentity's
//     ClientSecretCredential and ClientCertificateCredential) accepts, for the bot's
//     outbound tokens;
//   - a Bot Connector (the Teams "serviceUrl") that records what the bot sends.
//
// Everything is served by one loopback TLS server, because MSAL refuses non-https
// authorities and tapbot refuses non-https key endpoints off loopback; clients trust
// it through Client, CertPool or WriteCertPEM (for a child process, via SSL_CERT_FILE).
//
// The package deliberately does not import "testing": the benchmark program in bench/
// uses it too. Every method is safe for concurrent use.
package bftest

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
)

// Default identities used when Options leaves them empty. They are fixed (not random)
// so failures print the same values run after run.
const (
	DefaultAppID    = "00000000-0000-4000-8000-00000000a11d"
	DefaultTenantID = "00000000-0000-4000-8000-0000000007e7"
)

// BotFrameworkIssuer is the "iss" of tokens the Bot Framework channel service signs,
// and the issuer in its OpenID metadata.
const BotFrameworkIssuer = "https://api.botframework.com"

// BotFrameworkTenant is the tenant multi-tenant bots ask Entra for Bot Framework
// tokens; the fake token endpoint accepts it besides Options.TenantID.
const BotFrameworkTenant = "botframework.com"

// Options configures a Cloud. The zero value is usable.
type Options struct {
	// AppID is the bot's Microsoft App ID: the audience Mint puts in tokens and the
	// only client_id the token endpoint accepts. Default DefaultAppID.
	AppID string
	// TenantID is the bot's Entra tenant. The token endpoint serves it and
	// BotFrameworkTenant and answers AADSTS90002 for any other. Default DefaultTenantID.
	TenantID string
	// ClientSecret, when set, is the only client_secret the token endpoint accepts
	// (others get 401 invalid_client, like a wrong password in Entra). When empty any
	// secret is accepted.
	ClientSecret string
	// DiscardConnector makes the Bot Connector count calls without recording them
	// (Calls stays empty; CallCount and WaitCalls still work). Bodies are drained but
	// not decoded. For benchmarks, where recording every reply would cost memory and
	// time that is not the server's.
	DiscardConnector bool
	// RequireToken makes the Bot Connector answer 401, as the real one does, to calls
	// whose Authorization header is not "Bearer <token>" for a token this Cloud's
	// token endpoint issued. Off by default so tests of connector clients need not
	// set up a credential.
	RequireToken bool
}

// Cloud is a running fake. Create it with New and stop it with Close.
type Cloud struct {
	opts Options
	srv  *httptest.Server
	pool *x509.CertPool

	issuer    issuer
	entra     entra
	connector connector
}

// New starts a Cloud on a loopback TLS port. It generates one RSA-2048 signing key,
// so it takes tens of milliseconds.
func New(o Options) (*Cloud, error) {
	if o.AppID == "" {
		o.AppID = DefaultAppID
	}
	if o.TenantID == "" {
		o.TenantID = DefaultTenantID
	}
	c := &Cloud{opts: o}
	c.connector.init()
	if _, err := c.issuer.newKey(true); err != nil {
		return nil, err
	}
	c.srv = httptest.NewTLSServer(http.HandlerFunc(c.serveHTTP))
	c.pool = x509.NewCertPool()
	c.pool.AddCert(c.srv.Certificate())
	return c, nil
}

// serveHTTP dispatches by path by hand rather than with http.ServeMux: the Entra
// routes start with a wildcard tenant segment, which would conflict with the fixed
// /connector/ and /v1/ prefixes under ServeMux's precedence rules.
func (c *Cloud) serveHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, connectorPrefix):
		c.serveConnector(w, r)
	case p == metadataPath:
		c.serveMetadata(w, r)
	case p == jwksPath:
		c.serveJWKS(w, r)
	case strings.HasSuffix(p, tenantDiscoverySuffix):
		c.serveTenantDiscovery(w, r)
	case strings.HasSuffix(p, tokenSuffix):
		c.serveToken(w, r)
	default:
		http.NotFound(w, r)
	}
}

// Close stops the server. It waits for requests in flight to finish.
func (c *Cloud) Close() { c.srv.Close() }

// AppID is the bot's app id (Options.AppID or its default).
func (c *Cloud) AppID() string { return c.opts.AppID }

// TenantID is the bot's tenant (Options.TenantID or its default).
func (c *Cloud) TenantID() string { return c.opts.TenantID }

// URL is the server's base URL, "https://127.0.0.1:<port>", without a trailing slash.
func (c *Cloud) URL() string { return c.srv.URL }

// MetadataURL is the Bot Framework OpenID metadata document's URL, the value for
// tapbot's TAPBOT_OPENID_METADATA_URL.
func (c *Cloud) MetadataURL() string { return c.srv.URL + metadataPath }

// JWKSURL is the URL the metadata document names as jwks_uri.
func (c *Cloud) JWKSURL() string { return c.srv.URL + jwksPath }

// AuthorityHost is the Entra authority host, with the trailing slash azidentity's
// cloud.Configuration.ActiveDirectoryAuthorityHost expects.
func (c *Cloud) AuthorityHost() string { return c.srv.URL + "/" }

// ServiceURL is the fake Bot Connector's base URL, with a trailing slash as Teams
// sends it in activities' serviceUrl.
func (c *Cloud) ServiceURL() string { return c.srv.URL + connectorPrefix }

// Client returns a new HTTP client that trusts the server's certificate and refuses
// to dial anything but loopback addresses, so that a test which accidentally points
// a library at the real cloud (MSAL's instance discovery goes to
// login.microsoftonline.com unless disabled) fails at once with a clear error rather
// than reaching, or waiting on, the network. Its Transport is an *http.Transport,
// so callers may tune it.
func (c *Cloud) Client() *http.Client {
	tr := c.srv.Client().Transport.(*http.Transport).Clone()
	tr.Proxy = nil
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return nil, fmt.Errorf("bftest: Client refuses to dial %s: only the fake cloud on loopback is reachable "+
				"(with azidentity, set DisableInstanceDiscovery)", addr)
		}
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: tr}
}

// CertPool returns a pool holding the server's certificate, for building one's own
// tls.Config.
func (c *Cloud) CertPool() *x509.CertPool { return c.pool.Clone() }

// CertPEM returns the server's certificate, PEM-encoded.
func (c *Cloud) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.srv.Certificate().Raw})
}

// WriteCertPEM writes the server's certificate to path, so that a child process can
// trust it with SSL_CERT_FILE=path (Go's crypto/x509 honours it on Linux).
func (c *Cloud) WriteCertPEM(path string) error {
	if err := os.WriteFile(path, c.CertPEM(), 0o644); err != nil {
		return fmt.Errorf("bftest: write certificate: %w", err)
	}
	return nil
}

// PrivateKey returns the current Bot Framework signing key (the one Mint uses).
func (c *Cloud) PrivateKey() *rsa.PrivateKey {
	k, _ := c.issuer.current()
	return k.priv
}

var errUnknownKID = errors.New("bftest: unknown kid")

// failBudget answers "should this request fail?" for FailNext/FailTokens: the next n
// requests fail with one status. The fast path is a single atomic load, so the
// benchmark's hot connector path pays nothing when no failure is armed.
type failBudget struct {
	pending    atomic.Int64 // mirrors n, read without the lock
	mu         sync.Mutex
	n          int
	status     int
	retryAfter string
}

func (f *failBudget) arm(n, status int, retryAfter string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n < 0 {
		n = 0
	}
	f.n, f.status, f.retryAfter = n, status, retryAfter
	f.pending.Store(int64(n))
}

// take consumes one failure if one is armed.
func (f *failBudget) take() (status int, retryAfter string, ok bool) {
	if f.pending.Load() == 0 {
		return 0, "", false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.n == 0 {
		return 0, "", false
	}
	f.n--
	f.pending.Store(int64(f.n))
	return f.status, f.retryAfter, true
}
