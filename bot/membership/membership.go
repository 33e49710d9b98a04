// Package membership answers whether a user belongs (transitively) to any of a set of
// Entra groups — helpdesk, auditors, approvers, admins — with a short cache, so that a
// burst of commands costs one Graph call and removing someone from a group takes
// effect within minutes.
package membership

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// Directory checks transitive group membership (Graph's checkMemberGroups).
type Directory interface {
	CheckMemberGroups(ctx context.Context, userID string, groupIDs []string) ([]string, error)
}

// maxEntries bounds the cache; a miss costs one Graph call.
const maxEntries = 10000

// Checker is safe for concurrent use.
type Checker struct {
	dir Directory
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	cache map[string]entry
}

type entry struct {
	member  bool
	expires time.Time
}

// New returns a Checker caching answers for ttl (default 5 minutes).
func New(dir Directory, ttl time.Duration, now func() time.Time) *Checker {
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	if now == nil {
		now = time.Now
	}
	return &Checker{dir: dir, ttl: ttl, now: now, cache: map[string]entry{}}
}

// IsMember reports whether userID is a member of any of groups. An empty userID or
// group list is never a member.
func (c *Checker) IsMember(ctx context.Context, userID string, groups []string) (bool, error) {
	if userID == "" || len(groups) == 0 {
		return false, nil
	}
	key := userID + "|" + strings.Join(groups, ",")
	now := c.now()
	c.mu.Lock()
	e, ok := c.cache[key]
	c.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.member, nil
	}
	in, err := c.dir.CheckMemberGroups(ctx, userID, groups)
	if err != nil {
		return false, fmt.Errorf("check group membership: %w", err)
	}
	member := len(in) > 0
	c.mu.Lock()
	if len(c.cache) >= maxEntries {
		clear(c.cache)
	}
	c.cache[key] = entry{member, now.Add(c.ttl)}
	c.mu.Unlock()
	return member, nil
}
