// Package postgres is the store.Store backend for several tapbot replicas on one
// PostgreSQL database (jackc/pgx, pooled). Whatever must happen once across
// replicas is decided in the database: per-target TAP claims under advisory locks
// and a unique index, INSERT … ON CONFLICT DO NOTHING claims, compare-and-set
// updates under row locks, and job leases taken with FOR UPDATE SKIP LOCKED.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/zap"

	"github.com/tapbot/tapbot/internal/store"
)

var _ store.Store = (*Store)(nil)

// Config says which database to use and how to log in.
type Config struct {
	// URL is a libpq connection URL or keyword/value string (postgres://user@host/db?sslmode=verify-full).
	URL string
	// Credential, when set, supplies the password of every new connection: a
	// Microsoft Entra access token for Azure Database for PostgreSQL (see entra.go).
	// When nil, the URL's password (or PGPASSWORD, or ~/.pgpass) is used.
	Credential azcore.TokenCredential
	// MaxConns bounds the pool; 0 means pgx's default (4, or the number of CPUs if
	// more). Every replica has its own pool: keep replicas × MaxConns under the
	// server's max_connections.
	MaxConns int32
}

// Store is a store.Store on a PostgreSQL database. It is safe for concurrent use,
// also by several processes on one database.
type Store struct {
	pool *pgxpool.Pool
	log  *zap.Logger
	now  func() time.Time

	writeFailures store.WriteFailures
}

// Open connects to the database and migrates its schema to the version this binary
// knows, under an advisory lock so that replicas starting together migrate once. It
// fails if the schema is newer than that.
func Open(ctx context.Context, cfg Config, log *zap.Logger) (*Store, error) {
	if log == nil {
		log = zap.NewNop()
	}
	pc, err := pgxpool.ParseConfig(cfg.URL)
	if err != nil {
		// pgx's parse errors quote the connection string, password included.
		return nil, errors.New("store: open postgres: the database URL does not parse (check TAPBOT_DATABASE_URL)")
	}
	if cfg.MaxConns > 0 {
		pc.MaxConns = cfg.MaxConns
	}
	if cfg.Credential != nil {
		pc.BeforeConnect = newEntraPassword(cfg.Credential, time.Now).beforeConnect
	}
	where := fmt.Sprintf("%s:%d/%s", pc.ConnConfig.Host, pc.ConnConfig.Port, pc.ConnConfig.Database)
	pool, err := pgxpool.NewWithConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres %s: %w", where, err)
	}
	s := &Store{pool: pool, log: log, now: time.Now}
	version, err := migrate(ctx, pool, log)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("store: open postgres %s: %w", where, err)
	}
	log.Info("store opened", zap.String("backend", "postgres"), zap.String("database", where), zap.Int("schema_version", version))
	return s, nil
}

// saveQuery inserts a reference or overwrites the one with its conversation id.
var saveQuery = `INSERT INTO conversation_references (` + store.ReferenceColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
	ON CONFLICT (conversation_id) DO UPDATE SET ` + store.SetExcluded(store.ReferenceColumns, "conversation_id")

const (
	getQuery = `SELECT ` + store.ReferenceColumns + ` FROM conversation_references WHERE conversation_id = $1`

	personalQuery = `SELECT ` + store.ReferenceColumns + `
		FROM conversation_references
		WHERE tenant_id = $1 AND user_aad_object_id = $2 AND scope = $3
		ORDER BY updated_at DESC
		LIMIT 1`
)

// SaveReference inserts r or replaces the stored reference with its conversation id.
func (s *Store) SaveReference(ctx context.Context, r store.Reference) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = s.now()
	}
	if _, err := s.pool.Exec(ctx, saveQuery, r.Fields(times{})...); err != nil {
		s.writeFailed("reference", err)
		return fmt.Errorf("store: save reference %q: %w", r.ConversationID, err)
	}
	return nil
}

// Reference returns the reference stored for conversationID, or an error wrapping
// store.ErrNotFound.
func (s *Store) Reference(ctx context.Context, conversationID string) (store.Reference, error) {
	return one[store.Reference](ctx, s.pool, fmt.Sprintf("reference %q", conversationID), getQuery, conversationID)
}

// PersonalReference returns the most recently updated personal reference of the
// user in the tenant, or an error wrapping store.ErrNotFound.
func (s *Store) PersonalReference(ctx context.Context, tenantID, userAADObjectID string) (store.Reference, error) {
	what := fmt.Sprintf("personal reference for user %q in tenant %q", userAADObjectID, tenantID)
	// A reference saved without ids must not be handed out for "no user".
	if tenantID == "" || userAADObjectID == "" {
		return store.Reference{}, fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return one[store.Reference](ctx, s.pool, what, personalQuery, tenantID, userAADObjectID, string(store.ScopePersonal))
}

// Ping checks that the database answers and takes a write, for /readyz: a replica
// connected to a read-only standby (after a failover, say) or to a full disk is not
// ready.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	if err := s.pool.QueryRow(ctx, `SELECT 1`).Scan(&one); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	if _, err := s.pool.Exec(ctx, probeQuery, s.now()); err != nil {
		s.writeFailed("health probe", err)
		return fmt.Errorf("store: ping: write probe: %w", err)
	}
	return nil
}

// probeQuery is Ping's write: one row, rewritten each time.
const probeQuery = `INSERT INTO health (id, probed_at) VALUES (1, $1)
	ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at`

// WriteFailures is how many writes have failed since Open (for metrics).
func (s *Store) WriteFailures() uint64 { return s.writeFailures.Count() }

// writeFailed counts a failed write and logs it, unless one was logged lately. A
// write abandoned because its caller gave up (a cancelled request, shutdown) says
// nothing about the database, so it is not counted.
func (s *Store) writeFailed(what string, err error) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return
	}
	if n, log := s.writeFailures.Add(); log {
		s.log.Error("store write failed", zap.String("write", what), zap.Uint64("failures_so_far", n), zap.Error(err))
	}
}

// Close closes the pool, waiting for the connections in use to be released.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// storable reports whether s can be a text parameter at all: PostgreSQL's text
// takes neither NUL nor invalid UTF-8, and rejects the whole query for one. A
// look-up by such a key finds nothing rather than failing (nothing with that key
// can have been stored).
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}
