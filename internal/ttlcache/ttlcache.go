// Package ttlcache is the one cache tapbot keeps Graph answers in: group membership,
// the TAP policy, group names. Entries live for a fixed time, so that a change in the
// tenant (someone removed from the helpdesk group) takes effect within minutes; the
// cache is bounded, and a full cache starts over rather than growing.
package ttlcache

import (
	"sync"
	"time"
)

// Cache is safe for concurrent use.
type Cache[K comparable, V any] struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu sync.Mutex
	m  map[K]entry[V]
}

type entry[V any] struct {
	val     V
	expires time.Time
}

// New returns a cache whose entries live for ttl, holding at most max of them; now
// is the clock (time.Now when nil).
func New[K comparable, V any](ttl time.Duration, max int, now func() time.Time) *Cache[K, V] {
	if now == nil {
		now = time.Now
	}
	return &Cache[K, V]{ttl: ttl, max: max, now: now, m: map[K]entry[V]{}}
}

// Load returns the live value for key, or calls fetch and keeps what it returns. An
// error is returned and not kept: the next Load asks again. Concurrent misses may
// each fetch; the last answer wins.
func (c *Cache[K, V]) Load(key K, fetch func() (V, error)) (V, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.m[key]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.val, nil
	}
	v, err := fetch()
	if err != nil {
		var zero V
		return zero, err
	}
	c.mu.Lock()
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[key] = entry[V]{v, now.Add(c.ttl)}
	c.mu.Unlock()
	return v, nil
}
