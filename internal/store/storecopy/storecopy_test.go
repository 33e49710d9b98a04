package storecopy_test

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.uber.org/zap"

	"github.com/tapbot/tapbot/internal/store"
	"github.com/tapbot/tapbot/internal/store/postgres"
	"github.com/tapbot/tapbot/internal/store/postgres/pgtest"
	"github.com/tapbot/tapbot/internal/store/sqlite"
	"github.com/tapbot/tapbot/internal/store/storecopy"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 891234567, time.UTC)

// populate writes rows of every kind through the Store interface, in the states a
// running installation has them: redacted and open deliveries, a leased job, a
// done checklist, created and done intents, a decided and a pending confirmation.
func populate(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(s.SaveReference(ctx, store.Reference{ConversationID: "a:1", Scope: store.ScopePersonal, TenantID: "t", UserAADObjectID: "u", Raw: []byte("{\x00}"), UpdatedAt: t0}))
	must(s.SaveReference(ctx, store.Reference{ConversationID: "19:c", Scope: store.ScopeChannel, TenantID: "t", TeamID: "19:team", UpdatedAt: t0}))
	for i := range 1234 { // more than one import batch
		_, err := s.AppendAudit(ctx, store.AuditEntry{Time: t0.Add(time.Duration(i) * time.Second), Action: "tap.create", Outcome: "allowed",
			RequesterID: "r", TargetUPN: "nina@contoso.com", Ticket: "INC-é", Expires: t0.Add(time.Hour)})
		must(err)
	}
	d := store.Delivery{ID: "d1", TargetID: "T1", MethodID: "m1", ServiceURL: "https://smba/", ConversationID: "a:1", ActivityID: "1:1", Expires: t0.Add(time.Hour)}
	must(s.SaveDelivery(ctx, d))
	d.ID, d.MethodID = "d2", "m2"
	must(s.SaveDelivery(ctx, d))
	if _, err := s.MarkRedacted(ctx, "d2", t0, "revoked"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(ctx, "card:1", t0); err != nil {
		t.Fatal(err)
	}
	must(s.CreateOnboard(ctx, store.OnboardRequest{ID: "o1", State: store.OnboardSubmitted, RequesterID: "m", Form: []byte(`{"upn":"x"}`), StartDate: t0, CreatedAt: t0}))
	if _, err := s.UpdateOnboard(ctx, store.OnboardRequest{ID: "o1", State: store.OnboardApproved, RequesterID: "m", DeciderID: "a", Version: 1}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"j1", "j2"} {
		if _, err := s.ScheduleJob(ctx, store.Job{ID: id, Kind: "onboard.startday", DueAt: t0}); err != nil {
			t.Fatal(err)
		}
	}
	if js, err := s.ClaimJobs(ctx, t0, time.Hour, 1); err != nil || len(js) != 1 {
		t.Fatalf("ClaimJobs = %v, %v", js, err)
	}
	must(s.CreateChecklist(ctx, store.Checklist{UserID: "hire", ManagerID: "m", Progress: []byte(`{}`), StartedAt: t0}))
	if _, err := s.UpdateChecklist(ctx, store.Checklist{UserID: "hire", ManagerID: "m", DoneAt: t0, Version: 1}); err != nil {
		t.Fatal(err)
	}
	must(s.BeginTAP(ctx, store.TAPIntent{ID: "i1", TargetID: "T1", RequesterID: "r", LeaseUntil: t0.Add(time.Minute), StartedAt: t0}, store.TAPLimits{}))
	must(s.TAPCreated(ctx, "i1", "m1", t0))
	must(s.CompleteTAP(ctx, "i1", store.Delivery{ID: "d3", TargetID: "T1", MethodID: "m1", ServiceURL: "https://smba/", ConversationID: "a:1", ActivityID: "1:3", Expires: t0.Add(time.Hour)}, t0))
	must(s.BeginTAP(ctx, store.TAPIntent{ID: "i2", TargetID: "T2", RequesterID: "r", LeaseUntil: t0.Add(time.Minute), StartedAt: t0}, store.TAPLimits{}))
	for _, id := range []string{"c1", "c2"} {
		must(s.CreateConfirmation(ctx, store.TAPConfirmation{ID: id, RequestID: "req-" + id, TenantID: "t", RequesterID: "r", TargetID: "T3",
			TargetUPN: "olga@contoso.com", Path: store.PathManager, ConfirmerID: "m", LifetimeMinutes: 60, Once: true, Reason: "INC-é",
			State: store.ConfirmPending, CreatedAt: t0, ExpiresAt: t0.Add(15 * time.Minute), RequesterName: "Röza", Start: t0.Add(time.Hour)}))
		if _, err := s.RecordConfirmationCards(ctx, id, store.CardRef{ServiceURL: "https://smba/", ConversationID: "a:m", ActivityID: "1:q" + id},
			store.CardRef{ServiceURL: "https://smba/", ConversationID: "a:r", ActivityID: "1:w" + id}); err != nil {
			t.Fatal(err)
		}
		if id == "c1" { // one question per target at a time: decide the first
			if _, err := s.DecideConfirmation(ctx, id, store.ConfirmDenied, "m", t0.Add(time.Minute)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func openSQLite(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "tapbot.db"), zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func openPostgres(t *testing.T) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), postgres.Config{URL: pgtest.NewDatabase(t)}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestCopySQLiteToPostgres(t *testing.T) {
	from, to := openSQLite(t), openPostgres(t)
	populate(t, from)

	sum, err := storecopy.Copy(t.Context(), from, to)
	if err != nil {
		t.Fatalf("Copy: %v", err)
	}
	want := map[string]int64{"conversation_references": 2, "audit": 1234, "deliveries": 3, "claims": 1,
		"onboard_requests": 1, "jobs": 2, "checklists": 1, "tap_intents": 2, "tap_confirmations": 2}
	for table, n := range want {
		if sum.Counts[table] != n {
			t.Errorf("%s: %d rows copied, want %d", table, sum.Counts[table], n)
		}
	}
	// populate must fill every table the copy carries, or a table Export skips
	// would pass unnoticed.
	if tables := slices.Sorted(maps.Keys(want)); !slices.Equal(tables, slices.Sorted(slices.Values(store.Tables))) {
		t.Errorf("this test checks the tables %v, want store.Tables %v", tables, slices.Sorted(slices.Values(store.Tables)))
	}
	if sum.AuditFirst != 1 || sum.AuditLast != 1234 || len(sum.AuditChain) != 64 {
		t.Errorf("audit summary = ids %d-%d, chain %q; want ids 1-1234 and a SHA-256 in hex", sum.AuditFirst, sum.AuditLast, sum.AuditChain)
	}

	ctx := t.Context()
	// The audit log reads the same, ids included.
	a, _ := from.Audit(ctx, store.AuditFilter{Limit: store.MaxLimit})
	b, err := to.Audit(ctx, store.AuditFilter{Limit: store.MaxLimit})
	if err != nil || len(a) != len(b) || a[0].ID != b[0].ID || a[0].Ticket != b[0].Ticket || !a[0].Time.Truncate(time.Microsecond).Equal(b[0].Time) {
		t.Errorf("audit after the copy: %d rows (%v), first %+v, want %d rows, first %+v", len(b), err, b[0], len(a), a[0])
	}
	// New audit ids continue after the copied ones.
	if id, err := to.AppendAudit(ctx, store.AuditEntry{Action: "tap.create", Outcome: "allowed"}); err != nil || id != 1235 {
		t.Errorf("AppendAudit after the copy = %d, %v; want id 1235", id, err)
	}
	// What the Store interface does not show came along too: the pass created at
	// t0 makes a stale request for T1 ErrTargetChanged; i2 still holds T2; the
	// leased job is not claimable before its lease ends, the other is.
	err = to.BeginTAP(ctx, store.TAPIntent{ID: "i3", TargetID: "T1", RequesterID: "r", LeaseUntil: t0.Add(time.Hour)}, store.TAPLimits{ChangedSince: t0.Add(-time.Second)})
	if !errors.Is(err, store.ErrTargetChanged) {
		t.Errorf("BeginTAP after the copy with a stale view: %v, want ErrTargetChanged", err)
	}
	err = to.BeginTAP(ctx, store.TAPIntent{ID: "i4", TargetID: "T2", RequesterID: "r", LeaseUntil: t0.Add(time.Hour)}, store.TAPLimits{})
	if !errors.Is(err, store.ErrTargetBusy) {
		t.Errorf("BeginTAP for a target with an open copied intent: %v, want ErrTargetBusy", err)
	}
	js, err := to.ClaimJobs(ctx, t0.Add(time.Minute), time.Hour, 10)
	if err != nil || len(js) != 1 || js[0].ID != "j2" {
		t.Errorf("ClaimJobs after the copy = %+v, %v; want only j2 (j1's lease runs)", js, err)
	}
	if ds, _ := to.OpenDeliveries(ctx, "T1"); !slices.Equal(deliveryIDs(ds), []string{"d1", "d3"}) {
		t.Errorf("open deliveries after the copy = %v, want d1 d3 (d2 was redacted)", deliveryIDs(ds))
	}
	if c, err := to.Checklist(ctx, "hire"); err != nil || !c.DoneAt.Equal(t0.Truncate(time.Microsecond)) || c.Version != 2 {
		t.Errorf("checklist after the copy = %+v, %v", c, err)
	}
	if r, err := to.Reference(ctx, "a:1"); err != nil || string(r.Raw) != "{\x00}" {
		t.Errorf("reference after the copy = %+v, %v; want Raw %q", r, err, "{\x00}")
	}
	// The confirmations came along whole, decided or pending: the pending one
	// still holds its target, and the expiry sweep finds it.
	for _, id := range []string{"c1", "c2"} {
		a, err1 := from.Confirmation(ctx, id)
		b, err2 := to.Confirmation(ctx, id)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatalf("Confirmation(%q) after the copy: %v", id, err)
		}
		a.CreatedAt, a.ExpiresAt, a.DecidedAt = a.CreatedAt.Truncate(time.Microsecond), a.ExpiresAt.Truncate(time.Microsecond), a.DecidedAt.Truncate(time.Microsecond)
		a.Start = a.Start.Truncate(time.Microsecond)
		if b != a {
			t.Errorf("Confirmation(%q) after the copy = %+v, want %+v", id, b, a)
		}
	}
	err = to.CreateConfirmation(ctx, store.TAPConfirmation{ID: "c3", RequesterID: "r", TargetID: "T3", Path: store.PathTarget,
		State: store.ConfirmPending, ExpiresAt: t0.Add(time.Hour)})
	if !errors.Is(err, store.ErrConfirmationPending) {
		t.Errorf("CreateConfirmation for a target with a copied pending one: %v, want ErrConfirmationPending", err)
	}
	if cs, err := to.DueConfirmations(ctx, t0.Add(time.Hour), 10); err != nil || len(cs) != 1 || cs[0].ID != "c2" {
		t.Errorf("DueConfirmations after the copy = %+v, %v; want only c2", cs, err)
	}
}

// notCopied are the tables of a backend's schema that a copy leaves out, and why.
// Every other table must be one of store.Tables, which Export, Import, Counts and
// Copy carry.
var notCopied = map[string]string{
	"schema_migrations": "migration bookkeeping: the target's own migrations wrote it when it was opened",
	"health":            "the readiness probe's one row, rewritten by every Ping: no state",
}

// TestEveryTableIsCopied reads each backend's tables from its catalog, so that a
// table a new migration adds is either copied or listed in notCopied with why.
func TestEveryTableIsCopied(t *testing.T) {
	for backend, schema := range map[string]map[string][]string{"sqlite": sqliteTables(t), "postgres": postgresTables(t)} {
		tables := slices.Sorted(maps.Keys(schema))
		for _, table := range tables {
			if !slices.Contains(store.Tables, table) && notCopied[table] == "" {
				t.Errorf("%s schema has table %s, want it in store.Tables (copied) or in notCopied (with why not)", backend, table)
			}
		}
		for _, table := range store.Tables {
			if !slices.Contains(tables, table) {
				t.Errorf("%s schema tables = %v, want %s (in store.Tables) among them", backend, tables, table)
			}
		}
		// Every column of a copied table is one its record maps (store.…Columns), so
		// a column added by a migration but not to its record cannot be left behind.
		for _, ct := range store.CopiedTables {
			var mapped []string
			for _, c := range strings.Split(ct.Columns, ",") {
				mapped = append(mapped, strings.TrimSpace(c))
			}
			slices.Sort(mapped)
			if got := slices.Sorted(slices.Values(schema[ct.Name])); !slices.Equal(got, mapped) {
				t.Errorf("%s table %s has columns %v, want %v (its record's columns)", backend, ct.Name, got, mapped)
			}
		}
	}
}

// sqliteTables are the tables of a new SQLite store with their columns, from
// sqlite_schema and table_info.
func sqliteTables(t *testing.T) map[string][]string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tapbot.db")
	s, err := sqlite.Open(t.Context(), path, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path) // the driver sqlite registers
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(t.Context(), `SELECT m.name, c.name FROM sqlite_schema m, pragma_table_info(m.name) c
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	tables := map[string][]string{}
	for rows.Next() {
		var table, column string
		if err := rows.Scan(&table, &column); err != nil {
			t.Fatal(err)
		}
		tables[table] = append(tables[table], column)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return tables
}

// postgresTables are the tables of a new PostgreSQL store with their columns, from
// information_schema.
func postgresTables(t *testing.T) map[string][]string {
	t.Helper()
	url := pgtest.NewDatabase(t)
	s, err := postgres.Open(t.Context(), postgres.Config{URL: url}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(t.Context()))
	rows, err := conn.Query(t.Context(), `SELECT table_name::text, column_name::text FROM information_schema.columns
		WHERE table_schema = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string][]string{}
	var table, column string
	if _, err := pgx.ForEachRow(rows, []any{&table, &column}, func() error {
		tables[table] = append(tables[table], column)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return tables
}

func TestCopyRefusesANonEmptyTarget(t *testing.T) {
	from, to := openSQLite(t), openPostgres(t)
	populate(t, from)
	if _, err := to.Claim(t.Context(), "already-here", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := storecopy.Copy(t.Context(), from, to); !errors.Is(err, postgres.ErrNotEmpty) {
		t.Fatalf("Copy into a non-empty database: %v, want ErrNotEmpty", err)
	}
	n, _ := to.Counts(t.Context())
	if n["audit"] != 0 || n["claims"] != 1 {
		t.Errorf("after the refused copy the target holds %v, want only its own claim", n)
	}
}

func deliveryIDs(ds []store.Delivery) []string {
	var ids []string
	for _, d := range ds {
		ids = append(ids, d.ID)
	}
	return ids
}

// A copy whose audit log reads back differently (a row changed on the way) fails
// the check, even with every count right.
func TestCopyDetectsAChangedAuditRow(t *testing.T) {
	from, to := openSQLite(t), openPostgres(t)
	populate(t, from)
	_, err := storecopy.Copy(t.Context(), from, tampered{to})
	if err == nil || !strings.Contains(err.Error(), "audit log differs") {
		t.Fatalf("Copy with an altered audit row: %v, want the audit check to fail", err)
	}
}

// tampered reads audit row 7 back with another ticket.
type tampered struct{ *postgres.Store }

func (s tampered) Export(ctx context.Context, to store.Rows) error {
	return s.Store.Export(ctx, alter{to})
}

type alter struct{ store.Rows }

func (a alter) Audit(e store.AuditEntry) error {
	if e.ID == 7 {
		e.Ticket += "!"
	}
	return a.Rows.Audit(e)
}
