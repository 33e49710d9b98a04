package itest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tapbot/tapbot/bot/tap"
	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/graph/simtenant"
	"github.com/tapbot/tapbot/internal/store"
	"github.com/tapbot/tapbot/internal/store/postgres"
	"github.com/tapbot/tapbot/internal/store/postgres/pgtest"
)

// BenchmarkTAP issues TAPs end to end: inbound activity with a JWT, the TAP flow,
// msgraph-sdk-go over TLS to the fake tenant (two $batch lookups, create), the
// store's intent, audit and delivery rows, and the card to the fake connector, on
// each store backend. Run it on one core (`-cpu 1`): ns/op is then close to the CPU
// cost of one TAP, though it includes the fake Graph's and the fake connector's work
// too (and, for PostgreSQL, the server's, on a test cluster that does not fsync).
func BenchmarkTAP(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchmarkTAP(b, nil) })
	b.Run("postgres", func(b *testing.B) {
		st, err := postgres.Open(context.Background(), postgres.Config{URL: pgtest.NewDatabase(b)}, nil)
		if err != nil {
			b.Fatal(err)
		}
		benchmarkTAP(b, st)
	})
}

func benchmarkTAP(b *testing.B, st store.Store) {
	e := newEnvOn(b, st, func(c *tap.Config) { c.MaxPerHour = 1 << 30 })
	const users = 20000
	for i := range users {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		e.tenant.AddUser(graph.User{ID: id, UserPrincipalName: fmt.Sprintf("hire%d@contoso.com", i),
			DisplayName: fmt.Sprintf("Hire %d", i), UserType: "Member", AccountEnabled: true})
		e.tenant.AddMember(simtenant.GroupNewHires, id)
	}
	e.command("personal", simtenant.HanaID, "/tap nina@contoso.com") // warm caches
	i := 0
	start := time.Now()
	b.ResetTimer()
	for b.Loop() {
		if i >= users {
			b.Fatal("ran out of users; lower -benchtime")
		}
		calls := e.command("personal", simtenant.HanaID, fmt.Sprintf("/tap hire%d@contoso.com", i))
		if len(calls) != 1 || tapValue(decode(b, calls[0]).card()) == "" {
			b.Fatalf("iteration %d: %d calls, want one TAP card", i, len(calls))
		}
		i++
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "TAPs/s")
}
