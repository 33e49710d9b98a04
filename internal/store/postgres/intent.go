package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tapbot/tapbot/internal/store"
)

// Advisory lock classes (the first key of pg_advisory_xact_lock(int, int)) of
// BeginTAP's locks; the second key is hashtext of the id. Two ids may share a hash:
// that only makes their BeginTAPs wait for each other.
const (
	lockTarget    = 0x74617074 // "tapt"
	lockRequester = 0x74617072 // "tapr"
)

const (
	intentLockQuery = `SELECT pg_advisory_xact_lock($1, hashtext($2))`

	intentBusyQuery = `SELECT EXISTS (SELECT 1 FROM tap_intents WHERE target_id = $1 AND state IN ('pending', 'created'))`
	// A pass counts as issued meanwhile while its intent is created or done; an
	// undone one was deleted again and replaces nothing.
	intentChangedQuery = `SELECT EXISTS (SELECT 1 FROM tap_intents
		WHERE target_id = $1 AND created_at >= $2 AND state IN ('created', 'done'))`
	intentCountQuery = `SELECT count(*) FROM tap_intents
		WHERE requester_id = $1 AND started_at >= $2 AND state <> 'failed'`
	intentInsertQuery = `INSERT INTO tap_intents (` + store.IntentColumns + `)
		VALUES ($1, $2, $3, $4, 'pending', '', $5, $6, $5)
		ON CONFLICT (id) DO NOTHING`
	intentCreatedQuery = `UPDATE tap_intents SET state = 'created', method_id = $1, created_at = $2, updated_at = $2
		WHERE id = $3 AND state = 'pending'`
	intentDoneQuery = `UPDATE tap_intents SET state = 'done', updated_at = $1
		WHERE id = $2 AND state = 'created'`
	intentEndQuery = `UPDATE tap_intents SET state = $1, updated_at = $2
		WHERE id = $3 AND state IN ('pending', 'created')`
	intentTakeOverQuery = `UPDATE tap_intents SET lease_until = $1
		WHERE id = $2 AND state IN ('pending', 'created') AND lease_until < $3`
	intentGetQuery       = `SELECT ` + store.IntentColumns + ` FROM tap_intents WHERE id = $1`
	intentAbandonedQuery = `SELECT ` + store.IntentColumns + ` FROM tap_intents
		WHERE state IN ('pending', 'created') AND lease_until < $1
		ORDER BY lease_until, id LIMIT $2`
)

// BeginTAP writes i as pending after the checks of lim, atomically across
// connections and replicas: the transaction first takes transaction-scoped
// advisory locks on the target and on the requester, so BeginTAPs for one target
// (the busy and changed-since checks) or one requester (the rate limit) run one
// after the other. Under READ COMMITTED each check is a new snapshot taken after
// the locks, so it sees what the previous holder committed. The unique index
// tap_intents_open_target refuses a second open intent for a target even so.
func (s *Store) BeginTAP(ctx context.Context, i store.TAPIntent, lim store.TAPLimits) error {
	if err := i.Validate(); err != nil {
		return err
	}
	if i.StartedAt.IsZero() {
		i.StartedAt = s.now()
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return beginTAP(ctx, tx, i, lim) })
	if err != nil {
		if !errors.Is(err, store.ErrTargetBusy) && !errors.Is(err, store.ErrTargetChanged) &&
			!errors.Is(err, store.ErrRateLimited) && !errors.Is(err, store.ErrConflict) {
			s.writeFailed("TAP intent", err)
		}
		return fmt.Errorf("store: begin TAP intent %q: %w", i.ID, err)
	}
	return nil
}

func beginTAP(ctx context.Context, tx pgx.Tx, i store.TAPIntent, lim store.TAPLimits) error {
	// The target's lock before the requester's, always in that order (two
	// statements, so the order is certain), so that two BeginTAPs never wait for
	// each other in a cycle.
	if _, err := tx.Exec(ctx, intentLockQuery, lockTarget, i.TargetID); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, intentLockQuery, lockRequester, i.RequesterID); err != nil {
		return err
	}
	var busy bool
	if err := tx.QueryRow(ctx, intentBusyQuery, i.TargetID).Scan(&busy); err != nil {
		return err
	}
	if busy {
		return store.ErrTargetBusy
	}
	if !lim.ChangedSince.IsZero() {
		var changed bool
		if err := tx.QueryRow(ctx, intentChangedQuery, i.TargetID, lim.ChangedSince).Scan(&changed); err != nil {
			return err
		}
		if changed {
			return store.ErrTargetChanged
		}
	}
	if lim.MaxPerRequester > 0 {
		var n int
		if err := tx.QueryRow(ctx, intentCountQuery, i.RequesterID, lim.Since).Scan(&n); err != nil {
			return err
		}
		if n >= lim.MaxPerRequester {
			return store.ErrRateLimited
		}
	}
	tag, err := tx.Exec(ctx, intentInsertQuery, i.ID, i.TargetID, i.TargetUPN, i.RequesterID, i.StartedAt, i.LeaseUntil)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == uniqueViolation && pgErr.ConstraintName == "tap_intents_open_target" {
		// Unreachable while every writer takes the target's lock: the backstop.
		return fmt.Errorf("%w (refused by the database)", store.ErrTargetBusy)
	}
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("intent id in use: %w", store.ErrConflict)
	}
	return nil
}

// uniqueViolation is PostgreSQL's SQLSTATE for a unique index refusing a row.
const uniqueViolation = "23505"

// TAPCreated records the method id Graph answered: pending → created.
func (s *Store) TAPCreated(ctx context.Context, id, methodID string, at time.Time) error {
	if methodID == "" {
		return fmt.Errorf("%w %q: empty method id", store.ErrInvalidIntent, id)
	}
	return s.moveIntent(ctx, id, "record created TAP", intentCreatedQuery, methodID, s.at(at), id)
}

// CompleteTAP saves the delivery and closes the intent (created → done) in one
// transaction: a pass is never done without its delivery, nor delivered-and-recorded
// with its intent still open for reconciliation to delete.
func (s *Store) CompleteTAP(ctx context.Context, id string, d store.Delivery, at time.Time) error {
	if err := d.Validate(); err != nil {
		return err
	}
	if !storable(id) {
		return fmt.Errorf("complete TAP intent %q: %w", id, store.ErrIntentState)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := s.saveDelivery(ctx, tx, d); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, intentDoneQuery, s.at(at), id)
		if err != nil {
			return fmt.Errorf("store: complete TAP intent %q: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("complete TAP intent %q: %w", id, store.ErrIntentState)
		}
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrIntentState) {
		s.writeFailed("TAP intent", err)
	}
	return err
}

// EndTAP closes an open intent as failed or undone.
func (s *Store) EndTAP(ctx context.Context, id string, state store.IntentState, at time.Time) error {
	if state != store.IntentFailed && state != store.IntentUndone {
		return fmt.Errorf("%w %q: cannot end in state %q", store.ErrInvalidIntent, id, state)
	}
	return s.moveIntent(ctx, id, "end", intentEndQuery, string(state), s.at(at), id)
}

func (s *Store) moveIntent(ctx context.Context, id, what, query string, args ...any) error {
	if !storable(id) {
		return fmt.Errorf("%s TAP intent %q: %w", what, id, store.ErrIntentState)
	}
	tag, err := s.pool.Exec(ctx, query, args...)
	if err != nil {
		s.writeFailed("TAP intent", err)
		return fmt.Errorf("store: %s TAP intent %q: %w", what, id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("%s TAP intent %q: %w", what, id, store.ErrIntentState)
	}
	return nil
}

// TakeOverTAP moves the lease of an abandoned intent to leaseUntil, once: the UPDATE's
// condition makes it a compare-and-set (the row lock serialises concurrent callers).
func (s *Store) TakeOverTAP(ctx context.Context, id string, now, leaseUntil time.Time) (bool, error) {
	if !storable(id) {
		return false, nil
	}
	tag, err := s.pool.Exec(ctx, intentTakeOverQuery, leaseUntil, id, s.at(now))
	if err != nil {
		s.writeFailed("TAP intent", err)
		return false, fmt.Errorf("store: take over TAP intent %q: %w", id, err)
	}
	return tag.RowsAffected() > 0, nil
}

// TAPIntent returns one intent, or an error wrapping store.ErrNotFound.
func (s *Store) TAPIntent(ctx context.Context, id string) (store.TAPIntent, error) {
	return one[store.TAPIntent](ctx, s.pool, fmt.Sprintf("TAP intent %q", id), intentGetQuery, id)
}

// AbandonedTAPs lists open intents whose lease ended before now, oldest lease first,
// at most store.ClampLimit(limit).
func (s *Store) AbandonedTAPs(ctx context.Context, now time.Time, limit int) ([]store.TAPIntent, error) {
	if err := store.ValidateDueTime(now); err != nil {
		return nil, err
	}
	is, err := list[store.TAPIntent](s.pool.Query(ctx, intentAbandonedQuery, s.at(now), store.ClampLimit(limit)))
	if err != nil {
		return nil, fmt.Errorf("store: abandoned TAP intents: %w", err)
	}
	return is, nil
}
