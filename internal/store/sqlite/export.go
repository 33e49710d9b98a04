package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/tapbot/tapbot/internal/store"
)

// Export hands every row to to, table by table (store.CopiedTables), from one read
// transaction so that the rows are one consistent state.
func (s *Store) Export(ctx context.Context, to store.Rows) error {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("store: export: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, table := range store.CopiedTables {
		if err := export(ctx, tx, table, to); err != nil {
			return fmt.Errorf("store: export %s: %w", table.Name, err)
		}
	}
	return tx.Commit()
}

func export(ctx context.Context, tx *sql.Tx, table store.CopiedTable, to store.Rows) error {
	rows, err := tx.QueryContext(ctx, table.Select())
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := table.Send(rows.Scan, times{}, to); err != nil {
			return err
		}
	}
	return rows.Err()
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
