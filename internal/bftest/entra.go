package bftest

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// What MSAL Go (v1.x, under azidentity's ClientSecretCredential and
// ClientCertificateCredential) requests from the authority https://<host>/<tenant>/:
//
//  1. Unless instance discovery is disabled: GET
//     https://login.microsoftonline.com/common/discovery/instance?api-version=1.1&
//     authorization_endpoint=https://<host>/<tenant>/oauth2/v2.0/authorize. For a
//     host it does not know, MSAL asks the public cloud, not the authority, so no
//     fake can answer it: credentials pointed here need DisableInstanceDiscovery
//     (Client refuses to dial anything off loopback, so forgetting it fails fast
//     instead of reaching the internet).
//  2. GET /<tenant>/v2.0/.well-known/openid-configuration (tenant discovery). MSAL
//     needs authorization_endpoint, token_endpoint and issuer, and checks that the
//     issuer's scheme and host equal the authority's.
//  3. POST <token_endpoint> (form: grant_type=client_credentials, client_id,
//     scope, and client_secret or client_assertion_type + client_assertion +
//     client_info=1), once per scope and tenant until the token nears expiry:
//     MSAL caches it, and azidentity keeps the MSAL client. MSAL appends
//     "openid offline_access profile" to the scope, as TokenCall.Scope shows.
//
// MSAL lowercases the authority, so tenants arrive lowercased.
const (
	tenantDiscoverySuffix = "/v2.0/.well-known/openid-configuration"
	tokenSuffix           = "/oauth2/v2.0/token"
	accessTokenPrefix     = "bf-token-"
)

// TokenCall is one request to the token endpoint, as received.
type TokenCall struct {
	Tenant    string // from the URL path
	ClientID  string
	Scope     string
	GrantType string
	// HasSecret: a client_secret was sent (form field or HTTP Basic auth).
	HasSecret bool
	// HasAssertion: a client_assertion was sent (certificate credential).
	HasAssertion    bool
	ClientAssertion string // the assertion JWT, for tests that inspect it
	Status          int    // the status the fake answered
	AccessToken     string // the token issued, "" when Status is not 200
}

type entra struct {
	mu       sync.Mutex
	calls    []TokenCall
	requests atomic.Int64
	issued   atomic.Int64 // access tokens issued: bf-token-1 .. bf-token-<issued>
	fail     failBudget
}

// TokenRequests counts requests to the token endpoint, failed ones included.
func (c *Cloud) TokenRequests() int64 { return c.entra.requests.Load() }

// TokenCalls returns a copy of the token requests received so far.
func (c *Cloud) TokenCalls() []TokenCall {
	c.entra.mu.Lock()
	defer c.entra.mu.Unlock()
	return append([]TokenCall(nil), c.entra.calls...)
}

// FailTokens makes the next n token requests fail with status (e.g. 400, 401, 500,
// 503), with an Entra-shaped error body. n = 0 disarms. Note that azidentity retries
// 408, 429 and 5xx on its own, so one GetToken may consume several failures.
func (c *Cloud) FailTokens(n, status int) { c.entra.fail.arm(n, status, "") }

// validToken reports whether auth is "Bearer <a token this Cloud issued>".
func (c *Cloud) validToken(auth string) bool {
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok {
		return false
	}
	digits, ok := strings.CutPrefix(tok, accessTokenPrefix)
	if !ok {
		return false
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	return err == nil && n >= 1 && n <= c.entra.issued.Load()
}

func (c *Cloud) knownTenant(t string) bool {
	return strings.EqualFold(t, c.opts.TenantID) || strings.EqualFold(t, BotFrameworkTenant)
}

// tenantOf extracts the tenant from "/<tenant><suffix>"; "" if the path has another shape.
func tenantOf(path, suffix string) string {
	t := strings.TrimPrefix(strings.TrimSuffix(path, suffix), "/")
	if t == "" || strings.Contains(t, "/") {
		return ""
	}
	return t
}

func (c *Cloud) serveTenantDiscovery(w http.ResponseWriter, r *http.Request) {
	tenant := tenantOf(r.URL.Path, tenantDiscoverySuffix)
	if !c.knownTenant(tenant) {
		entraError(w, http.StatusBadRequest, "invalid_tenant", 90002,
			fmt.Sprintf("Tenant '%s' not found.", tenant))
		return
	}
	// Real Entra returns many more fields; these are the ones MSAL reads. The host is
	// the one the client used, so MSAL's issuer-matches-authority check passes.
	base := "https://" + r.Host + "/" + tenant
	writeJSON(w, http.StatusOK, map[string]any{
		"token_endpoint":                        base + tokenSuffix,
		"authorization_endpoint":                base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint":         base + "/oauth2/v2.0/devicecode",
		"issuer":                                base + "/v2.0",
		"jwks_uri":                              "https://" + r.Host + "/" + tenant + "/discovery/v2.0/keys",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"tenant_region_scope":                   "NA",
	})
}

func (c *Cloud) serveToken(w http.ResponseWriter, r *http.Request) {
	c.entra.requests.Add(1)
	tc := TokenCall{Tenant: tenantOf(r.URL.Path, tokenSuffix)}
	status, token := c.issueToken(w, r, &tc)
	tc.Status, tc.AccessToken = status, token
	c.entra.mu.Lock()
	c.entra.calls = append(c.entra.calls, tc)
	c.entra.mu.Unlock()
}

// issueToken validates the request like Entra would for the client credentials
// grant, writes the answer, and returns its status and the token issued.
func (c *Cloud) issueToken(w http.ResponseWriter, r *http.Request, tc *TokenCall) (int, string) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return http.StatusMethodNotAllowed, ""
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		return entraError(w, http.StatusBadRequest, "invalid_request", 900144, "malformed body: "+err.Error()), ""
	}
	basicID, basicSecret, basic := r.BasicAuth()
	tc.ClientID = r.PostForm.Get("client_id")
	if tc.ClientID == "" && basic {
		tc.ClientID = basicID
	}
	tc.Scope = r.PostForm.Get("scope")
	tc.GrantType = r.PostForm.Get("grant_type")
	secret := r.PostForm.Get("client_secret")
	if secret == "" && basic {
		secret = basicSecret
	}
	tc.HasSecret = secret != ""
	tc.ClientAssertion = r.PostForm.Get("client_assertion")
	tc.HasAssertion = tc.ClientAssertion != ""

	if status, _, fail := c.entra.fail.take(); fail {
		return entraError(w, status, "temporarily_unavailable", 50196,
			"injected failure (bftest FailTokens)"), ""
	}
	switch {
	case !c.knownTenant(tc.Tenant):
		return entraError(w, http.StatusBadRequest, "invalid_request", 90002,
			fmt.Sprintf("Tenant '%s' not found.", tc.Tenant)), ""
	case tc.GrantType != "client_credentials":
		return entraError(w, http.StatusBadRequest, "unsupported_grant_type", 70003,
			fmt.Sprintf("The app requested an unsupported grant type '%s'.", tc.GrantType)), ""
	case tc.ClientID != c.opts.AppID:
		return entraError(w, http.StatusBadRequest, "unauthorized_client", 700016,
			fmt.Sprintf("Application with identifier '%s' was not found in the directory.", tc.ClientID)), ""
	case tc.Scope == "":
		return entraError(w, http.StatusBadRequest, "invalid_request", 900144,
			"The request body must contain the following parameter: 'scope'."), ""
	case !tc.HasSecret && !tc.HasAssertion:
		return entraError(w, http.StatusUnauthorized, "invalid_client", 7000216,
			"'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type."), ""
	case tc.HasSecret && c.opts.ClientSecret != "" && secret != c.opts.ClientSecret:
		return entraError(w, http.StatusUnauthorized, "invalid_client", 7000215,
			"Invalid client secret provided."), ""
	}
	token := accessTokenPrefix + strconv.FormatInt(c.entra.issued.Add(1), 10)
	w.Header().Set("Cache-Control", "no-store, no-cache")
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type":     "Bearer",
		"access_token":   token,
		"expires_in":     3600,
		"ext_expires_in": 3600,
	})
	return http.StatusOK, token
}

// entraError writes an error in the shape Entra uses, which MSAL turns into a
// readable message (error: error_description).
func entraError(w http.ResponseWriter, status int, code string, aadsts int, msg string) int {
	writeJSON(w, status, map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s (bftest)", aadsts, msg),
		"error_codes":       []int{aadsts},
		"timestamp":         time.Now().UTC().Format("2006-01-02 15:04:05Z"),
		"trace_id":          "00000000-0000-0000-0000-000000000000",
		"correlation_id":    "00000000-0000-0000-0000-000000000000",
	})
	return status
}
