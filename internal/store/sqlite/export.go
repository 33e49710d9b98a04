package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tapbot/tapbot/internal/store"
)

// Export hands every row to to, table by table, the audit log in id order, from
// one read transaction so that the rows are one consistent state.
func (s *Store) Export(ctx context.Context, to store.Rows) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("store: export: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	each := func(table, query string, row func(*sql.Rows) error) error {
		rows, err := tx.QueryContext(ctx, query)
		if err != nil {
			return fmt.Errorf("store: export %s: %w", table, err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := row(rows); err != nil {
				return fmt.Errorf("store: export %s: %w", table, err)
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: export %s: %w", table, err)
		}
		return nil
	}
	steps := []struct {
		table, query string
		row          func(*sql.Rows) error
	}{
		{"conversation_references", `SELECT ` + referenceColumns + ` FROM conversation_references ORDER BY conversation_id`,
			func(rows *sql.Rows) error { return pass(scanReference(rows))(to.Reference) }},
		{"audit", `SELECT ` + auditColumns + ` FROM audit ORDER BY id`,
			func(rows *sql.Rows) error { return pass(scanAudit(rows))(to.Audit) }},
		{"deliveries", `SELECT ` + deliveryColumns + ` FROM deliveries ORDER BY id`,
			func(rows *sql.Rows) error { return pass(scanDelivery(rows))(to.Delivery) }},
		{"claims", `SELECT key, claimed_at FROM claims ORDER BY key`,
			func(rows *sql.Rows) error {
				var (
					c  store.ClaimRow
					at string
				)
				if err := rows.Scan(&c.Key, &at); err != nil {
					return err
				}
				var err error
				if c.At, err = parseTime(at); err != nil {
					return fmt.Errorf("claim %q: claimed_at: %w", c.Key, err)
				}
				return to.Claim(c)
			}},
		{"onboard_requests", `SELECT ` + onboardColumns + ` FROM onboard_requests ORDER BY id`,
			func(rows *sql.Rows) error { return pass(scanOnboard(rows))(to.Onboard) }},
		{"jobs", `SELECT ` + jobColumns + `, lease_until FROM jobs ORDER BY id`,
			func(rows *sql.Rows) error {
				var lease sql.NullString
				j, err := scanJob(withExtra{rows, []any{&lease}})
				if err != nil {
					return err
				}
				row := store.JobRow{Job: j}
				if row.LeaseUntil, err = parseNullTime(lease); err != nil {
					return fmt.Errorf("job %q: lease_until: %w", j.ID, err)
				}
				return to.Job(row)
			}},
		{"checklists", `SELECT ` + checklistColumns + ` FROM checklists ORDER BY user_id`,
			func(rows *sql.Rows) error { return pass(scanChecklist(rows))(to.Checklist) }},
		{"tap_intents", `SELECT ` + intentColumns + `, created_at FROM tap_intents ORDER BY id`,
			func(rows *sql.Rows) error {
				var created sql.NullString
				i, err := scanIntent(withExtra{rows, []any{&created}})
				if err != nil {
					return err
				}
				row := store.IntentRow{TAPIntent: i}
				if row.CreatedAt, err = parseNullTime(created); err != nil {
					return fmt.Errorf("TAP intent %q: created_at: %w", i.ID, err)
				}
				return to.TAPIntent(row)
			}},
		{"tap_confirmations", `SELECT ` + confirmColumns + ` FROM tap_confirmations ORDER BY id`,
			func(rows *sql.Rows) error { return pass(scanConfirmation(rows))(to.Confirmation) }},
	}
	for _, st := range steps {
		if err := each(st.table, st.query, st.row); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Counts returns the number of rows in each of store.Tables.
func (s *Store) Counts(ctx context.Context) (map[string]int64, error) {
	counts := make(map[string]int64, len(store.Tables))
	for _, table := range store.Tables {
		var n int64
		// The table names are store.Tables', not input.
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			return nil, fmt.Errorf("store: count %s: %w", table, err)
		}
		counts[table] = n
	}
	return counts, nil
}

// pass hands a scanned value to a Rows method, or returns the scan's error.
func pass[T any](v T, err error) func(func(T) error) error {
	return func(f func(T) error) error {
		if err != nil {
			return err
		}
		return f(v)
	}
}

// withExtra scans the columns a scan function knows and then more: the export's
// queries add columns the Store interface does not show.
type withExtra struct {
	rows *sql.Rows
	more []any
}

func (w withExtra) Scan(dest ...any) error { return w.rows.Scan(append(dest, w.more...)...) }
