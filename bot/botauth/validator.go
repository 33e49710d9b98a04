// Package botauth authenticates the activities Teams posts to the bot. It implements
// msbotbuilder-go's auth.TokenValidator with the checks that library leaves out:
// configurable OpenID metadata, a concurrency-safe key cache refreshed on a schedule and
// on unknown key ids (rate-limited), audience, issuer, expiry with bounded skew, the
// serviceurl claim, the key's channel endorsement and the tenant.
package botauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/infracloudio/msbotbuilder-go/connector/auth"
	"github.com/infracloudio/msbotbuilder-go/schema"
	"go.uber.org/zap"
)

// Defaults for Microsoft's public cloud. Sovereign clouds override them through Config.
const (
	DefaultMetadataURL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
	DefaultIssuer      = "https://api.botframework.com"
	// MaxLeeway is the clock skew docs/security.md allows between Teams and us.
	MaxLeeway = 5 * time.Minute
)

// ErrKeysUnavailable means no signing keys could be loaded: the request may be genuine,
// so the server answers 503 (retry later) rather than 401.
var ErrKeysUnavailable = errors.New("botauth: signing keys unavailable")

// RejectedError is an authentication failure. Reason is safe to log: it never holds
// the token.
type RejectedError struct{ Reason string }

func (e *RejectedError) Error() string { return "botauth: unauthorized: " + e.Reason }

func reject(format string, args ...any) error {
	return &RejectedError{Reason: fmt.Sprintf(format, args...)}
}

// Config configures a Validator.
type Config struct {
	AppID       string   // expected audience
	TenantID    string   // the only tenant whose activities are accepted
	MetadataURL string   // OpenID metadata naming the JWKS; default DefaultMetadataURL
	Issuers     []string // accepted issuers; default DefaultIssuer
	Leeway      time.Duration
	// RefreshInterval is how often keys are refetched in the background (default 24h).
	RefreshInterval time.Duration
	// MinRefreshInterval rate-limits fetches triggered by unknown key ids, so a flood
	// of tokens with made-up kids cannot turn into a flood of fetches (default 1m).
	MinRefreshInterval time.Duration
	HTTPClient         *http.Client
	Now                func() time.Time
}

// Validator is safe for concurrent use. Keys live in an atomic pointer so the hot path
// takes no lock and does no I/O once keys are cached.
type Validator struct {
	cfg    Config
	log    *zap.Logger
	fetch  fetcher
	parser *jwt.Parser

	keys     atomic.Pointer[keySet]
	verified verifiedCache

	refreshMu   sync.Mutex // serialises fetches; waiters reuse the result
	lastAttempt time.Time  // guarded by refreshMu
}

var _ auth.TokenValidator = (*Validator)(nil)

// New builds a Validator. It does not fetch keys: call Refresh (or Run) at start-up.
func New(cfg Config, log *zap.Logger) (*Validator, error) {
	if cfg.AppID == "" {
		return nil, errors.New("botauth: app id is required")
	}
	if cfg.TenantID == "" {
		return nil, errors.New("botauth: tenant id is required")
	}
	if cfg.MetadataURL == "" {
		cfg.MetadataURL = DefaultMetadataURL
	}
	if err := CheckEndpointURL(cfg.MetadataURL); err != nil {
		return nil, fmt.Errorf("botauth: metadata URL: %w", err)
	}
	if len(cfg.Issuers) == 0 {
		cfg.Issuers = []string{DefaultIssuer}
	}
	if cfg.Leeway <= 0 || cfg.Leeway > MaxLeeway {
		cfg.Leeway = MaxLeeway
	}
	if cfg.RefreshInterval <= 0 {
		cfg.RefreshInterval = 24 * time.Hour
	}
	if cfg.MinRefreshInterval <= 0 {
		cfg.MinRefreshInterval = time.Minute
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	v := &Validator{
		cfg:   cfg,
		log:   log,
		fetch: fetcher{metadataURL: cfg.MetadataURL, client: cfg.HTTPClient},
		parser: jwt.NewParser(
			// Bot Framework signs with RS256; listing the RSA family only is what stops
			// "none" and HS256-with-the-public-key forgeries.
			jwt.WithValidMethods([]string{"RS256", "RS384", "RS512"}),
			jwt.WithAudience(cfg.AppID),
			jwt.WithExpirationRequired(),
			jwt.WithLeeway(cfg.Leeway),
			jwt.WithTimeFunc(cfg.Now),
		),
	}
	return v, nil
}

// Ready reports whether signing keys are loaded.
func (v *Validator) Ready() bool { return v.keys.Load() != nil }

// Refresh fetches the keys now, unless another caller fetched (or tried to) less than
// MinRefreshInterval ago; concurrent callers wait for one fetch instead of each
// starting their own. On failure the previous keys stay in use.
func (v *Validator) Refresh(ctx context.Context) error {
	return v.refresh(ctx, false)
}

func (v *Validator) refresh(ctx context.Context, force bool) error {
	v.refreshMu.Lock()
	defer v.refreshMu.Unlock()
	now := v.cfg.Now()
	if !force && !v.lastAttempt.IsZero() && now.Sub(v.lastAttempt) < v.cfg.MinRefreshInterval {
		return nil
	}
	v.lastAttempt = now
	set, err := v.fetch.fetch(ctx)
	if err != nil {
		v.log.Warn("bot framework signing keys: refresh failed; keeping cached keys",
			zap.Error(err), zap.Bool("have_keys", v.Ready()))
		return fmt.Errorf("botauth: refresh keys: %w", err)
	}
	v.keys.Store(&set)
	v.log.Info("bot framework signing keys loaded", zap.Int("keys", len(set)))
	return nil
}

// Run refreshes the keys every RefreshInterval until ctx ends, retrying failures after
// MinRefreshInterval. Call it in its own goroutine.
func (v *Validator) Run(ctx context.Context) {
	wait := v.cfg.RefreshInterval
	if !v.Ready() {
		wait = 0
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = v.cfg.RefreshInterval
		if err := v.refresh(ctx, true); err != nil {
			wait = v.cfg.MinRefreshInterval
		}
	}
}

// AuthenticateRequest implements auth.TokenValidator. The audience is Config.AppID;
// the credentials argument is ignored on purpose: in the library an empty app id there
// switches authentication off, while here local no-auth mode is a separate, explicit
// type (DevValidator).
func (v *Validator) AuthenticateRequest(ctx context.Context, activity schema.Activity, authHeader string, _ auth.CredentialProvider, _ string) (auth.ClaimsIdentity, error) {
	raw, ok := strings.CutPrefix(authHeader, "Bearer ")
	if !ok || raw == "" {
		return nil, reject("missing bearer token")
	}
	if v.keys.Load() == nil {
		// Cold start: nothing cached yet, so this is the one place a request may fetch.
		if err := v.Refresh(ctx); err != nil || !v.Ready() {
			return nil, ErrKeysUnavailable
		}
	}

	c, used, err := v.verifyToken(ctx, raw)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(v.cfg.Issuers, c.Issuer) {
		return nil, reject("issuer %q not accepted", c.Issuer)
	}
	if c.ServiceURL == "" || c.ServiceURL != activity.ServiceURL {
		return nil, reject("serviceurl claim does not match the activity's serviceUrl")
	}
	if !used.endorses(activity.ChannelID) {
		return nil, reject("signing key not endorsed for channel %q", activity.ChannelID)
	}
	if err := CheckTenant(activity, v.cfg.TenantID); err != nil {
		return nil, err
	}
	return identity{claims: c}, nil
}

// verifyToken checks the token's signature, algorithm, audience and lifetime, and
// returns its claims and signing key. A token seen before skips the signature check
// but not the lifetime check, and only while its key is still published.
func (v *Validator) verifyToken(ctx context.Context, raw string) (tokenClaims, signingKey, error) {
	now := v.cfg.Now()
	if hit, ok := v.verified.get(raw); ok {
		set := v.keys.Load()
		k, published := (*set)[hit.kid]
		if published && now.Before(hit.exp.Add(v.cfg.Leeway)) {
			return hit.claims, k, nil
		}
	}
	var used signingKey
	var kid string
	var c tokenClaims
	_, err := v.parser.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		kid, _ = t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token has no kid")
		}
		k, ok := v.lookup(ctx, kid)
		if !ok {
			return nil, fmt.Errorf("unknown signing key %q", kid)
		}
		used = k
		return k.pub, nil
	})
	if err != nil {
		return tokenClaims{}, signingKey{}, reject("%v", err)
	}
	v.verified.put(raw, verified{claims: c, kid: kid, exp: c.ExpiresAt.Time}, now)
	return c, used, nil
}

// lookup finds a key by id, refreshing once (rate-limited) when the id is unknown:
// Microsoft rotates keys and a new kid usually means our cache is stale.
func (v *Validator) lookup(ctx context.Context, kid string) (signingKey, bool) {
	if set := v.keys.Load(); set != nil {
		if k, ok := (*set)[kid]; ok {
			return k, true
		}
	}
	if err := v.Refresh(ctx); err != nil {
		return signingKey{}, false
	}
	set := v.keys.Load()
	if set == nil {
		return signingKey{}, false
	}
	k, ok := (*set)[kid]
	return k, ok
}

type tokenClaims struct {
	jwt.RegisteredClaims
	ServiceURL string `json:"serviceurl"`
}

// identity implements auth.ClaimsIdentity without the library's habit of panicking on
// a missing claim.
type identity struct{ claims tokenClaims }

func (i identity) IsAuthenticated() bool { return true }

func (i identity) GetClaimValue(name string) string {
	switch name {
	case "iss":
		return i.claims.Issuer
	case "aud":
		if len(i.claims.Audience) > 0 {
			return i.claims.Audience[0]
		}
	case "serviceurl":
		return i.claims.ServiceURL
	case "sub":
		return i.claims.Subject
	}
	return ""
}

// ActivityTenant returns the tenant an activity says it comes from. Teams puts it in
// channelData.tenant.id and conversation.tenantId; when both are present they must agree.
func ActivityTenant(a schema.Activity) (string, error) {
	var fromChannelData string
	if t, ok := a.ChannelData["tenant"].(map[string]any); ok {
		fromChannelData, _ = t["id"].(string)
	}
	fromConversation := a.Conversation.TenantID
	switch {
	case fromChannelData != "" && fromConversation != "" && !strings.EqualFold(fromChannelData, fromConversation):
		return "", reject("activity names two tenants")
	case fromChannelData != "":
		return fromChannelData, nil
	case fromConversation != "":
		return fromConversation, nil
	}
	return "", reject("activity names no tenant")
}

// CheckTenant refuses activities from any tenant but want.
func CheckTenant(a schema.Activity, want string) error {
	got, err := ActivityTenant(a)
	if err != nil {
		return err
	}
	if !strings.EqualFold(got, want) {
		return reject("activity from tenant %q, expected %q", got, want)
	}
	return nil
}

// DevValidator is the local no-auth mode used by `tapbot dev` with the Agents
// Playground, which sends no token. It still enforces the tenant. The server only
// installs it on a loopback listener.
type DevValidator struct{ TenantID string }

var _ auth.TokenValidator = DevValidator{}

// AuthenticateRequest accepts any activity from the configured tenant.
func (d DevValidator) AuthenticateRequest(_ context.Context, activity schema.Activity, _ string, _ auth.CredentialProvider, _ string) (auth.ClaimsIdentity, error) {
	if err := CheckTenant(activity, d.TenantID); err != nil {
		return nil, err
	}
	return identity{}, nil
}
