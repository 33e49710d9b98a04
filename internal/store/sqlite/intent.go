package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tapbot/tapbot/internal/store"
)

const (
	intentBusyQuery = `SELECT 1 FROM tap_intents WHERE target_id = ? AND state IN ('pending', 'created') LIMIT 1`
	// A pass counts as issued meanwhile while its intent is created or done; an
	// undone one was deleted again and replaces nothing.
	intentChangedQuery = `SELECT 1 FROM tap_intents
		WHERE target_id = ? AND created_at >= ? AND state IN ('created', 'done') LIMIT 1`
	intentCountQuery = `SELECT count(*) FROM tap_intents
		WHERE requester_id = ? AND started_at >= ? AND state <> 'failed'`
	intentInsertQuery = `INSERT INTO tap_intents (` + store.IntentColumns + `)
		VALUES (?, ?, ?, ?, 'pending', '', ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`
	intentCreatedQuery = `UPDATE tap_intents SET state = 'created', method_id = ?, created_at = ?, updated_at = ?
		WHERE id = ? AND state = 'pending'`
	intentDoneQuery = `UPDATE tap_intents SET state = 'done', updated_at = ?
		WHERE id = ? AND state = 'created'`
	intentEndQuery = `UPDATE tap_intents SET state = ?, updated_at = ?
		WHERE id = ? AND state IN ('pending', 'created')`
	intentTakeOverQuery = `UPDATE tap_intents SET lease_until = ?
		WHERE id = ? AND state IN ('pending', 'created') AND lease_until < ?`
	intentGetQuery       = `SELECT ` + store.IntentColumns + ` FROM tap_intents WHERE id = ?`
	intentAbandonedQuery = `SELECT ` + store.IntentColumns + ` FROM tap_intents
		WHERE state IN ('pending', 'created') AND lease_until < ?
		ORDER BY lease_until, id LIMIT ?`
)

// BeginTAP writes i as pending after the checks of lim, all under the write lock
// (BEGIN IMMEDIATE, by the DSN), so that no other writer, in this process or
// another, can begin an intent between the checks and the insert.
func (s *Store) BeginTAP(ctx context.Context, i store.TAPIntent, lim store.TAPLimits) error {
	if err := i.Validate(); err != nil {
		return err
	}
	if i.StartedAt.IsZero() {
		i.StartedAt = s.now()
	}
	if err := s.beginTAP(ctx, i, lim); err != nil {
		if !errors.Is(err, store.ErrTargetBusy) && !errors.Is(err, store.ErrTargetChanged) &&
			!errors.Is(err, store.ErrRateLimited) && !errors.Is(err, store.ErrConflict) {
			s.writeFailed("TAP intent", err)
		}
		return fmt.Errorf("store: begin TAP intent %q: %w", i.ID, err)
	}
	return nil
}

func (s *Store) beginTAP(ctx context.Context, i store.TAPIntent, lim store.TAPLimits) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	exists := func(query string, args ...any) (bool, error) {
		var one int
		err := tx.QueryRowContext(ctx, query, args...).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return err == nil, err
	}
	if busy, err := exists(intentBusyQuery, i.TargetID); err != nil || busy {
		return errors.Join(err, condErr(busy, store.ErrTargetBusy))
	}
	if !lim.ChangedSince.IsZero() {
		if changed, err := exists(intentChangedQuery, i.TargetID, formatTime(lim.ChangedSince)); err != nil || changed {
			return errors.Join(err, condErr(changed, store.ErrTargetChanged))
		}
	}
	if lim.MaxPerRequester > 0 {
		var n int
		if err := tx.QueryRowContext(ctx, intentCountQuery, i.RequesterID, formatTime(lim.Since)).Scan(&n); err != nil {
			return err
		}
		if n >= lim.MaxPerRequester {
			return store.ErrRateLimited
		}
	}
	now := formatTime(i.StartedAt)
	res, err := tx.ExecContext(ctx, intentInsertQuery, i.ID, i.TargetID, i.TargetUPN, i.RequesterID,
		now, formatTime(i.LeaseUntil), now)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(err, fmt.Errorf("intent id in use: %w", store.ErrConflict))
	}
	return tx.Commit()
}

func condErr(cond bool, err error) error {
	if cond {
		return err
	}
	return nil
}

// TAPCreated records the method id Graph answered: pending → created.
func (s *Store) TAPCreated(ctx context.Context, id, methodID string, at time.Time) error {
	if methodID == "" {
		return fmt.Errorf("%w %q: empty method id", store.ErrInvalidIntent, id)
	}
	return s.moveIntent(ctx, id, "record created TAP", intentCreatedQuery, methodID, formatTime(s.at(at)), formatTime(s.at(at)), id)
}

// CompleteTAP saves the delivery and closes the intent (created → done) in one
// transaction: a pass is never done without its delivery, nor delivered-and-recorded
// with its intent still open for reconciliation to delete.
func (s *Store) CompleteTAP(ctx context.Context, id string, d store.Delivery, at time.Time) error {
	if err := d.Validate(); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: complete TAP intent %q: %w", id, err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := s.saveDelivery(ctx, tx.StmtContext(ctx, s.saveDeliveryStmt), d); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, intentDoneQuery, formatTime(s.at(at)), id)
	if err != nil {
		return fmt.Errorf("store: complete TAP intent %q: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(err, fmt.Errorf("complete TAP intent %q: %w", id, store.ErrIntentState))
	}
	if err := tx.Commit(); err != nil {
		s.writeFailed("TAP intent", err)
		return fmt.Errorf("store: complete TAP intent %q: %w", id, err)
	}
	return nil
}

// EndTAP closes an open intent as failed or undone.
func (s *Store) EndTAP(ctx context.Context, id string, state store.IntentState, at time.Time) error {
	if state != store.IntentFailed && state != store.IntentUndone {
		return fmt.Errorf("%w %q: cannot end in state %q", store.ErrInvalidIntent, id, state)
	}
	return s.moveIntent(ctx, id, "end", intentEndQuery, string(state), formatTime(s.at(at)), id)
}

func (s *Store) moveIntent(ctx context.Context, id, what, query string, args ...any) error {
	res, err := s.db.ExecContext(ctx, query, args...)
	if err != nil {
		s.writeFailed("TAP intent", err)
		return fmt.Errorf("store: %s TAP intent %q: %w", what, id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s TAP intent %q: %w", what, id, err)
	}
	if n == 0 {
		return fmt.Errorf("%s TAP intent %q: %w", what, id, store.ErrIntentState)
	}
	return nil
}

// TakeOverTAP moves the lease of an abandoned intent to leaseUntil, once: the UPDATE's
// condition makes it a compare-and-set.
func (s *Store) TakeOverTAP(ctx context.Context, id string, now, leaseUntil time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, intentTakeOverQuery, formatTime(leaseUntil), id, formatTime(s.at(now)))
	if err != nil {
		s.writeFailed("TAP intent", err)
		return false, fmt.Errorf("store: take over TAP intent %q: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: take over TAP intent %q: %w", id, err)
	}
	return n > 0, nil
}

// TAPIntent returns one intent, or an error wrapping store.ErrNotFound.
func (s *Store) TAPIntent(ctx context.Context, id string) (store.TAPIntent, error) {
	return one[store.TAPIntent](s.db.QueryRowContext(ctx, intentGetQuery, id), fmt.Sprintf("TAP intent %q", id))
}

// AbandonedTAPs lists open intents whose lease ended before now, oldest lease first,
// at most store.ClampLimit(limit).
func (s *Store) AbandonedTAPs(ctx context.Context, now time.Time, limit int) ([]store.TAPIntent, error) {
	if err := store.ValidateDueTime(now); err != nil {
		return nil, err
	}
	out, err := collect[store.TAPIntent](s.db.QueryContext(ctx, intentAbandonedQuery, formatTime(s.at(now)), store.ClampLimit(limit)))
	if err != nil {
		return nil, fmt.Errorf("store: abandoned TAP intents: %w", err)
	}
	return out, nil
}

// at is t, or the store's clock when t is zero.
func (s *Store) at(t time.Time) time.Time {
	if t.IsZero() {
		return s.now()
	}
	return t
}
