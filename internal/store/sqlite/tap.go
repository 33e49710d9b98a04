package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tapbot/tapbot/internal/store"
)

// saveDeliveryQuery inserts a delivery or overwrites every field of the one with its id.
var saveDeliveryQuery = `INSERT INTO deliveries (` + store.DeliveryColumns + `)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (id) DO UPDATE SET ` + store.SetExcluded(store.DeliveryColumns, "id")

const (
	appendAuditQuery = `INSERT INTO audit (at, request_id, requester_id, requester_upn, target_id, target_upn,
		action, outcome, reason, ticket, method_id, expires)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

	// dueQuery and openQuery must walk the partial indexes deliveries_due and
	// deliveries_open without a sort step; TestDeliveryQueriesUseIndexes holds them
	// to that.
	dueQuery = `SELECT ` + store.DeliveryColumns + `
		FROM deliveries
		WHERE redacted_at IS NULL AND expires <= ? AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
		ORDER BY expires, id
		LIMIT ?`

	// checkQuery walks deliveries_check. NULLS FIRST is explicit because SQLite and
	// PostgreSQL differ on where NULL sorts by default.
	checkQuery = `SELECT ` + store.DeliveryColumns + `
		FROM deliveries
		WHERE redacted_at IS NULL AND expires > ? AND (next_attempt_at IS NULL OR next_attempt_at <= ?)
		ORDER BY checked_at NULLS FIRST, expires, id
		LIMIT ?`

	markCheckedQuery = `UPDATE deliveries SET checked_at = ? WHERE id = ?`

	deferQuery = `UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = ?
		WHERE id = ? AND redacted_at IS NULL
		RETURNING attempts`

	openQuery = `SELECT ` + store.DeliveryColumns + `
		FROM deliveries
		WHERE redacted_at IS NULL AND target_id = ?
		ORDER BY expires, id`

	// The IS NULL makes the redaction a compare-and-set: of concurrent callers,
	// exactly one changes the row.
	redactQuery = `UPDATE deliveries SET redacted_at = ?, redact_reason = ?
		WHERE id = ? AND redacted_at IS NULL`

	deliveryExistsQuery = `SELECT 1 FROM deliveries WHERE id = ?`

	claimQuery = `INSERT INTO claims (key, claimed_at) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`
)

// tapStatements are the prepared statements of the TAP methods, in the order of
// the fields they fill.
func (s *Store) tapStatements() []preparedStmt {
	return []preparedStmt{
		{&s.appendAuditStmt, "append audit", appendAuditQuery},
		{&s.saveDeliveryStmt, "save delivery", saveDeliveryQuery},
		{&s.dueStmt, "due deliveries", dueQuery},
		{&s.checkStmt, "deliveries to check", checkQuery},
		{&s.markCheckedStmt, "mark checked", markCheckedQuery},
		{&s.deferStmt, "defer redaction", deferQuery},
		{&s.openStmt, "open deliveries", openQuery},
		{&s.redactStmt, "mark redacted", redactQuery},
		{&s.deliveryExistsStmt, "delivery exists", deliveryExistsQuery},
		{&s.claimStmt, "claim", claimQuery},
	}
}

// AppendAudit appends e, normalised by store.AuditEntry.Normalize (text cut to its
// maximum length), and returns its id. A zero Time is the clock's now.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error) {
	e, err := e.Normalize()
	if err != nil {
		return 0, err
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	res, err := s.appendAuditStmt.ExecContext(ctx,
		formatTime(e.Time), e.RequestID, e.RequesterID, e.RequesterUPN, e.TargetID, e.TargetUPN,
		e.Action, e.Outcome, e.Reason, e.Ticket, e.MethodID, nullTime(e.Expires),
	)
	if err != nil {
		s.writeFailed("audit", err)
		return 0, fmt.Errorf("store: append audit %q: %w", e.Action, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store: append audit %q: %w", e.Action, err)
	}
	return id, nil
}

// Audit lists the rows matching f, newest (highest id) first, at most
// store.ClampLimit(f.Limit).
func (s *Store) Audit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	where, args := auditWhere(f)
	st, err := s.cachedStmt(ctx, `SELECT `+store.AuditColumns+` FROM audit`+where+` ORDER BY id DESC LIMIT ?`)
	if err != nil {
		return nil, fmt.Errorf("store: audit: %w", err)
	}
	es, err := collect[store.AuditEntry](st.QueryContext(ctx, append(args, store.ClampLimit(f.Limit))...))
	if err != nil {
		return nil, fmt.Errorf("store: audit: %w", err)
	}
	return es, nil
}

// CountAudit counts the rows matching f, whatever its Limit.
func (s *Store) CountAudit(ctx context.Context, f store.AuditFilter) (int, error) {
	if err := f.Validate(); err != nil {
		return 0, err
	}
	where, args := auditWhere(f)
	st, err := s.cachedStmt(ctx, `SELECT COUNT(*) FROM audit`+where)
	if err != nil {
		return 0, fmt.Errorf("store: count audit: %w", err)
	}
	var n int
	if err := st.QueryRowContext(ctx, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count audit: %w", err)
	}
	return n, nil
}

// auditWhere returns the WHERE clause (with a leading space, or "" for no filter)
// and its arguments. The clause names only the filters that are set, so that
// SQLite plans each combination with the indexes that fit it; there are 2⁶
// combinations, each prepared once for Audit and once for CountAudit (see
// cachedStmt).
func auditWhere(f store.AuditFilter) (string, []any) {
	var (
		conds []string
		args  []any
	)
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	if !f.Since.IsZero() {
		add(`at >= ?`, formatTime(f.Since))
	}
	if !f.Until.IsZero() {
		add(`at < ?`, formatTime(f.Until))
	}
	if f.Target != "" {
		// lower() folds ASCII letters only, on both sides alike: UPNs are ASCII.
		// Written to match the audit_target_upn index's expression.
		add(`(target_id = ? OR lower(target_upn) = lower(?))`, f.Target, f.Target)
	}
	if f.RequesterID != "" {
		add(`requester_id = ?`, f.RequesterID)
	}
	if f.Action != "" {
		add(`action = ?`, f.Action)
	}
	if f.Outcome != "" {
		add(`outcome = ?`, f.Outcome)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// cachedStmt returns query prepared, preparing it on first use. It is for queries
// built from a bounded set of parts (auditWhere's), so the cache stays small.
func (s *Store) cachedStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	s.stmtsMu.Lock()
	defer s.stmtsMu.Unlock()
	if st, ok := s.stmts[query]; ok {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if s.stmts == nil {
		s.stmts = map[string]*sql.Stmt{}
	}
	s.stmts[query] = st
	return st, nil
}

// SaveDelivery inserts d or replaces every field of the delivery with its id,
// redaction state included.
func (s *Store) SaveDelivery(ctx context.Context, d store.Delivery) error {
	if err := d.Validate(); err != nil {
		return err
	}
	return s.saveDelivery(ctx, s.saveDeliveryStmt, d)
}

// saveDelivery runs the save statement st (the store's, or a transaction's copy).
func (s *Store) saveDelivery(ctx context.Context, st *sql.Stmt, d store.Delivery) error {
	if _, err := st.ExecContext(ctx, d.Fields(times{})...); err != nil {
		s.writeFailed("delivery", err)
		return fmt.Errorf("store: save delivery %q: %w", d.ID, err)
	}
	return nil
}

// DueDeliveries lists the unredacted deliveries expiring at or before now (the
// clock's now if zero), by Expires then ID, at most store.ClampLimit(limit).
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]store.Delivery, error) {
	return s.deliveriesAt(ctx, s.dueStmt, "due deliveries", now, limit)
}

// DeliveriesToCheck lists the unredacted deliveries expiring after now (the clock's
// now if zero) and not backing off, least recently checked first, at most
// store.ClampLimit(limit).
func (s *Store) DeliveriesToCheck(ctx context.Context, now time.Time, limit int) ([]store.Delivery, error) {
	return s.deliveriesAt(ctx, s.checkStmt, "deliveries to check", now, limit)
}

// deliveriesAt runs st, a list of deliveries as of now taking (now, now, limit),
// for the call what names.
func (s *Store) deliveriesAt(ctx context.Context, st *sql.Stmt, what string, now time.Time, limit int) ([]store.Delivery, error) {
	if err := store.ValidateDueTime(now); err != nil {
		return nil, err
	}
	at := formatTime(s.at(now))
	ds, err := collect[store.Delivery](st.QueryContext(ctx, at, at, store.ClampLimit(limit)))
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", what, err)
	}
	return ds, nil
}

// MarkChecked records that delivery id was checked at at (the clock's now if zero).
func (s *Store) MarkChecked(ctx context.Context, id string, at time.Time) error {
	if err := store.ValidateDeliveryTime(id, "checked at", at); err != nil {
		return err
	}
	if at.IsZero() {
		at = s.now()
	}
	res, err := s.markCheckedStmt.ExecContext(ctx, formatTime(at), id)
	if err != nil {
		return fmt.Errorf("store: mark delivery %q checked: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: mark delivery %q checked: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("delivery %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// DeferRedaction counts a failed redaction of delivery id and sets its next attempt
// (the clock's now if zero); see store.Store.
func (s *Store) DeferRedaction(ctx context.Context, id string, next time.Time) (int, error) {
	if err := store.ValidateDeliveryTime(id, "next attempt", next); err != nil {
		return 0, err
	}
	if next.IsZero() {
		next = s.now()
	}
	var attempts int
	err := s.deferStmt.QueryRowContext(ctx, formatTime(next), id).Scan(&attempts)
	if err == nil {
		return attempts, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: defer redaction of %q: %w", id, err)
	}
	// Nothing changed: already redacted, or no such delivery (rows are never deleted).
	var one int
	err = s.deliveryExistsStmt.QueryRowContext(ctx, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("delivery %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("store: defer redaction of %q: %w", id, err)
	}
	return 0, nil
}

// OpenDeliveries lists the unredacted deliveries for targetID, by Expires then ID.
// An empty targetID matches none, not the deliveries saved without one.
func (s *Store) OpenDeliveries(ctx context.Context, targetID string) ([]store.Delivery, error) {
	if targetID == "" {
		return nil, nil
	}
	ds, err := collect[store.Delivery](s.openStmt.QueryContext(ctx, targetID))
	if err != nil {
		return nil, fmt.Errorf("store: open deliveries for %q: %w", targetID, err)
	}
	return ds, nil
}

// MarkRedacted records the redaction of delivery id at at (the clock's now if
// zero) for reason, unless it is already redacted. It reports whether this call
// recorded it, and returns an error wrapping store.ErrNotFound for an unknown id.
func (s *Store) MarkRedacted(ctx context.Context, id string, at time.Time, reason string) (bool, error) {
	if err := store.ValidateRedaction(id, at, reason); err != nil {
		return false, err
	}
	if at.IsZero() {
		at = s.now()
	}
	res, err := s.redactStmt.ExecContext(ctx, formatTime(at), reason, id)
	if err != nil {
		return false, fmt.Errorf("store: mark delivery %q redacted: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: mark delivery %q redacted: %w", id, err)
	}
	if n > 0 {
		return true, nil
	}
	// Nothing changed: already redacted, or no such delivery. Rows are never
	// deleted, so the answer cannot change between the two statements.
	var one int
	err = s.deliveryExistsStmt.QueryRowContext(ctx, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("delivery %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return false, fmt.Errorf("store: mark delivery %q redacted: %w", id, err)
	}
	return false, nil
}

// Claim records key as claimed at at (the clock's now if zero) and reports whether
// this call did; false means an earlier call claimed it.
func (s *Store) Claim(ctx context.Context, key string, at time.Time) (bool, error) {
	if err := store.ValidateClaim(key, at); err != nil {
		return false, err
	}
	if at.IsZero() {
		at = s.now()
	}
	res, err := s.claimStmt.ExecContext(ctx, key, formatTime(at))
	if err != nil {
		s.writeFailed("claim", err)
		return false, fmt.Errorf("store: claim %q: %w", key, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: claim %q: %w", key, err)
	}
	return n > 0, nil
}
