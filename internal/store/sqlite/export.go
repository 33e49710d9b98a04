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
	return table.Send(rows, times{}, to)
}

// Counts returns the number of rows in each of store.Tables.
func (s *Store) Counts(ctx context.Context) (map[string]int64, error) {
	return store.Counts(func(query string) (int64, error) {
		var n int64
		err := s.db.QueryRowContext(ctx, query).Scan(&n)
		return n, err
	})
}
