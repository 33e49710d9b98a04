package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tapbot/tapbot/internal/store"
)

const (
	// ON CONFLICT DO NOTHING makes the duplicate check and the insert one
	// statement: of two concurrent creates for one user, exactly one inserts.
	createChecklistQuery = `INSERT INTO checklists (` + store.ChecklistColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (user_id) DO NOTHING`

	getChecklistQuery = `SELECT ` + store.ChecklistColumns + ` FROM checklists WHERE user_id = $1`

	// The version in the WHERE is the compare-and-set, in one statement: of
	// concurrent updates from one version, the first takes the row lock and the
	// others, re-checking the WHERE on the row it wrote, match nothing. COALESCE
	// keeps the first completion's time. user_id and started_at never change.
	updateChecklistQuery = `UPDATE checklists SET
			user_upn = $1, request_id = $2, manager_id = $3, no_smartphone = $4, conversation_id = $5,
			activity_id = $6, progress = $7, updated_at = $8, done_at = COALESCE(done_at, $9),
			version = version + 1
		WHERE user_id = $10 AND version = $11
		RETURNING ` + store.ChecklistColumns

	checklistVersionQuery = `SELECT version FROM checklists WHERE user_id = $1`

	openChecklistsQuery = `SELECT ` + store.ChecklistColumns + ` FROM checklists
		WHERE done_at IS NULL
		ORDER BY started_at, user_id
		LIMIT $1`
)

// CreateChecklist inserts c, checked by store.Checklist.NormalizeCreate, at
// version 1. Zero StartedAt is the clock's now, and zero UpdatedAt is StartedAt. A
// user with a checklist already is an error wrapping store.ErrConflict, and keeps
// the stored checklist as it was.
func (s *Store) CreateChecklist(ctx context.Context, c store.Checklist) error {
	c, err := c.NormalizeCreate(s.now())
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, createChecklistQuery, c.Fields(times{})...)
	if err != nil {
		return fmt.Errorf("store: create checklist of %q: %w", c.UserID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("checklist of %q exists already: %w", c.UserID, store.ErrConflict)
	}
	return nil
}

// Checklist returns the checklist of userID, or an error wrapping
// store.ErrNotFound.
func (s *Store) Checklist(ctx context.Context, userID string) (store.Checklist, error) {
	return one[store.Checklist](ctx, s.pool, fmt.Sprintf("checklist of %q", userID), getChecklistQuery, userID)
}

// UpdateChecklist writes c, checked by store.Checklist.NormalizeUpdate, over the
// stored checklist if that is at c.Version, and returns what it stored (at
// c.Version+1). Zero UpdatedAt is the clock's now; UserID and StartedAt are not
// written, nor DoneAt once the stored one is set. A stale version is an error
// wrapping store.ErrConflict, an unknown user one wrapping store.ErrNotFound.
func (s *Store) UpdateChecklist(ctx context.Context, c store.Checklist) (store.Checklist, error) {
	c, err := c.NormalizeUpdate(s.now())
	if err != nil {
		return store.Checklist{}, err
	}
	rows, err := s.pool.Query(ctx, updateChecklistQuery,
		c.UserUPN, c.RequestID, c.ManagerID, c.NoSmartphone, c.ConversationID,
		c.ActivityID, c.Progress, c.UpdatedAt, nullTime(c.DoneAt),
		c.UserID, c.Version,
	)
	if err != nil {
		return store.Checklist{}, fmt.Errorf("store: update checklist of %q: %w", c.UserID, err)
	}
	got, err := pgx.CollectExactlyOneRow(rows, scan[store.Checklist])
	if err == nil {
		return got, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return store.Checklist{}, fmt.Errorf("store: update checklist of %q: %w", c.UserID, err)
	}
	// No row at c.Version: a stale version, or no checklist. Checklists are never
	// deleted, so one that exists now existed at the update.
	var version int
	err = s.pool.QueryRow(ctx, checklistVersionQuery, c.UserID).Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Checklist{}, fmt.Errorf("checklist of %q: %w", c.UserID, store.ErrNotFound)
	}
	if err != nil {
		return store.Checklist{}, fmt.Errorf("store: update checklist of %q: %w", c.UserID, err)
	}
	return store.Checklist{}, fmt.Errorf("checklist of %q is at version %d, not %d: %w", c.UserID, version, c.Version, store.ErrConflict)
}

// OpenChecklists lists the checklists not done, oldest StartedAt (then UserID)
// first, at most store.ClampLimit(limit).
func (s *Store) OpenChecklists(ctx context.Context, limit int) ([]store.Checklist, error) {
	cs, err := list[store.Checklist](s.pool.Query(ctx, openChecklistsQuery, store.ClampLimit(limit)))
	if err != nil {
		return nil, fmt.Errorf("store: open checklists: %w", err)
	}
	return cs, nil
}
