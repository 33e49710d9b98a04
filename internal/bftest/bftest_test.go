package bftest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/golang-jwt/jwt/v5"

	"github.com/tapbot/tapbot/internal/bftest"
)

func newCloud(t *testing.T, o bftest.Options) *bftest.Cloud {
	t.Helper()
	c, err := bftest.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func get(t *testing.T, c *bftest.Cloud, url string) (int, []byte) {
	t.Helper()
	resp, err := c.Client().Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

type servedKey struct {
	Kty, Use, Kid, X5t, N, E string
	X5c                      []string
	Endorsements             []string
}

// fetchKeys follows the metadata document to the JWKS, as a bot does, and parses n/e.
func fetchKeys(t *testing.T, c *bftest.Cloud) (map[string]*rsa.PublicKey, map[string]servedKey) {
	t.Helper()
	status, body := get(t, c, c.MetadataURL())
	if status != http.StatusOK {
		t.Fatalf("metadata: status %d, want 200", status)
	}
	var meta struct {
		Issuer  string   `json:"issuer"`
		JWKSURI string   `json:"jwks_uri"`
		Algs    []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := json.Unmarshal(body, &meta); err != nil {
		t.Fatal(err)
	}
	if meta.Issuer != "https://api.botframework.com" || !slices.Equal(meta.Algs, []string{"RS256"}) {
		t.Fatalf("metadata = %s, want issuer https://api.botframework.com and algs [RS256]", body)
	}
	if meta.JWKSURI != c.URL()+"/v1/.well-known/keys" {
		t.Fatalf("jwks_uri = %q, want %q", meta.JWKSURI, c.URL()+"/v1/.well-known/keys")
	}
	status, body = get(t, c, meta.JWKSURI)
	if status != http.StatusOK {
		t.Fatalf("jwks: status %d, want 200", status)
	}
	var doc struct{ Keys []servedKey }
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	pubs, raw := map[string]*rsa.PublicKey{}, map[string]servedKey{}
	for _, k := range doc.Keys {
		if k.Kty != "RSA" || k.Use != "sig" || k.E != "AQAB" || k.X5t != k.Kid {
			t.Fatalf("key = %+v, want kty RSA, use sig, e AQAB and x5t = kid", k)
		}
		n, err := base64.RawURLEncoding.DecodeString(k.N)
		if err != nil {
			t.Fatal(err)
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: 65537}
		if pub.N.BitLen() != 2048 {
			t.Fatalf("key %s has %d bits, want 2048", k.Kid, pub.N.BitLen())
		}
		der, err := base64.StdEncoding.DecodeString(k.X5c[0])
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		if !cert.PublicKey.(*rsa.PublicKey).Equal(pub) {
			t.Fatalf("x5c of %s holds another key, want the one of n/e", k.Kid)
		}
		pubs[k.Kid], raw[k.Kid] = pub, k
	}
	return pubs, raw
}

func keyfunc(pubs map[string]*rsa.PublicKey) jwt.Keyfunc {
	return func(tok *jwt.Token) (any, error) {
		kid, _ := tok.Header["kid"].(string)
		if pub, ok := pubs[kid]; ok {
			return pub, nil
		}
		return nil, errors.New("unknown kid")
	}
}

func strictParser(c *bftest.Cloud) *jwt.Parser {
	return jwt.NewParser(
		jwt.WithValidMethods([]string{"RS256"}),
		jwt.WithIssuer("https://api.botframework.com"),
		jwt.WithAudience(c.AppID()),
		jwt.WithExpirationRequired(),
	)
}

func TestMintVerifiesAgainstServedJWKS(t *testing.T) {
	c := newCloud(t, bftest.Options{})
	pubs, raw := fetchKeys(t, c)
	if len(pubs) != 1 {
		t.Fatalf("JWKS has %d keys, want 1", len(pubs))
	}
	if !slices.Contains(raw[c.CurrentKID()].Endorsements, "msteams") {
		t.Fatalf("endorsements = %v, want msteams among them", raw[c.CurrentKID()].Endorsements)
	}
	if !c.PrivateKey().PublicKey.Equal(pubs[c.CurrentKID()]) {
		t.Fatal("PrivateKey is not the published current key, want it to be")
	}

	tok, err := strictParser(c).Parse(c.Mint(bftest.TokenOptions{}), keyfunc(pubs))
	if err != nil {
		t.Fatalf("default token does not verify: %v", err)
	}
	if tok.Header["kid"] != c.CurrentKID() || tok.Header["alg"] != "RS256" {
		t.Fatalf("header = %v, want kid %s and alg RS256", tok.Header, c.CurrentKID())
	}
	claims := tok.Claims.(jwt.MapClaims)
	if claims["serviceurl"] != c.ServiceURL() {
		t.Fatalf("serviceurl = %v, want %s", claims["serviceurl"], c.ServiceURL())
	}
	nbf, _ := claims.GetNotBefore()
	exp, _ := claims.GetExpirationTime()
	if d := time.Until(nbf.Time); d > -30*time.Second || d < -2*time.Minute {
		t.Fatalf("nbf = %v, want 30s to 2m ago", nbf)
	}
	if d := time.Until(exp.Time); d < 59*time.Minute || d > 61*time.Minute {
		t.Fatalf("exp = %v, want 59m to 61m ahead", exp)
	}
	if !strings.HasSuffix(c.ServiceURL(), "/connector/") || !strings.HasSuffix(c.AuthorityHost(), "/") {
		t.Fatalf("ServiceURL %q, AuthorityHost %q; want them ending in /connector/ and /", c.ServiceURL(), c.AuthorityHost())
	}
}

func TestMintOverrides(t *testing.T) {
	c := newCloud(t, bftest.Options{AppID: "app-1"})
	pubs, _ := fetchKeys(t, c)
	p := strictParser(c)

	cases := []struct {
		name string
		o    bftest.TokenOptions
		want error // from golang-jwt
	}{
		{"issuer", bftest.TokenOptions{Issuer: "https://evil.example"}, jwt.ErrTokenInvalidIssuer},
		{"audience", bftest.TokenOptions{Audience: "someone-else"}, jwt.ErrTokenInvalidAudience},
		{"expired", bftest.TokenOptions{Expiry: time.Now().Add(-time.Hour)}, jwt.ErrTokenExpired},
		{"not yet valid", bftest.TokenOptions{NotBefore: time.Now().Add(time.Hour)}, jwt.ErrTokenNotValidYet},
		{"no exp claim", bftest.TokenOptions{Claims: map[string]any{"exp": nil}}, jwt.ErrTokenRequiredClaimMissing},
		{"unknown kid", bftest.TokenOptions{KID: "nope"}, jwt.ErrTokenUnverifiable},
		{"no kid", bftest.TokenOptions{OmitKID: true}, jwt.ErrTokenUnverifiable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Parse(c.Mint(tc.o), keyfunc(pubs))
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}

	tok, err := p.Parse(c.Mint(bftest.TokenOptions{
		ServiceURL: "https://smba.example/amer/",
		Claims:     map[string]any{"appid": "x", "serviceurl": nil},
	}), keyfunc(pubs))
	if err != nil {
		t.Fatal(err)
	}
	claims := tok.Claims.(jwt.MapClaims)
	if _, ok := claims["serviceurl"]; ok || claims["appid"] != "x" {
		t.Fatalf("claims = %v: want serviceurl removed and appid added", claims)
	}
	if _, ok := tok.Header["kid"]; !ok {
		t.Fatalf("header = %v, want a kid by default", tok.Header)
	}
}

func TestMintAttackVariants(t *testing.T) {
	c := newCloud(t, bftest.Options{})
	pubs, _ := fetchKeys(t, c)

	t.Run("none", func(t *testing.T) {
		s := c.Mint(bftest.TokenOptions{Alg: "none"})
		if !strings.HasSuffix(s, ".") || strings.Count(s, ".") != 2 {
			t.Fatalf("alg none token = %q, want three parts, the signature empty", s)
		}
		if _, err := strictParser(c).Parse(s, keyfunc(pubs)); !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			t.Fatalf("strict parser: err = %v, want %v", err, jwt.ErrTokenSignatureInvalid)
		}
		// A validator that lets the token choose accepts it: that is the point.
		tok, err := jwt.Parse(s, func(*jwt.Token) (any, error) { return jwt.UnsafeAllowNoneSignatureType, nil })
		if err != nil || tok.Header["alg"] != "none" {
			t.Fatalf("unsafe parser: err %v, header %v; want it accepted with alg none", err, tok.Header)
		}
	})

	t.Run("HS256 keyed with the public key", func(t *testing.T) {
		s := c.Mint(bftest.TokenOptions{Alg: "HS256"})
		if _, err := strictParser(c).Parse(s, keyfunc(pubs)); !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			t.Fatalf("strict parser: err = %v, want %v", err, jwt.ErrTokenSignatureInvalid)
		}
		parts := strings.Split(s, ".")
		m := hmac.New(sha256.New, c.PublicKeyPEM())
		m.Write([]byte(parts[0] + "." + parts[1]))
		if got := base64.RawURLEncoding.EncodeToString(m.Sum(nil)); got != parts[2] {
			t.Fatalf("HS256 signature = %s, want %s (HMAC-SHA256 keyed with PublicKeyPEM)", parts[2], got)
		}
		tok, err := jwt.Parse(s, func(*jwt.Token) (any, error) { return c.PublicKeyPEM(), nil })
		if err != nil || tok.Header["alg"] != "HS256" || tok.Header["kid"] != c.CurrentKID() {
			t.Fatalf("confused parser: err %v, header %v; want it accepted with alg HS256 and kid %s", err, tok.Header, c.CurrentKID())
		}
	})

	t.Run("signed by a key outside the JWKS", func(t *testing.T) {
		other, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		s := c.Mint(bftest.TokenOptions{SignWith: other})
		if _, err := strictParser(c).Parse(s, keyfunc(pubs)); !errors.Is(err, jwt.ErrTokenSignatureInvalid) {
			t.Fatalf("err = %v, want signature invalid", err)
		}
		if _, err := strictParser(c).Parse(s, func(*jwt.Token) (any, error) { return &other.PublicKey, nil }); err != nil {
			t.Fatalf("does not verify with the key it was signed with: %v", err)
		}
	})
}

func TestKeyManagement(t *testing.T) {
	c := newCloud(t, bftest.Options{})
	first := c.CurrentKID()

	hidden := c.NewKey(false)
	if c.CurrentKID() != hidden {
		t.Fatalf("CurrentKID() = %s, want the new key %s", c.CurrentKID(), hidden)
	}
	pubs, _ := fetchKeys(t, c)
	if _, ok := pubs[hidden]; ok || len(pubs) != 1 {
		t.Fatalf("JWKS kids = %v, want only the published one, not %s", slices.Collect(maps.Keys(pubs)), hidden)
	}
	s := c.Mint(bftest.TokenOptions{})
	if _, err := strictParser(c).Parse(s, keyfunc(pubs)); !errors.Is(err, jwt.ErrTokenUnverifiable) {
		t.Fatalf("token by a hidden key: err = %v, want unverifiable (unknown kid)", err)
	}
	if err := c.PublishKey(hidden, true); err != nil {
		t.Fatal(err)
	}
	pubs, _ = fetchKeys(t, c)
	if len(pubs) != 2 {
		t.Fatalf("after publish, %d keys, want 2", len(pubs))
	}
	if _, err := strictParser(c).Parse(s, keyfunc(pubs)); err != nil {
		t.Fatalf("after publish, token does not verify: %v", err)
	}

	if err := c.Endorsements(first, "webchat"); err != nil {
		t.Fatal(err)
	}
	if err := c.Endorsements("", "msteams", "emulator"); err != nil { // "" = current
		t.Fatal(err)
	}
	_, raw := fetchKeys(t, c)
	if !slices.Equal(raw[first].Endorsements, []string{"webchat"}) ||
		!slices.Equal(raw[hidden].Endorsements, []string{"msteams", "emulator"}) {
		t.Fatalf("endorsements = %v / %v, want [webchat] / [msteams emulator]", raw[first].Endorsements, raw[hidden].Endorsements)
	}

	rotated := c.RotateKey()
	if err := c.RemoveKey(first); err != nil {
		t.Fatal(err)
	}
	pubs, _ = fetchKeys(t, c)
	if _, ok := pubs[first]; ok || len(pubs) != 2 || pubs[rotated] == nil {
		t.Fatalf("after rotate+remove, JWKS kids = %v, want 2 with %s and without %s", slices.Collect(maps.Keys(pubs)), rotated, first)
	}
	if err := c.RemoveKey(rotated); err != nil {
		t.Fatal(err)
	}
	if c.CurrentKID() != hidden {
		t.Fatalf("after removing the current key, CurrentKID() = %s, want the newest remaining %s", c.CurrentKID(), hidden)
	}
	if err := c.RemoveKey(hidden); err == nil {
		t.Fatal("RemoveKey of the last key succeeded, want an error")
	}
	if err := c.PublishKey("nope", true); err == nil {
		t.Fatal(`PublishKey("nope") succeeded, want an error for an unknown kid`)
	}
}

func TestSetDownAndCounters(t *testing.T) {
	c := newCloud(t, bftest.Options{})
	fetchKeys(t, c)
	if c.MetadataHits() != 1 || c.JWKSHits() != 1 {
		t.Fatalf("hits = %d/%d, want 1/1", c.MetadataHits(), c.JWKSHits())
	}
	c.SetDown(true)
	for _, u := range []string{c.MetadataURL(), c.JWKSURL()} {
		if status, _ := get(t, c, u); status != http.StatusServiceUnavailable {
			t.Fatalf("%s while down: status %d, want 503", u, status)
		}
	}
	if c.MetadataHits() != 2 || c.JWKSHits() != 2 {
		t.Fatalf("hits = %d/%d, want 2/2", c.MetadataHits(), c.JWKSHits())
	}
	c.SetDown(false)
	fetchKeys(t, c)
}

// post sends a connector request, optionally gzipped, and returns status, Retry-After
// and the decoded JSON answer.
func post(t *testing.T, c *bftest.Cloud, method, rel, auth string, body []byte, gz bool) (int, string, map[string]any) {
	t.Helper()
	var rd io.Reader = bytes.NewReader(body)
	if gz {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		rd = &buf
	}
	req, err := http.NewRequest(method, c.ServiceURL()+rel, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: answer %q, want JSON", method, rel, b)
		}
	}
	return resp.StatusCode, resp.Header.Get("Retry-After"), out
}

func TestConnectorRecords(t *testing.T) {
	c := newCloud(t, bftest.Options{})
	const conv = "19:abc@thread.tacv2;messageid=1700"
	esc := "19:abc@thread.tacv2%3Bmessageid=1700"
	msg := []byte(`{"type":"message","text":"hi"}`)

	status, _, out := post(t, c, "POST", "v3/conversations/"+esc+"/activities", "Bearer t1", msg, false)
	if status != http.StatusCreated || out["id"] == "" {
		t.Fatalf("send = %d %v, want 201 with an id", status, out)
	}
	sentID := out["id"].(string)
	status, _, out = post(t, c, "POST", "v3/conversations/"+esc+"/activities/"+sentID, "Bearer t1", msg, true)
	if status != http.StatusCreated || out["id"] == sentID {
		t.Fatalf("reply = %d %v, want 201 with an id other than %s", status, out, sentID)
	}
	status, _, out = post(t, c, "PUT", "v3/conversations/"+esc+"/activities/"+sentID, "Bearer t1", msg, false)
	if status != http.StatusOK || out["id"] != sentID {
		t.Fatalf("update = %d %v, want 200 with id %s", status, out, sentID)
	}
	if status, _, _ = post(t, c, "DELETE", "v3/conversations/"+esc+"/activities/"+sentID, "Bearer t1", nil, false); status != http.StatusOK {
		t.Fatalf("delete: status %d, want 200", status)
	}
	status, _, out = post(t, c, "POST", "v3/conversations", "Bearer t1", []byte(`{"isGroup":false}`), false)
	if status != http.StatusCreated || !strings.HasPrefix(out["id"].(string), "a:new-") ||
		out["activityId"] == "" || out["serviceUrl"] != c.ServiceURL() {
		t.Fatalf("create conversation = %d %v, want 201 with an id starting a:new-, an activityId and serviceUrl %s", status, out, c.ServiceURL())
	}
	if status, _, _ = post(t, c, "GET", "v3/conversations/x/activities", "", nil, false); status != http.StatusNotFound {
		t.Fatalf("unknown route: status %d, want 404", status)
	}

	calls := c.Calls()
	if len(calls) != 5 || c.CallCount() != 5 || c.RejectedCalls() != 1 {
		t.Fatalf("%d calls recorded, CallCount %d, RejectedCalls %d; want 5, 5, 1", len(calls), c.CallCount(), c.RejectedCalls())
	}
	want := []struct{ method, conv, activity string }{
		{"POST", conv, ""}, {"POST", conv, sentID}, {"PUT", conv, sentID}, {"DELETE", conv, sentID}, {"POST", "", ""},
	}
	for i, w := range want {
		got := calls[i]
		if got.Method != w.method || got.ConversationID != w.conv || got.ActivityID != w.activity || got.Authorization != "Bearer t1" {
			t.Errorf("call %d = %+v, want %+v", i, got, w)
		}
	}
	if calls[0].Path != "v3/conversations/"+conv+"/activities" || calls[0].ResponseID != sentID {
		t.Errorf("call 0 path %q response id %q, want %q %q", calls[0].Path, calls[0].ResponseID, "v3/conversations/"+conv+"/activities", sentID)
	}
	if !bytes.Equal(calls[1].Body, msg) {
		t.Errorf("gzipped call body = %q, want it decoded: %q", calls[1].Body, msg)
	}
	if !bytes.Equal(calls[0].Body, msg) {
		t.Errorf("plain call body = %q, want %q", calls[0].Body, msg)
	}

	c.Reset()
	if len(c.Calls()) != 0 || c.CallCount() != 0 || c.RejectedCalls() != 0 {
		t.Fatalf("after Reset: %d calls, CallCount %d, RejectedCalls %d; want all 0", len(c.Calls()), c.CallCount(), c.RejectedCalls())
	}
}

func TestConnectorFailNext(t *testing.T) {
	c := newCloud(t, bftest.Options{})
	c.FailNext(2, http.StatusTooManyRequests, "1")
	for i := range 2 {
		status, ra, _ := post(t, c, "POST", "v3/conversations/a:1/activities", "", []byte(`{}`), false)
		if status != http.StatusTooManyRequests || ra != "1" {
			t.Fatalf("attempt %d: status %d Retry-After %q, want 429 and 1", i, status, ra)
		}
	}
	if status, ra, _ := post(t, c, "POST", "v3/conversations/a:1/activities", "", []byte(`{}`), false); status != http.StatusCreated || ra != "" {
		t.Fatalf("after failures: status %d Retry-After %q, want 201 and none", status, ra)
	}
	c.FailNext(1, http.StatusServiceUnavailable, "")
	if status, ra, _ := post(t, c, "POST", "v3/conversations/a:1/activities", "", []byte(`{}`), false); status != http.StatusServiceUnavailable || ra != "" {
		t.Fatalf("status %d Retry-After %q, want 503 and none", status, ra)
	}
	if len(c.Calls()) != 1 || c.RejectedCalls() != 3 {
		t.Fatalf("calls %d rejected %d, want 1 and 3", len(c.Calls()), c.RejectedCalls())
	}
}

func TestWaitCalls(t *testing.T) {
	c := newCloud(t, bftest.Options{})

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if calls, err := c.WaitCalls(ctx, 1); !errors.Is(err, context.DeadlineExceeded) || len(calls) != 0 {
		t.Fatalf("WaitCalls with no calls = %d calls, %v; want 0, %v", len(calls), err, context.DeadlineExceeded)
	}

	done := make(chan []bftest.ConnectorCall)
	go func() {
		calls, err := c.WaitCalls(context.Background(), 3)
		if err != nil {
			t.Error(err)
		}
		done <- calls
	}()
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", c.ServiceURL()+"v3/conversations/a:1/activities", strings.NewReader("{}"))
			resp, err := c.Client().Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	if calls := <-done; len(calls) != 3 {
		t.Fatalf("WaitCalls returned %d calls, want 3", len(calls))
	}
}

func TestDiscardAndRequireToken(t *testing.T) {
	c := newCloud(t, bftest.Options{DiscardConnector: true, RequireToken: true})
	rel := "v3/conversations/a:1/activities/act-9"
	if status, _, _ := post(t, c, "POST", rel, "", []byte(`{}`), false); status != http.StatusUnauthorized {
		t.Fatalf("no token: status %d, want 401", status)
	}
	if status, _, _ := post(t, c, "POST", rel, "Bearer bf-token-1", []byte(`{}`), false); status != http.StatusUnauthorized {
		t.Fatalf("token never issued: status %d, want 401", status)
	}
	tok := clientSecretToken(t, c)
	status, _, out := post(t, c, "POST", rel, "Bearer "+tok, []byte(`{}`), true)
	if status != http.StatusCreated || out["id"] == "" {
		t.Fatalf("with token = %d %v, want 201 with an id", status, out)
	}
	calls, err := c.WaitCalls(context.Background(), 1)
	if err != nil || len(calls) != 0 || c.CallCount() != 1 || c.RejectedCalls() != 2 {
		t.Fatalf("discard: err %v, %d recorded, count %d, rejected %d; want nil, 0, 1, 2", err, len(calls), c.CallCount(), c.RejectedCalls())
	}
}

func credOptions(c *bftest.Cloud) azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: c.AuthorityHost()},
		Transport: c.Client(),
		Retry:     policy.RetryOptions{MaxRetries: -1}, // fail fast in FailTokens tests
	}
}

var bfScope = policy.TokenRequestOptions{Scopes: []string{"https://api.botframework.com/.default"}}

func clientSecretToken(t *testing.T, c *bftest.Cloud) string {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(c.TenantID(), c.AppID(), "s3cret",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: credOptions(c), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := cred.GetToken(context.Background(), bfScope)
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

func TestAzidentityClientSecret(t *testing.T) {
	c := newCloud(t, bftest.Options{ClientSecret: "s3cret"})
	cred, err := azidentity.NewClientSecretCredential(c.TenantID(), c.AppID(), "s3cret",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: credOptions(c), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		tok, err := cred.GetToken(context.Background(), bfScope)
		if err != nil {
			t.Fatalf("GetToken %d: %v", i, err)
		}
		if tok.Token != "bf-token-1" || time.Until(tok.ExpiresOn) < 59*time.Minute {
			t.Fatalf("GetToken %d = %q expiring %v, want bf-token-1 expiring in 59m or more", i, tok.Token, tok.ExpiresOn)
		}
	}
	if n := c.TokenRequests(); n != 1 {
		t.Fatalf("TokenRequests = %d, want 1 (second GetToken from cache)", n)
	}
	got := c.TokenCalls()[0]
	// MSAL appends the OIDC scopes to what the caller asked for.
	want := bftest.TokenCall{
		Tenant: c.TenantID(), ClientID: c.AppID(), Scope: "https://api.botframework.com/.default openid offline_access profile",
		GrantType: "client_credentials", HasSecret: true, Status: 200, AccessToken: "bf-token-1",
	}
	if got != want {
		t.Fatalf("token call = %+v\nwant %+v", got, want)
	}

	// Failures surface, then the endpoint recovers.
	c.FailTokens(1, http.StatusBadRequest)
	other := policy.TokenRequestOptions{Scopes: []string{"https://graph.microsoft.com/.default"}}
	if _, err := cred.GetToken(context.Background(), other); err == nil || !strings.Contains(err.Error(), "AADSTS") {
		t.Fatalf("FailTokens: err = %v, want an AADSTS error", err)
	}
	if _, err := cred.GetToken(context.Background(), other); err != nil {
		t.Fatalf("after FailTokens: %v", err)
	}

	// A wrong secret is refused like Entra refuses it.
	bad, _ := azidentity.NewClientSecretCredential(c.TenantID(), c.AppID(), "wrong",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: credOptions(c), DisableInstanceDiscovery: true})
	if _, err := bad.GetToken(context.Background(), bfScope); err == nil || !strings.Contains(err.Error(), "AADSTS7000215") {
		t.Fatalf("wrong secret: err = %v, want AADSTS7000215", err)
	}
}

func TestAzidentityTenants(t *testing.T) {
	c := newCloud(t, bftest.Options{})
	// Multi-tenant bots ask the botframework.com tenant.
	cred, err := azidentity.NewClientSecretCredential("botframework.com", c.AppID(), "x",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: credOptions(c), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cred.GetToken(context.Background(), bfScope); err != nil {
		t.Fatal(err)
	}
	if calls := c.TokenCalls(); len(calls) != 1 || calls[0].Tenant != "botframework.com" {
		t.Fatalf("token calls = %+v, want one to tenant botframework.com", calls)
	}

	wrong, _ := azidentity.NewClientSecretCredential("11111111-1111-1111-1111-111111111111", c.AppID(), "x",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: credOptions(c), DisableInstanceDiscovery: true})
	if _, err := wrong.GetToken(context.Background(), bfScope); err == nil || !strings.Contains(err.Error(), "AADSTS90002") {
		t.Fatalf("unknown tenant: err = %v, want AADSTS90002", err)
	}

	// With instance discovery on, MSAL asks login.microsoftonline.com about the
	// authority; Client stops that at the dial, before any DNS lookup.
	leaky, _ := azidentity.NewClientSecretCredential(c.TenantID(), c.AppID(), "x",
		&azidentity.ClientSecretCredentialOptions{ClientOptions: credOptions(c)})
	_, err = leaky.GetToken(context.Background(), bfScope)
	if err == nil || !strings.Contains(err.Error(), "refuses to dial login.microsoftonline.com:443") {
		t.Fatalf("instance discovery: err = %v, want %q", err, "refuses to dial login.microsoftonline.com:443")
	}
}

func TestAzidentityClientCertificate(t *testing.T) {
	c := newCloud(t, bftest.Options{})
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tapbot"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	cred, err := azidentity.NewClientCertificateCredential(c.TenantID(), c.AppID(), []*x509.Certificate{cert}, key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: credOptions(c), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cred.GetToken(context.Background(), bfScope); err != nil {
		t.Fatal(err)
	}
	got := c.TokenCalls()[0]
	if !got.HasAssertion || got.HasSecret || got.Status != 200 {
		t.Fatalf("token call = %+v, want an assertion, no secret, status 200", got)
	}
	// The assertion is signed by the app's certificate key.
	if _, err := jwt.Parse(got.ClientAssertion, func(*jwt.Token) (any, error) { return &key.PublicKey, nil }); err != nil {
		t.Fatalf("client assertion: %v", err)
	}
}

func TestWriteCertPEM(t *testing.T) {
	c := newCloud(t, bftest.Options{})
	path := filepath.Join(t.TempDir(), "cert.pem")
	if err := c.WriteCertPEM(path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) || !pool.Equal(c.CertPool()) {
		t.Fatalf("written PEM:\n%s\nwant exactly the certificates of CertPool()", b)
	}
}
