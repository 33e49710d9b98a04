package sqlite

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tapbot/tapbot/internal/store"
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

func knownMigrations(t *testing.T) []migration {
	t.Helper()
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	return ms
}

func TestEmbeddedMigrationsAreNumberedFromOneWithoutGaps(t *testing.T) {
	for i, m := range knownMigrations(t) {
		if m.version != i+1 {
			t.Errorf("migration %d is %s (version %d), want version %d", i, m.name, m.version, i+1)
		}
	}
}

func TestLoadMigrations(t *testing.T) {
	file := func(sql string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(sql)} }
	tests := []struct {
		name    string
		files   fstest.MapFS
		want    []int  // versions, in order
		wantErr string // substring; "" means success
	}{
		{
			name: "ordered by version, other files ignored",
			files: fstest.MapFS{
				"m/0010_ten.sql": file("ten"),
				"m/0002_two.sql": file("two"),
				"m/0001_one.sql": file("one"),
				"m/README.md":    file("not sql"),
			},
			want: []int{1, 2, 10},
		},
		{name: "no prefix", files: fstest.MapFS{"m/one.sql": file("")}, wantErr: `"one.sql": name must be`},
		{name: "short prefix", files: fstest.MapFS{"m/1_one.sql": file("")}, wantErr: `"1_one.sql": name must be`},
		{name: "non-numeric prefix", files: fstest.MapFS{"m/abcd_x.sql": file("")}, wantErr: `"abcd_x.sql": name must be`},
		{name: "version zero", files: fstest.MapFS{"m/0000_x.sql": file("")}, wantErr: `"0000_x.sql": name must be`},
		{
			name:    "duplicate version",
			files:   fstest.MapFS{"m/0001_a.sql": file(""), "m/0001_b.sql": file("")},
			wantErr: `"0001_b.sql": version 1 already used by "0001_a.sql"`,
		},
		{name: "none", files: fstest.MapFS{"m/README.md": file("")}, wantErr: "no migrations found"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ms, err := loadMigrations(tc.files, "m")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("loadMigrations: err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("loadMigrations: %v", err)
			}
			var got []int
			for _, m := range ms {
				got = append(got, m.version)
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("versions = %v, want %v", got, tc.want)
			}
			if ms[0].sql != "one" {
				t.Errorf("first migration's sql = %q, want %q", ms[0].sql, "one")
			}
		})
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

func TestConcurrentOpensApplyEachMigrationOnce(t *testing.T) {
	// Several tapbots (here: several pools) starting at once on a new file.
	const openers = 8
	path := filepath.Join(t.TempDir(), "tapbot.db")
	core, logs := observer.New(zap.InfoLevel)
	stores := make([]*Store, openers)
	var wg sync.WaitGroup
	for i := range openers {
		wg.Go(func() {
			s, err := Open(t.Context(), path, zap.New(core))
			if err != nil {
				t.Errorf("Open %d: %v", i, err)
				return
			}
			stores[i] = s
		})
	}
	wg.Wait()
	for _, s := range stores {
		if s != nil {
			t.Cleanup(func() { _ = s.Close() })
		}
	}
	if t.Failed() {
		return
	}
	want := len(knownMigrations(t))
	if n := logs.FilterMessage("applied database migration").Len(); n != want {
		t.Errorf("migrations applied %d times in all, want %d", n, want)
	}
	if got := appliedMigrations(t, stores[0].db); len(got) != want {
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
	want := fmt.Sprintf("database schema version 9999 is newer than this tapbot (max %d); upgrade tapbot", ms[len(ms)-1].version)
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
	ok := []migration{
		{version: 1, name: "0001_a.sql", sql: `CREATE TABLE a (x INTEGER)`},
		// Needs 1 to have run first.
		{version: 2, name: "0002_b.sql", sql: `CREATE TABLE b (x INTEGER); INSERT INTO a VALUES (2)`},
	}
	broken := []migration{ok[0], {version: 2, name: "0002_b.sql", sql: `CREATE TABLE b (x INTEGER); INSERT INTO missing VALUES (1)`}}

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
				t.Errorf("%q is empty; the database went elsewhere", path)
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
	s := openTemp(t)
	now := time.Date(2024, 3, 4, 5, 6, 7, 800000000, time.FixedZone("+01", 3600))
	s.now = func() time.Time { return now }

	if err := s.SaveReference(t.Context(), store.Reference{ConversationID: "a:1", Scope: store.ScopePersonal}); err != nil {
		t.Fatalf("SaveReference: %v", err)
	}
	var text string
	if err := s.db.QueryRowContext(t.Context(), `SELECT updated_at FROM conversation_references`).Scan(&text); err != nil {
		t.Fatalf("read updated_at: %v", err)
	}
	// UTC, and the fraction not trimmed, so that text order is time order.
	if want := "2024-03-04T04:06:07.800000000Z"; text != want {
		t.Errorf("stored updated_at = %q, want %q", text, want)
	}
	got, err := s.Reference(t.Context(), "a:1")
	if err != nil {
		t.Fatalf("Reference: %v", err)
	}
	if !got.UpdatedAt.Equal(now) || got.UpdatedAt.Location() != time.UTC {
		t.Errorf("UpdatedAt = %v, want %v in UTC", got.UpdatedAt, now.UTC())
	}
}

func TestPersonalReferenceUsesIndex(t *testing.T) {
	s := openTemp(t)
	rows, err := s.db.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+personalQuery, "t", "u", string(store.ScopePersonal))
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
	joined := strings.Join(plan, "\n")
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
