package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tapbot/tapbot/internal/store"
)

const (
	// ON CONFLICT DO NOTHING makes the duplicate check and the insert one
	// statement: of two concurrent creates of one id, exactly one inserts.
	createOnboardQuery = `INSERT INTO onboard_requests (` + store.OnboardColumns + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`

	getOnboardQuery = `SELECT ` + store.OnboardColumns + ` FROM onboard_requests WHERE id = ?`

	onboardStateQuery = `SELECT state, version FROM onboard_requests WHERE id = ?`

	// The version in the WHERE is the compare-and-set. UpdateOnboard runs it in
	// the transaction that read the state, so it cannot fail there; it guards any
	// other caller all the same. id and created_at never change.
	updateOnboardQuery = `UPDATE onboard_requests SET
			state = ?, requester_id = ?, requester_upn = ?, form = ?, decider_id = ?,
			decision = ?, user_id = ?, step = ?, error = ?, start_date = ?,
			version = version + 1, updated_at = ?
		WHERE id = ? AND version = ?
		RETURNING ` + store.OnboardColumns

	scheduleJobQuery = `INSERT INTO jobs (id, kind, payload, due_at, attempts)
		VALUES (?, ?, ?, ?, 0)
		ON CONFLICT (id) DO NOTHING`

	// claimJobsQuery picks the due jobs by walking the partial index jobs_due
	// (TestOnboardQueriesUseIndexes holds it to that) and leases them, in one
	// statement. In SQLite a write holds the database's single write lock from
	// its first step to its commit, so no other connection, in this process or
	// another, can pick the same rows in between; ClaimJobs also runs it in a
	// BEGIN IMMEDIATE transaction so that the claims are undone if reading them
	// back fails.
	//
	// A PostgreSQL backend would write the same statement with the subquery
	// ending in FOR UPDATE SKIP LOCKED:
	//
	//	UPDATE jobs SET lease_until = $1, attempts = attempts + 1
	//	WHERE id IN (SELECT id FROM jobs
	//		WHERE done_at IS NULL AND due_at <= $2 AND (lease_until IS NULL OR lease_until <= $2)
	//		ORDER BY due_at, id LIMIT $3
	//		FOR UPDATE SKIP LOCKED)
	//	RETURNING id, kind, payload, due_at, attempts, done_at
	//
	// There, under READ COMMITTED, two claimers can read the same free rows; the
	// row locks make the second skip the rows the first is leasing instead of
	// waiting for it and then leasing them again. Its UpdateOnboard would read
	// the state with SELECT … FOR UPDATE before the same compare-and-set UPDATE.
	claimJobsQuery = `UPDATE jobs SET lease_until = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM jobs
			WHERE done_at IS NULL AND due_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
			ORDER BY due_at, id
			LIMIT ?)
		RETURNING ` + store.JobColumns

	// The IS NULL keeps the first completion's time.
	completeJobQuery = `UPDATE jobs SET done_at = ?, lease_until = NULL
		WHERE id = ? AND done_at IS NULL`

	rescheduleJobQuery = `UPDATE jobs SET due_at = ?, lease_until = NULL
		WHERE id = ? AND done_at IS NULL`

	jobDoneQuery = `SELECT done_at IS NOT NULL FROM jobs WHERE id = ?`
)

// onboardStatements are the prepared statements of the onboarding and job
// methods, in the order of the fields they fill.
func (s *Store) onboardStatements() []preparedStmt {
	return []preparedStmt{
		{&s.createOnboardStmt, "create onboard", createOnboardQuery},
		{&s.getOnboardStmt, "get onboard", getOnboardQuery},
		{&s.onboardStateStmt, "onboard state", onboardStateQuery},
		{&s.updateOnboardStmt, "update onboard", updateOnboardQuery},
		{&s.scheduleJobStmt, "schedule job", scheduleJobQuery},
		{&s.claimJobsStmt, "claim jobs", claimJobsQuery},
		{&s.completeJobStmt, "complete job", completeJobQuery},
		{&s.rescheduleJobStmt, "reschedule job", rescheduleJobQuery},
		{&s.jobDoneStmt, "job done", jobDoneQuery},
	}
}

// CreateOnboard inserts r, normalised by store.OnboardRequest.NormalizeCreate, at
// version 1. Zero CreatedAt is the clock's now, and zero UpdatedAt is CreatedAt. An
// id in use is an error wrapping store.ErrConflict, and leaves the stored request
// as it was.
func (s *Store) CreateOnboard(ctx context.Context, r store.OnboardRequest) error {
	r, err := r.NormalizeCreate(s.now())
	if err != nil {
		return err
	}
	res, err := s.createOnboardStmt.ExecContext(ctx, r.Fields(times{})...)
	if err != nil {
		return fmt.Errorf("store: create onboarding request %q: %w", r.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: create onboarding request %q: %w", r.ID, err)
	}
	if n == 0 {
		return fmt.Errorf("onboarding request %q exists already: %w", r.ID, store.ErrConflict)
	}
	return nil
}

// Onboard returns the request with id, or an error wrapping store.ErrNotFound.
func (s *Store) Onboard(ctx context.Context, id string) (store.OnboardRequest, error) {
	return one[store.OnboardRequest](s.getOnboardStmt.QueryRowContext(ctx, id), fmt.Sprintf("onboarding request %q", id))
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
	got, err := s.updateOnboard(ctx, r)
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrConflict) {
		return store.OnboardRequest{}, fmt.Errorf("store: update onboarding request %q: %w", r.ID, err)
	}
	return got, err
}

func (s *Store) updateOnboard(ctx context.Context, r store.OnboardRequest) (store.OnboardRequest, error) {
	// The DSN makes this BEGIN IMMEDIATE: the write lock is held from the read of
	// the state to the commit, so no other writer, in this process or another,
	// can change the request in between.
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return store.OnboardRequest{}, err
	}
	// Only an early return needs this; after Commit it is a no-op (ErrTxDone).
	defer func() { _ = tx.Rollback() }()

	var (
		state   string
		version int
	)
	err = tx.StmtContext(ctx, s.onboardStateStmt).QueryRowContext(ctx, r.ID).Scan(&state, &version)
	if errors.Is(err, sql.ErrNoRows) {
		return store.OnboardRequest{}, fmt.Errorf("onboarding request %q: %w", r.ID, store.ErrNotFound)
	}
	if err != nil {
		return store.OnboardRequest{}, err
	}
	if err := r.CheckStored(state, version); err != nil {
		return store.OnboardRequest{}, err
	}
	got, err := scan[store.OnboardRequest](tx.StmtContext(ctx, s.updateOnboardStmt).QueryRowContext(ctx,
		r.State, r.RequesterID, r.RequesterUPN, r.Form, r.DeciderID, r.Decision, r.UserID,
		r.Step, r.Error, nullTime(r.StartDate), formatTime(r.UpdatedAt),
		r.ID, r.Version,
	))
	if errors.Is(err, sql.ErrNoRows) {
		// Unreachable while the transaction holds the write lock.
		return store.OnboardRequest{}, fmt.Errorf("onboarding request %q changed under the write lock: %w", r.ID, store.ErrConflict)
	}
	if err != nil {
		return store.OnboardRequest{}, err
	}
	if err := tx.Commit(); err != nil {
		return store.OnboardRequest{}, err
	}
	return got, nil
}

// Onboards lists the requests matching f, newest (by CreatedAt, then ID) first, at
// most store.ClampLimit(f.Limit).
func (s *Store) Onboards(ctx context.Context, f store.OnboardFilter) ([]store.OnboardRequest, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	where, args := onboardWhere(f)
	st, err := s.cachedStmt(ctx, `SELECT `+store.OnboardColumns+` FROM onboard_requests`+where+
		` ORDER BY created_at DESC, id DESC LIMIT ?`)
	if err != nil {
		return nil, fmt.Errorf("store: onboarding requests: %w", err)
	}
	rs, err := collect[store.OnboardRequest](st.QueryContext(ctx, append(args, store.ClampLimit(f.Limit))...))
	if err != nil {
		return nil, fmt.Errorf("store: onboarding requests: %w", err)
	}
	return rs, nil
}

// onboardWhere returns the WHERE clause (with a leading space, or "" for no
// filter) and its arguments. The states are sorted and deduplicated first, so that
// there are at most 2×7 distinct clauses (requester or not, 0-6 states), each
// prepared once (see cachedStmt).
func onboardWhere(f store.OnboardFilter) (string, []any) {
	var (
		conds []string
		args  []any
	)
	if f.RequesterID != "" {
		conds = append(conds, `requester_id = ?`)
		args = append(args, f.RequesterID)
	}
	if len(f.States) > 0 {
		states := slices.Compact(slices.Sorted(slices.Values(f.States)))
		conds = append(conds, `state IN (?`+strings.Repeat(`, ?`, len(states)-1)+`)`)
		for _, st := range states {
			args = append(args, st)
		}
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// ScheduleJob inserts j, not yet attempted nor done, unless a job with its id
// exists; it reports whether it inserted. Zero DueAt is the clock's now.
func (s *Store) ScheduleJob(ctx context.Context, j store.Job) (bool, error) {
	if err := j.Validate(); err != nil {
		return false, err
	}
	if j.DueAt.IsZero() {
		j.DueAt = s.now()
	}
	res, err := s.scheduleJobStmt.ExecContext(ctx, j.ID, j.Kind, j.Payload, formatTime(j.DueAt))
	if err != nil {
		return false, fmt.Errorf("store: schedule job %q: %w", j.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: schedule job %q: %w", j.ID, err)
	}
	return n > 0, nil
}

// ClaimJobs leases for lease, from now (the clock's now if zero), up to
// store.ClampLimit(limit) undone jobs due at or before now whose lease has ended,
// oldest due first, and returns them with Attempts counting this claim.
func (s *Store) ClaimJobs(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Job, error) {
	if err := store.ValidateClaimJobs(now, lease); err != nil {
		return nil, err
	}
	if now.IsZero() {
		now = s.now()
	}
	js, err := s.claimJobs(ctx, now, lease, store.ClampLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("store: claim jobs: %w", err)
	}
	return js, nil
}

func (s *Store) claimJobs(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Job, error) {
	tx, err := s.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE, by the DSN
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	at := formatTime(now)
	js, err := collect[store.Job](tx.StmtContext(ctx, s.claimJobsStmt).QueryContext(ctx, formatTime(now.Add(lease)), at, at, limit))
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
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
	if at.IsZero() {
		at = s.now()
	}
	if _, err := s.updateJob(ctx, s.completeJobStmt, id, formatTime(at), id); err != nil {
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
	if dueAt.IsZero() {
		dueAt = s.now()
	}
	changed, err := s.updateJob(ctx, s.rescheduleJobStmt, id, formatTime(dueAt), id)
	if err != nil {
		return jobError("reschedule", id, err)
	}
	if !changed {
		return fmt.Errorf("job %q is done: %w", id, store.ErrConflict)
	}
	return nil
}

// updateJob runs st, an UPDATE of the undone job id, and reports whether it
// changed the job; if not, it returns store.ErrNotFound unless the job exists (and
// so is done). Jobs are never deleted nor undone, so the answer cannot change
// between the two statements.
func (s *Store) updateJob(ctx context.Context, st *sql.Stmt, id string, args ...any) (bool, error) {
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, err
	}
	if n > 0 {
		return true, nil
	}
	var done bool
	err = s.jobDoneStmt.QueryRowContext(ctx, id).Scan(&done)
	if errors.Is(err, sql.ErrNoRows) {
		return false, store.ErrNotFound
	}
	return false, err
}

// jobError wraps an error of updateJob for the verb's call on job id.
func jobError(verb, id string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("job %q: %w", id, store.ErrNotFound)
	}
	return fmt.Errorf("store: %s job %q: %w", verb, id, err)
}
