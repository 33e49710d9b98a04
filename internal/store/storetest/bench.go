package storetest

import (
	"testing"
	"time"

	"github.com/tapbot/tapbot/internal/store"
)

// BenchmarkAppendAudit appends one /tap's audit row to s, over and over: the same
// row for every backend, so that their figures compare.
func BenchmarkAppendAudit(b *testing.B, s store.Store) {
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
