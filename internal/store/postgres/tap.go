package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tapbot/tapbot/internal/store"
)

// saveDeliveryQuery inserts a delivery or overwrites every field of the one with its id.
var saveDeliveryQuery = `INSERT INTO deliveries (` + store.DeliveryColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
	ON CONFLICT (id) DO UPDATE SET ` + store.SetExcluded(store.DeliveryColumns, "id")

const (
	appendAuditQuery = `INSERT INTO audit (at, request_id, requester_id, requester_upn, target_id, target_upn,
		action, outcome, reason, ticket, method_id, expires)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		RETURNING id`

	dueQuery = `SELECT ` + store.DeliveryColumns + `
		FROM deliveries
		WHERE redacted_at IS NULL AND expires <= $1 AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
		ORDER BY expires, id
		LIMIT $2`

	checkQuery = `SELECT ` + store.DeliveryColumns + `
		FROM deliveries
		WHERE redacted_at IS NULL AND expires > $1 AND (next_attempt_at IS NULL OR next_attempt_at <= $1)
		ORDER BY checked_at NULLS FIRST, expires, id
		LIMIT $2`

	markCheckedQuery = `UPDATE deliveries SET checked_at = $1 WHERE id = $2`

	deferQuery = `UPDATE deliveries SET attempts = attempts + 1, next_attempt_at = $1
		WHERE id = $2 AND redacted_at IS NULL
		RETURNING attempts`

	openQuery = `SELECT ` + store.DeliveryColumns + `
		FROM deliveries
		WHERE redacted_at IS NULL AND target_id = $1
		ORDER BY expires, id`

	// The IS NULL makes the redaction a compare-and-set: of concurrent callers,
	// exactly one changes the row (the others wait for its lock, then see it set).
	redactQuery = `UPDATE deliveries SET redacted_at = $1, redact_reason = $2
		WHERE id = $3 AND redacted_at IS NULL`

	deliveryExistsQuery = `SELECT EXISTS (SELECT 1 FROM deliveries WHERE id = $1)`

	claimQuery = `INSERT INTO claims (key, claimed_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`
)

// AppendAudit appends e, normalised by store.AuditEntry.Normalize, and returns its
// id. A zero Time is the clock's now.
func (s *Store) AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error) {
	e, err := e.Normalize()
	if err != nil {
		return 0, err
	}
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	var id int64
	if err := s.pool.QueryRow(ctx, appendAuditQuery,
		e.Time, e.RequestID, e.RequesterID, e.RequesterUPN, e.TargetID, e.TargetUPN,
		e.Action, e.Outcome, e.Reason, e.Ticket, e.MethodID, nullTime(e.Expires),
	).Scan(&id); err != nil {
		s.writeFailed("audit", err)
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
	if matchesNothing(f) {
		return nil, nil
	}
	where, args := auditWhere(f)
	args = append(args, store.ClampLimit(f.Limit))
	es, err := list[store.AuditEntry](s.pool.Query(ctx, `SELECT `+store.AuditColumns+` FROM audit`+where+
		` ORDER BY id DESC LIMIT $`+strconv.Itoa(len(args)), args...))
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
	if matchesNothing(f) {
		return 0, nil
	}
	where, args := auditWhere(f)
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM audit`+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count audit: %w", err)
	}
	return n, nil
}

// matchesNothing reports whether a text filter of f cannot equal any stored text
// (AppendAudit makes every field storable), which would also fail the query.
func matchesNothing(f store.AuditFilter) bool {
	for _, v := range []string{f.Target, f.RequesterID, string(f.Action), string(f.Outcome)} {
		if !storable(v) {
			return true
		}
	}
	return false
}

// auditWhere returns the WHERE clause (with a leading space, or "" for no filter)
// and its arguments, numbered $1…. It names only the filters that are set, so that
// the planner picks the index that fits each combination; pgx caches the
// statement of each (at most 2⁶) per connection.
func auditWhere(f store.AuditFilter) (string, []any) {
	var (
		conds []string
		args  []any
	)
	add := func(cond string, a any) {
		args = append(args, a)
		conds = append(conds, strings.ReplaceAll(cond, "$?", "$"+strconv.Itoa(len(args))))
	}
	if !f.Since.IsZero() {
		add(`at >= $?`, f.Since)
	}
	if !f.Until.IsZero() {
		add(`at < $?`, f.Until)
	}
	if f.Target != "" {
		// lower() under "C" folds ASCII letters only, on both sides alike, as
		// SQLite's lower() does: UPNs are ASCII. Written to match the
		// audit_target_upn index's expression.
		add(`(target_id = $? OR lower(target_upn COLLATE "C") = lower($? COLLATE "C"))`, f.Target)
	}
	if f.RequesterID != "" {
		add(`requester_id = $?`, f.RequesterID)
	}
	if f.Action != "" {
		add(`action = $?`, f.Action)
	}
	if f.Outcome != "" {
		add(`outcome = $?`, f.Outcome)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// SaveDelivery inserts d or replaces every field of the delivery with its id,
// redaction state included.
func (s *Store) SaveDelivery(ctx context.Context, d store.Delivery) error {
	if err := d.Validate(); err != nil {
		return err
	}
	return s.saveDelivery(ctx, s.pool, d)
}

// saveDelivery runs the save on q (the pool, or a transaction).
func (s *Store) saveDelivery(ctx context.Context, q querier, d store.Delivery) error {
	if _, err := q.Exec(ctx, saveDeliveryQuery, d.Fields(times{})...); err != nil {
		s.writeFailed("delivery", err)
		return fmt.Errorf("store: save delivery %q: %w", d.ID, err)
	}
	return nil
}

// DueDeliveries lists the unredacted deliveries expiring at or before now (the
// clock's now if zero), by Expires then ID, at most store.ClampLimit(limit).
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]store.Delivery, error) {
	return s.deliveriesAt(ctx, dueQuery, "due deliveries", now, limit)
}

// DeliveriesToCheck lists the unredacted deliveries expiring after now (the clock's
// now if zero) and not backing off, least recently checked first, at most
// store.ClampLimit(limit).
func (s *Store) DeliveriesToCheck(ctx context.Context, now time.Time, limit int) ([]store.Delivery, error) {
	return s.deliveriesAt(ctx, checkQuery, "deliveries to check", now, limit)
}

// deliveriesAt runs query, a list of deliveries as of now taking ($1 = now,
// $2 = limit), for the call what names.
func (s *Store) deliveriesAt(ctx context.Context, query, what string, now time.Time, limit int) ([]store.Delivery, error) {
	if err := store.ValidateDueTime(now); err != nil {
		return nil, err
	}
	ds, err := list[store.Delivery](s.pool.Query(ctx, query, s.at(now), store.ClampLimit(limit)))
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
	if !storable(id) {
		return fmt.Errorf("delivery %q: %w", id, store.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, markCheckedQuery, s.at(at), id)
	if err != nil {
		return fmt.Errorf("store: mark delivery %q checked: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
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
	if !storable(id) {
		return 0, fmt.Errorf("delivery %q: %w", id, store.ErrNotFound)
	}
	var attempts int
	err := s.pool.QueryRow(ctx, deferQuery, s.at(next), id).Scan(&attempts)
	if err == nil {
		return attempts, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("store: defer redaction of %q: %w", id, err)
	}
	// Nothing changed: already redacted, or no such delivery (rows are never deleted).
	if err := s.deliveryExists(ctx, id); err != nil {
		return 0, fmt.Errorf("defer redaction of %q: %w", id, err)
	}
	return 0, nil
}

// deliveryExists returns nil if delivery id exists, or an error wrapping
// store.ErrNotFound.
func (s *Store) deliveryExists(ctx context.Context, id string) error {
	var ok bool
	if err := s.pool.QueryRow(ctx, deliveryExistsQuery, id).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("delivery %q: %w", id, store.ErrNotFound)
	}
	return nil
}

// OpenDeliveries lists the unredacted deliveries for targetID, by Expires then ID.
// An empty targetID matches none, not the deliveries saved without one.
func (s *Store) OpenDeliveries(ctx context.Context, targetID string) ([]store.Delivery, error) {
	if targetID == "" || !storable(targetID) {
		return nil, nil
	}
	ds, err := list[store.Delivery](s.pool.Query(ctx, openQuery, targetID))
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
	if !storable(id) {
		return false, fmt.Errorf("delivery %q: %w", id, store.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, redactQuery, s.at(at), reason, id)
	if err != nil {
		return false, fmt.Errorf("store: mark delivery %q redacted: %w", id, err)
	}
	if tag.RowsAffected() > 0 {
		return true, nil
	}
	// Nothing changed: already redacted, or no such delivery. Rows are never
	// deleted, so the answer cannot change between the two statements.
	if err := s.deliveryExists(ctx, id); err != nil {
		return false, fmt.Errorf("mark delivery %q redacted: %w", id, err)
	}
	return false, nil
}

// Claim records key as claimed at at (the clock's now if zero) and reports whether
// this call did; false means an earlier call, on any replica, claimed it.
func (s *Store) Claim(ctx context.Context, key string, at time.Time) (bool, error) {
	if err := store.ValidateClaim(key, at); err != nil {
		return false, err
	}
	tag, err := s.pool.Exec(ctx, claimQuery, key, s.at(at))
	if err != nil {
		s.writeFailed("claim", err)
		return false, fmt.Errorf("store: claim %q: %w", key, err)
	}
	return tag.RowsAffected() > 0, nil
}

// at is t, or the store's clock when t is zero.
func (s *Store) at(t time.Time) time.Time {
	if t.IsZero() {
		return s.now()
	}
	return t
}
