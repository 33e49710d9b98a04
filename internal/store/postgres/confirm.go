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

const (
	confirmColumns = `id, request_id, tenant_id, requester_id, target_id, target_upn, path, confirmer_id,
		lifetime_minutes, once, replace_existing, reason, state, decided_by, created_at, expires_at, decided_at`

	// The unique index tap_confirmations_pending_target refuses a second pending
	// confirmation for a target, across connections and replicas.
	confirmInsertQuery = `INSERT INTO tap_confirmations (` + confirmColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'pending', '', $13, $14, NULL)`
	confirmGetQuery    = `SELECT ` + confirmColumns + ` FROM tap_confirmations WHERE id = $1`
	confirmDecideQuery = `UPDATE tap_confirmations SET state = $1, decided_by = $2, decided_at = $3
		WHERE id = $4 AND state = 'pending' RETURNING ` + confirmColumns
	confirmDueQuery = `SELECT ` + confirmColumns + ` FROM tap_confirmations
		WHERE state = 'pending' AND expires_at <= $1 ORDER BY expires_at, id LIMIT $2`
)

// CreateConfirmation writes c as pending; the database's unique indexes tell a
// target already waiting from an id in use.
func (s *Store) CreateConfirmation(ctx context.Context, c store.TAPConfirmation) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	_, err := s.pool.Exec(ctx, confirmInsertQuery, c.ID, c.RequestID, c.TenantID, c.RequesterID, c.TargetID,
		c.TargetUPN, string(c.Path), c.ConfirmerID, c.LifetimeMinutes, c.Once, c.Replace, c.Reason,
		c.CreatedAt, c.ExpiresAt)
	var pe *pgconn.PgError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &pe) && pe.Code == uniqueViolation && pe.ConstraintName == "tap_confirmations_pending_target":
		return fmt.Errorf("store: create TAP confirmation %q: %w", c.ID, store.ErrConfirmationPending)
	case errors.As(err, &pe) && pe.Code == uniqueViolation:
		return fmt.Errorf("store: create TAP confirmation %q: id in use: %w", c.ID, store.ErrConflict)
	}
	s.writeFailed("TAP confirmation", err)
	return fmt.Errorf("store: create TAP confirmation %q: %w", c.ID, err)
}

// Confirmation returns one confirmation, or an error wrapping store.ErrNotFound.
func (s *Store) Confirmation(ctx context.Context, id string) (store.TAPConfirmation, error) {
	notFound := fmt.Errorf("TAP confirmation %q: %w", id, store.ErrNotFound)
	if !storable(id) {
		return store.TAPConfirmation{}, notFound
	}
	rows, err := s.pool.Query(ctx, confirmGetQuery, id)
	if err != nil {
		return store.TAPConfirmation{}, fmt.Errorf("store: get TAP confirmation %q: %w", id, err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanConfirmation)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.TAPConfirmation{}, notFound
	}
	if err != nil {
		return store.TAPConfirmation{}, fmt.Errorf("store: get TAP confirmation %q: %w", id, err)
	}
	return c, nil
}

// DecideConfirmation moves a pending confirmation to state in one conditional
// UPDATE: of two concurrent decisions exactly one finds it pending.
func (s *Store) DecideConfirmation(ctx context.Context, id string, state store.ConfirmState, by string, at time.Time) (store.TAPConfirmation, error) {
	if err := store.ValidDecision(id, state); err != nil {
		return store.TAPConfirmation{}, err
	}
	if !storable(id) || !storable(by) {
		return store.TAPConfirmation{}, fmt.Errorf("TAP confirmation %q: %w", id, store.ErrNotFound)
	}
	rows, err := s.pool.Query(ctx, confirmDecideQuery, string(state), by, s.at(at), id)
	if err != nil {
		s.writeFailed("TAP confirmation", err)
		return store.TAPConfirmation{}, fmt.Errorf("store: decide TAP confirmation %q: %w", id, err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanConfirmation)
	if errors.Is(err, pgx.ErrNoRows) {
		if _, gerr := s.Confirmation(ctx, id); gerr != nil {
			return store.TAPConfirmation{}, gerr
		}
		return store.TAPConfirmation{}, fmt.Errorf("TAP confirmation %q already decided: %w", id, store.ErrConflict)
	}
	if err != nil {
		s.writeFailed("TAP confirmation", err)
		return store.TAPConfirmation{}, fmt.Errorf("store: decide TAP confirmation %q: %w", id, err)
	}
	return c, nil
}

// DueConfirmations lists pending confirmations that expired at or before now.
func (s *Store) DueConfirmations(ctx context.Context, now time.Time, limit int) ([]store.TAPConfirmation, error) {
	if err := store.ValidateDueTime(now); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, confirmDueQuery, now, store.ClampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: due TAP confirmations: %w", err)
	}
	cs, err := pgx.CollectRows(rows, scanConfirmation)
	if err != nil {
		return nil, fmt.Errorf("store: due TAP confirmations: %w", err)
	}
	return cs, nil
}

func scanConfirmation(row pgx.CollectableRow) (store.TAPConfirmation, error) {
	var (
		c           store.TAPConfirmation
		path, state string
		decided     *time.Time
	)
	if err := row.Scan(&c.ID, &c.RequestID, &c.TenantID, &c.RequesterID, &c.TargetID, &c.TargetUPN, &path,
		&c.ConfirmerID, &c.LifetimeMinutes, &c.Once, &c.Replace, &c.Reason, &state, &c.DecidedBy,
		&c.CreatedAt, &c.ExpiresAt, &decided); err != nil {
		return store.TAPConfirmation{}, err
	}
	c.Path, c.State = store.ConfirmPath(path), store.ConfirmState(state)
	c.CreatedAt, c.ExpiresAt = c.CreatedAt.UTC(), c.ExpiresAt.UTC()
	if decided != nil {
		c.DecidedAt = decided.UTC()
	}
	return c, nil
}
