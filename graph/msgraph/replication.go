package msgraph

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/every"
)

// Right after POST /users the next request about the new user can answer 404 for a
// short while: the account has not reached the directory replica that serves it
// (reported by Graph users; Microsoft documents no bound — graph-facts.md). The
// provisioning calls that follow CreateUser retry such a 404 a few times with
// backoff, and only for a user this client created within replicationWindow, so
// that a user who really does not exist fails at once.

// replicationWindow is how long after CreateUser a 404 about the new user is taken
// for replication lag.
const replicationWindow = 5 * time.Minute

// replicationBackoff is the wait before each retry: about 8 s in all.
var replicationBackoff = []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}

// replication remembers the users the client created recently. Its clock and sleep
// are fields so that tests need neither.
type replication struct {
	mu      sync.Mutex
	created map[string]time.Time // lower-case user id and UPN → when created
	now     func() time.Time
	sleep   func(ctx context.Context, d time.Duration) error
}

func newReplication() *replication {
	return &replication{created: map[string]time.Time{}, now: time.Now, sleep: every.Sleep}
}

// remember records a user just created, by id and UPN.
func (r *replication) remember(refs ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	for ref, at := range r.created {
		if now.Sub(at) > replicationWindow {
			delete(r.created, ref)
		}
	}
	for _, ref := range refs {
		if ref != "" {
			r.created[strings.ToLower(ref)] = now
		}
	}
}

// fresh reports whether ref is a user created within the window.
func (r *replication) fresh(ref string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	at, ok := r.created[strings.ToLower(ref)]
	return ok && r.now().Sub(at) <= replicationWindow
}

// afterCreate runs op (a c.do call about userRef) and, while it fails with a 404
// about userRef and userRef was created recently, runs it again after the next
// backoff. Graph's 404 names the object it did not find ("Resource '{id}' does not
// exist…"): a 404 about another object (a manager or group that does not exist) is
// not retried.
func (c *Client) afterCreate(ctx context.Context, userRef string, op func() error) error {
	err := op()
	for _, wait := range replicationBackoff {
		if !notFoundAbout(err, userRef) || !c.repl.fresh(userRef) {
			return err
		}
		c.log.Debug("new user not replicated yet; retrying", zap.String("user", userRef), zap.Duration("after", wait))
		if serr := c.repl.sleep(ctx, wait); serr != nil {
			return err
		}
		err = op()
	}
	return err
}

// notFoundAbout reports whether err is a 404 whose message names ref.
func notFoundAbout(err error, ref string) bool {
	var ge *graph.Error
	return errors.Is(err, graph.ErrNotFound) && errors.As(err, &ge) &&
		strings.Contains(strings.ToLower(ge.Message), strings.ToLower(ref))
}
