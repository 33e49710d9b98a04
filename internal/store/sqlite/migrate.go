package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/tapbot/tapbot/internal/store/migrations"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrate brings the schema up to the last of ms, which must be sorted by version.
func migrate(ctx context.Context, db *sql.DB, ms []migrations.File, now func() time.Time, log *zap.Logger) error {
	if err := createVersionTable(ctx, db); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	// Running against a schema we do not understand could corrupt data a newer
	// tapbot wrote, so refuse rather than guess.
	if latest := ms[len(ms)-1].Version; current > latest {
		return fmt.Errorf("database schema version %d is newer than this tapbot (max %d); upgrade tapbot", current, latest)
	}
	for _, m := range ms {
		applied, err := applyMigration(ctx, db, m, now)
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if applied {
			log.Info("applied database migration", zap.Int("version", m.Version), zap.String("name", m.Name))
		}
	}
	return nil
}

// createVersionTable creates schema_migrations in an immediate transaction. In
// autocommit, CREATE TABLE IF NOT EXISTS reads the schema, then upgrades to a write;
// if another process wrote meanwhile (migrating the same new file) the upgrade fails
// with SQLITE_BUSY at once, without waiting for busy_timeout. BEGIN IMMEDIATE takes
// the write lock first, and waits for it.
func createVersionTable(ctx context.Context, db *sql.DB) error {
	tx, err := db.BeginTx(ctx, nil) // BEGIN IMMEDIATE, by the DSN
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT NOT NULL
	)`); err != nil {
		return err
	}
	return tx.Commit()
}

// applyMigration runs m in its own transaction, so a failing migration leaves the
// schema at the previous version instead of half-applied. It reports false if m
// was already applied, by an earlier run or by another process starting alongside.
func applyMigration(ctx context.Context, db *sql.DB, m migrations.File, now func() time.Time) (bool, error) {
	// The DSN makes this BEGIN IMMEDIATE, so two tapbots starting on one file
	// queue here and the second sees the first's row below.
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	// Only an early return needs this; after Commit it is a no-op (ErrTxDone).
	defer func() { _ = tx.Rollback() }()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.Version, formatTime(now())); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
