package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapbot/tapbot/internal/store"
)

// tapTests are the suite's checks of the audit log, deliveries and claims.
var tapTests = []test{
	{"AuditRoundTrip", testAuditRoundTrip},
	{"AuditStampsZeroTime", testAuditStampsZeroTime},
	{"AuditCutsLongText", testAuditCutsLongText},
	{"InvalidAudit", testInvalidAudit},
	{"AuditFilters", testAuditFilters},
	{"InvalidAuditFilter", testInvalidAuditFilter},
	{"AuditLimit", testAuditLimit},
	{"ConcurrentAppendAudit", testConcurrentAppendAudit},
	{"DeliveryRoundTrip", testDeliveryRoundTrip},
	{"DeliveryUpsertReplaces", testDeliveryUpsertReplaces},
	{"InvalidDelivery", testInvalidDelivery},
	{"DueDeliveries", testDueDeliveries},
	{"DueDeliveriesLimit", testDueDeliveriesLimit},
	{"DueDeliveriesZeroNow", testDueDeliveriesZeroNow},
	{"OpenDeliveries", testOpenDeliveries},
	{"MarkRedacted", testMarkRedacted},
	{"ConcurrentMarkRedacted", testConcurrentMarkRedacted},
	{"DeliveryBackoffRoundTrip", testDeliveryBackoffRoundTrip},
	{"DeferRedaction", testDeferRedaction},
	{"DeferredDeliveriesDoNotStarveOthers", testDeferredDeliveriesDoNotStarveOthers},
	{"DeliveriesToCheckRotate", testDeliveriesToCheckRotate},
	{"Claim", testClaim},
	{"ConcurrentClaim", testConcurrentClaim},
}

// micro is base to the microsecond, for tests of exact boundaries: a backend may
// round finer digits (see timeTolerance), but must then compare what it rounded.
var micro = base.Truncate(time.Microsecond)

// contenders is how many goroutines race for one thing in the concurrency tests.
const contenders = 16

func appendAudit(t *testing.T, s store.Store, e store.AuditEntry) int64 {
	t.Helper()
	return must(s.AppendAudit(t.Context(), e))(t, "AppendAudit(%+v)", e)
}

func audit(t *testing.T, s store.Store, f store.AuditFilter) []store.AuditEntry {
	t.Helper()
	return must(s.Audit(t.Context(), f))(t, "Audit(%+v)", f)
}

func countAudit(t *testing.T, s store.Store, f store.AuditFilter) int {
	t.Helper()
	return must(s.CountAudit(t.Context(), f))(t, "CountAudit(%+v)", f)
}

func ids(es []store.AuditEntry) []int64 {
	return keys(es, func(e store.AuditEntry) int64 { return e.ID })
}

// auditDiff describes how got differs from want, or returns "" if it does not. A
// zero want.ID matches any ID.
func auditDiff(got, want store.AuditEntry) string {
	var d differ
	if want.ID != 0 {
		d.field("ID", got.ID, want.ID)
	}
	d.field("RequestID", got.RequestID, want.RequestID)
	d.field("RequesterID", got.RequesterID, want.RequesterID)
	d.field("RequesterUPN", got.RequesterUPN, want.RequesterUPN)
	d.field("TargetID", got.TargetID, want.TargetID)
	d.field("TargetUPN", got.TargetUPN, want.TargetUPN)
	d.field("Action", got.Action, want.Action)
	d.field("Outcome", got.Outcome, want.Outcome)
	d.field("Reason", got.Reason, want.Reason)
	d.field("Ticket", got.Ticket, want.Ticket)
	d.field("MethodID", got.MethodID, want.MethodID)
	d.time("Time", got.Time, want.Time)
	d.time("Expires", got.Expires, want.Expires)
	return d.String()
}

func testAuditRoundTrip(t *testing.T, s store.Store) {
	kolkata := time.FixedZone("IST", 5*3600+1800)
	entries := []store.AuditEntry{
		{
			// Every field, in a zone other than UTC, and text a database might mangle.
			Time:         base.In(kolkata),
			RequestID:    "req-1",
			RequesterID:  "00000000-0000-0000-0000-00000000000a",
			RequesterUPN: "helpdesk@contoso.com",
			TargetID:     "00000000-0000-0000-0000-00000000000b",
			TargetUPN:    "Zoë.O'Brien@contoso.com",
			Action:       "tap.create",
			Outcome:      store.OutcomeAllowed,
			Reason:       "",
			Ticket:       "INC-42: lost phone; \"urgent\"\nsecond line é\u2603 %_\\",
			MethodID:     "method-1",
			Expires:      base.Add(time.Hour).In(kolkata),
		},
		{
			// Only what is required, so Expires stays zero.
			Time:    base.Add(time.Minute),
			Action:  "onboard.start",
			Outcome: store.OutcomeRefused,
			Reason:  "privileged_role",
		},
		{
			Time:        base.Add(-time.Minute), // earlier, yet appended later
			RequesterID: "00000000-0000-0000-0000-00000000000a",
			TargetUPN:   "nobody@contoso.com",
			Action:      "tap.revoke",
			Outcome:     store.OutcomeFailed,
			Reason:      "graph: 503",
		},
	}
	for i := range entries {
		entries[i].ID = appendAudit(t, s, entries[i])
		if entries[i].ID <= 0 {
			t.Errorf("AppendAudit #%d returned id %d, want > 0", i, entries[i].ID)
		}
		if i > 0 && entries[i].ID <= entries[i-1].ID {
			t.Errorf("AppendAudit #%d returned id %d, want one above the previous %d", i, entries[i].ID, entries[i-1].ID)
		}
	}
	got := audit(t, s, store.AuditFilter{})
	if len(got) != len(entries) {
		t.Fatalf("Audit returned %d rows, want %d", len(got), len(entries))
	}
	// Newest first means last appended first, whatever the Time says.
	for i, g := range got {
		want := entries[len(entries)-1-i]
		if d := auditDiff(g, want); d != "" {
			t.Errorf("Audit row %d, id %d (got vs want): %s", i, want.ID, d)
		}
	}
}

func testAuditStampsZeroTime(t *testing.T, s store.Store) {
	before := time.Now()
	appendAudit(t, s, store.AuditEntry{Action: "tap.create", Outcome: store.OutcomeAllowed})
	after := time.Now()
	got := audit(t, s, store.AuditFilter{})
	if len(got) != 1 {
		t.Fatalf("Audit returned %d rows, want 1", len(got))
	}
	if tm := got[0].Time; tm.Before(before.Add(-timeTolerance)) || tm.After(after.Add(timeTolerance)) {
		t.Errorf("Time = %v, want between %v and %v", tm, before, after)
	}
	if loc := got[0].Time.Location(); loc != time.UTC {
		t.Errorf("Time location = %v, want UTC", loc)
	}
}

func testAuditCutsLongText(t *testing.T, s store.Store) {
	type field struct {
		set func(e *store.AuditEntry, v string)
		get func(e store.AuditEntry) string
	}
	var (
		ticket       = field{func(e *store.AuditEntry, v string) { e.Ticket = v }, func(e store.AuditEntry) string { return e.Ticket }}
		reason       = field{func(e *store.AuditEntry, v string) { e.Reason = v }, func(e store.AuditEntry) string { return e.Reason }}
		targetUPN    = field{func(e *store.AuditEntry, v string) { e.TargetUPN = v }, func(e store.AuditEntry) string { return e.TargetUPN }}
		requesterUPN = field{func(e *store.AuditEntry, v string) { e.RequesterUPN = v }, func(e store.AuditEntry) string { return e.RequesterUPN }}
		requestID    = field{func(e *store.AuditEntry, v string) { e.RequestID = v }, func(e store.AuditEntry) string { return e.RequestID }}
		requesterID  = field{func(e *store.AuditEntry, v string) { e.RequesterID = v }, func(e store.AuditEntry) string { return e.RequesterID }}
		targetID     = field{func(e *store.AuditEntry, v string) { e.TargetID = v }, func(e store.AuditEntry) string { return e.TargetID }}
		methodID     = field{func(e *store.AuditEntry, v string) { e.MethodID = v }, func(e store.AuditEntry) string { return e.MethodID }}
	)
	cut := func(r string, n int) string { return strings.Repeat(r, n-1) + store.Ellipsis }
	tests := []struct {
		name     string
		field    field
		in, want string
	}{
		{"ticket at the limit is kept", ticket, strings.Repeat("é", store.MaxTicketLen), strings.Repeat("é", store.MaxTicketLen)},
		// Runes, not bytes: 501 two-byte characters become 499 of them and "…".
		{"ticket over the limit is cut", ticket, strings.Repeat("é", store.MaxTicketLen+1), cut("é", store.MaxTicketLen)},
		{"reason", reason, strings.Repeat("x", 5000), cut("x", store.MaxReasonLen)},
		{"target upn", targetUPN, strings.Repeat("u", store.MaxUPNLen+1), cut("u", store.MaxUPNLen)},
		{"requester upn", requesterUPN, strings.Repeat("u", store.MaxUPNLen+1), cut("u", store.MaxUPNLen)},
		{"request id", requestID, strings.Repeat("r", store.MaxIDLen+1), cut("r", store.MaxIDLen)},
		{"requester id", requesterID, strings.Repeat("r", store.MaxIDLen+1), cut("r", store.MaxIDLen)},
		{"target id", targetID, strings.Repeat("t", store.MaxIDLen+1), cut("t", store.MaxIDLen)},
		{"method id", methodID, strings.Repeat("m", store.MaxIDLen*2), cut("m", store.MaxIDLen)},
		{"invalid UTF-8 is replaced", ticket, "a\xffb\xc3", "a\uFFFDb\uFFFD"},
		{"NUL is replaced", ticket, "a\x00b", "a\uFFFDb"},
		// A run of invalid bytes is one U+FFFD, and cutting counts what remains.
		{"invalid run is one replacement", ticket, "a\xff\xfe\xfdb", "a\uFFFDb"},
		{"replacing comes before cutting", ticket, strings.Repeat("a\xff", store.MaxTicketLen),
			string([]rune(strings.Repeat("a\uFFFD", store.MaxTicketLen))[:store.MaxTicketLen-1]) + store.Ellipsis},
		{"newlines and tabs are kept", ticket, "one\ntwo\tthree", "one\ntwo\tthree"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := store.AuditEntry{Time: base, Action: "tap.create", Outcome: store.OutcomeAllowed}
			tc.field.set(&e, tc.in)
			id := appendAudit(t, s, e)
			got := audit(t, s, store.AuditFilter{Limit: 1})
			if len(got) != 1 || got[0].ID != id {
				t.Fatalf("Audit(Limit 1) = %v, want the row %d just appended", ids(got), id)
			}
			if g := tc.field.get(got[0]); g != tc.want {
				t.Errorf("stored %q (%d runes), want %q (%d runes)", g, len([]rune(g)), tc.want, len([]rune(tc.want)))
			}
		})
	}
}

func testInvalidAudit(t *testing.T, s store.Store) {
	valid := store.AuditEntry{Time: base, RequesterID: "r", TargetID: "t", Action: "tap.create", Outcome: store.OutcomeAllowed}
	tests := []struct {
		name   string
		mutate func(e *store.AuditEntry)
	}{
		{"empty action", func(e *store.AuditEntry) { e.Action = "" }},
		{"action too long", func(e *store.AuditEntry) { e.Action = store.Action(strings.Repeat("a", store.MaxActionLen+1)) }},
		{"action with a space", func(e *store.AuditEntry) { e.Action = "tap create" }},
		{"action with a newline", func(e *store.AuditEntry) { e.Action = "tap.create\n" }},
		{"action not UTF-8", func(e *store.AuditEntry) { e.Action = "tap.\xff" }},
		{"empty outcome", func(e *store.AuditEntry) { e.Outcome = "" }},
		{"unknown outcome", func(e *store.AuditEntry) { e.Outcome = "denied" }},
		{"outcome in wrong case", func(e *store.AuditEntry) { e.Outcome = "Allowed" }},
		{"time after year 9999", func(e *store.AuditEntry) { e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"expires before year 1", func(e *store.AuditEntry) { e.Expires = time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := valid
			tc.mutate(&e)
			if _, err := s.AppendAudit(t.Context(), e); !errors.Is(err, store.ErrInvalidAudit) {
				t.Fatalf("AppendAudit: err = %v, want ErrInvalidAudit", err)
			}
		})
	}
	// The longest action is fine, and nothing refused was written.
	e := valid
	e.Action = store.Action(strings.Repeat("a", store.MaxActionLen))
	appendAudit(t, s, e)
	if n := countAudit(t, s, store.AuditFilter{}); n != 1 {
		t.Errorf("CountAudit = %d, want 1 (only the valid entry)", n)
	}
}

func testAuditFilters(t *testing.T, s store.Store) {
	minus5 := time.FixedZone("-05", -5*3600)
	h := func(n float64) time.Time { return micro.Add(time.Duration(n * float64(time.Hour))) }
	entries := []store.AuditEntry{
		/* 0 */ {Time: h(0), RequesterID: "r1", TargetID: "T1", TargetUPN: "Alice@Contoso.com", Action: "tap.create", Outcome: store.OutcomeAllowed},
		/* 1 */ {Time: h(1), RequesterID: "r1", TargetID: "T2", TargetUPN: "bob@contoso.com", Action: "tap.create", Outcome: store.OutcomeRefused},
		/* 2 */ {Time: h(2), RequesterID: "r2", TargetID: "T1", TargetUPN: "alice@contoso.com", Action: "tap.revoke", Outcome: store.OutcomeAllowed},
		// A target typed but never resolved to an id.
		/* 3 */ {Time: h(3), RequesterID: "r2", TargetUPN: "ALICE@CONTOSO.COM", Action: "tap.create", Outcome: store.OutcomeRefused},
		// Appended later than 3 but with an earlier time: order is by id.
		/* 4 */ {Time: h(0.5), RequesterID: "r1", TargetID: "T1", Action: "tap.redact", Outcome: store.OutcomeFailed},
		/* 5 */ {Time: h(5), RequesterID: "r3", TargetUPN: "Élodie@contoso.com", Action: "onboard.start", Outcome: store.OutcomeAllowed},
		// A later instant whose wall clock reads earlier.
		/* 6 */ {Time: h(6).In(minus5), RequesterID: "r3", TargetID: "T3", TargetUPN: "carol@contoso.com", Action: "tap.create", Outcome: store.OutcomeAllowed},
	}
	id := make([]int64, len(entries))
	for i, e := range entries {
		id[i] = appendAudit(t, s, e)
	}
	rows := func(is ...int) []int64 {
		out := make([]int64, len(is))
		for j, i := range is {
			out[j] = id[i]
		}
		return out
	}
	tests := []struct {
		name string
		f    store.AuditFilter
		want []int64 // newest first
	}{
		{"none", store.AuditFilter{}, rows(6, 5, 4, 3, 2, 1, 0)},
		{"target by id", store.AuditFilter{Target: "T1"}, rows(4, 2, 0)},
		{"target id is exact", store.AuditFilter{Target: "t1"}, rows()},
		{"target by upn", store.AuditFilter{Target: "alice@contoso.com"}, rows(3, 2, 0)},
		{"target upn in any case", store.AuditFilter{Target: "aLiCe@CoNtOsO.cOm"}, rows(3, 2, 0)},
		{"target upn is not a prefix", store.AuditFilter{Target: "alice"}, rows()},
		{"target is not a pattern", store.AuditFilter{Target: "%"}, rows()},
		{"target non-ASCII upn", store.AuditFilter{Target: "ÉLODIE@CONTOSO.COM"}, rows(5)},
		// Case folding is ASCII-only (UPNs are ASCII), the same in every backend.
		{"target folds ASCII only", store.AuditFilter{Target: "élodie@contoso.com"}, rows()},
		{"requester", store.AuditFilter{RequesterID: "r1"}, rows(4, 1, 0)},
		{"action", store.AuditFilter{Action: "tap.create"}, rows(6, 3, 1, 0)},
		{"outcome", store.AuditFilter{Outcome: store.OutcomeRefused}, rows(3, 1)},
		{"since is inclusive", store.AuditFilter{Since: h(1)}, rows(6, 5, 3, 2, 1)},
		{"until is exclusive", store.AuditFilter{Until: h(1)}, rows(4, 0)},
		{"since and until", store.AuditFilter{Since: h(0.5), Until: h(2)}, rows(4, 1)},
		{"since equals until", store.AuditFilter{Since: h(1), Until: h(1)}, rows()},
		{"since after until", store.AuditFilter{Since: h(2), Until: h(1)}, rows()},
		{"times compare instants", store.AuditFilter{Since: h(4).In(minus5), Until: h(5.5).In(minus5)}, rows(5)},
		{"rate limit", store.AuditFilter{RequesterID: "r1", Action: "tap.create", Since: h(0)}, rows(1, 0)},
		{"target and outcome", store.AuditFilter{Target: "T1", Outcome: store.OutcomeAllowed}, rows(2, 0)},
		{"everything", store.AuditFilter{Since: h(0), Until: h(7), Target: "alice@contoso.com", RequesterID: "r2",
			Action: "tap.revoke", Outcome: store.OutcomeAllowed}, rows(2)},
		{"unknown requester", store.AuditFilter{RequesterID: "r9"}, rows()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := audit(t, s, tc.f)
			if !slices.Equal(ids(got), tc.want) {
				t.Errorf("Audit ids = %v, want %v", ids(got), tc.want)
			}
			if n := countAudit(t, s, tc.f); n != len(tc.want) {
				t.Errorf("CountAudit = %d, want %d", n, len(tc.want))
			}
			// Limit keeps the newest; CountAudit ignores it.
			f := tc.f
			f.Limit = 2
			got = audit(t, s, f)
			if want := tc.want[:min(2, len(tc.want))]; !slices.Equal(ids(got), want) {
				t.Errorf("Audit with Limit 2: ids = %v, want %v", ids(got), want)
			}
			if n := countAudit(t, s, f); n != len(tc.want) {
				t.Errorf("CountAudit with Limit 2 = %d, want %d", n, len(tc.want))
			}
		})
	}
	// The rows come back whole, not just their ids.
	got := audit(t, s, store.AuditFilter{Target: "T3"})
	if len(got) != 1 {
		t.Fatalf("Audit(T3) returned %d rows, want 1", len(got))
	}
	want := entries[6]
	want.ID = id[6]
	if d := auditDiff(got[0], want); d != "" {
		t.Error(d)
	}
}

func testInvalidAuditFilter(t *testing.T, s store.Store) {
	appendAudit(t, s, store.AuditEntry{Time: base, Action: "tap.create", Outcome: store.OutcomeAllowed})
	tests := map[string]store.AuditFilter{
		"unknown outcome":       {Outcome: "denied"},
		"outcome in wrong case": {Outcome: "Allowed"},
		"since after year 9999": {Since: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		"until before year 1":   {Until: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for name, f := range tests {
		t.Run(name, func(t *testing.T) {
			if es, err := s.Audit(t.Context(), f); !errors.Is(err, store.ErrInvalidAuditFilter) {
				t.Errorf("Audit = %d rows, %v; want ErrInvalidAuditFilter", len(es), err)
			}
			if n, err := s.CountAudit(t.Context(), f); !errors.Is(err, store.ErrInvalidAuditFilter) {
				t.Errorf("CountAudit = %d, %v; want ErrInvalidAuditFilter", n, err)
			}
		})
	}
}

// appendMany appends n entries from contenders goroutines and returns their ids.
func appendMany(t *testing.T, s store.Store, n int) []int64 {
	t.Helper()
	var (
		mu  sync.Mutex
		all []int64
		wg  sync.WaitGroup
	)
	for w := range contenders {
		wg.Go(func() {
			var mine []int64
			for i := w; i < n; i += contenders {
				id, err := s.AppendAudit(t.Context(), store.AuditEntry{
					Time: base.Add(time.Duration(i) * time.Second), RequesterID: fmt.Sprintf("r%d", w),
					Action: "tap.create", Outcome: store.OutcomeAllowed, Ticket: fmt.Sprint(i),
				})
				if err != nil {
					t.Errorf("AppendAudit: %v", err)
					return
				}
				// One goroutine's appends are ordered, so their ids must be too.
				if len(mine) > 0 && id <= mine[len(mine)-1] {
					t.Errorf("worker %d: AppendAudit = id %d, want one above its previous %d", w, id, mine[len(mine)-1])
				}
				mine = append(mine, id)
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	slices.Sort(all)
	if len(slices.Compact(slices.Clone(all))) != len(all) {
		t.Fatalf("AppendAudit returned duplicate ids")
	}
	return all
}

func testAuditLimit(t *testing.T, s store.Store) {
	check := func(all []int64, limit, want int) {
		t.Helper()
		got := audit(t, s, store.AuditFilter{Limit: limit})
		if !slices.Equal(ids(got), all[:want]) {
			t.Errorf("Audit(Limit %d) of %d rows: %d rows, want the newest %d", limit, len(all), len(got), want)
		}
		if n := countAudit(t, s, store.AuditFilter{Limit: limit}); n != len(all) {
			t.Errorf("CountAudit(Limit %d) = %d, want %d", limit, n, len(all))
		}
	}
	const n = store.DefaultLimit + 10
	all := appendMany(t, s, n)
	slices.Reverse(all) // newest first
	for _, tc := range []struct{ limit, want int }{
		{0, store.DefaultLimit},
		{-1, store.DefaultLimit},
		{1, 1},
		{store.DefaultLimit + 1, store.DefaultLimit + 1},
		{n + 1, n},
	} {
		check(all, tc.limit, tc.want)
	}

	// The cap needs more than MaxLimit rows: a second or so, ten under -race.
	if testing.Short() {
		t.Skip("skipping the check of MaxLimit in short mode")
	}
	newer := appendMany(t, s, store.MaxLimit+1-n)
	slices.Reverse(newer)
	all = append(newer, all...)
	for _, tc := range []struct{ limit, want int }{
		{store.MaxLimit, store.MaxLimit},
		{store.MaxLimit + 1, store.MaxLimit},
		{1 << 40, store.MaxLimit},
	} {
		check(all, tc.limit, tc.want)
	}
}

func testConcurrentAppendAudit(t *testing.T, s store.Store) {
	const n = contenders * 20
	all := appendMany(t, s, n)
	if got := countAudit(t, s, store.AuditFilter{}); got != n {
		t.Errorf("CountAudit = %d, want %d", got, n)
	}
	got := audit(t, s, store.AuditFilter{Limit: n})
	slices.Reverse(all)
	if !slices.Equal(ids(got), all) {
		t.Errorf("Audit ids differ from the ids AppendAudit returned")
	}
	if got := countAudit(t, s, store.AuditFilter{RequesterID: "r0"}); got != n/contenders {
		t.Errorf("CountAudit(r0) = %d, want %d", got, n/contenders)
	}
}

func delivery(id, target string, expires time.Time) store.Delivery {
	return store.Delivery{
		ID:             id,
		TargetID:       target,
		TargetUPN:      "user-" + target + "@contoso.com",
		MethodID:       "method-" + id,
		RequesterID:    "requester-1",
		ServiceURL:     "https://smba.trafficmanager.net/emea/",
		ConversationID: "a:conversation-" + id,
		ActivityID:     "1:activity-" + id,
		Expires:        expires,
	}
}

func saveDelivery(t *testing.T, s store.Store, d store.Delivery) {
	t.Helper()
	if err := s.SaveDelivery(t.Context(), d); err != nil {
		t.Fatalf("SaveDelivery(%q): %v", d.ID, err)
	}
}

func due(t *testing.T, s store.Store, now time.Time, limit int) []store.Delivery {
	t.Helper()
	return must(s.DueDeliveries(t.Context(), now, limit))(t, "DueDeliveries(%v, %d)", now, limit)
}

func openDeliveries(t *testing.T, s store.Store, target string) []store.Delivery {
	t.Helper()
	return must(s.OpenDeliveries(t.Context(), target))(t, "OpenDeliveries(%q)", target)
}

func markRedacted(t *testing.T, s store.Store, id string, at time.Time, reason string) bool {
	t.Helper()
	return must(s.MarkRedacted(t.Context(), id, at, reason))(t, "MarkRedacted(%q)", id)
}

func deliveryIDs(ds []store.Delivery) []string {
	return keys(ds, func(d store.Delivery) string { return d.ID })
}

// farFuture is a due time at which every saved delivery is due.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

func deliveryDiff(got, want store.Delivery) string {
	var d differ
	d.field("ID", got.ID, want.ID)
	d.field("TargetID", got.TargetID, want.TargetID)
	d.field("TargetUPN", got.TargetUPN, want.TargetUPN)
	d.field("MethodID", got.MethodID, want.MethodID)
	d.field("RequesterID", got.RequesterID, want.RequesterID)
	d.field("ServiceURL", got.ServiceURL, want.ServiceURL)
	d.field("ConversationID", got.ConversationID, want.ConversationID)
	d.field("ActivityID", got.ActivityID, want.ActivityID)
	d.field("RedactReason", got.RedactReason, want.RedactReason)
	d.field("Attempts", got.Attempts, want.Attempts)
	d.time("Expires", got.Expires, want.Expires)
	d.time("RedactedAt", got.RedactedAt, want.RedactedAt)
	d.time("NextAttempt", got.NextAttempt, want.NextAttempt)
	d.time("CheckedAt", got.CheckedAt, want.CheckedAt)
	return d.String()
}

func testDeliveryRoundTrip(t *testing.T, s store.Store) {
	kolkata := time.FixedZone("IST", 5*3600+1800)
	want := []store.Delivery{
		{
			ID:             "delivery-1",
			TargetID:       "00000000-0000-0000-0000-00000000000b",
			TargetUPN:      "Zoë.O'Brien@contoso.com",
			MethodID:       "7c5b4f1e-0000-0000-0000-000000000001",
			RequesterID:    "00000000-0000-0000-0000-00000000000a",
			ServiceURL:     "https://smba.trafficmanager.net/emea/",
			ConversationID: "a:1Xq-long_conversation/id==",
			ActivityID:     "1:1abcDEF",
			Expires:        base.In(kolkata),
		},
		// Only the required fields.
		{
			ID:             "delivery-2",
			MethodID:       "m",
			ServiceURL:     "https://smba.trafficmanager.net/amer/",
			ConversationID: "a:2",
			ActivityID:     "2",
			Expires:        base.Add(time.Hour),
		},
	}
	for _, d := range want {
		saveDelivery(t, s, d)
	}
	got := due(t, s, farFuture, 0)
	if len(got) != len(want) {
		t.Fatalf("DueDeliveries = %v, want %d deliveries", deliveryIDs(got), len(want))
	}
	for i := range want {
		if d := deliveryDiff(got[i], want[i]); d != "" {
			t.Errorf("DueDeliveries[%d] (got vs want): %s", i, d)
		}
	}
	got = openDeliveries(t, s, want[0].TargetID)
	if len(got) != 1 {
		t.Fatalf("OpenDeliveries = %v, want [%s]", deliveryIDs(got), want[0].ID)
	}
	if d := deliveryDiff(got[0], want[0]); d != "" {
		t.Errorf("OpenDeliveries[0] (got vs want): %s", d)
	}
}

func testDeliveryUpsertReplaces(t *testing.T, s store.Store) {
	first := delivery("d1", "T1", base)
	second := store.Delivery{
		ID:             first.ID,
		TargetID:       "T2",
		TargetUPN:      "other@contoso.com",
		MethodID:       "method-2",
		RequesterID:    "requester-2",
		ServiceURL:     "https://smba.trafficmanager.net/amer/",
		ConversationID: "a:other",
		ActivityID:     "1:other",
		Expires:        base.Add(-time.Hour),
	}
	saveDelivery(t, s, first)
	saveDelivery(t, s, second)
	if got := openDeliveries(t, s, "T1"); len(got) != 0 {
		t.Errorf("OpenDeliveries(T1) after replacing its delivery = %v, want none", deliveryIDs(got))
	}
	got := openDeliveries(t, s, "T2")
	if len(got) != 1 {
		t.Fatalf("OpenDeliveries(T2) = %v, want [d1]", deliveryIDs(got))
	}
	if d := deliveryDiff(got[0], second); d != "" {
		t.Errorf("delivery after upsert (got vs want): %s", d)
	}

	// Saving a redacted delivery replaces the redaction state too, both ways.
	redacted := second
	redacted.RedactedAt, redacted.RedactReason = base, store.RedactRevoked
	saveDelivery(t, s, redacted)
	if got := due(t, s, farFuture, 0); len(got) != 0 {
		t.Errorf("DueDeliveries after saving it redacted = %v, want none", deliveryIDs(got))
	}
	if ok, err := s.MarkRedacted(t.Context(), second.ID, base, store.RedactExpired); ok || err != nil {
		t.Errorf("MarkRedacted of a delivery saved redacted = %v, %v; want false, nil", ok, err)
	}
	saveDelivery(t, s, second)
	if got := due(t, s, farFuture, 0); !slices.Equal(deliveryIDs(got), []string{second.ID}) {
		t.Errorf("DueDeliveries after saving it unredacted = %v, want [%s]", deliveryIDs(got), second.ID)
	}
}

func testInvalidDelivery(t *testing.T, s store.Store) {
	valid := delivery("d1", "T1", base)
	tests := []struct {
		name   string
		mutate func(d *store.Delivery)
	}{
		{"empty id", func(d *store.Delivery) { d.ID = "" }},
		{"empty conversation id", func(d *store.Delivery) { d.ConversationID = "" }},
		{"empty activity id", func(d *store.Delivery) { d.ActivityID = "" }},
		{"empty service url", func(d *store.Delivery) { d.ServiceURL = "" }},
		{"empty method id", func(d *store.Delivery) { d.MethodID = "" }},
		{"zero expires", func(d *store.Delivery) { d.Expires = time.Time{} }},
		{"expires after year 9999", func(d *store.Delivery) { d.Expires = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"redacted without reason", func(d *store.Delivery) { d.RedactedAt = base }},
		{"reason without redacted", func(d *store.Delivery) { d.RedactReason = store.RedactExpired }},
		{"redacted before year 1", func(d *store.Delivery) {
			d.RedactedAt, d.RedactReason = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), store.RedactExpired
		}},
		{"reason with a space", func(d *store.Delivery) { d.RedactedAt, d.RedactReason = base, "timed out" }},
		{"activity id not UTF-8", func(d *store.Delivery) { d.ActivityID = "1:\xff" }},
		{"target upn with NUL", func(d *store.Delivery) { d.TargetUPN = "a\x00@contoso.com" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := valid
			tc.mutate(&d)
			if err := s.SaveDelivery(t.Context(), d); !errors.Is(err, store.ErrInvalidDelivery) {
				t.Fatalf("SaveDelivery: err = %v, want ErrInvalidDelivery", err)
			}
		})
	}
	if got := due(t, s, farFuture, 0); len(got) != 0 {
		t.Errorf("after refused saves, DueDeliveries = %v, want none", deliveryIDs(got))
	}
	// Only the listed fields are required.
	minimal := store.Delivery{ID: "d", MethodID: "m", ServiceURL: "s", ConversationID: "c", ActivityID: "a", Expires: base}
	saveDelivery(t, s, minimal)
}

func testDueDeliveries(t *testing.T, s store.Store) {
	now := micro
	redacted := delivery("redacted", "T1", now.Add(-2*time.Hour))
	redacted.RedactedAt, redacted.RedactReason = now.Add(-time.Hour), store.RedactRevoked
	for _, d := range []store.Delivery{
		delivery("late", "T1", now.Add(time.Hour)),
		delivery("now", "T1", now),
		delivery("tie-b", "T2", now.Add(-30*time.Minute)),
		delivery("after", "T1", now.Add(time.Microsecond)),
		delivery("early", "T2", now.Add(-time.Hour)),
		delivery("tie-a", "T3", now.Add(-30*time.Minute)),
		redacted,
	} {
		saveDelivery(t, s, d)
	}
	minus5 := time.FixedZone("-05", -5*3600)
	tests := []struct {
		name  string
		now   time.Time
		limit int
		want  []string
	}{
		// Exactly now is due; a microsecond later is not. Ties go by id.
		{"boundary", now, 0, []string{"early", "tie-a", "tie-b", "now"}},
		{"zoned now", now.In(minus5), 0, []string{"early", "tie-a", "tie-b", "now"}},
		{"just before", now.Add(-time.Microsecond), 0, []string{"early", "tie-a", "tie-b"}},
		{"limit keeps the oldest", now, 2, []string{"early", "tie-a"}},
		{"later", now.Add(time.Hour), 0, []string{"early", "tie-a", "tie-b", "now", "after", "late"}},
		{"nothing yet", now.Add(-3 * time.Hour), 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := due(t, s, tc.now, tc.limit); !slices.Equal(deliveryIDs(got), tc.want) {
				t.Errorf("DueDeliveries(%v, %d) = %v, want %v", tc.now, tc.limit, deliveryIDs(got), tc.want)
			}
		})
	}
	if _, err := s.DueDeliveries(t.Context(), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), 0); !errors.Is(err, store.ErrInvalidDelivery) {
		t.Errorf("DueDeliveries(year 10000): err = %v, want ErrInvalidDelivery", err)
	}
}

func testDueDeliveriesLimit(t *testing.T, s store.Store) {
	const n = store.DefaultLimit + 10
	for i := range n {
		saveDelivery(t, s, delivery(fmt.Sprintf("d%03d", i), "T1", base.Add(time.Duration(i)*time.Second)))
	}
	for _, tc := range []struct{ limit, want int }{{0, store.DefaultLimit}, {-5, store.DefaultLimit}, {n + 1, n}, {store.MaxLimit + 1, n}} {
		got := due(t, s, farFuture, tc.limit)
		if len(got) != tc.want {
			t.Errorf("DueDeliveries(limit %d) returned %d, want %d", tc.limit, len(got), tc.want)
			continue
		}
		if got[0].ID != "d000" || got[len(got)-1].ID != fmt.Sprintf("d%03d", tc.want-1) {
			t.Errorf("DueDeliveries(limit %d) = %s…%s, want the oldest first", tc.limit, got[0].ID, got[len(got)-1].ID)
		}
	}
}

func testDueDeliveriesZeroNow(t *testing.T, s store.Store) {
	now := time.Now()
	saveDelivery(t, s, delivery("past", "T1", now.Add(-time.Minute)))
	saveDelivery(t, s, delivery("future", "T1", now.Add(time.Hour)))
	if got := due(t, s, time.Time{}, 0); !slices.Equal(deliveryIDs(got), []string{"past"}) {
		t.Errorf("DueDeliveries(zero) = %v, want [past]: a zero now means the store's clock", deliveryIDs(got))
	}
}

func testOpenDeliveries(t *testing.T, s store.Store) {
	redacted := delivery("t1-redacted", "T1", base.Add(-2*time.Hour))
	redacted.RedactedAt, redacted.RedactReason = base, store.RedactUsed
	for _, d := range []store.Delivery{
		delivery("t1-late", "T1", base.Add(time.Hour)),
		delivery("t1-past", "T1", base.Add(-time.Hour)), // due already, still open
		delivery("t1-now", "T1", base),
		redacted,
		delivery("t1-marked", "T1", base.Add(-3*time.Hour)),
		delivery("t2", "T2", base),
		delivery("no-target", "", base),
	} {
		saveDelivery(t, s, d)
	}
	if !markRedacted(t, s, "t1-marked", base, store.RedactReplaced) {
		t.Fatal("MarkRedacted(t1-marked) = false, want true")
	}
	tests := map[string][]string{
		"T1":      {"t1-past", "t1-now", "t1-late"},
		"T2":      {"t2"},
		"t1":      nil, // exact
		"T9":      nil,
		"":        nil, // not the delivery saved without a target
		"T1 ":     nil,
		"user-T1": nil,
	}
	for target, want := range tests {
		if got := openDeliveries(t, s, target); !slices.Equal(deliveryIDs(got), want) {
			t.Errorf("OpenDeliveries(%q) = %v, want %v", target, deliveryIDs(got), want)
		}
	}
}

func testMarkRedacted(t *testing.T, s store.Store) {
	d := delivery("d1", "T1", base)
	saveDelivery(t, s, d)
	saveDelivery(t, s, delivery("d2", "T1", base.Add(time.Minute)))

	// Refused input changes nothing, even for an unknown id.
	for _, tc := range []struct {
		name, id, reason string
		at               time.Time
	}{
		{"empty reason", d.ID, "", base},
		{"reason with a space", d.ID, "timed out", base},
		{"reason too long", d.ID, strings.Repeat("x", store.MaxCodeLen+1), base},
		{"at after year 9999", d.ID, store.RedactExpired, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"unknown id", "nope", "", base},
	} {
		if ok, err := s.MarkRedacted(t.Context(), tc.id, tc.at, tc.reason); ok || !errors.Is(err, store.ErrInvalidDelivery) {
			t.Errorf("MarkRedacted with %s = %v, %v; want false, ErrInvalidDelivery", tc.name, ok, err)
		}
	}
	if got := due(t, s, farFuture, 0); !slices.Equal(deliveryIDs(got), []string{"d1", "d2"}) {
		t.Fatalf("after refused MarkRedacted calls, DueDeliveries = %v, want [d1 d2]", deliveryIDs(got))
	}

	if !markRedacted(t, s, d.ID, base.Add(time.Hour), store.RedactExpired) {
		t.Error("first MarkRedacted = false, want true")
	}
	if markRedacted(t, s, d.ID, base.Add(2*time.Hour), store.RedactRevoked) {
		t.Error("second MarkRedacted = true, want false")
	}
	if got := due(t, s, farFuture, 0); !slices.Equal(deliveryIDs(got), []string{"d2"}) {
		t.Errorf("DueDeliveries after redacting d1 = %v, want [d2]", deliveryIDs(got))
	}
	if got := openDeliveries(t, s, "T1"); !slices.Equal(deliveryIDs(got), []string{"d2"}) {
		t.Errorf("OpenDeliveries after redacting d1 = %v, want [d2]", deliveryIDs(got))
	}
	// A zero time means now.
	if !markRedacted(t, s, "d2", time.Time{}, store.RedactUsed) {
		t.Error("MarkRedacted(d2, zero time) = false, want true")
	}
	for _, id := range []string{"nope", "", "D1", "d1 "} {
		if ok, err := s.MarkRedacted(t.Context(), id, base, store.RedactExpired); ok || !errors.Is(err, store.ErrNotFound) {
			t.Errorf("MarkRedacted(%q) = %v, %v; want false, ErrNotFound", id, ok, err)
		}
	}
}

// race runs f from contenders goroutines released together and returns how many
// of them f reported true for.
func race(t *testing.T, f func() (bool, error)) int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		mu    sync.Mutex
		won   int
	)
	for range contenders {
		wg.Go(func() {
			<-start
			ok, err := f()
			if err != nil {
				t.Error(err)
				return
			}
			if ok {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	return won
}

func testConcurrentMarkRedacted(t *testing.T, s store.Store) {
	const rounds = 10
	for r := range rounds {
		id := fmt.Sprintf("d%d", r)
		saveDelivery(t, s, delivery(id, "T1", base))
		won := race(t, func() (bool, error) {
			return s.MarkRedacted(t.Context(), id, base, store.RedactExpired)
		})
		if won != 1 {
			t.Errorf("round %d: %d of %d concurrent MarkRedacted calls reported true, want exactly 1", r, won, contenders)
		}
	}
	if got := openDeliveries(t, s, "T1"); len(got) != 0 {
		t.Errorf("OpenDeliveries after the races = %v, want none", deliveryIDs(got))
	}
}

func claim(t *testing.T, s store.Store, key string, at time.Time) bool {
	t.Helper()
	return must(s.Claim(t.Context(), key, at))(t, "Claim(%q)", key)
}

func testClaim(t *testing.T, s store.Store) {
	// Refused input claims nothing.
	for name, tc := range map[string]struct {
		key string
		at  time.Time
	}{
		"empty key":          {"", base},
		"key too long":       {strings.Repeat("k", store.MaxClaimLen+1), base},
		"key not UTF-8":      {"k\xff", base},
		"key with NUL":       {"k\x00", base},
		"at after year 9999": {"k", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		if ok, err := s.Claim(t.Context(), tc.key, tc.at); ok || !errors.Is(err, store.ErrInvalidClaim) {
			t.Errorf("Claim with %s = %v, %v; want false, ErrInvalidClaim", name, ok, err)
		}
	}
	if !claim(t, s, "k", base) {
		t.Error("first Claim(k) = false, want true")
	}
	if claim(t, s, "k", base.Add(time.Hour)) {
		t.Error("second Claim(k) = true, want false")
	}
	// Keys are compared exactly; a zero time means now.
	for _, key := range []string{"K", "k ", " k", "k2", "é", strings.Repeat("k", store.MaxClaimLen)} {
		if !claim(t, s, key, time.Time{}) {
			t.Errorf("first Claim(%q) = false, want true", key)
		}
	}
	if claim(t, s, "K", base) {
		t.Error("second Claim(K) = true, want false")
	}
}

func testConcurrentClaim(t *testing.T, s store.Store) {
	const rounds = 10
	for r := range rounds {
		key := fmt.Sprintf("action:%d", r)
		won := race(t, func() (bool, error) { return s.Claim(t.Context(), key, base) })
		if won != 1 {
			t.Errorf("round %d: %d of %d concurrent Claim calls reported true, want exactly 1", r, won, contenders)
		}
	}
}

func deferRedaction(t *testing.T, s store.Store, id string, next time.Time) int {
	t.Helper()
	return must(s.DeferRedaction(t.Context(), id, next))(t, "DeferRedaction(%q)", id)
}

func toCheck(t *testing.T, s store.Store, now time.Time, limit int) []string {
	t.Helper()
	ds, err := s.DeliveriesToCheck(t.Context(), now, limit)
	if err != nil {
		t.Fatalf("DeliveriesToCheck(%v, %d): %v", now, limit, err)
	}
	return deliveryIDs(ds)
}

func markChecked(t *testing.T, s store.Store, id string, at time.Time) {
	t.Helper()
	if err := s.MarkChecked(t.Context(), id, at); err != nil {
		t.Fatalf("MarkChecked(%q): %v", id, err)
	}
}

func testDeliveryBackoffRoundTrip(t *testing.T, s store.Store) {
	want := delivery("d1", "T1", base)
	want.Attempts, want.NextAttempt, want.CheckedAt = 3, base.Add(time.Hour), base.Add(-time.Minute)
	saveDelivery(t, s, want)
	got := openDeliveries(t, s, "T1")
	if len(got) != 1 {
		t.Fatalf("OpenDeliveries = %v, want [d1]", deliveryIDs(got))
	}
	if d := deliveryDiff(got[0], want); d != "" {
		t.Errorf("OpenDeliveries[0] (got vs want): %s", d)
	}
	bad := want
	bad.Attempts = -1
	if err := s.SaveDelivery(t.Context(), bad); !errors.Is(err, store.ErrInvalidDelivery) {
		t.Errorf("SaveDelivery(attempts -1): err = %v, want ErrInvalidDelivery", err)
	}
	bad = want
	bad.NextAttempt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.SaveDelivery(t.Context(), bad); !errors.Is(err, store.ErrInvalidDelivery) {
		t.Errorf("SaveDelivery(next attempt in year 10000): err = %v, want ErrInvalidDelivery", err)
	}
}

func testDeferRedaction(t *testing.T, s store.Store) {
	now := micro
	saveDelivery(t, s, delivery("stuck", "T1", now.Add(-time.Hour)))
	if n := deferRedaction(t, s, "stuck", now.Add(time.Minute)); n != 1 {
		t.Errorf("first DeferRedaction = %d, want 1", n)
	}
	// Backing off: not due until its next attempt, due from exactly then.
	if got := due(t, s, now, 0); len(got) != 0 {
		t.Errorf("DueDeliveries during back-off = %v, want none", deliveryIDs(got))
	}
	got := due(t, s, now.Add(time.Minute), 0)
	if len(got) != 1 || got[0].Attempts != 1 || timeDiff("NextAttempt", got[0].NextAttempt, now.Add(time.Minute)) != "" {
		t.Fatalf("DueDeliveries at the next attempt = %+v, want d1 at attempt 1, next attempt %v", got, now.Add(time.Minute))
	}
	if n := deferRedaction(t, s, "stuck", now.Add(3*time.Minute)); n != 2 {
		t.Errorf("second DeferRedaction = %d, want 2", n)
	}
	// A redacted delivery is left alone.
	markRedacted(t, s, "stuck", now, store.RedactGaveUp)
	if n := deferRedaction(t, s, "stuck", now.Add(time.Hour)); n != 0 {
		t.Errorf("DeferRedaction of a redacted delivery = %d, want 0", n)
	}
	if _, err := s.DeferRedaction(t.Context(), "nope", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeferRedaction(unknown): err = %v, want ErrNotFound", err)
	}
	if _, err := s.DeferRedaction(t.Context(), "", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeferRedaction(\"\"): err = %v, want ErrNotFound", err)
	}
	if _, err := s.DeferRedaction(t.Context(), "stuck", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, store.ErrInvalidDelivery) {
		t.Errorf("DeferRedaction(year 10000): err = %v, want ErrInvalidDelivery", err)
	}
}

// The oldest deliveries failing every time must not keep a batch full.
func testDeferredDeliveriesDoNotStarveOthers(t *testing.T, s store.Store) {
	now := micro
	for i := range 3 {
		saveDelivery(t, s, delivery(fmt.Sprintf("stuck-%d", i), "T1", now.Add(-time.Hour)))
	}
	saveDelivery(t, s, delivery("fine", "T2", now.Add(-time.Minute)))
	first := deliveryIDs(due(t, s, now, 3))
	if !slices.Equal(first, []string{"stuck-0", "stuck-1", "stuck-2"}) {
		t.Fatalf("first batch = %v, want [stuck-0 stuck-1 stuck-2]", first)
	}
	for _, id := range first {
		deferRedaction(t, s, id, now.Add(time.Minute))
	}
	if got := deliveryIDs(due(t, s, now, 3)); !slices.Equal(got, []string{"fine"}) {
		t.Errorf("batch after the oldest backed off = %v, want [fine]", got)
	}
}

func testDeliveriesToCheckRotate(t *testing.T, s store.Store) {
	now := micro
	redacted := delivery("redacted", "T1", now.Add(time.Hour))
	redacted.RedactedAt, redacted.RedactReason = now, store.RedactRevoked
	for _, d := range []store.Delivery{
		delivery("c", "T1", now.Add(3*time.Hour)),
		delivery("a", "T1", now.Add(time.Hour)),
		delivery("b", "T2", now.Add(2*time.Hour)),
		delivery("expired", "T1", now), // the expiry job's, not the check's
		redacted,
	} {
		saveDelivery(t, s, d)
	}
	if got := toCheck(t, s, now, 0); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("DeliveriesToCheck = %v, want [a b c]", got)
	}
	if got := toCheck(t, s, now, 2); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("DeliveriesToCheck(limit 2) = %v, want [a b]", got)
	}
	// Checked ones go to the back, least recently checked first.
	markChecked(t, s, "b", now.Add(time.Second))
	markChecked(t, s, "a", now.Add(2*time.Second))
	if got := toCheck(t, s, now, 2); !slices.Equal(got, []string{"c", "b"}) {
		t.Errorf("after checking a and b: %v, want [c b]", got)
	}
	markChecked(t, s, "c", now.Add(3*time.Second))
	if got := toCheck(t, s, now, 0); !slices.Equal(got, []string{"b", "a", "c"}) {
		t.Errorf("after checking all: %v, want [b a c]", got)
	}
	// One backing off waits its turn.
	deferRedaction(t, s, "b", now.Add(time.Hour))
	if got := toCheck(t, s, now, 0); !slices.Equal(got, []string{"a", "c"}) {
		t.Errorf("with b backing off: %v, want [a c]", got)
	}
	if err := s.MarkChecked(t.Context(), "nope", now); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("MarkChecked(unknown): err = %v, want ErrNotFound", err)
	}
	if err := s.MarkChecked(t.Context(), "a", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, store.ErrInvalidDelivery) {
		t.Errorf("MarkChecked(year 10000): err = %v, want ErrInvalidDelivery", err)
	}
}
