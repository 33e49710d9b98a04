package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/tapbot/tapbot/internal/secret"
	"github.com/tapbot/tapbot/internal/store"
	"github.com/tapbot/tapbot/internal/store/postgres"
	"github.com/tapbot/tapbot/internal/store/postgres/pgtest"
	"github.com/tapbot/tapbot/internal/store/sqlite"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestDatabaseConfig(t *testing.T) {
	const pg = "postgres://tapbot@db.example:5432/tapbot?sslmode=verify-full"
	tests := []struct {
		name    string
		env     []string
		wantErr []string // all must appear; none means valid
		wantURL bool
	}{
		{name: "SQLite by default", env: nil},
		{name: "PostgreSQL by URL", env: []string{"TAPBOT_DB_PATH", "", "TAPBOT_DATABASE_URL", pg}, wantURL: true},
		{name: "postgresql scheme", env: []string{"TAPBOT_DB_PATH", "", "TAPBOT_DATABASE_URL", "postgresql://tapbot@db/tapbot"}, wantURL: true},
		{name: "Entra login", env: []string{"TAPBOT_DB_PATH", "", "TAPBOT_DATABASE_URL", pg, "TAPBOT_DATABASE_AUTH", "entra"}, wantURL: true},
		{name: "both backends", env: []string{"TAPBOT_DATABASE_URL", pg}, wantErr: []string{"TAPBOT_DB_PATH and TAPBOT_DATABASE_URL are both set"}},
		{name: "not a postgres URL", env: []string{"TAPBOT_DB_PATH", "", "TAPBOT_DATABASE_URL", "mysql://u:hunter2@db/x"},
			wantErr: []string{"postgres:// or postgresql://", `"mysql"`}},
		{name: "unknown auth", env: []string{"TAPBOT_DB_PATH", "", "TAPBOT_DATABASE_URL", pg, "TAPBOT_DATABASE_AUTH", "kerberos"},
			wantErr: []string{"TAPBOT_DATABASE_AUTH", "password or entra"}},
		{name: "entra without a URL", env: []string{"TAPBOT_DATABASE_AUTH", "entra"}, wantErr: []string{"entra needs TAPBOT_DATABASE_URL"}},
		{name: "entra with a password in the URL", env: []string{"TAPBOT_DB_PATH", "", "TAPBOT_DATABASE_URL", "postgres://tapbot:hunter2@db/tapbot", "TAPBOT_DATABASE_AUTH", "entra"},
			wantErr: []string{"remove it from the URL"}},
		{name: "entra without a user", env: []string{"TAPBOT_DB_PATH", "", "TAPBOT_DATABASE_URL", "postgres://db/tapbot", "TAPBOT_DATABASE_AUTH", "entra"},
			wantErr: []string{"needs the user name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(false, serveEnv(append([]string{"MicrosoftAppPassword", "pw"}, tt.env...)...))
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if !c.DatabaseURL.IsZero() != tt.wantURL || (c.DBPath == "") != tt.wantURL {
					t.Errorf("DatabaseURL set %v, DBPath %q; want PostgreSQL %v", !c.DatabaseURL.IsZero(), c.DBPath, tt.wantURL)
				}
				return
			}
			if err == nil {
				t.Fatal("invalid configuration accepted")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q, want it to contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %v, want it without the database password", err)
			}
		})
	}
	if _, err := loadConfig(true, envOf("TAPBOT_DB_PATH", "", "TAPBOT_DATABASE_URL", pg, "TAPBOT_DATABASE_AUTH", "entra")); err == nil ||
		!strings.Contains(err.Error(), "dev mode has no Entra credential") {
		t.Errorf("dev with Entra database login: err = %v, want one saying dev mode has no Entra credential", err)
	}
}

// serve reconciles every open intent at start only when it is alone on the store.
func TestOpenStoreSelectsTheBackend(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "tapbot.db")
	for _, tc := range []struct {
		name          string
		cfg           Config
		use           storeUse
		wantPostgres  bool
		wantExclusive bool
	}{
		{"SQLite for serve", Config{DBPath: path}, serverUse, false, true},
		{"SQLite beside serve", Config{DBPath: path}, besideServerUse, false, false},
		{"PostgreSQL", Config{DatabaseURL: secret.String(pgtest.NewDatabase(t)), DatabaseAuth: "password"}, serverUse, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, exclusive, err := openStore(ctx, tc.cfg, tc.use, zap.NewNop())
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			_, isPG := st.(*postgres.Store)
			if isPG != tc.wantPostgres || exclusive != tc.wantExclusive {
				t.Errorf("postgres %v, exclusive %v; want %v, %v", isPG, exclusive, tc.wantPostgres, tc.wantExclusive)
			}
			if err := st.Ping(ctx); err != nil {
				t.Errorf("Ping: %v", err)
			}
		})
	}
}

func TestAuditExportFromPostgres(t *testing.T) {
	url := pgtest.NewDatabase(t)
	st, err := postgres.Open(t.Context(), postgres.Config{URL: url}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AppendAudit(t.Context(), store.AuditEntry{Time: time.Now(), Action: "tap.create", Outcome: "allowed", TargetUPN: "nina@contoso.com"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	var out, errOut bytes.Buffer
	if code := run([]string{"audit", "--format", "json"}, envOf("TAPBOT_DB_PATH", "", "TAPBOT_DATABASE_URL", url), &out, &errOut); code != 0 {
		t.Fatalf("audit --format json: exit code %d, want 0; stderr: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), `"target_upn":"nina@contoso.com"`) {
		t.Errorf("audit export from PostgreSQL: %s\nwant a row with target_upn nina@contoso.com", out.String())
	}
}

func TestStoreCopyCommand(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tapbot.db")
	src, err := sqlite.Open(context.Background(), path, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := src.AppendAudit(context.Background(), store.AuditEntry{Action: "tap.create", Outcome: "allowed", Ticket: string(rune('a' + i))}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := src.Claim(context.Background(), "card:1", time.Time{}); err != nil {
		t.Fatal(err)
	}
	src.Close()
	url := pgtest.NewDatabase(t)
	env := envOf("TAPBOT_DB_PATH", "")
	args := []string{"store", "copy", "--from", "sqlite:" + path, "--to", url}

	var out, errOut bytes.Buffer
	if code := run(args, env, &out, &errOut); code != 0 {
		t.Fatalf("store copy: exit code %d, want 0; stderr: %s", code, errOut.String())
	}
	for _, want := range []string{"audit                           3 rows", "claims                          1 rows", "tap_confirmations               0 rows", "audit ids 1-3, chain sha256:", "verified"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary:\n%s\nwant it to contain %q", out.String(), want)
		}
	}
	out.Reset()
	errOut.Reset()
	if code := run(args, env, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "not empty") {
		t.Errorf("second copy into the same database: code %d, %s; want 1 and a refusal", code, errOut.String())
	}
	for _, bad := range [][]string{
		{"store"},
		{"store", "copy", "--to", url},
		{"store", "copy", "--from", path, "--to", url}, // no sqlite: prefix
		{"store", "copy", "--from", "sqlite:" + path, "--to", "mysql://db/x"},
	} {
		if code := run(bad, env, &out, &errOut); code != 2 {
			t.Errorf("%v: code %d, want 2", bad, code)
		}
	}
}
