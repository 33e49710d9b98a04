package postgres

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"

	"github.com/tapbot/tapbot/internal/store"
	"github.com/tapbot/tapbot/internal/store/migrations"
	"github.com/tapbot/tapbot/internal/store/postgres/pgtest"
	"github.com/tapbot/tapbot/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func openURL(t testing.TB, url string) *Store {
	t.Helper()
	s, err := Open(t.Context(), Config{URL: url}, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// openTemp opens a store on a fresh database and closes it when the test ends.
func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	url := pgtest.NewDatabase(t)
	s := openURL(t, url)
	t.Cleanup(func() { _ = s.Close() })
	return s, url
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openURL(t, pgtest.NewDatabase(t))
	})
}

func TestEmbeddedMigrationsAreNumberedFromOneWithoutGaps(t *testing.T) {
	ms, err := migrations.Load(migrationFiles, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if m.Version != i+1 {
			t.Errorf("migration %d is %s (version %d), want version %d", i, m.Name, m.Version, i+1)
		}
	}
}

// Replicas start together after a deploy: each runs Open on the same empty
// database at once, and the schema must be created exactly once, without any of
// them failing on the others' half-made tables.
func TestConcurrentOpensMigrateOnce(t *testing.T) {
	url := pgtest.NewDatabase(t)
	const replicas = 6
	var (
		wg     sync.WaitGroup
		stores [replicas]*Store
		errs   [replicas]error
	)
	for i := range replicas {
		wg.Go(func() {
			stores[i], errs[i] = Open(t.Context(), Config{URL: url}, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	var applied []int
	rows, err := stores[0].pool.Query(t.Context(), `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	if applied, err = pgx.CollectRows(rows, pgx.RowTo[int]); err != nil {
		t.Fatal(err)
	}
	ms, _ := migrations.Load(migrationFiles, "migrations")
	if len(applied) != len(ms) {
		t.Errorf("schema_migrations = %v, want each of the %d migrations once", applied, len(ms))
	}
	// The lock is a session lock: it must not stay with a pooled connection.
	var held int
	if err := stores[0].pool.QueryRow(t.Context(), `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'`).Scan(&held); err != nil {
		t.Fatal(err)
	}
	if held != 0 {
		t.Errorf("%d advisory locks held after Open, want 0", held)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	s, url := openTemp(t)
	if _, err := s.pool.Exec(t.Context(), `INSERT INTO schema_migrations (version) VALUES (9999)`); err != nil {
		t.Fatal(err)
	}
	_, err := Open(t.Context(), Config{URL: url}, nil)
	if err == nil {
		t.Fatal("Open of a database migrated by a newer tapbot succeeded")
	}
	if want := "newer than this tapbot"; !strings.Contains(err.Error(), want) {
		t.Errorf("Open: %v, want it to say %q", err, want)
	}
}

// The audit log is append-only for whoever connects, not only through the Store.
func TestAuditAppendOnlyInTheDatabase(t *testing.T) {
	s, _ := openTemp(t)
	if _, err := s.AppendAudit(t.Context(), store.AuditEntry{Action: "tap.create", Outcome: "allowed"}); err != nil {
		t.Fatal(err)
	}
	for _, sql := range []string{
		`UPDATE audit SET reason = 'forged'`,
		`DELETE FROM audit`,
		`TRUNCATE audit`,
		// An upsert over an existing id is an UPDATE too.
		`INSERT INTO audit (id, at, request_id, requester_id, requester_upn, target_id, target_upn, action, outcome, reason, ticket, method_id)
			OVERRIDING SYSTEM VALUE
			SELECT id, at, request_id, requester_id, requester_upn, target_id, target_upn, action, outcome, reason, ticket, method_id FROM audit
			ON CONFLICT (id) DO UPDATE SET reason = 'forged'`,
	} {
		_, err := s.pool.Exec(t.Context(), sql)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Message != "audit log is append-only" {
			t.Errorf("%s: err = %v, want the append-only refusal", sql, err)
		}
	}
	if n, err := s.CountAudit(t.Context(), store.AuditFilter{}); err != nil || n != 1 {
		t.Errorf("CountAudit = %d, %v; want the one row", n, err)
	}
}

// BeginTAP must hold across processes, not only across one pool's connections:
// replicas each have their own pool. Several stores (pools) race for one target
// and for one requester's rate limit.
func TestBeginTAPAcrossReplicas(t *testing.T) {
	_, url := openTemp(t)
	const replicas = 4
	stores := make([]*Store, replicas)
	for i := range stores {
		stores[i] = openURL(t, url)
		defer stores[i].Close()
	}
	now := time.Now()
	intent := func(id, target, requester string) store.TAPIntent {
		return store.TAPIntent{ID: id, TargetID: target, RequesterID: requester, LeaseUntil: now.Add(time.Minute)}
	}

	t.Run("one target", func(t *testing.T) {
		var (
			wg                sync.WaitGroup
			mu                sync.Mutex
			won, busy, others int
		)
		for i := range 24 {
			wg.Go(func() {
				err := stores[i%replicas].BeginTAP(t.Context(), intent(fmt.Sprintf("t-%d", i), "target-1", fmt.Sprintf("r-%d", i)), store.TAPLimits{})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errors.Is(err, store.ErrTargetBusy):
					busy++
				default:
					others++
					t.Errorf("BeginTAP: %v", err)
				}
			})
		}
		wg.Wait()
		if won != 1 || busy != 23 {
			t.Errorf("%d began, %d busy, %d other errors; want 1, 23, 0", won, busy, others)
		}
	})

	t.Run("one requester's limit", func(t *testing.T) {
		const limit = 3
		lim := store.TAPLimits{MaxPerRequester: limit, Since: now.Add(-time.Hour)}
		var (
			wg              sync.WaitGroup
			mu              sync.Mutex
			won, refused, o int
		)
		for i := range 24 {
			wg.Go(func() {
				err := stores[i%replicas].BeginTAP(t.Context(), intent(fmt.Sprintf("r-%d", i), fmt.Sprintf("target-r%d", i), "requester-1"), lim)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					won++
				case errors.Is(err, store.ErrRateLimited):
					refused++
				default:
					o++
					t.Errorf("BeginTAP: %v", err)
				}
			})
		}
		wg.Wait()
		if won != limit || refused != 24-limit {
			t.Errorf("%d began, %d rate limited, %d other errors; want %d, %d, 0", won, refused, o, limit, 24-limit)
		}
	})
}

// The unique index is the backstop of BeginTAP's checks: an insert that skips
// them (a bug, a hand-written statement) still cannot open a second intent.
func TestOpenIntentIndexIsTheBackstop(t *testing.T) {
	s, _ := openTemp(t)
	now := time.Now()
	if err := s.BeginTAP(t.Context(), store.TAPIntent{ID: "a", TargetID: "T", RequesterID: "R", LeaseUntil: now.Add(time.Minute)}, store.TAPLimits{}); err != nil {
		t.Fatal(err)
	}
	_, err := s.pool.Exec(t.Context(), intentInsertQuery, "b", "T", "", "R2", now, now.Add(time.Minute))
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != uniqueViolation || pgErr.ConstraintName != "tap_intents_open_target" {
		t.Fatalf("second open intent for one target: err = %v, want a unique violation of tap_intents_open_target", err)
	}
}

// Two replicas claiming due jobs at once never get the same one.
func TestClaimJobsAcrossReplicas(t *testing.T) {
	_, url := openTemp(t)
	a, b := openURL(t, url), openURL(t, url)
	defer a.Close()
	defer b.Close()
	const jobs = 200
	for i := range jobs {
		if _, err := a.ScheduleJob(t.Context(), store.Job{ID: fmt.Sprintf("j%03d", i), Kind: "k", DueAt: time.Now().Add(-time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	claimed := storetest.ClaimAll(t, a, time.Now(), 7, b)
	if len(claimed) != jobs {
		t.Errorf("%d jobs claimed, want %d", len(claimed), jobs)
	}
	for id, js := range claimed {
		if len(js) != 1 {
			t.Errorf("job %s claimed %d times, want once", id, len(js))
		}
	}
}

func TestPingWriteFailure(t *testing.T) {
	s, _ := openTemp(t)
	// A replica left on a read-only server (a standby after failover) is not ready.
	if _, err := s.pool.Exec(t.Context(), `ALTER DATABASE `+currentDB(t, s)+` SET default_transaction_read_only = on`); err != nil {
		t.Fatal(err)
	}
	s.pool.Reset() // new sessions pick the setting up
	if err := s.Ping(t.Context()); err == nil {
		t.Fatal("Ping on a read-only database succeeded")
	}
	if n := s.WriteFailures(); n != 1 {
		t.Errorf("WriteFailures = %d, want 1", n)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_ = s.Ping(ctx)
	if n := s.WriteFailures(); n != 1 {
		t.Errorf("after a cancelled Ping, WriteFailures = %d, want still 1", n)
	}
}

func currentDB(t *testing.T, s *Store) string {
	var name string
	if err := s.pool.QueryRow(t.Context(), `SELECT current_database()`).Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}

func TestOpenErrorHidesPassword(t *testing.T) {
	_, err := Open(t.Context(), Config{URL: "postgres://tapbot:s3cret-pw@db.example/tapbot?sslmode=bogus"}, nil)
	if err == nil || strings.Contains(err.Error(), "s3cret-pw") {
		t.Errorf("Open with a bad URL: err = %v, want an error without the password", err)
	}
}
