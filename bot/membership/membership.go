// Package membership answers whether a user belongs (transitively) to any of a set of
// Entra groups — helpdesk, auditors, approvers — with a short cache, so that a burst
// of commands costs one Graph call and removing someone from a group takes effect
// within minutes. /doctor does not use it: it is rare, and asks Graph each time.
package membership

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/tapbot/tapbot/internal/ttlcache"
)

// Directory checks transitive group membership (Graph's checkMemberGroups).
type Directory interface {
	CheckMemberGroups(ctx context.Context, userID string, groupIDs []string) ([]string, error)
}

// maxEntries bounds the cache; a miss costs one Graph call.
const maxEntries = 10000

// Checker is safe for concurrent use.
type Checker struct {
	dir   Directory
	cache *ttlcache.Cache[string, bool]
}

// New returns a Checker caching answers for ttl (default 5 minutes).
func New(dir Directory, ttl time.Duration, now func() time.Time) *Checker {
	if ttl <= 0 {
		ttl = 5 * time.Minute
	}
	return &Checker{dir: dir, cache: ttlcache.New[string, bool](ttl, maxEntries, now)}
}

// IsMember reports whether userID is a member of any of groups. An empty userID or
// group list is never a member.
func (c *Checker) IsMember(ctx context.Context, userID string, groups []string) (bool, error) {
	if userID == "" || len(groups) == 0 {
		return false, nil
	}
	return c.cache.Load(userID+"|"+strings.Join(groups, ","), func() (bool, error) {
		in, err := c.dir.CheckMemberGroups(ctx, userID, groups)
		if err != nil {
			return false, fmt.Errorf("check group membership: %w", err)
		}
		return len(in) > 0, nil
	})
}
