package itest

import (
	"fmt"
	"testing"
	"time"

	"github.com/tapbot/tapbot/bot/tap"
	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/graph/graphtest"
)

// BenchmarkTAP issues TAPs end to end: inbound activity with a JWT, the TAP flow,
// msgraph-sdk-go over TLS to the fake tenant ($batch lookup, eligibility, create),
// SQLite audit and delivery rows, and the card to the fake connector. Run it on one
// core (`-cpu 1`): ns/op is then close to the CPU cost of one TAP, though it includes
// the fake Graph's and the fake connector's work too.
func BenchmarkTAP(b *testing.B) {
	e := newEnv(b, func(c *tap.Config) { c.MaxPerHour = 1 << 30 })
	const users = 20000
	for i := range users {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		e.tenant.AddUser(graph.User{ID: id, UserPrincipalName: fmt.Sprintf("hire%d@contoso.com", i),
			DisplayName: fmt.Sprintf("Hire %d", i), UserType: "Member", AccountEnabled: true})
		e.tenant.AddMember(graphtest.GroupNewHires, id)
	}
	e.command("personal", graphtest.HanaID, "/tap nina@contoso.com") // warm caches
	i := 0
	start := time.Now()
	b.ResetTimer()
	for b.Loop() {
		if i >= users {
			b.Fatal("ran out of users; lower -benchtime")
		}
		calls := e.command("personal", graphtest.HanaID, fmt.Sprintf("/tap hire%d@contoso.com", i))
		if len(calls) != 1 || tapValue(decode(b, calls[0]).card()) == "" {
			b.Fatalf("iteration %d: no TAP card", i)
		}
		i++
	}
	b.ReportMetric(float64(i)/time.Since(start).Seconds(), "TAPs/s")
}
