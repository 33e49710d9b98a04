package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/tapbot/tapbot/internal/store"
)

// ErrNotEmpty is returned by Import into a database that holds rows already.
var ErrNotEmpty = errors.New("store: the database is not empty")

// Export hands every row to to, table by table (store.CopiedTables), from one
// REPEATABLE READ transaction so that the rows are one consistent state.
func (s *Store) Export(ctx context.Context, to store.Rows) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		for _, table := range store.CopiedTables {
			if err := export(ctx, tx, table, to); err != nil {
				return fmt.Errorf("store: export %s: %w", table.Name, err)
			}
		}
		return nil
	})
}

func export(ctx context.Context, tx pgx.Tx, table store.CopiedTable, to store.Rows) error {
	rows, err := tx.Query(ctx, table.Select())
	if err != nil {
		return err
	}
	defer rows.Close()
	return table.Send(rows, times{}, to)
}

// Counts returns the number of rows in each of store.Tables.
func (s *Store) Counts(ctx context.Context) (map[string]int64, error) {
	return counts(ctx, s.pool)
}

func counts(ctx context.Context, q querier) (map[string]int64, error) {
	return store.Counts(func(query string) (int64, error) {
		var n int64
		err := q.QueryRow(ctx, query).Scan(&n)
		return n, err
	})
}

// importBatch is how many rows Import sends per round trip.
const importBatch = 500

// Import writes the rows fill hands it, in one transaction: all of them or, if fill
// or a write fails, none. The database must be empty (ErrNotEmpty otherwise):
// Import is for moving an installation here, not for merging two. Audit ids are
// kept, and new ones continue after the highest.
func (s *Store) Import(ctx context.Context, fill func(store.Rows) error) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// Nothing else may write while the copy runs (a replica started too early).
		if _, err := tx.Exec(ctx, `LOCK TABLE `+strings.Join(store.Tables, ", ")+` IN EXCLUSIVE MODE`); err != nil {
			return err
		}
		n, err := counts(ctx, tx)
		if err != nil {
			return err
		}
		for _, table := range store.Tables {
			if n[table] > 0 {
				return fmt.Errorf("%w: %s has %d rows", ErrNotEmpty, table, n[table])
			}
		}
		w := &importer{ctx: ctx, tx: tx}
		if err := fill(w); err != nil {
			return err
		}
		if err := w.flush(); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('audit', 'id'), max(id)) FROM audit HAVING count(*) > 0`)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: import: %w", err)
	}
	return nil
}

// importer is the store.Rows of Import: it queues an INSERT per row and sends
// them importBatch at a time.
type importer struct {
	ctx   context.Context
	tx    pgx.Tx
	batch pgx.Batch
}

func (w *importer) queue(sql string, args ...any) error {
	w.batch.Queue(sql, args...)
	if w.batch.Len() < importBatch {
		return nil
	}
	return w.flush()
}

func (w *importer) flush() error {
	if w.batch.Len() == 0 {
		return nil
	}
	err := w.tx.SendBatch(w.ctx, &w.batch).Close()
	w.batch = pgx.Batch{}
	return err
}

// insert queues an INSERT of every column of a row, values in columns' order.
func (w *importer) insert(table, columns string, values []any) error {
	return w.queue(`INSERT INTO `+table+` (`+columns+`) VALUES (`+placeholders(len(values))+`)`, values...)
}

// placeholders are $1, …, $n.
func placeholders(n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = "$" + strconv.Itoa(i+1)
	}
	return strings.Join(ps, ", ")
}

func (w *importer) Reference(r store.Reference) error {
	return w.insert("conversation_references", store.ReferenceColumns, r.Fields(times{}))
}

// Audit keeps the row's id: OVERRIDING SYSTEM VALUE writes it into the identity
// column.
func (w *importer) Audit(e store.AuditEntry) error {
	return w.queue(`INSERT INTO audit (`+store.AuditColumns+`) OVERRIDING SYSTEM VALUE
		VALUES (`+placeholders(13)+`)`, e.Fields(times{})...)
}

func (w *importer) Delivery(d store.Delivery) error {
	return w.insert("deliveries", store.DeliveryColumns, d.Fields(times{}))
}

func (w *importer) Claim(c store.ClaimRow) error {
	return w.insert("claims", store.ClaimColumns, c.Fields(times{}))
}

func (w *importer) Onboard(r store.OnboardRequest) error {
	return w.insert("onboard_requests", store.OnboardColumns, r.Fields(times{}))
}

func (w *importer) Job(j store.JobRow) error {
	return w.insert("jobs", store.JobRowColumns, j.Fields(times{}))
}

func (w *importer) Checklist(c store.Checklist) error {
	return w.insert("checklists", store.ChecklistColumns, c.Fields(times{}))
}

func (w *importer) TAPIntent(i store.IntentRow) error {
	return w.insert("tap_intents", store.IntentRowColumns, i.Fields(times{}))
}

func (w *importer) Confirmation(c store.TAPConfirmation) error {
	return w.insert("tap_confirmations", store.ConfirmColumns, c.Fields(times{}))
}
