package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"

	"github.com/tapbot/tapbot/internal/store/migrations"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the pg_advisory_lock key that serialises migrations: replicas
// starting at once queue on it, and each one after the first finds the schema up
// to date. ("tapmigra" in ASCII, so that it is recognisable in pg_locks.)
const migrationLock int64 = 0x7461706d69677261

// migrate brings the schema up to the last embedded migration and returns its
// version. It holds the session-level advisory lock migrationLock on one connection
// throughout, so two processes never run the same migration.
func migrate(ctx context.Context, pool *pgxpool.Pool, log *zap.Logger) (int, error) {
	ms, err := migrations.Load(migrationFiles, "migrations")
	if err != nil {
		return 0, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return 0, fmt.Errorf("take the migration lock: %w", err)
	}
	defer func() {
		// A session lock outlives a failed transaction; release it even if ctx
		// ended, or the connection would go back to the pool still holding it.
		if _, err := conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock); err != nil {
			conn.Conn().Close(context.WithoutCancel(ctx)) // closing the session releases it too
		}
	}()
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    integer PRIMARY KEY,
		applied_at timestamptz NOT NULL DEFAULT now()
	)`); err != nil {
		return 0, fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := conn.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	// Running against a schema we do not understand could corrupt data a newer
	// tapbot wrote, so refuse rather than guess.
	latest := ms[len(ms)-1].Version
	if current > latest {
		return 0, fmt.Errorf("database schema version %d is newer than this tapbot (max %d); upgrade tapbot", current, latest)
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		// Each migration in its own transaction: one that fails leaves the schema
		// at the previous version, not half-applied.
		if err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.Version)
			return err
		}); err != nil {
			return 0, fmt.Errorf("migration %s: %w", m.Name, err)
		}
		log.Info("applied database migration", zap.Int("version", m.Version), zap.String("name", m.Name))
	}
	return latest, nil
}
