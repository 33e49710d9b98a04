package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/tapbot/tapbot/internal/store"
)

// querier is the pool or a transaction.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// scan reads one row into a T, through its Fields.
func scan[T any, P store.Record[T]](row pgx.CollectableRow) (T, error) {
	var v T
	if err := row.Scan(P(&v).Fields(times{})...); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// one is the record query finds, or an error wrapping store.ErrNotFound that names
// it what ("checklist of \"u1\""). A text argument that no row can hold (see
// storable) finds nothing without asking.
func one[T any, P store.Record[T]](ctx context.Context, q querier, what, query string, args ...any) (T, error) {
	var zero T
	notFound := fmt.Errorf("%s: %w", what, store.ErrNotFound)
	for _, a := range args {
		if s, ok := a.(string); ok && !storable(s) {
			return zero, notFound
		}
	}
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return zero, fmt.Errorf("store: get %s: %w", what, err)
	}
	v, err := pgx.CollectExactlyOneRow(rows, scan[T, P])
	if errors.Is(err, pgx.ErrNoRows) {
		return zero, notFound
	}
	if err != nil {
		return zero, fmt.Errorf("store: get %s: %w", what, err)
	}
	return v, nil
}

// list scans every row of a query's result, taking the query's two results as they
// come.
func list[T any, P store.Record[T]](rows pgx.Rows, err error) ([]T, error) {
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scan[T, P])
}

// times is PostgreSQL's store.Times: timestamptz, read back in UTC, and the zero
// time of a nullable column is NULL.
type times struct{}

func (times) Time(t *time.Time) any { return utcTime{t, false} }
func (times) Null(t *time.Time) any { return utcTime{t, true} }

// utcTime is a time field as a column: a pgtype.TimestamptzValuer for arguments
// and a pgtype.TimestamptzScanner for results.
type utcTime struct {
	t        *time.Time
	nullable bool
}

func (x utcTime) TimestamptzValue() (pgtype.Timestamptz, error) {
	if x.nullable && x.t.IsZero() {
		return pgtype.Timestamptz{}, nil
	}
	return pgtype.Timestamptz{Time: *x.t, Valid: true}, nil
}

func (x utcTime) ScanTimestamptz(v pgtype.Timestamptz) error {
	switch {
	case !v.Valid && !x.nullable:
		return errors.New("NULL in a NOT NULL time column")
	case v.InfinityModifier != pgtype.Finite:
		return fmt.Errorf("%s in a time column", v.InfinityModifier)
	}
	*x.t = time.Time{}
	if v.Valid {
		*x.t = v.Time.UTC()
	}
	return nil
}

// nullTime stores a zero time as NULL, so that it reads back as zero.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
