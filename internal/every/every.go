// Package every is how tapbot waits. Tick runs a background job at once and then at a
// fixed interval until its context ends: the one loop style of tapbot's workers
// (redaction, checklist checks, onboarding jobs); a run that outlasts the interval
// delays the next, and runs never overlap. Sleep is the one wait of a retry (the
// Connector's backoff, Graph's Retry-After and replication lag).
package every

import (
	"context"
	"time"
)

// Tick calls fn with the run's number (0, 1, 2, …) now and after every interval,
// until ctx ends; it returns then.
func Tick(ctx context.Context, interval time.Duration, fn func(ctx context.Context, n int)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for n := 0; ; n++ {
		fn(ctx, n)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sleep waits for d, or until ctx ends: then it returns ctx's error.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
