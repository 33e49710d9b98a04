package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tapbot/tapbot/internal/store"
)

// ErrNotEmpty is returned by Import into a database that holds rows already.
var ErrNotEmpty = errors.New("store: the database is not empty")

// Export hands every row to to, table by table, the audit log in id order, from
// one REPEATABLE READ transaction so that the rows are one consistent state.
func (s *Store) Export(ctx context.Context, to store.Rows) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		each := func(table, query string, row func(pgx.CollectableRow) error) error {
			rows, err := tx.Query(ctx, query)
			if err != nil {
				return fmt.Errorf("store: export %s: %w", table, err)
			}
			if _, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (struct{}, error) { return struct{}{}, row(r) }); err != nil {
				return fmt.Errorf("store: export %s: %w", table, err)
			}
			return nil
		}
		steps := []struct {
			table, query string
			row          func(pgx.CollectableRow) error
		}{
			{"conversation_references", `SELECT ` + referenceColumns + ` FROM conversation_references ORDER BY conversation_id`,
				func(r pgx.CollectableRow) error { return pass(scanReference(r))(to.Reference) }},
			{"audit", `SELECT ` + auditColumns + ` FROM audit ORDER BY id`,
				func(r pgx.CollectableRow) error { return pass(scanAudit(r))(to.Audit) }},
			{"deliveries", `SELECT ` + deliveryColumns + ` FROM deliveries ORDER BY id`,
				func(r pgx.CollectableRow) error { return pass(scanDelivery(r))(to.Delivery) }},
			{"claims", `SELECT key, claimed_at FROM claims ORDER BY key`,
				func(r pgx.CollectableRow) error {
					var c store.ClaimRow
					if err := r.Scan(&c.Key, &c.At); err != nil {
						return err
					}
					c.At = c.At.UTC()
					return to.Claim(c)
				}},
			{"onboard_requests", `SELECT ` + onboardColumns + ` FROM onboard_requests ORDER BY id`,
				func(r pgx.CollectableRow) error { return pass(scanOnboard(r))(to.Onboard) }},
			{"jobs", `SELECT ` + jobColumns + `, lease_until FROM jobs ORDER BY id`,
				func(r pgx.CollectableRow) error {
					var lease *time.Time
					j, err := scanJob(withExtra{r, []any{&lease}})
					if err != nil {
						return err
					}
					return to.Job(store.JobRow{Job: j, LeaseUntil: fromNull(lease)})
				}},
			{"checklists", `SELECT ` + checklistColumns + ` FROM checklists ORDER BY user_id`,
				func(r pgx.CollectableRow) error { return pass(scanChecklist(r))(to.Checklist) }},
			{"tap_intents", `SELECT ` + intentColumns + `, created_at FROM tap_intents ORDER BY id`,
				func(r pgx.CollectableRow) error {
					var created *time.Time
					i, err := scanIntent(withExtra{r, []any{&created}})
					if err != nil {
						return err
					}
					return to.TAPIntent(store.IntentRow{TAPIntent: i, CreatedAt: fromNull(created)})
				}},
			{"tap_confirmations", `SELECT ` + confirmColumns + ` FROM tap_confirmations ORDER BY id`,
				func(r pgx.CollectableRow) error { return pass(scanConfirmation(r))(to.Confirmation) }},
		}
		for _, st := range steps {
			if err := each(st.table, st.query, st.row); err != nil {
				return err
			}
		}
		return nil
	})
}

// Counts returns the number of rows in each of store.Tables.
func (s *Store) Counts(ctx context.Context) (map[string]int64, error) {
	return counts(ctx, s.pool)
}

func counts(ctx context.Context, q querier) (map[string]int64, error) {
	out := make(map[string]int64, len(store.Tables))
	for _, table := range store.Tables {
		var n int64
		// The table names are store.Tables', not input.
		if err := q.QueryRow(ctx, `SELECT count(*) FROM `+table).Scan(&n); err != nil {
			return nil, fmt.Errorf("store: count %s: %w", table, err)
		}
		out[table] = n
	}
	return out, nil
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

func (w *importer) Reference(r store.Reference) error {
	return w.queue(saveQuery, r.ConversationID, string(r.Scope), r.TenantID, r.UserAADObjectID, r.TeamID,
		r.ServiceURL, r.BotID, r.Raw, r.UpdatedAt)
}

func (w *importer) Audit(e store.AuditEntry) error {
	return w.queue(`INSERT INTO audit (`+auditColumns+`) OVERRIDING SYSTEM VALUE
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		e.ID, e.Time, e.RequestID, e.RequesterID, e.RequesterUPN, e.TargetID, e.TargetUPN,
		e.Action, e.Outcome, e.Reason, e.Ticket, e.MethodID, nullTime(e.Expires))
}

func (w *importer) Delivery(d store.Delivery) error {
	return w.queue(saveDeliveryQuery, d.ID, d.TargetID, d.TargetUPN, d.MethodID, d.RequesterID, d.ServiceURL,
		d.ConversationID, d.ActivityID, d.Expires, nullTime(d.RedactedAt), d.RedactReason,
		d.Attempts, nullTime(d.NextAttempt), nullTime(d.CheckedAt))
}

func (w *importer) Claim(c store.ClaimRow) error {
	return w.queue(`INSERT INTO claims (key, claimed_at) VALUES ($1, $2)`, c.Key, c.At)
}

func (w *importer) Onboard(r store.OnboardRequest) error {
	return w.queue(`INSERT INTO onboard_requests (`+onboardColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		r.ID, r.State, r.RequesterID, r.RequesterUPN, r.Form, r.DeciderID, r.Decision, r.UserID,
		r.Step, r.Error, nullTime(r.StartDate), r.Version, r.CreatedAt, r.UpdatedAt)
}

func (w *importer) Job(j store.JobRow) error {
	return w.queue(`INSERT INTO jobs (`+jobColumns+`, lease_until) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		j.ID, j.Kind, j.Payload, j.DueAt, j.Attempts, nullTime(j.DoneAt), nullTime(j.LeaseUntil))
}

func (w *importer) Checklist(c store.Checklist) error {
	return w.queue(`INSERT INTO checklists (`+checklistColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		c.UserID, c.UserUPN, c.RequestID, c.ManagerID, c.NoSmartphone, c.ConversationID,
		c.ActivityID, c.Progress, c.StartedAt, c.UpdatedAt, nullTime(c.DoneAt), c.Version)
}

func (w *importer) TAPIntent(i store.IntentRow) error {
	return w.queue(`INSERT INTO tap_intents (`+intentColumns+`, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		i.ID, i.TargetID, i.TargetUPN, i.RequesterID, string(i.State), i.MethodID,
		i.StartedAt, i.LeaseUntil, i.UpdatedAt, nullTime(i.CreatedAt))
}

func (w *importer) Confirmation(c store.TAPConfirmation) error {
	return w.queue(`INSERT INTO tap_confirmations (`+confirmColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
		c.ID, c.RequestID, c.TenantID, c.RequesterID, c.TargetID, c.TargetUPN, string(c.Path), c.ConfirmerID,
		c.LifetimeMinutes, c.Once, c.Replace, c.Reason, string(c.State), c.DecidedBy, c.CreatedAt, c.ExpiresAt, nullTime(c.DecidedAt))
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
	pgx.CollectableRow
	more []any
}

func (w withExtra) Scan(dest ...any) error { return w.CollectableRow.Scan(append(dest, w.more...)...) }
