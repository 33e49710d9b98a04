package sqlite

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapbot/tapbot/internal/store"
	"github.com/tapbot/tapbot/internal/store/storetest"
)

func TestSQLiteSupportsReturning(t *testing.T) {
	s := openTemp(t)
	var v string
	if err := s.db.QueryRowContext(t.Context(), `SELECT sqlite_version()`).Scan(&v); err != nil {
		t.Fatalf("sqlite_version: %v", err)
	}
	// UpdateOnboard and ClaimJobs need UPDATE … RETURNING, new in 3.35.0.
	var major, minor int
	if _, err := fmt.Sscanf(v, "%d.%d", &major, &minor); err != nil || major < 3 || (major == 3 && minor < 35) {
		t.Fatalf("SQLite %s (%v): want 3.35 or later for RETURNING", v, err)
	}
	t.Logf("SQLite %s", v)
}

func TestOpenMigratesVersion2DatabaseKeepingReferencesAndAudit(t *testing.T) {
	s := openMigratedFrom(t, 2,
		`INSERT INTO conversation_references
			(conversation_id, scope, tenant_id, user_aad_object_id, team_id, service_url, bot_id, raw, updated_at)
			VALUES ('a:1', 'personal', 't', 'u', '', 'https://smba.trafficmanager.net/emea/', '28:bot', '{"a":1}', '2024-01-02T03:04:05.000000006Z')`,
		`INSERT INTO audit (at, request_id, requester_id, requester_upn, target_id, target_upn, action, outcome, reason, ticket, method_id, expires)
			VALUES ('2024-01-02T03:04:05.000000000Z', 'req', 'r', 'r@contoso.com', 'u', 'u@contoso.com', 'tap.create', 'allowed', '', 'INC-1', 'm', '2024-01-02T04:04:05.000000000Z')`,
		`INSERT INTO audit (at, request_id, requester_id, requester_upn, target_id, target_upn, action, outcome, reason, ticket, method_id, expires)
			VALUES ('2024-01-02T03:05:05.000000000Z', 'req2', 'r', '', '', 'v@contoso.com', 'tap.create', 'refused', 'privileged_role', '', '', NULL)`,
		`INSERT INTO deliveries VALUES ('d', 'u', 'u@contoso.com', 'm', 'r', 's', 'c', 'a', '2024-01-02T04:04:05.000000000Z', NULL, '')`,
		`INSERT INTO claims VALUES ('k', '2024-01-02T03:04:05.000000000Z')`,
	)
	ctx := t.Context()
	r, err := s.PersonalReference(ctx, "t", "u")
	if err != nil {
		t.Fatalf("PersonalReference after migrating: %v", err)
	}
	if r.ConversationID != "a:1" || string(r.Raw) != `{"a":1}` || !r.UpdatedAt.Equal(time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)) {
		t.Errorf("reference after migrating = %+v, want a:1 with raw {\"a\":1}, updated 2024-01-02T03:04:05.000000006Z", r)
	}
	es, err := s.Audit(ctx, store.AuditFilter{})
	if err != nil {
		t.Fatalf("Audit after migrating: %v", err)
	}
	if len(es) != 2 || es[0].RequestID != "req2" || es[0].Reason != "privileged_role" || !es[0].Expires.IsZero() ||
		es[1].Ticket != "INC-1" || !es[1].Expires.Equal(time.Date(2024, 1, 2, 4, 4, 5, 0, time.UTC)) {
		t.Errorf("audit after migrating = %+v, want req2 (privileged_role, no expiry), then INC-1 (expiring 2024-01-02T04:04:05Z)", es)
	}
	if ds, err := s.OpenDeliveries(ctx, "u"); err != nil || len(ds) != 1 {
		t.Errorf("OpenDeliveries after migrating = %v, %v; want d", ds, err)
	}
	if ok, err := s.Claim(ctx, "k", time.Time{}); ok || err != nil {
		t.Errorf("Claim of a key claimed before migrating = %v, %v; want false", ok, err)
	}
	// The audit log is still append-only, and still appends after the old rows.
	for _, stmt := range []string{`UPDATE audit SET reason = ''`, `DELETE FROM audit`} {
		if _, err := s.db.ExecContext(ctx, stmt); err == nil || !strings.Contains(err.Error(), "audit log is append-only") {
			t.Errorf("%s after migrating: err = %v, want the append-only refusal", stmt, err)
		}
	}
	if id, err := s.AppendAudit(ctx, store.AuditEntry{Action: "onboard.submit", Outcome: store.OutcomeAllowed}); err != nil || id != es[0].ID+1 {
		t.Errorf("AppendAudit after migrating = %d, %v; want %d", id, err, es[0].ID+1)
	}
	// And the new tables work.
	if err := s.CreateOnboard(ctx, store.OnboardRequest{ID: "onb-1", State: store.OnboardSubmitted, RequesterID: "r"}); err != nil {
		t.Errorf("CreateOnboard after migrating: %v", err)
	}
	if ok, err := s.ScheduleJob(ctx, store.Job{ID: "j", Kind: "k"}); !ok || err != nil {
		t.Errorf("ScheduleJob after migrating = %v, %v", ok, err)
	}
	if js, err := s.ClaimJobs(ctx, time.Time{}, time.Minute, 0); len(js) != 1 || err != nil {
		t.Errorf("ClaimJobs after migrating = %v, %v; want j", js, err)
	}
}

// TestTwoStoresOnOneFile is two pools on one database (Open refuses a second
// process, see TestSecondOpenRefused; this is the defence below that): each Store
// has its own pool of connections, so nothing in Go serialises them, only SQLite's
// file locks.
func TestTwoStoresOnOneFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tapbot.db")
	a, b := openShared(t, path), openShared(t, path)
	t.Cleanup(func() { _ = a.Close(); _ = b.Close() })
	ctx := t.Context()
	base := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

	t.Run("ClaimJobs", func(t *testing.T) {
		const n = 150
		for i := range n {
			s := a
			if i%2 == 1 {
				s = b
			}
			if _, err := s.ScheduleJob(ctx, store.Job{ID: fmt.Sprintf("j%03d", i), Kind: "k", DueAt: base}); err != nil {
				t.Fatalf("ScheduleJob: %v", err)
			}
		}
		claimed := storetest.ClaimAll(t, a, base, 5, b)
		if len(claimed) != n {
			t.Errorf("%d jobs claimed in all, want %d", len(claimed), n)
		}
		for id, js := range claimed {
			if len(js) != 1 || js[0].Attempts != 1 {
				t.Errorf("job %s claimed %d times (attempts %d), want once", id, len(js), js[0].Attempts)
			}
		}
	})

	t.Run("UpdateOnboard", func(t *testing.T) {
		const rounds = 5
		for round := range rounds {
			id := fmt.Sprintf("onb-%d", round)
			if err := a.CreateOnboard(ctx, store.OnboardRequest{ID: id, State: store.OnboardSubmitted, RequesterID: "m"}); err != nil {
				t.Fatalf("CreateOnboard: %v", err)
			}
			read, err := b.Onboard(ctx, id)
			if err != nil {
				t.Fatalf("Onboard from the other store: %v", err)
			}
			var (
				wg    sync.WaitGroup
				start = make(chan struct{})
				mu    sync.Mutex
				won   int
			)
			for w := range 16 {
				s := a
				if w%2 == 1 {
					s = b
				}
				wg.Go(func() {
					r := read
					r.State, r.DeciderID = store.OnboardApproved, fmt.Sprint(w)
					<-start
					_, err := s.UpdateOnboard(ctx, r)
					switch {
					case err == nil:
						mu.Lock()
						won++
						mu.Unlock()
					case !errors.Is(err, store.ErrConflict):
						t.Errorf("UpdateOnboard: %v", err)
					}
				})
			}
			close(start)
			wg.Wait()
			if won != 1 {
				t.Errorf("round %d: %d of 16 updates across two stores succeeded, want exactly 1", round, won)
			}
		}
	})
}

func TestOnboardTimesStampFromClockAsFixedWidthUTCText(t *testing.T) {
	s, now, text := openClocked(t)
	const want = "2024-03-04T04:06:07.800000000Z" // now, as the store keeps it
	ctx := t.Context()

	if err := s.CreateOnboard(ctx, store.OnboardRequest{ID: "onb-1", State: store.OnboardSubmitted, RequesterID: "r"}); err != nil {
		t.Fatalf("CreateOnboard: %v", err)
	}
	for _, col := range []string{"created_at", "updated_at"} {
		if got := text(`SELECT ` + col + ` FROM onboard_requests`); got.String != want {
			t.Errorf("onboard_requests.%s = %q, want %q", col, got.String, want)
		}
	}
	if got := text(`SELECT start_date FROM onboard_requests`); got.Valid {
		t.Errorf("onboard_requests.start_date for a zero StartDate = %q, want NULL", got.String)
	}
	r, err := s.Onboard(ctx, "onb-1")
	if err != nil {
		t.Fatalf("Onboard: %v", err)
	}
	*now = now.Add(time.Hour)
	r.State, r.StartDate, r.UpdatedAt = store.OnboardApproved, time.Date(2024, 4, 1, 0, 0, 0, 0, time.FixedZone("+02", 7200)), time.Time{}
	if _, err := s.UpdateOnboard(ctx, r); err != nil {
		t.Fatalf("UpdateOnboard: %v", err)
	}
	if got, want := text(`SELECT updated_at FROM onboard_requests`), "2024-03-04T05:06:07.800000000Z"; got.String != want {
		t.Errorf("onboard_requests.updated_at after update = %q, want %q", got.String, want)
	}
	if got := text(`SELECT created_at FROM onboard_requests`); got.String != want {
		t.Errorf("onboard_requests.created_at after update = %q, want %q", got.String, want)
	}
	if got, want := text(`SELECT start_date FROM onboard_requests`), "2024-03-31T22:00:00.000000000Z"; got.String != want {
		t.Errorf("onboard_requests.start_date = %q, want %q", got.String, want)
	}

	*now = now.Add(-time.Hour)
	if ok, err := s.ScheduleJob(ctx, store.Job{ID: "j", Kind: "k"}); !ok || err != nil {
		t.Fatalf("ScheduleJob = %v, %v", ok, err)
	}
	if got := text(`SELECT due_at FROM jobs`); got.String != want {
		t.Errorf("jobs.due_at = %q, want %q", got.String, want)
	}
	if got := text(`SELECT lease_until FROM jobs`); got.Valid {
		t.Errorf("jobs.lease_until before a claim = %q, want NULL", got.String)
	}
	if js, err := s.ClaimJobs(ctx, time.Time{}, 90*time.Second, 0); len(js) != 1 || err != nil {
		t.Fatalf("ClaimJobs(zero) = %v, %v; want j, due at the injected clock's now", js, err)
	}
	if got := text(`SELECT lease_until FROM jobs`); got.String != "2024-03-04T04:07:37.800000000Z" {
		t.Errorf("jobs.lease_until = %q, want the clock's now plus 90s", got.String)
	}
	if err := s.CompleteJob(ctx, "j", time.Time{}); err != nil {
		t.Fatalf("CompleteJob: %v", err)
	}
	if got := text(`SELECT done_at FROM jobs`); got.String != want {
		t.Errorf("jobs.done_at = %q, want %q", got.String, want)
	}
	// Completing again changes nothing: the first completion's time stays.
	*now = now.Add(time.Hour)
	if err := s.CompleteJob(ctx, "j", time.Time{}); err != nil {
		t.Fatalf("second CompleteJob: %v", err)
	}
	if got := text(`SELECT done_at FROM jobs`); got.String != want {
		t.Errorf("jobs.done_at after a second CompleteJob = %q, want %q", got.String, want)
	}
	if got := text(`SELECT lease_until FROM jobs`); got.Valid {
		t.Errorf("jobs.lease_until after completion = %q, want NULL", got.String)
	}
}

func TestOnboardQueriesUseIndexes(t *testing.T) {
	s := openTemp(t)
	at := formatTime(time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	requesterWhere, requesterArgs := onboardWhere(store.OnboardFilter{RequesterID: "m"})
	stateWhere, stateArgs := onboardWhere(store.OnboardFilter{States: []string{store.OnboardFailed, store.OnboardSubmitted}})
	list := `SELECT ` + store.OnboardColumns + ` FROM onboard_requests%s ORDER BY created_at DESC, id DESC LIMIT 100`
	tests := []struct {
		name   string
		query  string
		args   []any
		want   string
		noSort bool
	}{
		{"claim", claimJobsQuery, []any{at, at, at, 10}, "USING INDEX jobs_due", true},
		{"requester", fmt.Sprintf(list, requesterWhere), requesterArgs, "USING INDEX onboard_requests_requester", true},
		{"all", fmt.Sprintf(list, ""), nil, "USING INDEX onboard_requests_created", true},
		// Few requests are in the states one lists (pending, failed): sorting them is cheap.
		{"states", fmt.Sprintf(list, stateWhere), stateArgs, "USING INDEX onboard_requests_state", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan := queryPlan(t, s.db, tc.query, tc.args...)
			if !strings.Contains(plan, tc.want) {
				t.Errorf("query plan:\n%s\nwant it to contain %q", plan, tc.want)
			}
			if tc.noSort && strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("query plan:\n%s\nwant no sort step", plan)
			}
		})
	}
}

func TestOnboardUseAfterCloseFails(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "tapbot.db"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := t.Context()
	r := store.OnboardRequest{ID: "onb-1", State: store.OnboardSubmitted, RequesterID: "r", Version: 1}
	checks := map[string]error{}
	checks["CreateOnboard"] = s.CreateOnboard(ctx, r)
	_, checks["Onboard"] = s.Onboard(ctx, r.ID)
	_, checks["UpdateOnboard"] = s.UpdateOnboard(ctx, r)
	_, checks["Onboards"] = s.Onboards(ctx, store.OnboardFilter{})
	_, checks["ScheduleJob"] = s.ScheduleJob(ctx, store.Job{ID: "j", Kind: "k"})
	_, checks["ClaimJobs"] = s.ClaimJobs(ctx, time.Now(), time.Minute, 0)
	checks["CompleteJob"] = s.CompleteJob(ctx, "j", time.Now())
	checks["RescheduleJob"] = s.RescheduleJob(ctx, "j", time.Now())
	for name, err := range checks {
		if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			t.Errorf("%s after Close: err = %v, want a store error", name, err)
		}
	}
}

func BenchmarkUpdateOnboard(b *testing.B) {
	s := openTemp(b)
	const requests = 1000
	for i := range requests {
		r := store.OnboardRequest{
			ID: fmt.Sprintf("onb-%04d", i), State: store.OnboardSubmitted, RequesterID: fmt.Sprintf("manager-%d", i%50),
			RequesterUPN: "manager@contoso.com", Form: []byte(`{"givenName":"Ada","surname":"Lovelace","upn":"ada.lovelace@contoso.com","licence":"E3","groups":["g1","g2"]}`),
		}
		if err := s.CreateOnboard(b.Context(), r); err != nil {
			b.Fatal(err)
		}
	}
	rs, err := s.Onboards(b.Context(), store.OnboardFilter{Limit: requests})
	if err != nil {
		b.Fatal(err)
	}
	for i := range rs {
		rs[i].State = store.OnboardApproved
		if rs[i], err = s.UpdateOnboard(b.Context(), rs[i]); err != nil {
			b.Fatal(err)
		}
	}
	// What provisioning does after each step: record it from the version it holds.
	steps := []string{"user", "manager", "groups", "licence"}
	i := 0
	for b.Loop() {
		r := &rs[i%requests]
		r.State, r.Step = store.OnboardProvisioning, steps[i%len(steps)]
		if *r, err = s.UpdateOnboard(b.Context(), *r); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkClaimJobs(b *testing.B) {
	const (
		jobs  = 10000
		batch = 10
		lease = time.Minute
	)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, bc := range []struct {
		name string
		due  func(i int) time.Time
	}{
		// Every tick of a runner, most of the time: nothing due among the 10k.
		{"none due", func(i int) time.Time { return base.AddDate(10, 0, 0).Add(time.Duration(i) * time.Hour) }},
		// A backlog: all 10k due; each claim takes the oldest 10.
		{"all due", func(int) time.Time { return base }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s := openTemp(b)
			for i := range jobs {
				j := store.Job{ID: fmt.Sprintf("onboard.startday:onb-%05d", i), Kind: "onboard.startday",
					Payload: []byte(`{"request":"onb-00000"}`), DueAt: bc.due(i)}
				if _, err := s.ScheduleJob(b.Context(), j); err != nil {
					b.Fatal(err)
				}
			}
			// Each claim comes a lease after the last, so the jobs it leased are
			// free again and the backlog never runs dry.
			now := base
			for b.Loop() {
				now = now.Add(lease)
				js, err := s.ClaimJobs(b.Context(), now, lease, batch)
				if err != nil {
					b.Fatal(err)
				}
				if bc.name == "all due" && len(js) != batch {
					b.Fatalf("claimed %d, want %d", len(js), batch)
				}
			}
		})
	}
}
