package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/tapbot/tapbot/internal/store"
)

const (
	// ON CONFLICT DO NOTHING makes the duplicate check and the insert one
	// statement: of two concurrent creates for one user, exactly one inserts.
	createChecklistQuery = `INSERT INTO checklists (` + store.ChecklistColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id) DO NOTHING`

	getChecklistQuery = `SELECT ` + store.ChecklistColumns + ` FROM checklists WHERE user_id = ?`

	// The version in the WHERE is the compare-and-set, in one statement: of
	// concurrent updates from one version, exactly one matches. COALESCE keeps
	// the first completion's time. user_id and started_at never change.
	updateChecklistQuery = `UPDATE checklists SET
			user_upn = ?, request_id = ?, manager_id = ?, no_smartphone = ?, conversation_id = ?,
			activity_id = ?, progress = ?, updated_at = ?, done_at = COALESCE(done_at, ?),
			version = version + 1
		WHERE user_id = ? AND version = ?
		RETURNING ` + store.ChecklistColumns

	checklistVersionQuery = `SELECT version FROM checklists WHERE user_id = ?`

	// openChecklistsQuery walks the partial index checklists_open
	// (TestChecklistQueriesUseIndexes holds it to that) and stops at its limit.
	openChecklistsQuery = `SELECT ` + store.ChecklistColumns + ` FROM checklists
		WHERE done_at IS NULL
		ORDER BY started_at, user_id
		LIMIT ?`
)

// checklistStatements are the prepared statements of the checklist methods, in
// the order of the fields they fill.
func (s *Store) checklistStatements() []preparedStmt {
	return []preparedStmt{
		{&s.createChecklistStmt, "create checklist", createChecklistQuery},
		{&s.getChecklistStmt, "get checklist", getChecklistQuery},
		{&s.updateChecklistStmt, "update checklist", updateChecklistQuery},
		{&s.checklistVersionStmt, "checklist version", checklistVersionQuery},
		{&s.openChecklistsStmt, "open checklists", openChecklistsQuery},
	}
}

// CreateChecklist inserts c, checked by store.Checklist.NormalizeCreate, at
// version 1. Zero StartedAt is the clock's now, and zero UpdatedAt is StartedAt. A
// user with a checklist already is an error wrapping store.ErrConflict, and keeps
// the stored checklist as it was.
func (s *Store) CreateChecklist(ctx context.Context, c store.Checklist) error {
	c, err := c.NormalizeCreate(s.now())
	if err != nil {
		return err
	}
	res, err := s.createChecklistStmt.ExecContext(ctx, c.Fields(times{})...)
	if err != nil {
		return fmt.Errorf("store: create checklist of %q: %w", c.UserID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: create checklist of %q: %w", c.UserID, err)
	}
	if n == 0 {
		return fmt.Errorf("checklist of %q exists already: %w", c.UserID, store.ErrConflict)
	}
	return nil
}

// Checklist returns the checklist of userID, or an error wrapping
// store.ErrNotFound.
func (s *Store) Checklist(ctx context.Context, userID string) (store.Checklist, error) {
	return one[store.Checklist](s.getChecklistStmt.QueryRowContext(ctx, userID), fmt.Sprintf("checklist of %q", userID))
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
	got, err := scan[store.Checklist](s.updateChecklistStmt.QueryRowContext(ctx,
		c.UserUPN, c.RequestID, c.ManagerID, c.NoSmartphone, c.ConversationID,
		c.ActivityID, c.Progress, formatTime(c.UpdatedAt), nullTime(c.DoneAt),
		c.UserID, c.Version,
	))
	if err == nil {
		return got, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return store.Checklist{}, fmt.Errorf("store: update checklist of %q: %w", c.UserID, err)
	}
	// No row at c.Version: a stale version, or no checklist. Checklists are never
	// deleted, so one that exists now existed at the update.
	var version int
	err = s.checklistVersionStmt.QueryRowContext(ctx, c.UserID).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
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
	cs, err := collect[store.Checklist](s.openChecklistsStmt.QueryContext(ctx, store.ClampLimit(limit)))
	if err != nil {
		return nil, fmt.Errorf("store: open checklists: %w", err)
	}
	return cs, nil
}
