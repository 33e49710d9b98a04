package main

import (
	"context"
	"fmt"

	"go.uber.org/zap"

	"github.com/tapbot/tapbot/internal/store"
	"github.com/tapbot/tapbot/internal/store/postgres"
	"github.com/tapbot/tapbot/internal/store/sqlite"
)

// backend is the store tapbot runs on, with the counter serve exports as a metric.
type backend interface {
	store.Store
	WriteFailures() uint64
}

// storeUse says who opens the store.
type storeUse int

const (
	// serverUse: `tapbot serve` or `dev`. On SQLite it takes the one-process lock.
	serverUse storeUse = iota
	// besideServerUse: a short command (audit export, doctor --fix) that may run
	// beside a serving tapbot and starts no background work.
	besideServerUse
)

// openStore opens the backend the configuration selects: PostgreSQL when
// TAPBOT_DATABASE_URL is set, else SQLite. exclusive reports whether this process
// is the only one on the store (SQLite opened by the server): only then is an intent
// left open at start certainly abandoned. On PostgreSQL another replica may own it
// and still be working on it, so its lease decides.
func openStore(ctx context.Context, cfg Config, use storeUse, log *zap.Logger) (st backend, exclusive bool, err error) {
	if cfg.DatabaseURL.IsZero() {
		if use == besideServerUse {
			st, err = sqlite.OpenShared(ctx, cfg.DBPath, log)
			return st, false, err
		}
		st, err = sqlite.Open(ctx, cfg.DBPath, log)
		return st, true, err
	}
	pc := postgres.Config{URL: cfg.DatabaseURL.Reveal()}
	if cfg.DatabaseAuth == "entra" {
		// The same identity tapbot uses for Graph; the database has a role for it.
		if pc.Credential, err = newCredential(cfg, cfg.TenantID); err != nil {
			return nil, false, fmt.Errorf("database credential: %w", err)
		}
	}
	st, err = postgres.Open(ctx, pc, log)
	return st, false, err
}

// loadStoreConfig is the configuration CLI commands need to open the store. Only
// Entra login needs tapbot's whole configuration (its credential); otherwise the
// store settings alone are read, so `tapbot audit` works with just those.
func loadStoreConfig(env func(string) string) (Config, error) {
	if lookup(env, "TAPBOT_DATABASE_AUTH") == "entra" {
		return loadConfig(false, env)
	}
	var errs []error
	c := Config{DBPath: lookup(env, "TAPBOT_DB_PATH")}
	c.loadDatabase(func(name string) string { return lookup(env, name) }, false,
		func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) })
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("invalid configuration:\n  - %w", joinLines(errs))
	}
	return c, nil
}
