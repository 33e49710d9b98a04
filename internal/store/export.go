package store

import (
	"fmt"
	"time"
)

// A CopiedTable is one of the tables every backend keeps and a copy carries
// (see storecopy), as both backends' Export read it.
type CopiedTable struct {
	Name    string
	Columns string // in the order of its record's Fields
	OrderBy string // the audit log in id order, every table in a stable one
	// send scans one row into its record with scan, times encoded as t says,
	// and hands the record to the method of to that takes it.
	send func(scan func(dest ...any) error, t Times, to Rows) error
}

// Select is the query that reads the table for a copy.
func (t CopiedTable) Select() string {
	return `SELECT ` + t.Columns + ` FROM ` + t.Name + ` ORDER BY ` + t.OrderBy
}

// Cursor is the result of Select, as both backends' drivers give it.
type Cursor interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// Send hands every row of rows, the result of t.Select, to the method of to that
// takes t's records, times encoded as times says.
func (t CopiedTable) Send(rows Cursor, times Times, to Rows) error {
	for rows.Next() {
		if err := t.send(rows.Scan, times, to); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CopiedTables are the tables a copy carries. The schemas hold two more:
// schema_migrations (each database's own migration bookkeeping) and health (the
// readiness probe's scratch row). storecopy's tests hold every other table of
// each schema to be listed here.
var CopiedTables = []CopiedTable{
	{"conversation_references", ReferenceColumns, "conversation_id", send(Rows.Reference)},
	{"audit", AuditColumns, "id", send(Rows.Audit)},
	{"deliveries", DeliveryColumns, "id", send(Rows.Delivery)},
	{"claims", ClaimColumns, "key", send(Rows.Claim)},
	{"onboard_requests", OnboardColumns, "id", send(Rows.Onboard)},
	{"jobs", JobRowColumns, "id", send(Rows.Job)},
	{"checklists", ChecklistColumns, "user_id", send(Rows.Checklist)},
	{"tap_intents", IntentRowColumns, "id", send(Rows.TAPIntent)},
	{"tap_confirmations", ConfirmColumns, "id", send(Rows.Confirmation)},
}

// Tables are the names of CopiedTables; Counts and storecopy key on them.
var Tables = func() []string {
	names := make([]string, len(CopiedTables))
	for i, t := range CopiedTables {
		names[i] = t.Name
	}
	return names
}()

// Counts returns the number of rows in each of Tables, each counted by count,
// which returns the one number a query's one row holds.
func Counts(count func(query string) (int64, error)) (map[string]int64, error) {
	out := make(map[string]int64, len(Tables))
	for _, table := range Tables {
		// The table names are Tables', not input.
		n, err := count(`SELECT count(*) FROM ` + table)
		if err != nil {
			return nil, fmt.Errorf("store: count %s: %w", table, err)
		}
		out[table] = n
	}
	return out, nil
}

// send is the Send of a table whose rows a Rows method of records T takes.
func send[T any, P Record[T]](method func(Rows, T) error) func(func(...any) error, Times, Rows) error {
	return func(scan func(...any) error, t Times, to Rows) error {
		var v T
		if err := scan(P(&v).Fields(t)...); err != nil {
			return err
		}
		return method(to, v)
	}
}

// Rows receives every row of a store, table by table, when an installation moves
// from one backend to another (see storecopy). It carries what the Store interface
// does not show (leases, creation times), so a copy is whole.
type Rows interface {
	Reference(Reference) error
	// Audit receives the audit log in id order, ids included.
	Audit(AuditEntry) error
	Delivery(Delivery) error
	Claim(ClaimRow) error
	Onboard(OnboardRequest) error
	Job(JobRow) error
	Checklist(Checklist) error
	TAPIntent(IntentRow) error
	Confirmation(TAPConfirmation) error
}

// ClaimRow is a claimed key (see Store.Claim).
type ClaimRow struct {
	Key string
	At  time.Time
}

// JobRow is a job with its lease (zero: free).
type JobRow struct {
	Job
	LeaseUntil time.Time
}

// IntentRow is a TAP intent with the time Graph created its pass (zero: not yet),
// which BeginTAP's changed-since check reads.
type IntentRow struct {
	TAPIntent
	CreatedAt time.Time
}
