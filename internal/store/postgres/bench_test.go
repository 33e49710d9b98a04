package postgres

import (
	"fmt"
	"testing"
	"time"

	"github.com/tapbot/tapbot/internal/store"
)

// The same entry as the SQLite backend's BenchmarkAppendAudit, for comparison.
func BenchmarkAppendAudit(b *testing.B) {
	s, _ := openTemp(b)
	e := store.AuditEntry{
		RequestID: "00000000-0000-0000-0000-000000000001", RequesterID: "00000000-0000-0000-0000-00000000000a",
		RequesterUPN: "helpdesk@contoso.com", TargetID: "00000000-0000-0000-0000-00000000000b",
		TargetUPN: "user@contoso.com", Action: "tap.create", Outcome: store.OutcomeAllowed,
		Ticket: "INC-12345: user lost their phone", MethodID: "00000000-0000-0000-0000-00000000000c",
		Expires: time.Now().Add(time.Hour),
	}
	for b.Loop() {
		if _, err := s.AppendAudit(b.Context(), e); err != nil {
			b.Fatal(err)
		}
	}
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
