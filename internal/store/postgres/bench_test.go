package postgres

import (
	"fmt"
	"testing"
	"time"

	"github.com/tapbot/tapbot/internal/store"
	"github.com/tapbot/tapbot/internal/store/storetest"
)

func BenchmarkAppendAudit(b *testing.B) {
	s, _ := openTemp(b)
	storetest.BenchmarkAppendAudit(b, s)
}

// BeginTAP with the rate limit and changed-since checks /tap makes, for a new
// target each time, then EndTAP: the store's share of one /tap's claim.
func BenchmarkBeginTAP(b *testing.B) {
	s, _ := openTemp(b)
	now := time.Now()
	lim := store.TAPLimits{MaxPerRequester: 1 << 30, Since: now.Add(-time.Hour), ChangedSince: now.Add(-time.Minute)}
	i := 0
	for b.Loop() {
		i++
		id := fmt.Sprintf("intent-%d", i)
		in := store.TAPIntent{ID: id, TargetID: fmt.Sprintf("target-%d", i%500), RequesterID: fmt.Sprintf("requester-%d", i%20), LeaseUntil: now.Add(time.Minute)}
		if err := s.BeginTAP(b.Context(), in, lim); err != nil {
			b.Fatal(err)
		}
		if err := s.EndTAP(b.Context(), id, store.IntentFailed, time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}
