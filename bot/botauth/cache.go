package botauth

import (
	"sync"
	"time"
)

// maxCachedTokens bounds the verified-token cache. Teams reuses one token for every
// activity it sends a bot until the token nears expiry, so a handful of entries cover
// normal traffic; the bound keeps a flood of distinct (valid) tokens from growing it.
const maxCachedTokens = 1024

// verifiedCache remembers tokens whose signature and claims already verified, so the
// RSA verification (the bulk of an activity's CPU) runs once per token rather than once
// per activity. An entry only vouches for the exact token bytes; time, key presence
// and the per-activity checks are repeated on every hit.
type verifiedCache struct {
	mu      sync.RWMutex
	entries map[string]verified
}

type verified struct {
	claims tokenClaims
	kid    string
	exp    time.Time
}

func (c *verifiedCache) get(token string) (verified, bool) {
	c.mu.RLock()
	v, ok := c.entries[token]
	c.mu.RUnlock()
	return v, ok
}

func (c *verifiedCache) put(token string, v verified, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = make(map[string]verified)
	}
	if len(c.entries) >= maxCachedTokens {
		for k, e := range c.entries {
			if !now.Before(e.exp) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= maxCachedTokens {
			clear(c.entries) // crude, but a cache miss costs only a verification
		}
	}
	c.entries[token] = v
}
