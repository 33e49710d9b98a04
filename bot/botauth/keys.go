package botauth

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"slices"
)

// maxDocumentBytes bounds what we read from the metadata and JWKS endpoints: the real
// documents are a few KiB, and a hostile or broken endpoint must not exhaust memory.
const maxDocumentBytes = 1 << 20

// signingKey is one key of the Bot Framework JWKS. Endorsements are the channel ids
// (e.g. "msteams") the key may sign for: a Bot Framework extension to JWK that generic
// JWKS libraries drop, which is why tapbot parses the set itself.
type signingKey struct {
	pub          *rsa.PublicKey
	endorsements []string
}

func (k signingKey) endorses(channelID string) bool {
	return slices.Contains(k.endorsements, channelID)
}

// keySet is immutable once built; refreshes swap in a new one.
type keySet map[string]signingKey

type jwk struct {
	Kty          string   `json:"kty"`
	Kid          string   `json:"kid"`
	N            string   `json:"n"`
	E            string   `json:"e"`
	X5c          []string `json:"x5c"`
	Endorsements []string `json:"endorsements"`
}

// parseJWKS turns a JWKS document into a keySet. Keys that are not RSA or cannot be
// parsed are skipped rather than failing the whole set, so one odd key published by
// the channel does not take every other key down with it.
func parseJWKS(data []byte) (keySet, error) {
	var doc struct {
		Keys []jwk `json:"keys"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decode JWKS: %w", err)
	}
	set := make(keySet, len(doc.Keys))
	for _, k := range doc.Keys {
		if k.Kid == "" || k.Kty != "RSA" {
			continue
		}
		pub, err := k.rsaKey()
		if err != nil {
			continue
		}
		set[k.Kid] = signingKey{pub: pub, endorsements: k.Endorsements}
	}
	if len(set) == 0 {
		return nil, errors.New("JWKS holds no usable RSA signing key")
	}
	return set, nil
}

func (k jwk) rsaKey() (*rsa.PublicKey, error) {
	if k.N != "" && k.E != "" {
		n, err := base64.RawURLEncoding.DecodeString(k.N)
		if err != nil {
			return nil, fmt.Errorf("modulus: %w", err)
		}
		e, err := base64.RawURLEncoding.DecodeString(k.E)
		if err != nil {
			return nil, fmt.Errorf("exponent: %w", err)
		}
		if len(e) == 0 || len(e) > 4 {
			return nil, errors.New("exponent out of range")
		}
		pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		if pub.N.BitLen() < 2048 {
			return nil, errors.New("RSA key shorter than 2048 bits")
		}
		return pub, nil
	}
	if len(k.X5c) > 0 {
		der, err := base64.StdEncoding.DecodeString(k.X5c[0])
		if err != nil {
			return nil, fmt.Errorf("x5c: %w", err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("x5c: %w", err)
		}
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok || pub.N.BitLen() < 2048 {
			return nil, errors.New("x5c holds no RSA key of 2048 bits or more")
		}
		return pub, nil
	}
	return nil, errors.New("key has neither n/e nor x5c")
}

// fetcher reads the OpenID metadata document, then the JWKS it names.
type fetcher struct {
	metadataURL string
	client      *http.Client
}

func (f fetcher) fetch(ctx context.Context) (keySet, error) {
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	body, err := f.get(ctx, f.metadataURL)
	if err != nil {
		return nil, fmt.Errorf("openid metadata: %w", err)
	}
	if err := json.Unmarshal(body, &meta); err != nil {
		return nil, fmt.Errorf("openid metadata: decode: %w", err)
	}
	if err := CheckEndpointURL(meta.JWKSURI); err != nil {
		return nil, fmt.Errorf("openid metadata: jwks_uri: %w", err)
	}
	body, err = f.get(ctx, meta.JWKSURI)
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	return parseJWKS(body)
}

func (f fetcher) get(ctx context.Context, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxDocumentBytes+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	if len(body) > maxDocumentBytes {
		return nil, fmt.Errorf("GET %s: document larger than %d bytes", u, maxDocumentBytes)
	}
	return body, nil
}

// CheckEndpointURL accepts https URLs, and plain http only on a loopback host (tests,
// local emulators). Signing keys fetched over cleartext from elsewhere could be
// swapped by anyone on the path.
func CheckEndpointURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL %q: %w", raw, err)
	}
	switch {
	case u.Host == "":
		return fmt.Errorf("URL %q has no host", raw)
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && IsLoopbackHost(u.Hostname()):
		return nil
	default:
		return fmt.Errorf("URL %q must use https", raw)
	}
}

// IsLoopbackHost reports whether host is "localhost" or a loopback IP literal.
func IsLoopbackHost(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
