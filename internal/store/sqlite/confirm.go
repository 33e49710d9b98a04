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
	confirmPendingQuery = `SELECT 1 FROM tap_confirmations WHERE target_id = ? AND state = 'pending' LIMIT 1`
	confirmInsertQuery  = `INSERT INTO tap_confirmations (` + store.ConfirmColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`
	confirmGetQuery    = `SELECT ` + store.ConfirmColumns + ` FROM tap_confirmations WHERE id = ?`
	confirmDecideQuery = `UPDATE tap_confirmations SET state = ?, decided_by = ?, decided_at = ?
		WHERE id = ? AND state = 'pending' RETURNING ` + store.ConfirmColumns
	confirmCardsQuery = `UPDATE tap_confirmations SET question_service_url = ?, question_conversation_id = ?,
		question_activity_id = ?, waiting_service_url = ?, waiting_conversation_id = ?, waiting_activity_id = ?
		WHERE id = ? RETURNING ` + store.ConfirmColumns
	confirmDueQuery = `SELECT ` + store.ConfirmColumns + ` FROM tap_confirmations
		WHERE state = 'pending' AND expires_at <= ? ORDER BY expires_at, id LIMIT ?`
)

// CreateConfirmation writes c as pending after checking, under the write lock
// (BEGIN IMMEDIATE, by the DSN), that no other confirmation for the target is.
func (s *Store) CreateConfirmation(ctx context.Context, c store.TAPConfirmation) error {
	if err := c.Validate(); err != nil {
		return err
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	c.DecidedBy, c.DecidedAt = "", time.Time{} // pending (Validate)
	if err := s.createConfirmation(ctx, c); err != nil {
		if !errors.Is(err, store.ErrConfirmationPending) && !errors.Is(err, store.ErrConflict) {
			s.writeFailed("TAP confirmation", err)
		}
		return fmt.Errorf("store: create TAP confirmation %q: %w", c.ID, err)
	}
	return nil
}

func (s *Store) createConfirmation(ctx context.Context, c store.TAPConfirmation) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	var one int
	switch err := tx.QueryRowContext(ctx, confirmPendingQuery, c.TargetID).Scan(&one); {
	case err == nil:
		return store.ErrConfirmationPending
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	res, err := tx.ExecContext(ctx, confirmInsertQuery, c.Fields(times{})...)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return errors.Join(err, fmt.Errorf("confirmation id in use: %w", store.ErrConflict))
	}
	return tx.Commit()
}

// Confirmation returns one confirmation, or an error wrapping store.ErrNotFound.
func (s *Store) Confirmation(ctx context.Context, id string) (store.TAPConfirmation, error) {
	return one[store.TAPConfirmation](s.db.QueryRowContext(ctx, confirmGetQuery, id), fmt.Sprintf("TAP confirmation %q", id))
}

// DecideConfirmation moves a pending confirmation to state in one conditional
// UPDATE: of two concurrent decisions exactly one finds it pending.
func (s *Store) DecideConfirmation(ctx context.Context, id string, state store.ConfirmState, by string, at time.Time) (store.TAPConfirmation, error) {
	if err := store.ValidDecision(id, state); err != nil {
		return store.TAPConfirmation{}, err
	}
	c, err := scan[store.TAPConfirmation](s.db.QueryRowContext(ctx, confirmDecideQuery, string(state), by, formatTime(s.at(at)), id))
	if errors.Is(err, sql.ErrNoRows) {
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
	c, err := scan[store.TAPConfirmation](s.db.QueryRowContext(ctx, confirmCardsQuery, question.ServiceURL, question.ConversationID,
		question.ActivityID, waiting.ServiceURL, waiting.ConversationID, waiting.ActivityID, id))
	if errors.Is(err, sql.ErrNoRows) {
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
	out, err := collect[store.TAPConfirmation](s.db.QueryContext(ctx, confirmDueQuery, formatTime(now), store.ClampLimit(limit)))
	if err != nil {
		return nil, fmt.Errorf("store: due TAP confirmations: %w", err)
	}
	return out, nil
}
