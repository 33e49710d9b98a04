package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tapbot/tapbot/internal/store"
	"github.com/tapbot/tapbot/internal/store/migrations"
	"github.com/tapbot/tapbot/internal/store/storetest"
)

func openAt(t testing.TB, path string) *Store {
	t.Helper()
	// Info logs (migrations, opened) would bury benchmark output.
	s, err := Open(t.Context(), path, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// openShared opens path without the one-process lock.
func openShared(t testing.TB, path string) *Store {
	t.Helper()
	s, err := open(t.Context(), path, zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)), false)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

// openTemp opens a fresh database and closes it when the test ends.
func openTemp(t testing.TB) *Store {
	t.Helper()
	s := openAt(t, filepath.Join(t.TempDir(), "tapbot.db"))
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openAt(t, filepath.Join(t.TempDir(), "tapbot.db"))
	})
}

func knownMigrations(t *testing.T) []migrations.File {
	t.Helper()
	ms, err := migrations.Load(migrationFiles, "migrations")
	if err != nil {
		t.Fatalf("migrations.Load: %v", err)
	}
	return ms
}

func TestEmbeddedMigrationsAreNumberedFromOneWithoutGaps(t *testing.T) {
	for i, m := range knownMigrations(t) {
		if m.Version != i+1 {
			t.Errorf("migration %d is %s (version %d), want version %d", i, m.Name, m.Version, i+1)
		}
	}
}

func appliedMigrations(t *testing.T, db *sql.DB) map[int]string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), `SELECT version, applied_at FROM schema_migrations`)
	if err != nil {
		t.Fatalf("query schema_migrations: %v", err)
	}
	defer rows.Close()
	applied := map[int]string{}
	for rows.Next() {
		var v int
		var at string
		if err := rows.Scan(&v, &at); err != nil {
			t.Fatalf("scan schema_migrations: %v", err)
		}
		applied[v] = at
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("schema_migrations: %v", err)
	}
	return applied
}

func TestReopenKeepsDataAndDoesNotRerunMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tapbot.db")
	want := store.Reference{
		ConversationID: "a:1", Scope: store.ScopePersonal, TenantID: "t", UserAADObjectID: "u",
		Raw: []byte(`{"a":1}`), UpdatedAt: time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC),
	}

	openLogged := func() (*Store, *observer.ObservedLogs) {
		core, logs := observer.New(zap.InfoLevel)
		s, err := Open(t.Context(), path, zap.New(core))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		return s, logs
	}

	s, logs := openLogged()
	if n := logs.FilterMessage("applied database migration").Len(); n != len(knownMigrations(t)) {
		t.Errorf("first Open logged %d applied migrations, want %d", n, len(knownMigrations(t)))
	}
	if err := s.SaveReference(t.Context(), want); err != nil {
		t.Fatalf("SaveReference: %v", err)
	}
	firstApplied := appliedMigrations(t, s.db)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s, logs = openLogged()
	t.Cleanup(func() { _ = s.Close() })
	if n := logs.FilterMessage("applied database migration").Len(); n != 0 {
		t.Errorf("second Open logged %d applied migrations, want 0", n)
	}
	if got := appliedMigrations(t, s.db); fmt.Sprint(got) != fmt.Sprint(firstApplied) {
		t.Errorf("schema_migrations after reopen = %v, want it unchanged: %v", got, firstApplied)
	}
	if len(firstApplied) != len(knownMigrations(t)) {
		t.Errorf("schema_migrations has %d rows, want %d", len(firstApplied), len(knownMigrations(t)))
	}
	got, err := s.Reference(t.Context(), want.ConversationID)
	if err != nil {
		t.Fatalf("Reference after reopen: %v", err)
	}
	if string(got.Raw) != string(want.Raw) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("Reference after reopen = %+v, want %+v", got, want)
	}
}

// TestSecondOpenRefused: SQLite is the single-node store, so a second process on the
// same file (a second replica, a stray `tapbot dev`) is refused with a clear error
// while the first has it open, and admitted once it closed.
func TestSecondOpenRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tapbot.db")
	first := openAt(t, path)
	_, err := Open(t.Context(), path, zap.NewNop())
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) {
		t.Fatalf("second Open: err = %v, want ErrLocked naming pid %d", err, os.Getpid())
	}
	// A short-lived command (audit export, doctor --fix) may share the file.
	shared, err := OpenShared(t.Context(), path, zap.NewNop())
	if err != nil {
		t.Fatalf("OpenShared beside the server: %v", err)
	}
	if err := errors.Join(shared.Close(), first.Close()); err != nil {
		t.Fatal(err)
	}
	openAt(t, path).Close()
}

// TestPingTellsTheTruth: /readyz must fail when the database file was deleted or
// replaced under tapbot (SQLite would go on writing to the unlinked file and every
// row would be lost at the next start) or when a write fails.
func TestPingTellsTheTruth(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(t *testing.T, s *Store, path string)
	}{
		{"deleted", func(t *testing.T, _ *Store, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}},
		{"replaced", func(t *testing.T, _ *Store, path string) {
			if err := os.Rename(path, path+".old"); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}},
		{"write fails", func(t *testing.T, s *Store, _ string) {
			// What a full disk does to every write, without filling one.
			if _, err := s.db.Exec(`CREATE TRIGGER health_full BEFORE UPDATE ON health BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tapbot.db")
			s := openAt(t, path)
			t.Cleanup(func() { _ = s.Close() })
			if err := s.Ping(t.Context()); err != nil {
				t.Fatalf("Ping of a healthy store: %v", err)
			}
			tc.break_(t, s, path)
			if err := s.Ping(t.Context()); err == nil {
				t.Fatal("Ping succeeded on a broken store")
			}
		})
	}
	t.Run("write failures counted", func(t *testing.T) {
		s := openTemp(t)
		if _, err := s.db.Exec(`CREATE TRIGGER health_full BEFORE UPDATE ON health BEGIN SELECT RAISE(ABORT, 'full'); END`); err != nil {
			t.Fatal(err)
		}
		_ = s.Ping(t.Context()) // inserts the row
		for range 3 {
			_ = s.Ping(t.Context())
		}
		if n := s.WriteFailures(); n != 3 {
			t.Errorf("WriteFailures = %d, want 3", n)
		}
	})
}

// TestConcurrentOpensApplyEachMigrationOnce: several tapbots starting at once on a
// new file. One gets it and migrates; the others are refused by the one-process lock.
// Short-lived commands opening it shared beside the server (audit export, doctor
// --fix) then find it migrated and apply nothing.
func TestConcurrentOpensApplyEachMigrationOnce(t *testing.T) {
	const openers = 8
	path := filepath.Join(t.TempDir(), "tapbot.db")
	core, logs := observer.New(zap.InfoLevel)
	stores := make([]*Store, openers)
	var wg sync.WaitGroup
	var locked atomic.Int32
	for i := range openers {
		wg.Go(func() {
			s, err := Open(t.Context(), path, zap.New(core))
			switch {
			case errors.Is(err, ErrLocked):
				locked.Add(1)
			case err != nil:
				t.Errorf("Open %d: %v", i, err)
			default:
				stores[i] = s
				t.Cleanup(func() { _ = s.Close() })
			}
		})
	}
	wg.Wait()
	var first *Store
	for _, s := range stores {
		if s != nil {
			first = s
		}
	}
	// The lock is held until Close, which none of them calls here: exactly one wins.
	if first == nil || int(locked.Load()) != openers-1 {
		t.Fatalf("%d of %d concurrent Opens refused, want all but one", locked.Load(), openers)
	}
	for range 4 {
		wg.Go(func() {
			s, err := OpenShared(t.Context(), path, zap.New(core))
			if err != nil {
				t.Errorf("OpenShared beside the server: %v", err)
				return
			}
			_ = s.Close()
		})
	}
	wg.Wait()
	want := len(knownMigrations(t))
	if n := logs.FilterMessage("applied database migration").Len(); n != want {
		t.Errorf("migrations applied %d times in all, want %d", n, want)
	}
	if got := appliedMigrations(t, first.db); len(got) != want {
		t.Errorf("schema_migrations = %v, want %d rows", got, want)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tapbot.db")
	s := openAt(t, path)
	if _, err := s.db.ExecContext(t.Context(), `INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 'later')`); err != nil {
		t.Fatalf("insert future version: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	_, err := Open(t.Context(), path, zaptest.NewLogger(t))
	ms := knownMigrations(t)
	want := fmt.Sprintf("database schema version 9999 is newer than this tapbot (max %d); upgrade tapbot", ms[len(ms)-1].Version)
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open: err = %v, want one naming %s and saying %q", err, path, want)
	}
}

func TestMigrationsRunInOrderEachInItsOwnTransaction(t *testing.T) {
	db, err := sql.Open("sqlite", dsn(filepath.Join(t.TempDir(), "m.db")))
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	now := func() time.Time { return time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) }
	ok := []migrations.File{
		{Version: 1, Name: "0001_a.sql", SQL: `CREATE TABLE a (x INTEGER)`},
		// Needs 1 to have run first.
		{Version: 2, Name: "0002_b.sql", SQL: `CREATE TABLE b (x INTEGER); INSERT INTO a VALUES (2)`},
	}
	broken := []migrations.File{ok[0], {Version: 2, Name: "0002_b.sql", SQL: `CREATE TABLE b (x INTEGER); INSERT INTO missing VALUES (1)`}}

	err = migrate(t.Context(), db, broken, now, zap.NewNop())
	if err == nil || !strings.Contains(err.Error(), "0002_b.sql") {
		t.Fatalf("migrate with a broken migration: err = %v, want one naming 0002_b.sql", err)
	}
	if got := appliedMigrations(t, db); len(got) != 1 || got[1] == "" {
		t.Fatalf("after failed migration 2, applied = %v, want only version 1", got)
	}
	var n int
	if err := db.QueryRowContext(t.Context(), `SELECT COUNT(*) FROM sqlite_schema WHERE name = 'b'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("table b after failed migration: count = %d, err = %v; want it rolled back", n, err)
	}

	if err := migrate(t.Context(), db, ok, now, zap.NewNop()); err != nil {
		t.Fatalf("migrate after fix: %v", err)
	}
	if got := appliedMigrations(t, db); len(got) != 2 || got[2] != "2024-01-01T00:00:00.000000000Z" {
		t.Errorf("applied = %v, want versions 1 and 2, 2 applied at the injected time", got)
	}
	if err := db.QueryRowContext(t.Context(), `SELECT x FROM a`).Scan(&n); err != nil || n != 2 {
		t.Errorf("row written by migration 2 = %d, %v; want 2", n, err)
	}
}

func TestOpenFailsOnUnwritablePath(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	// A file where a directory must be fails even for root, unlike permission bits.
	tests := map[string]string{
		"parent is a file":    filepath.Join(notDir, "tapbot.db"),
		"ancestor is a file":  filepath.Join(notDir, "sub", "tapbot.db"),
		"path is a directory": dir,
		"empty path":          "",
	}
	for name, path := range tests {
		t.Run(name, func(t *testing.T) {
			s, err := Open(t.Context(), path, zaptest.NewLogger(t))
			if err == nil {
				_ = s.Close()
				t.Fatalf("Open(%q) succeeded, want an error", path)
			}
			if !strings.Contains(err.Error(), "store: open "+path+":") {
				t.Errorf("Open(%q): err = %v, want it to name the path", path, err)
			}
		})
	}
}

func TestOpenHandlesAwkwardPaths(t *testing.T) {
	// Characters that mean something in a URI or a DSN must reach the filesystem as-is.
	for _, name := range []string{"a?b.db", "c#d.db", "e f%20g.db", "h&_pragma=query_only(1).db", "é.db"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "new dir", name)
			s := openAt(t, path)
			t.Cleanup(func() { _ = s.Close() })
			if err := s.SaveReference(t.Context(), store.Reference{ConversationID: "a:1", Scope: store.ScopePersonal}); err != nil {
				t.Fatalf("SaveReference: %v", err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatalf("database not at %q: %v", path, err)
			}
			if fi.Size() == 0 {
				t.Errorf("%q is empty, want the database there (it went elsewhere)", path)
			}
		})
	}
}

func TestOpenRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s := openAt(t, filepath.Join("state", "tapbot.db"))
	t.Cleanup(func() { _ = s.Close() })
	if _, err := os.Stat(filepath.Join(dir, "state", "tapbot.db")); err != nil {
		t.Errorf("database not created relative to the working directory: %v", err)
	}
}

func TestFilesAreNotWorldReadable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state", "tapbot")
	path := filepath.Join(dir, "tapbot.db")
	s := openAt(t, path)
	t.Cleanup(func() { _ = s.Close() })
	// A write makes SQLite create the -wal and -shm files, which must be private too.
	if err := s.SaveReference(t.Context(), store.Reference{ConversationID: "a:1", Scope: store.ScopePersonal}); err != nil {
		t.Fatalf("SaveReference: %v", err)
	}
	tests := map[string]os.FileMode{
		dir:               0o700,
		path:              0o600,
		path + "-wal":     0o600,
		path + "-shm":     0o600,
		filepath.Dir(dir): 0o700,
	}
	for p, want := range tests {
		fi, err := os.Stat(p)
		if err != nil {
			t.Errorf("stat: %v", err)
			continue
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("mode of %s = %v, want %v", p, got, want)
		}
	}
}

func TestPragmasApplyToEveryConnection(t *testing.T) {
	s := openTemp(t)
	// Holding the connections open forces the pool to open distinct ones.
	const n = 3
	want := map[string]string{"journal_mode": "wal", "busy_timeout": "5000", "foreign_keys": "1", "synchronous": "1"}
	for i := range n {
		c, err := s.db.Conn(t.Context())
		if err != nil {
			t.Fatalf("Conn %d: %v", i, err)
		}
		defer c.Close()
		for pragma, w := range want {
			var got string
			if err := c.QueryRowContext(t.Context(), "PRAGMA "+pragma).Scan(&got); err != nil {
				t.Fatalf("conn %d: PRAGMA %s: %v", i, pragma, err)
			}
			if got != w {
				t.Errorf("conn %d: PRAGMA %s = %q, want %q", i, pragma, got, w)
			}
		}
	}
}

func TestSaveReferenceStampsFromClockAndStoresUTCText(t *testing.T) {
	s, now, text := openClocked(t)

	if err := s.SaveReference(t.Context(), store.Reference{ConversationID: "a:1", Scope: store.ScopePersonal}); err != nil {
		t.Fatalf("SaveReference: %v", err)
	}
	// UTC, and the fraction not trimmed, so that text order is time order.
	if got, want := text(`SELECT updated_at FROM conversation_references`), "2024-03-04T04:06:07.800000000Z"; got.String != want {
		t.Errorf("stored updated_at = %q, want %q", got.String, want)
	}
	got, err := s.Reference(t.Context(), "a:1")
	if err != nil {
		t.Fatalf("Reference: %v", err)
	}
	if !got.UpdatedAt.Equal(*now) || got.UpdatedAt.Location() != time.UTC {
		t.Errorf("UpdatedAt = %v, want %v in UTC", got.UpdatedAt, now.UTC())
	}
}

func TestPersonalReferenceUsesIndex(t *testing.T) {
	s := openTemp(t)
	joined := queryPlan(t, s.db, personalQuery, "t", "u", string(store.ScopePersonal))
	if !strings.Contains(joined, "USING INDEX conversation_references_personal") || strings.Contains(joined, "TEMP B-TREE") {
		t.Errorf("query plan:\n%s\nwant a search of conversation_references_personal without a sort", joined)
	}
}

func TestUseAfterCloseFails(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "tapbot.db"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Error("Ping after Close succeeded")
	}
	err := s.SaveReference(t.Context(), store.Reference{ConversationID: "a:1", Scope: store.ScopePersonal})
	if err == nil || errors.Is(err, store.ErrInvalidReference) {
		t.Errorf("SaveReference after Close: err = %v, want a store error", err)
	}
}

func BenchmarkSaveReference(b *testing.B) {
	raw := []byte(`{"activityId":"1","user":{"id":"29:user","aadObjectId":"00000000-0000-0000-0000-000000000000"},"bot":{"id":"28:bot","name":"tapbot"},"conversation":{"conversationType":"personal","tenantId":"tenant","id":"a:1"},"channelId":"msteams","serviceUrl":"https://smba.trafficmanager.net/emea/"}`)
	ref := func(i int) store.Reference {
		return store.Reference{
			ConversationID: fmt.Sprintf("a:conversation-%d", i), Scope: store.ScopePersonal,
			TenantID: "tenant", UserAADObjectID: fmt.Sprintf("user-%d", i%1000),
			ServiceURL: "https://smba.trafficmanager.net/emea/", BotID: "28:bot", Raw: raw,
		}
	}
	// Inbound activities mostly refresh a known conversation; new ones insert.
	for _, bc := range []struct {
		name     string
		distinct int
	}{{"insert", 0}, {"update", 100}} {
		b.Run(bc.name, func(b *testing.B) {
			s := openTemp(b)
			i := 0
			for b.Loop() {
				id := i
				if bc.distinct > 0 {
					id = i % bc.distinct
				}
				if err := s.SaveReference(b.Context(), ref(id)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}

func BenchmarkPersonalReference(b *testing.B) {
	s := openTemp(b)
	const users = 1000
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	// A few personal conversations per user (reinstalls) plus unrelated chats.
	for i := range users * 5 {
		scope := store.ScopePersonal
		if i/users == 4 {
			scope = store.ScopeGroupChat
		}
		r := store.Reference{
			ConversationID: fmt.Sprintf("a:%d", i), Scope: scope, TenantID: "tenant",
			UserAADObjectID: fmt.Sprintf("user-%d", i%users), Raw: []byte(`{}`),
			UpdatedAt: base.Add(time.Duration(i) * time.Second),
		}
		if err := s.SaveReference(b.Context(), r); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	for b.Loop() {
		if _, err := s.PersonalReference(b.Context(), "tenant", fmt.Sprintf("user-%d", i%users)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func TestAuditIsAppendOnlyInTheDatabase(t *testing.T) {
	s := openTemp(t)
	for _, e := range []store.AuditEntry{
		{Time: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), TargetUPN: "a@contoso.com", Action: "tap.create", Outcome: store.OutcomeRefused, Reason: "privileged_role"},
		{Time: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), TargetUPN: "b@contoso.com", Action: "tap.create", Outcome: store.OutcomeAllowed},
	} {
		if _, err := s.AppendAudit(t.Context(), e); err != nil {
			t.Fatalf("AppendAudit: %v", err)
		}
	}
	before, err := s.Audit(t.Context(), store.AuditFilter{})
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	insert := `INTO audit (id, at, request_id, requester_id, requester_upn, target_id, target_upn, action, outcome, reason, ticket, method_id)
		VALUES (1, '2024-01-01T00:00:00.000000000Z', '', '', '', '', 'a@contoso.com', 'tap.create', 'allowed', '', '', '')`
	// Every way plain SQL has to change or remove a row, as a tapbot bug or
	// someone with the file might try. The raw handle bypasses the store's API.
	for _, stmt := range []string{
		`UPDATE audit SET outcome = 'allowed' WHERE id = 1`,
		`UPDATE audit SET reason = ''`,
		`DELETE FROM audit WHERE id = 1`,
		`DELETE FROM audit`,
		`INSERT OR REPLACE ` + insert,
		`REPLACE ` + insert,
		`INSERT ` + insert + ` ON CONFLICT (id) DO UPDATE SET outcome = excluded.outcome`,
		// An id given as text is still the row's id.
		`INSERT OR REPLACE ` + strings.Replace(insert, "(1,", "('1',", 1),
	} {
		t.Run(strings.Fields(stmt)[0], func(t *testing.T) {
			_, err := s.db.ExecContext(t.Context(), stmt)
			if err == nil || !strings.Contains(err.Error(), "audit log is append-only") {
				t.Errorf("%s: err = %v, want the append-only refusal", stmt, err)
			}
		})
	}
	// Not even inside a transaction, nor by a table-wide update that changes nothing.
	tx, err := s.db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatalf("BeginTx: %v", err)
	}
	if _, err := tx.ExecContext(t.Context(), `UPDATE audit SET id = id`); err == nil {
		t.Error("UPDATE in a transaction succeeded")
	}
	if err := tx.Commit(); err != nil {
		t.Logf("Commit: %v", err)
	}

	after, err := s.Audit(t.Context(), store.AuditFilter{})
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("audit rows after the refused changes:\n%+v\nwant them unchanged:\n%+v", after, before)
	}
	// Appending still works, and takes the next id.
	id, err := s.AppendAudit(t.Context(), store.AuditEntry{Action: "tap.revoke", Outcome: store.OutcomeAllowed})
	if err != nil || id != before[0].ID+1 {
		t.Errorf("AppendAudit after the refusals = %d, %v; want %d", id, err, before[0].ID+1)
	}
}

// openClocked opens a store whose clock reads *now, at first 05:06:07.8 on
// 2024-03-04 in UTC+1, and text, which reads the one value a query selects.
func openClocked(t *testing.T) (s *Store, now *time.Time, text func(query string, args ...any) sql.NullString) {
	s = openTemp(t)
	now = new(time.Time)
	*now = time.Date(2024, 3, 4, 5, 6, 7, 800000000, time.FixedZone("+01", 3600))
	s.now = func() time.Time { return *now }
	return s, now, func(query string, args ...any) sql.NullString {
		t.Helper()
		var v sql.NullString
		if err := s.db.QueryRowContext(t.Context(), query, args...).Scan(&v); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return v
	}
}

func TestTapTimesStampFromClockAsFixedWidthUTCText(t *testing.T) {
	s, _, text := openClocked(t)
	const want = "2024-03-04T04:06:07.800000000Z" // now, as the store keeps it
	ctx := t.Context()

	if _, err := s.AppendAudit(ctx, store.AuditEntry{Action: "tap.create", Outcome: store.OutcomeAllowed}); err != nil {
		t.Fatalf("AppendAudit: %v", err)
	}
	if got := text(`SELECT at FROM audit`); got.String != want {
		t.Errorf("audit.at = %q, want %q", got.String, want)
	}
	if got := text(`SELECT expires FROM audit`); got.Valid {
		t.Errorf("audit.expires for a zero Expires = %q, want NULL", got.String)
	}

	d := store.Delivery{ID: "d", MethodID: "m", ServiceURL: "s", ConversationID: "c", ActivityID: "a",
		Expires: time.Date(2024, 3, 4, 4, 0, 0, 0, time.UTC)}
	if err := s.SaveDelivery(ctx, d); err != nil {
		t.Fatalf("SaveDelivery: %v", err)
	}
	if got, want := text(`SELECT expires FROM deliveries`), "2024-03-04T04:00:00.000000000Z"; got.String != want {
		t.Errorf("deliveries.expires = %q, want %q", got.String, want)
	}
	if got := text(`SELECT redacted_at FROM deliveries`); got.Valid {
		t.Errorf("deliveries.redacted_at before redaction = %q, want NULL", got.String)
	}
	// A zero now is the injected clock's (04:06 UTC): d expired before it.
	if ds, err := s.DueDeliveries(ctx, time.Time{}, 0); err != nil || len(ds) != 1 {
		t.Errorf("DueDeliveries(zero) = %d deliveries, %v; want d", len(ds), err)
	}
	if ok, err := s.MarkRedacted(ctx, "d", time.Time{}, store.RedactExpired); !ok || err != nil {
		t.Fatalf("MarkRedacted = %v, %v", ok, err)
	}
	if got := text(`SELECT redacted_at FROM deliveries`); got.String != want {
		t.Errorf("deliveries.redacted_at = %q, want %q", got.String, want)
	}
	if ok, err := s.Claim(ctx, "k", time.Time{}); !ok || err != nil {
		t.Fatalf("Claim = %v, %v", ok, err)
	}
	if got := text(`SELECT claimed_at FROM claims WHERE key = 'k'`); got.String != want {
		t.Errorf("claims.claimed_at = %q, want %q", got.String, want)
	}
}

// openMigratedFrom makes a database as the tapbot with the first version
// migrations left it, holding rows (INSERT statements), and opens it with this
// tapbot, which must apply each later migration once.
func openMigratedFrom(t *testing.T, version int, rows ...string) *Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tapbot.db")
	ms := knownMigrations(t)
	if next := fmt.Sprintf("%04d_", version+1); len(ms) <= version || !strings.HasPrefix(ms[version].Name, next) {
		t.Fatalf("%d migrations, want %s among them", len(ms), next)
	}
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	if err := migrate(t.Context(), db, ms[:version], time.Now, zap.NewNop()); err != nil {
		t.Fatalf("migrate to version %d: %v", version, err)
	}
	for _, stmt := range rows {
		if _, err := db.ExecContext(t.Context(), stmt); err != nil {
			t.Fatalf("insert version-%d data: %v", version, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	core, logs := observer.New(zap.InfoLevel)
	s, err := Open(t.Context(), path, zap.New(core))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if n := logs.FilterMessage("applied database migration").Len(); n != len(ms)-version {
		t.Errorf("Open applied %d migrations, want %d (all but the first %d)", n, len(ms)-version, version)
	}
	if got := appliedMigrations(t, s.db); len(got) != len(ms) {
		t.Errorf("schema_migrations = %v, want %d versions", got, len(ms))
	}
	return s
}

func TestOpenMigratesVersion1DatabaseKeepingReferences(t *testing.T) {
	s := openMigratedFrom(t, 1, `INSERT INTO conversation_references
		(conversation_id, scope, tenant_id, user_aad_object_id, team_id, service_url, bot_id, raw, updated_at)
		VALUES ('a:1', 'personal', 't', 'u', '', 'https://smba.trafficmanager.net/emea/', '28:bot', '{"a":1}', '2024-01-02T03:04:05.000000006Z')`)
	r, err := s.PersonalReference(t.Context(), "t", "u")
	if err != nil {
		t.Fatalf("PersonalReference after migrating: %v", err)
	}
	if r.ConversationID != "a:1" || string(r.Raw) != `{"a":1}` || !r.UpdatedAt.Equal(time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)) {
		t.Errorf("reference after migrating = %+v, want a:1 with raw {\"a\":1}, updated 2024-01-02T03:04:05.000000006Z", r)
	}
	// And the new tables work.
	if _, err := s.AppendAudit(t.Context(), store.AuditEntry{Action: "tap.create", Outcome: store.OutcomeAllowed}); err != nil {
		t.Errorf("AppendAudit after migrating: %v", err)
	}
	if err := s.SaveDelivery(t.Context(), store.Delivery{ID: "d", MethodID: "m", ServiceURL: "s", ConversationID: "c", ActivityID: "a", Expires: time.Now()}); err != nil {
		t.Errorf("SaveDelivery after migrating: %v", err)
	}
	if ok, err := s.Claim(t.Context(), "k", time.Time{}); !ok || err != nil {
		t.Errorf("Claim after migrating = %v, %v", ok, err)
	}
}

func queryPlan(t *testing.T, db *sql.DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("EXPLAIN QUERY PLAN: %v", err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, notused int
		var detail string
		if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
			t.Fatalf("scan plan: %v", err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("plan: %v", err)
	}
	return strings.Join(plan, "\n")
}

func TestTapQueriesUseIndexes(t *testing.T) {
	s := openTemp(t)
	since := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	auditCount := func(f store.AuditFilter) (string, []any) {
		where, args := auditWhere(f)
		return `SELECT COUNT(*) FROM audit` + where, args
	}
	rateQuery, rateArgs := auditCount(store.AuditFilter{RequesterID: "r", Action: "tap.create", Since: since})
	targetQuery, targetArgs := auditCount(store.AuditFilter{Target: "a@contoso.com"})
	timeQuery, timeArgs := auditCount(store.AuditFilter{Since: since, Until: since.Add(time.Hour)})
	tests := []struct {
		name   string
		query  string
		args   []any
		want   []string // in the plan
		noSort bool
	}{
		{"due", dueQuery, []any{formatTime(since), formatTime(since), 100}, []string{"USING INDEX deliveries_due"}, true},
		{"check", checkQuery, []any{formatTime(since), formatTime(since), 100}, []string{"USING INDEX deliveries_check"}, true},
		{"open", openQuery, []any{"t"}, []string{"USING INDEX deliveries_open"}, true},
		// Rate limits count on every request: from the index alone.
		{"rate limit count", rateQuery, rateArgs, []string{"USING COVERING INDEX audit_requester_action"}, true},
		{"target", targetQuery, targetArgs, []string{"USING INDEX audit_target_id", "USING INDEX audit_target_upn"}, true},
		{"time range", timeQuery, timeArgs, []string{"USING COVERING INDEX audit_at"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			plan := queryPlan(t, s.db, tc.query, tc.args...)
			for _, w := range tc.want {
				if !strings.Contains(plan, w) {
					t.Errorf("query plan:\n%s\nwant it to contain %q", plan, w)
				}
			}
			if tc.noSort && strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("query plan:\n%s\nwant no sort step", plan)
			}
		})
	}
}

func TestTapUseAfterCloseFails(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "tapbot.db"))
	// Prepare a filtered statement, so Close has a cached one to release.
	if _, err := s.CountAudit(t.Context(), store.AuditFilter{RequesterID: "r"}); err != nil {
		t.Fatalf("CountAudit: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := t.Context()
	checks := map[string]error{}
	_, checks["AppendAudit"] = s.AppendAudit(ctx, store.AuditEntry{Action: "tap.create", Outcome: store.OutcomeAllowed})
	_, checks["Audit"] = s.Audit(ctx, store.AuditFilter{})
	_, checks["CountAudit"] = s.CountAudit(ctx, store.AuditFilter{RequesterID: "r"})
	checks["SaveDelivery"] = s.SaveDelivery(ctx, store.Delivery{ID: "d", MethodID: "m", ServiceURL: "s", ConversationID: "c", ActivityID: "a", Expires: time.Now()})
	_, checks["DueDeliveries"] = s.DueDeliveries(ctx, time.Now(), 0)
	_, checks["OpenDeliveries"] = s.OpenDeliveries(ctx, "t")
	_, checks["MarkRedacted"] = s.MarkRedacted(ctx, "d", time.Now(), store.RedactExpired)
	_, checks["Claim"] = s.Claim(ctx, "k", time.Now())
	for name, err := range checks {
		if err == nil || errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s after Close: err = %v, want a store error", name, err)
		}
	}
}

func BenchmarkAppendAudit(b *testing.B) { storetest.BenchmarkAppendAudit(b, openTemp(b)) }

func BenchmarkCountAudit(b *testing.B) {
	s := openTemp(b)
	const (
		rows       = 10000
		requesters = 50
	)
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	actions := []store.Action{store.ActionTAPCreate, store.ActionTAPRevoke, store.ActionTAPRedact, store.ActionOnboardStart}
	for i := range rows {
		if _, err := s.AppendAudit(b.Context(), store.AuditEntry{
			Time: base.Add(time.Duration(i) * time.Minute), RequesterID: fmt.Sprintf("requester-%d", i%requesters),
			TargetID: fmt.Sprintf("target-%d", i%1000), TargetUPN: fmt.Sprintf("User-%d@contoso.com", i%1000),
			Action: actions[i%len(actions)], Outcome: store.OutcomeAllowed,
		}); err != nil {
			b.Fatal(err)
		}
	}
	end := base.Add(rows * time.Minute)
	for _, bc := range []struct {
		name string
		f    func(i int) store.AuditFilter
	}{
		// What a rate limit asks on each request: this requester's TAPs in the last day.
		{"rate limit", func(i int) store.AuditFilter {
			return store.AuditFilter{RequesterID: fmt.Sprintf("requester-%d", i%requesters), Action: "tap.create", Since: end.Add(-24 * time.Hour)}
		}},
		{"target", func(i int) store.AuditFilter {
			return store.AuditFilter{Target: fmt.Sprintf("user-%d@CONTOSO.com", i%1000)}
		}},
		{"all", func(int) store.AuditFilter { return store.AuditFilter{} }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				if _, err := s.CountAudit(b.Context(), bc.f(i)); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
