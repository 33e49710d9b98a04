// Package sqlite is the embedded store.Store backend: a single SQLite file opened
// with the pure-Go modernc.org/sqlite driver, so tapbot builds without cgo.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"go.uber.org/zap"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/tapbot/tapbot/internal/store"
	"github.com/tapbot/tapbot/internal/store/migrations"
)

var _ store.Store = (*Store)(nil)

// maxConns bounds the pool: every SQLite connection carries its own page cache and
// prepared statements, and writes serialise on the file lock anyway.
const maxConns = 8

// saveQuery inserts a reference or overwrites the one with its conversation id.
var saveQuery = `INSERT INTO conversation_references (` + store.ReferenceColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (conversation_id) DO UPDATE SET ` + store.SetExcluded(store.ReferenceColumns, "conversation_id")

const (
	getQuery = `SELECT ` + store.ReferenceColumns + `
		FROM conversation_references WHERE conversation_id = ?`

	// personalQuery must find its row by walking the conversation_references_personal
	// index, without a sort step; TestPersonalReferenceUsesIndex holds it to that.
	personalQuery = `SELECT ` + store.ReferenceColumns + `
		FROM conversation_references
		WHERE tenant_id = ? AND user_aad_object_id = ? AND scope = ?
		ORDER BY updated_at DESC
		LIMIT 1`
)

// Store is a store.Store on one SQLite database file. It is safe for concurrent use.
type Store struct {
	db  *sql.DB
	log *zap.Logger
	now func() time.Time

	path string      // absolute path of the database file
	file os.FileInfo // the file as opened, to tell when it is deleted or replaced
	lock *os.File    // held until Close: one process per database

	writeFailures store.WriteFailures

	saveStmt     *sql.Stmt
	getStmt      *sql.Stmt
	personalStmt *sql.Stmt

	appendAuditStmt    *sql.Stmt
	saveDeliveryStmt   *sql.Stmt
	dueStmt            *sql.Stmt
	checkStmt          *sql.Stmt
	markCheckedStmt    *sql.Stmt
	deferStmt          *sql.Stmt
	openStmt           *sql.Stmt
	redactStmt         *sql.Stmt
	deliveryExistsStmt *sql.Stmt
	claimStmt          *sql.Stmt

	createOnboardStmt *sql.Stmt
	getOnboardStmt    *sql.Stmt
	onboardStateStmt  *sql.Stmt
	updateOnboardStmt *sql.Stmt
	scheduleJobStmt   *sql.Stmt
	claimJobsStmt     *sql.Stmt
	completeJobStmt   *sql.Stmt
	rescheduleJobStmt *sql.Stmt
	jobDoneStmt       *sql.Stmt

	createChecklistStmt  *sql.Stmt
	getChecklistStmt     *sql.Stmt
	updateChecklistStmt  *sql.Stmt
	checklistVersionStmt *sql.Stmt
	openChecklistsStmt   *sql.Stmt

	// stmts holds the statements prepared on first use, by query (see cachedStmt).
	stmtsMu sync.Mutex
	stmts   map[string]*sql.Stmt
}

// preparedStmt is a statement init prepares into *dst.
type preparedStmt struct {
	dst   **sql.Stmt
	name  string
	query string
}

// Open opens (creating if needed) the database at path and migrates its schema to
// the version this binary knows. It fails if the schema is newer than that.
func Open(ctx context.Context, path string, log *zap.Logger) (*Store, error) {
	if log == nil {
		log = zap.NewNop()
	}
	s, err := open(ctx, path, log, true)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return s, nil
}

// OpenShared is Open without the one-process lock, for short-lived commands that run
// beside a serving tapbot (the audit export, `doctor --fix` appending its audit
// rows): they start no background work, and SQLite's own locking serialises their
// writes with the server's.
func OpenShared(ctx context.Context, path string, log *zap.Logger) (*Store, error) {
	if log == nil {
		log = zap.NewNop()
	}
	s, err := open(ctx, path, log, false)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return s, nil
}

// open is Open; exclusive false skips the one-process lock (OpenShared).
func open(ctx context.Context, path string, log *zap.Logger, exclusive bool) (*Store, error) {
	if path == "" {
		return nil, errors.New("empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	// The database holds tenant, user and conversation ids: private to tapbot's user.
	if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
		return nil, err
	}
	var lock *os.File
	if exclusive {
		if lock, err = lockFile(abs); err != nil {
			return nil, err
		}
	}
	// SQLite would create the file 0644 and copies the main file's mode onto its
	// -wal and -shm files, so creating it 0600 first covers all three.
	f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, errors.Join(err, closeLock(lock))
	}
	fi, err := f.Stat()
	if err := errors.Join(err, f.Close()); err != nil {
		return nil, errors.Join(err, closeLock(lock))
	}

	ms, err := migrations.Load(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", dsn(abs))
	if err != nil {
		return nil, errors.Join(err, closeLock(lock))
	}
	db.SetMaxOpenConns(maxConns)
	db.SetMaxIdleConns(maxConns)

	s := &Store{db: db, log: log, now: time.Now, path: abs, file: fi, lock: lock}
	if err := s.init(ctx, ms); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	log.Info("store opened", zap.String("path", abs), zap.Int("schema_version", ms[len(ms)-1].Version))
	return s, nil
}

func (s *Store) init(ctx context.Context, ms []migrations.File) error {
	if err := migrate(ctx, s.db, ms, s.now, s.log); err != nil {
		return err
	}
	var err error
	if s.saveStmt, err = s.db.PrepareContext(ctx, saveQuery); err != nil {
		return fmt.Errorf("prepare save: %w", err)
	}
	if s.getStmt, err = s.db.PrepareContext(ctx, getQuery); err != nil {
		return fmt.Errorf("prepare get: %w", err)
	}
	if s.personalStmt, err = s.db.PrepareContext(ctx, personalQuery); err != nil {
		return fmt.Errorf("prepare personal: %w", err)
	}
	for _, p := range s.statements() {
		if *p.dst, err = s.db.PrepareContext(ctx, p.query); err != nil {
			return fmt.Errorf("prepare %s: %w", p.name, err)
		}
	}
	return nil
}

// statements are the prepared statements init makes and Close closes, but for
// those of the references.
func (s *Store) statements() []preparedStmt {
	return slices.Concat(s.tapStatements(), s.onboardStatements(), s.checklistStatements())
}

// dsn builds a file: URI so that any byte in path ('?', '#', '%') is escaped
// rather than taken for the start of the driver's parameters.
func dsn(path string) string {
	q := url.Values{}
	// _pragma values run on every connection the pool opens, unlike a one-off
	// Exec, which would configure only whichever connection served it.
	for _, p := range []string{
		"busy_timeout(5000)", // wait for another writer instead of failing with SQLITE_BUSY
		"foreign_keys(1)",
		"journal_mode(WAL)",   // readers do not block the writer, nor it them
		"synchronous(NORMAL)", // with WAL: durable across crashes of tapbot, may lose the last commits on power loss
	} {
		q.Add("_pragma", p)
	}
	// Transactions (migrations) take the write lock up front: a deferred one that
	// upgrades from read to write can fail with SQLITE_BUSY despite busy_timeout.
	q.Set("_txlock", "immediate")
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: q.Encode()}
	return u.String()
}

// SaveReference inserts r or replaces the stored reference with its conversation id.
func (s *Store) SaveReference(ctx context.Context, r store.Reference) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = s.now()
	}
	if _, err := s.saveStmt.ExecContext(ctx, r.Fields(times{})...); err != nil {
		s.writeFailed("reference", err)
		return fmt.Errorf("store: save reference %q: %w", r.ConversationID, err)
	}
	return nil
}

// Reference returns the reference stored for conversationID, or an error wrapping
// store.ErrNotFound.
func (s *Store) Reference(ctx context.Context, conversationID string) (store.Reference, error) {
	return one[store.Reference](s.getStmt.QueryRowContext(ctx, conversationID), fmt.Sprintf("reference %q", conversationID))
}

// PersonalReference returns the most recently updated personal reference of the
// user in the tenant, or an error wrapping store.ErrNotFound.
func (s *Store) PersonalReference(ctx context.Context, tenantID, userAADObjectID string) (store.Reference, error) {
	what := fmt.Sprintf("personal reference for user %q in tenant %q", userAADObjectID, tenantID)
	// A reference saved without ids must not be handed out for "no user".
	if tenantID == "" || userAADObjectID == "" {
		return store.Reference{}, fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return one[store.Reference](s.personalStmt.QueryRowContext(ctx, tenantID, userAADObjectID, string(store.ScopePersonal)), what)
}

// Ping checks that the database is usable, for /readyz: the file opened is still the
// one at its path (SQLite keeps writing to a deleted or replaced file, and every row
// would be lost at the next start), and a write goes through (a full disk fails it).
func (s *Store) Ping(ctx context.Context) error {
	fi, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("store: ping: database file: %w", err)
	}
	if !os.SameFile(fi, s.file) {
		return fmt.Errorf("store: ping: database file %s was replaced since tapbot opened it", s.path)
	}
	if _, err := s.db.ExecContext(ctx, probeQuery, formatTime(s.now())); err != nil {
		s.writeFailed("health probe", err)
		return fmt.Errorf("store: ping: write probe: %w", err)
	}
	return nil
}

// probeQuery is Ping's write: one row, rewritten each time.
const probeQuery = `INSERT INTO health (id, probed_at) VALUES (1, ?)
	ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at`

// WriteFailures is how many writes have failed since Open (for metrics).
func (s *Store) WriteFailures() uint64 { return s.writeFailures.Count() }

// writeFailed counts a failed write and logs it, unless one was logged lately.
func (s *Store) writeFailed(what string, err error) {
	if n, log := s.writeFailures.Add(); log {
		s.log.Error("store write failed", zap.String("write", what), zap.Uint64("failures_so_far", n), zap.Error(err))
	}
}

// Close releases the prepared statements and the database. The Store must not be
// used afterwards.
func (s *Store) Close() error {
	var errs []error
	stmts := []*sql.Stmt{s.saveStmt, s.getStmt, s.personalStmt}
	for _, p := range s.statements() {
		stmts = append(stmts, *p.dst)
	}
	s.stmtsMu.Lock()
	for _, st := range s.stmts {
		stmts = append(stmts, st)
	}
	s.stmts = nil
	s.stmtsMu.Unlock()
	for _, st := range stmts {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	errs = append(errs, s.db.Close(), closeLock(s.lock))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// closeLock releases the single-process lock, if any.
func closeLock(f *os.File) error {
	if f == nil {
		return nil
	}
	return f.Close()
}
