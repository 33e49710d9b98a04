package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tapbot/tapbot/internal/store"
)

const (
	// ON CONFLICT DO NOTHING makes the duplicate check and the insert one
	// statement: of two concurrent creates of one id, exactly one inserts.
	createOnboardQuery = `INSERT INTO onboard_requests (` + store.OnboardColumns + `)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (id) DO NOTHING`

	getOnboardQuery = `SELECT ` + store.OnboardColumns + ` FROM onboard_requests WHERE id = $1`

	// FOR UPDATE holds the row from the read of the state to the commit, so no
	// other transaction, on any replica, can change the request in between.
	onboardStateQuery = `SELECT state, version FROM onboard_requests WHERE id = $1 FOR UPDATE`

	updateOnboardQuery = `UPDATE onboard_requests SET
			state = $1, requester_id = $2, requester_upn = $3, form = $4, decider_id = $5,
			decision = $6, user_id = $7, step = $8, error = $9, start_date = $10,
			version = version + 1, updated_at = $11
		WHERE id = $12 AND version = $13
		RETURNING ` + store.OnboardColumns

	scheduleJobQuery = `INSERT INTO jobs (id, kind, payload, due_at, attempts)
		VALUES ($1, $2, $3, $4, 0)
		ON CONFLICT (id) DO NOTHING`

	// claimJobsQuery picks the due jobs and leases them in one statement. Under
	// READ COMMITTED two replicas can read the same free rows; FOR UPDATE SKIP
	// LOCKED makes the second skip the rows the first is leasing, instead of
	// waiting for its commit and then leasing them again (or waiting at all).
	claimJobsQuery = `UPDATE jobs SET lease_until = $1, attempts = attempts + 1
		WHERE id IN (SELECT id FROM jobs
			WHERE done_at IS NULL AND due_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
			ORDER BY due_at, id
			LIMIT $3
			FOR UPDATE SKIP LOCKED)
		RETURNING ` + store.JobColumns

	// The IS NULL keeps the first completion's time.
	completeJobQuery = `UPDATE jobs SET done_at = $1, lease_until = NULL
		WHERE id = $2 AND done_at IS NULL`

	rescheduleJobQuery = `UPDATE jobs SET due_at = $1, lease_until = NULL
		WHERE id = $2 AND done_at IS NULL`

	jobExistsQuery = `SELECT EXISTS (SELECT 1 FROM jobs WHERE id = $1)`
)

// CreateOnboard inserts r, normalised by store.OnboardRequest.NormalizeCreate, at
// version 1. Zero CreatedAt is the clock's now, and zero UpdatedAt is CreatedAt. An
// id in use is an error wrapping store.ErrConflict, and leaves the stored request
// as it was.
func (s *Store) CreateOnboard(ctx context.Context, r store.OnboardRequest) error {
	r, err := r.NormalizeCreate(s.now())
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, createOnboardQuery, r.Fields(times{})...)
	if err != nil {
		return fmt.Errorf("store: create onboarding request %q: %w", r.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("onboarding request %q exists already: %w", r.ID, store.ErrConflict)
	}
	return nil
}

// Onboard returns the request with id, or an error wrapping store.ErrNotFound.
func (s *Store) Onboard(ctx context.Context, id string) (store.OnboardRequest, error) {
	return one[store.OnboardRequest](ctx, s.pool, fmt.Sprintf("onboarding request %q", id), getOnboardQuery, id)
}

// UpdateOnboard writes r, normalised by store.OnboardRequest.NormalizeUpdate, over
// the stored request if store.OnboardRequest.CheckStored allows it (the stored
// request is at r.Version and its state may become r.State), and returns what it stored (at r.Version+1). Zero
// UpdatedAt is the clock's now; ID and CreatedAt are not written. A stale version
// or a refused transition is an error wrapping store.ErrConflict, an unknown id one
// wrapping store.ErrNotFound.
func (s *Store) UpdateOnboard(ctx context.Context, r store.OnboardRequest) (store.OnboardRequest, error) {
	r, err := r.NormalizeUpdate(s.now())
	if err != nil {
		return store.OnboardRequest{}, err
	}
	var got store.OnboardRequest
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		got, err = updateOnboard(ctx, tx, r)
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
		return store.OnboardRequest{}, fmt.Errorf("store: update onboarding request %q: %w", r.ID, err)
	}
	return got, err
}

func updateOnboard(ctx context.Context, tx pgx.Tx, r store.OnboardRequest) (store.OnboardRequest, error) {
	var (
		state   string
		version int
	)
	err := tx.QueryRow(ctx, onboardStateQuery, r.ID).Scan(&state, &version)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.OnboardRequest{}, fmt.Errorf("onboarding request %q: %w", r.ID, store.ErrNotFound)
	}
	if err != nil {
		return store.OnboardRequest{}, err
	}
	if err := r.CheckStored(state, version); err != nil {
		return store.OnboardRequest{}, err
	}
	rows, err := tx.Query(ctx, updateOnboardQuery,
		r.State, r.RequesterID, r.RequesterUPN, r.Form, r.DeciderID, r.Decision, r.UserID,
		r.Step, r.Error, nullTime(r.StartDate), r.UpdatedAt,
		r.ID, r.Version,
	)
	if err != nil {
		return store.OnboardRequest{}, err
	}
	got, err := pgx.CollectExactlyOneRow(rows, scan[store.OnboardRequest])
	if errors.Is(err, pgx.ErrNoRows) {
		// Unreachable while the transaction holds the row lock.
		return store.OnboardRequest{}, fmt.Errorf("onboarding request %q changed under the row lock: %w", r.ID, store.ErrConflict)
	}
	return got, err
}

// Onboards lists the requests matching f, newest (by CreatedAt, then ID) first, at
// most store.ClampLimit(f.Limit).
func (s *Store) Onboards(ctx context.Context, f store.OnboardFilter) ([]store.OnboardRequest, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if !storable(f.RequesterID) {
		return nil, nil
	}
	var (
		conds []string
		args  []any
	)
	if f.RequesterID != "" {
		args = append(args, f.RequesterID)
		conds = append(conds, `requester_id = $1`)
	}
	if len(f.States) > 0 {
		// One array parameter, so that every set of states is one statement.
		args = append(args, slices.Compact(slices.Sorted(slices.Values(f.States))))
		conds = append(conds, `state = ANY($`+strconv.Itoa(len(args))+`)`)
	}
	where := ""
	if len(conds) > 0 {
		where = " WHERE " + strings.Join(conds, " AND ")
	}
	args = append(args, store.ClampLimit(f.Limit))
	rs, err := list[store.OnboardRequest](s.pool.Query(ctx, `SELECT `+store.OnboardColumns+` FROM onboard_requests`+where+
		` ORDER BY created_at DESC, id DESC LIMIT $`+strconv.Itoa(len(args)), args...))
	if err != nil {
		return nil, fmt.Errorf("store: onboarding requests: %w", err)
	}
	return rs, nil
}

// ScheduleJob inserts j, not yet attempted nor done, unless a job with its id
// exists; it reports whether it inserted. Zero DueAt is the clock's now.
func (s *Store) ScheduleJob(ctx context.Context, j store.Job) (bool, error) {
	if err := j.Validate(); err != nil {
		return false, err
	}
	tag, err := s.pool.Exec(ctx, scheduleJobQuery, j.ID, j.Kind, j.Payload, s.at(j.DueAt))
	if err != nil {
		return false, fmt.Errorf("store: schedule job %q: %w", j.ID, err)
	}
	return tag.RowsAffected() > 0, nil
}

// ClaimJobs leases for lease, from now (the clock's now if zero), up to
// store.ClampLimit(limit) undone jobs due at or before now whose lease has ended,
// oldest due first, and returns them with Attempts counting this claim.
func (s *Store) ClaimJobs(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Job, error) {
	if err := store.ValidateClaimJobs(now, lease); err != nil {
		return nil, err
	}
	now = s.at(now)
	js, err := list[store.Job](s.pool.Query(ctx, claimJobsQuery, now.Add(lease), now, store.ClampLimit(limit)))
	if err != nil {
		return nil, fmt.Errorf("store: claim jobs: %w", err)
	}
	store.SortJobs(js)
	return js, nil
}

// CompleteJob marks job id done at at (the clock's now if zero) and frees its
// lease. A job already done keeps its first completion; an unknown id is an error
// wrapping store.ErrNotFound.
func (s *Store) CompleteJob(ctx context.Context, id string, at time.Time) error {
	if err := store.ValidateJobTime(id, at); err != nil {
		return err
	}
	if _, err := s.updateJob(ctx, completeJobQuery, id, s.at(at)); err != nil {
		return jobError("complete", id, err)
	}
	return nil
}

// RescheduleJob frees job id's lease and makes it due at dueAt (the clock's now if
// zero), keeping its Attempts. A done job is an error wrapping store.ErrConflict
// and stays done; an unknown id is one wrapping store.ErrNotFound.
func (s *Store) RescheduleJob(ctx context.Context, id string, dueAt time.Time) error {
	if err := store.ValidateJobTime(id, dueAt); err != nil {
		return err
	}
	changed, err := s.updateJob(ctx, rescheduleJobQuery, id, s.at(dueAt))
	if err != nil {
		return jobError("reschedule", id, err)
	}
	if !changed {
		return fmt.Errorf("job %q is done: %w", id, store.ErrConflict)
	}
	return nil
}

// updateJob runs query, an UPDATE of the undone job id taking ($1 = t, $2 = id),
// and reports whether it changed the job; if not, it returns store.ErrNotFound
// unless the job exists (and so is done). Jobs are never deleted nor undone, so
// the answer cannot change between the two statements.
func (s *Store) updateJob(ctx context.Context, query, id string, t time.Time) (bool, error) {
	tag, err := s.pool.Exec(ctx, query, t, id)
	if err != nil {
		return false, err
	}
	if tag.RowsAffected() > 0 {
		return true, nil
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, jobExistsQuery, id).Scan(&exists); err != nil {
		return false, err
	}
	if !exists {
		return false, store.ErrNotFound
	}
	return false, nil
}

// jobError wraps an error of updateJob for the verb's call on job id.
func jobError(verb, id string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("job %q: %w", id, store.ErrNotFound)
	}
	return fmt.Errorf("store: %s job %q: %w", verb, id, err)
}
