package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"

	"go.uber.org/zap"

	"github.com/tapbot/tapbot/internal/store"
	"github.com/tapbot/tapbot/internal/store/sqlite"
	"github.com/tapbot/tapbot/internal/store/storecopy"
)

const storeUsage = `usage: tapbot store copy --from sqlite:PATH --to postgres://user@host:5432/tapbot

Copies every table of a SQLite database into an empty PostgreSQL database and
verifies the copy (rows per table, the audit log id for id). Stop tapbot first:
the copy takes SQLite's one-process lock. TAPBOT_DATABASE_AUTH=entra logs in to
PostgreSQL with tapbot's Entra credential, as serve does.
`

// storeCmd runs `tapbot store …`; copy is its one verb.
func storeCmd(args []string, env func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] != "copy" {
		fmt.Fprint(stderr, storeUsage)
		return 2
	}
	fs := flag.NewFlagSet("store copy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "sqlite:PATH of the database to copy")
	to := fs.String("to", "", "postgres:// URL of the empty database to copy into")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	path, ok := strings.CutPrefix(*from, "sqlite:")
	if fs.NArg() > 0 || !ok || path == "" || *to == "" {
		fmt.Fprint(stderr, storeUsage)
		return 2
	}
	// The target is configured as serve would be with TAPBOT_DATABASE_URL set to
	// it, so the same checks apply (and Entra login works the same).
	cfg, err := loadStoreConfig(overlay(env, "TAPBOT_DATABASE_URL", *to, "TAPBOT_DB_PATH", ""))
	if err != nil {
		fmt.Fprintf(stderr, "tapbot store copy: --to: %v\n", err)
		return 2
	}
	ctx := context.Background()
	src, err := sqlite.Open(ctx, path, zap.NewNop())
	if err != nil {
		fmt.Fprintf(stderr, "tapbot store copy: source: %v\n", err)
		return 1
	}
	defer src.Close()
	dst, _, err := openStore(ctx, cfg, besideServerUse, zap.NewNop())
	if err != nil {
		fmt.Fprintf(stderr, "tapbot store copy: target: %v\n", err)
		return 1
	}
	defer dst.Close()
	target, ok := dst.(storecopy.Target)
	if !ok { // unreachable: TAPBOT_DATABASE_URL selects PostgreSQL
		fmt.Fprintln(stderr, "tapbot store copy: the target backend cannot import")
		return 1
	}
	sum, err := storecopy.Copy(ctx, src, target)
	if err != nil {
		fmt.Fprintf(stderr, "tapbot store copy: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "copied sqlite:%s to %s\n", path, redactedURL(*to))
	for _, table := range store.Tables {
		fmt.Fprintf(stdout, "  %-24s %8d rows\n", table, sum.Counts[table])
	}
	if sum.AuditLast > 0 {
		fmt.Fprintf(stdout, "  audit ids %d-%d, chain sha256:%s\n", sum.AuditFirst, sum.AuditLast, sum.AuditChain)
	}
	fmt.Fprintln(stdout, "verified: the same rows per table, and the same audit log id for id.")
	fmt.Fprintln(stdout, "Next: set TAPBOT_DATABASE_URL for every replica, unset TAPBOT_DB_PATH, and keep the SQLite file as a backup.")
	return 0
}

// overlay is env with some variables set (an empty value unsets one).
func overlay(env func(string) string, kv ...string) func(string) string {
	return func(name string) string {
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i] == name {
				return kv[i+1]
			}
		}
		return env(name)
	}
}

// redactedURL shows where a connection URL points without its password.
func redactedURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "the database"
	}
	return u.Redacted()
}
