package sqlite

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/tapbot/tapbot/internal/store"
)

// timeFormat is RFC 3339 with the fraction always nine digits. time.RFC3339Nano
// drops trailing zeros, which makes text order disagree with time order
// ("…:05Z" sorts after "…:05.1Z") and would break ORDER BY updated_at.
const timeFormat = "2006-01-02T15:04:05.000000000Z07:00"

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// scan reads one row into a T, through its Fields.
func scan[T any, P store.Record[T]](row scanner) (T, error) {
	var v T
	if err := row.Scan(P(&v).Fields(times{})...); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// one is the record row holds, or an error wrapping store.ErrNotFound that names
// it what ("checklist of \"u1\"").
func one[T any, P store.Record[T]](row *sql.Row, what string) (T, error) {
	v, err := scan[T, P](row)
	if errors.Is(err, sql.ErrNoRows) {
		return v, fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	if err != nil {
		return v, fmt.Errorf("store: get %s: %w", what, err)
	}
	return v, nil
}

// collect scans every row of a query's result and closes it: the one loop over a
// result set that every list method shares. It takes the query's two results as
// they come.
func collect[T any, P store.Record[T]](rows *sql.Rows, err error) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan[T, P](rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, rows.Close()
}

// times is SQLite's store.Times: a time is text in timeFormat, in UTC, and the
// zero time of a nullable column is NULL.
type times struct{}

func (times) Time(t *time.Time) any { return textTime{t, false} }
func (times) Null(t *time.Time) any { return textTime{t, true} }

// textTime is a time field as a column: a driver.Valuer for arguments and a
// sql.Scanner for results.
type textTime struct {
	t        *time.Time
	nullable bool
}

func (x textTime) Value() (driver.Value, error) {
	if x.nullable && x.t.IsZero() {
		return nil, nil
	}
	return formatTime(*x.t), nil
}

func (x textTime) Scan(src any) error {
	var err error
	switch v := src.(type) {
	case nil:
		if !x.nullable {
			return errors.New("NULL in a NOT NULL time column")
		}
		*x.t = time.Time{}
	case string:
		*x.t, err = parseTime(v)
	case []byte:
		*x.t, err = parseTime(string(v))
	default:
		err = fmt.Errorf("a time column holds %T", src)
	}
	return err
}

func formatTime(t time.Time) string {
	return t.UTC().Format(timeFormat)
}

// nullTime stores a zero time as NULL, so that it reads back as zero.
func nullTime(t time.Time) sql.NullString {
	if t.IsZero() {
		return sql.NullString{}
	}
	return sql.NullString{String: formatTime(t), Valid: true}
}

func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}
