package audit

import (
	"context"
	"sync"
	"time"

	"github.com/tapbot/tapbot/graph"
)

// Users looks a user up by object id or UPN (Graph's GET /users/{id}).
type Users interface {
	User(ctx context.Context, ref string) (graph.User, error)
}

// maxNames bounds the cache; a miss costs one Graph call.
const maxNames = 10000

// names resolves requesters' object ids to display names, cached for ttl: the same
// few helpdesk people fill every page of the log, and a rename shows within minutes.
type names struct {
	dir Users
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	cache map[string]cachedName
}

type cachedName struct {
	name    string
	expires time.Time
}

// Tapbot is how rows written by tapbot's own jobs (redaction, reconciliation) are
// shown: they have no requester.
const Tapbot = "tapbot"

// who names a row's requester: the display name Graph has for the object id, else
// the UPN stored with the row (the CLI writes "cli:USER"), else the id; "tapbot"
// when there is none of them. A failed look-up is not cached, and not an error: the
// log is still worth showing with an id in it.
func (n *names) who(ctx context.Context, e requester) string {
	if e.id == "" {
		if e.upn != "" {
			return e.upn
		}
		return Tapbot
	}
	now := n.now()
	n.mu.Lock()
	c, ok := n.cache[e.id]
	n.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.name
	}
	u, err := n.dir.User(ctx, e.id)
	if err != nil || u.DisplayName == "" {
		if e.upn != "" {
			return e.upn
		}
		return e.id
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.cache) >= maxNames {
		clear(n.cache)
	}
	n.cache[e.id] = cachedName{u.DisplayName, now.Add(n.ttl)}
	return u.DisplayName
}

type requester struct{ id, upn string }
