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
	// The unique index tap_confirmations_pending_target refuses a second pending
	// confirmation for a target, across connections and replicas.
	confirmInsertQuery = `INSERT INTO tap_confirmations (` + store.ConfirmColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)`
	confirmGetQuery    = `SELECT ` + store.ConfirmColumns + ` FROM tap_confirmations WHERE id = $1`
	confirmDecideQuery = `UPDATE tap_confirmations SET state = $1, decided_by = $2, decided_at = $3
		WHERE id = $4 AND state = 'pending' RETURNING ` + store.ConfirmColumns
	confirmCardsQuery = `UPDATE tap_confirmations SET question_service_url = $1, question_conversation_id = $2,
		question_activity_id = $3, waiting_service_url = $4, waiting_conversation_id = $5, waiting_activity_id = $6
		WHERE id = $7 RETURNING ` + store.ConfirmColumns
	confirmDueQuery = `SELECT ` + store.ConfirmColumns + ` FROM tap_confirmations
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
	c.DecidedBy, c.DecidedAt = "", time.Time{} // pending (Validate)
	_, err := s.pool.Exec(ctx, confirmInsertQuery, c.Fields(times{})...)
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
	return one[store.TAPConfirmation](ctx, s.pool, fmt.Sprintf("TAP confirmation %q", id), confirmGetQuery, id)
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
	c, err := pgx.CollectExactlyOneRow(rows, scan[store.TAPConfirmation])
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

// RecordConfirmationCards records where c's two cards were posted, in any state.
func (s *Store) RecordConfirmationCards(ctx context.Context, id string, question, waiting store.CardRef) (store.TAPConfirmation, error) {
	if err := store.ValidCards(id, question, waiting); err != nil {
		return store.TAPConfirmation{}, err
	}
	rows, err := s.pool.Query(ctx, confirmCardsQuery, question.ServiceURL, question.ConversationID, question.ActivityID,
		waiting.ServiceURL, waiting.ConversationID, waiting.ActivityID, id)
	if err != nil {
		s.writeFailed("TAP confirmation", err)
		return store.TAPConfirmation{}, fmt.Errorf("store: record cards of TAP confirmation %q: %w", id, err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, scan[store.TAPConfirmation])
	if errors.Is(err, pgx.ErrNoRows) {
		return store.TAPConfirmation{}, fmt.Errorf("TAP confirmation %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		s.writeFailed("TAP confirmation", err)
		return store.TAPConfirmation{}, fmt.Errorf("store: record cards of TAP confirmation %q: %w", id, err)
	}
	return c, nil
}

// DueConfirmations lists pending confirmations that expired at or before now.
func (s *Store) DueConfirmations(ctx context.Context, now time.Time, limit int) ([]store.TAPConfirmation, error) {
	if err := store.ValidateDueTime(now); err != nil {
		return nil, err
	}
	cs, err := list[store.TAPConfirmation](s.pool.Query(ctx, confirmDueQuery, now, store.ClampLimit(limit)))
	if err != nil {
		return nil, fmt.Errorf("store: due TAP confirmations: %w", err)
	}
	return cs, nil
}
