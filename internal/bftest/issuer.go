package bftest

import (
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

const (
	metadataPath = "/v1/.well-known/openidconfiguration"
	jwksPath     = "/v1/.well-known/keys"
)

// DefaultEndorsements are the channels a new key endorses: a subset of what the real
// Bot Framework JWKS lists, always including "msteams" so that tokens for Teams
// activities verify out of the box.
var DefaultEndorsements = []string{"msteams", "webchat", "directline", "skype", "slack", "email", "telegram"}

// signingKey is one Bot Framework signing key. Fields other than kid, priv and
// certDER change only under issuer.mu.
type signingKey struct {
	kid          string
	priv         *rsa.PrivateKey
	certDER      []byte // self-signed certificate, served as x5c like the real JWKS
	endorsements []string
	published    bool
}

// issuer is the fake channel-service token issuer: its keys and the counters of its
// two documents.
type issuer struct {
	mu           sync.RWMutex
	keys         []*signingKey // creation order; the last one is current
	down         atomic.Bool
	metadataHits atomic.Int64
	jwksHits     atomic.Int64
}

// newKey generates a key, makes it current and, if publish, lists it in the JWKS.
// The kid is the certificate's SHA-1 thumbprint, which is also its x5t: the real
// Bot Framework keys are named that way.
func (is *issuer) newKey(publish bool) (string, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", fmt.Errorf("bftest: generate signing key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return "", fmt.Errorf("bftest: certificate serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "login.botframework.com"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return "", fmt.Errorf("bftest: self-sign signing key: %w", err)
	}
	sum := sha1.Sum(der)
	k := &signingKey{
		kid:          base64.RawURLEncoding.EncodeToString(sum[:]),
		priv:         priv,
		certDER:      der,
		endorsements: slices.Clone(DefaultEndorsements),
		published:    publish,
	}
	is.mu.Lock()
	is.keys = append(is.keys, k)
	is.mu.Unlock()
	return k.kid, nil
}

// current returns the newest key. There is always one: RemoveKey refuses to remove
// the last.
func (is *issuer) current() (*signingKey, string) {
	is.mu.RLock()
	defer is.mu.RUnlock()
	k := is.keys[len(is.keys)-1]
	return k, k.kid
}

// find returns the index of kid, or of the current key when kid is "". Callers hold mu.
func (is *issuer) find(kid string) (int, error) {
	if kid == "" {
		return len(is.keys) - 1, nil
	}
	for i, k := range is.keys {
		if k.kid == kid {
			return i, nil
		}
	}
	return -1, fmt.Errorf("%w %q", errUnknownKID, kid)
}

// NewKey adds a signing key and makes it the current one (Mint signs with it). With
// publish false it is not listed in the JWKS until PublishKey(kid, true): that is how
// a test makes the bot meet a token whose kid it has not seen, to exercise its
// refresh-on-unknown-kid path.
func (c *Cloud) NewKey(publish bool) (kid string) {
	kid, err := c.issuer.newKey(publish)
	if err != nil {
		// crypto/rand does not fail on supported platforms; nothing to recover.
		panic(err)
	}
	return kid
}

// RotateKey adds a new, published signing key and makes it current. Older keys stay
// published until RemoveKey, as during a real rollover.
func (c *Cloud) RotateKey() (kid string) { return c.NewKey(true) }

// PublishKey lists (true) or hides (false) a key in the JWKS. Hidden keys still sign.
func (c *Cloud) PublishKey(kid string, publish bool) error {
	c.issuer.mu.Lock()
	defer c.issuer.mu.Unlock()
	i, err := c.issuer.find(kid)
	if err != nil {
		return err
	}
	c.issuer.keys[i].published = publish
	return nil
}

// RemoveKey deletes a key: it leaves the JWKS and can no longer sign. If it was
// current, the newest remaining key becomes current. The last key cannot be removed.
func (c *Cloud) RemoveKey(kid string) error {
	c.issuer.mu.Lock()
	defer c.issuer.mu.Unlock()
	i, err := c.issuer.find(kid)
	if err != nil {
		return err
	}
	if len(c.issuer.keys) == 1 {
		return errors.New("bftest: cannot remove the only signing key; add one first")
	}
	c.issuer.keys = slices.Delete(c.issuer.keys, i, i+1)
	return nil
}

// Endorsements replaces the channels a key endorses ("" means the current key). With
// no channels the key is published with an empty endorsements list, so a validator
// that checks endorsements must reject its tokens for every channel.
func (c *Cloud) Endorsements(kid string, channels ...string) error {
	c.issuer.mu.Lock()
	defer c.issuer.mu.Unlock()
	i, err := c.issuer.find(kid)
	if err != nil {
		return err
	}
	c.issuer.keys[i].endorsements = append([]string{}, channels...)
	return nil
}

// CurrentKID is the kid of the key Mint signs with by default.
func (c *Cloud) CurrentKID() string {
	_, kid := c.issuer.current()
	return kid
}

// PublicKeyPEM is the current key's public half as a PEM "PUBLIC KEY" (PKIX) block:
// the HMAC secret Mint uses for Alg "HS256", as an attacker who downloaded the key
// would.
func (c *Cloud) PublicKeyPEM() []byte {
	k, _ := c.issuer.current()
	return publicKeyPEM(&k.priv.PublicKey)
}

func publicKeyPEM(pub *rsa.PublicKey) []byte {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		panic(err) // cannot happen for an RSA key
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// SetDown makes the metadata document and the JWKS answer 503 (true) or serve
// normally again (false), to test how the bot behaves when it cannot (re)fetch keys.
func (c *Cloud) SetDown(down bool) { c.issuer.down.Store(down) }

// MetadataHits counts requests for the OpenID metadata document, including ones
// answered 503.
func (c *Cloud) MetadataHits() int64 { return c.issuer.metadataHits.Load() }

// JWKSHits counts requests for the JWKS, including ones answered 503.
func (c *Cloud) JWKSHits() int64 { return c.issuer.jwksHits.Load() }

func (c *Cloud) serveMetadata(w http.ResponseWriter, r *http.Request) {
	c.issuer.metadataHits.Add(1)
	if !c.documentAvailable(w, r) {
		return
	}
	// The real document (login.botframework.com) has exactly these fields.
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                BotFrameworkIssuer,
		"authorization_endpoint":                "https://invalid.botframework.com",
		"jwks_uri":                              c.JWKSURL(),
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"token_endpoint_auth_methods_supported": []string{"private_key_jwt"},
	})
}

// jwk is one key in the JWKS, in the field order and shape Bot Framework serves.
type jwk struct {
	Kty          string   `json:"kty"`
	Use          string   `json:"use"`
	Kid          string   `json:"kid"`
	X5t          string   `json:"x5t"`
	N            string   `json:"n"`
	E            string   `json:"e"`
	X5c          []string `json:"x5c"`
	Endorsements []string `json:"endorsements"`
}

func (c *Cloud) serveJWKS(w http.ResponseWriter, r *http.Request) {
	c.issuer.jwksHits.Add(1)
	if !c.documentAvailable(w, r) {
		return
	}
	c.issuer.mu.RLock()
	keys := make([]jwk, 0, len(c.issuer.keys))
	for _, k := range c.issuer.keys {
		if !k.published {
			continue
		}
		pub := &k.priv.PublicKey
		keys = append(keys, jwk{
			Kty:          "RSA",
			Use:          "sig",
			Kid:          k.kid,
			X5t:          k.kid,
			N:            base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			E:            base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
			X5c:          []string{base64.StdEncoding.EncodeToString(k.certDER)},
			Endorsements: slices.Clone(k.endorsements),
		})
	}
	c.issuer.mu.RUnlock()
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

// documentAvailable answers 503 while SetDown(true) and 405 to anything but GET/HEAD.
func (c *Cloud) documentAvailable(w http.ResponseWriter, r *http.Request) bool {
	if c.issuer.down.Load() {
		http.Error(w, "service unavailable (bftest SetDown)", http.StatusServiceUnavailable)
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return false
	}
	return true
}

// TokenOptions shapes a token from Mint. The zero value yields a token a correct
// validator accepts for a Teams activity from this Cloud; each field breaks one thing.
type TokenOptions struct {
	// Issuer is the "iss" claim. Default BotFrameworkIssuer.
	Issuer string
	// Audience is the "aud" claim. Default the cloud's AppID.
	Audience string
	// ServiceURL is the "serviceurl" claim (the channel binds the token to the
	// activity's serviceUrl this way). Default ServiceURL(). To drop the claim, set
	// Claims["serviceurl"] = nil.
	ServiceURL string
	// NotBefore, IssuedAt and Expiry are "nbf", "iat" and "exp". Defaults: a minute
	// ago, now, and an hour from now.
	NotBefore, IssuedAt, Expiry time.Time
	// KID is the header's "kid". Default the current key's kid — also when SignWith
	// is set, which yields a token claiming a published key but signed by another.
	KID string
	// OmitKID leaves "kid" out of the header.
	OmitKID bool
	// Alg is the header's "alg" and how the token is signed: "RS256" (default),
	// "RS384", "RS512" and "PS256" sign with the RSA key; "none" produces an unsigned
	// token with an empty signature part; "HS256" signs with HMAC-SHA256 keyed by the
	// signing key's public PEM (see PublicKeyPEM) — the classic algorithm-confusion
	// attack on validators that let the token pick the algorithm. Others panic.
	Alg string
	// SignWith signs with this key instead of the current one, e.g. a key that is
	// not in the JWKS.
	SignWith *rsa.PrivateKey
	// Claims are added to the payload last, overriding the defaults above; a nil
	// value removes that claim (e.g. {"aud": nil}).
	Claims map[string]any
}

// Mint returns a compact JWS signed as TokenOptions says. It is built by hand rather
// than with a JWT library so that malformed variants ("none", HS256 with a public key,
// missing kid) are produced exactly as asked, with nothing "fixed" on the way.
func (c *Cloud) Mint(o TokenOptions) string {
	now := time.Now()
	k, kid := c.issuer.current()
	key := k.priv
	if o.SignWith != nil {
		key = o.SignWith
	}
	if o.KID != "" {
		kid = o.KID
	}
	alg := o.Alg
	if alg == "" {
		alg = "RS256"
	}
	header := map[string]any{"typ": "JWT", "alg": alg}
	if !o.OmitKID {
		header["kid"] = kid
	}
	claims := map[string]any{
		"iss":        orDefault(o.Issuer, BotFrameworkIssuer),
		"aud":        orDefault(o.Audience, c.opts.AppID),
		"serviceurl": orDefault(o.ServiceURL, c.ServiceURL()),
		"nbf":        orDefaultTime(o.NotBefore, now.Add(-time.Minute)).Unix(),
		"iat":        orDefaultTime(o.IssuedAt, now).Unix(),
		"exp":        orDefaultTime(o.Expiry, now.Add(time.Hour)).Unix(),
	}
	for name, v := range o.Claims {
		if v == nil {
			delete(claims, name)
		} else {
			claims[name] = v
		}
	}
	signingInput := segment(header) + "." + segment(claims)
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(sign(alg, key, []byte(signingInput)))
}

func sign(alg string, key *rsa.PrivateKey, input []byte) []byte {
	var (
		sig []byte
		err error
	)
	switch alg {
	case "none":
		return nil
	case "HS256":
		m := hmac.New(sha256.New, publicKeyPEM(&key.PublicKey))
		m.Write(input)
		return m.Sum(nil)
	case "RS256":
		d := sha256.Sum256(input)
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	case "RS384":
		d := sha512.Sum384(input)
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA384, d[:])
	case "RS512":
		d := sha512.Sum512(input)
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA512, d[:])
	case "PS256":
		d := sha256.Sum256(input)
		sig, err = rsa.SignPSS(rand.Reader, key, crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	default:
		panic(fmt.Sprintf("bftest: Mint: unsupported alg %q", alg))
	}
	if err != nil {
		panic(fmt.Sprintf("bftest: Mint: sign: %v", err))
	}
	return sig
}

func segment(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("bftest: Mint: encode: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func orDefaultTime(t, def time.Time) time.Time {
	if t.IsZero() {
		return def
	}
	return t
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b)
}
