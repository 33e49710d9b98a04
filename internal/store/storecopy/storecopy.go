// Package storecopy moves an installation's state from one store backend to
// another (SQLite to PostgreSQL, to scale out) and proves the copy whole: the same
// number of rows in every table, and the same audit log, id for id, in order.
package storecopy

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"maps"
	"time"

	"github.com/tapbot/tapbot/internal/store"
)

// Source is a store that can hand over all its rows.
type Source interface {
	Export(ctx context.Context, to store.Rows) error
	Counts(ctx context.Context) (map[string]int64, error)
}

// Target is an empty store that takes them, all or nothing.
type Target interface {
	Source
	Import(ctx context.Context, fill func(store.Rows) error) error
}

// Summary is what Copy copied and verified.
type Summary struct {
	Counts map[string]int64 // rows per table, in both stores
	// AuditFirst and AuditLast are the lowest and highest audit ids (0 when empty);
	// AuditChain is a SHA-256 over every audit row in id order, equal in both.
	AuditFirst, AuditLast int64
	AuditChain            string
}

// Copy copies every row of from into to, which must be empty, then checks that
// to holds as many rows per table as from and the same audit log. The source must
// not change meanwhile: stop tapbot first (SQLite's one-process lock makes sure).
func Copy(ctx context.Context, from Source, to Target) (Summary, error) {
	want, err := from.Counts(ctx)
	if err != nil {
		return Summary{}, err
	}
	src := newChain()
	if err := to.Import(ctx, func(w store.Rows) error { return from.Export(ctx, tee{w, src}) }); err != nil {
		return Summary{}, err
	}
	if !maps.Equal(src.counts, want) {
		return Summary{}, fmt.Errorf("storecopy: the export read %v rows but the source counts %v: did tapbot run meanwhile?", src.counts, want)
	}
	got, err := to.Counts(ctx)
	if err != nil {
		return Summary{}, err
	}
	if !maps.Equal(got, want) {
		return Summary{}, fmt.Errorf("storecopy: row counts differ after the copy: source %v, target %v", want, got)
	}
	dst := newChain()
	if err := to.Export(ctx, dst); err != nil {
		return Summary{}, fmt.Errorf("storecopy: read the copy back: %w", err)
	}
	if dst.sum() != src.sum() || dst.first != src.first || dst.last != src.last {
		return Summary{}, fmt.Errorf("storecopy: the audit log differs after the copy: ids %d-%d chain %s in the source, ids %d-%d chain %s in the target",
			src.first, src.last, src.sum(), dst.first, dst.last, dst.sum())
	}
	return Summary{Counts: got, AuditFirst: src.first, AuditLast: src.last, AuditChain: src.sum()}, nil
}

// chain is a store.Rows that counts rows per table and hashes the audit log.
type chain struct {
	counts      map[string]int64
	h           hash.Hash
	first, last int64
}

func newChain() *chain {
	c := &chain{counts: map[string]int64{}, h: sha256.New()}
	for _, t := range store.Tables {
		c.counts[t] = 0
	}
	return c
}

func (c *chain) sum() string { return hex.EncodeToString(c.h.Sum(nil)) }

// Audit hashes every field of e, each length-prefixed so that no two rows hash
// alike by moving text between fields. Times are taken to the microsecond, the
// precision every backend keeps (SQLite keeps nanoseconds, PostgreSQL does not).
func (c *chain) Audit(e store.AuditEntry) error {
	c.counts["audit"]++
	if c.first == 0 {
		c.first = e.ID
	}
	c.last = e.ID
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(e.ID))
	c.h.Write(n[:])
	for _, f := range []string{micros(e.Time), e.RequestID, e.RequesterID, e.RequesterUPN, e.TargetID, e.TargetUPN,
		string(e.Action), string(e.Outcome), e.Reason, e.Ticket, e.MethodID, micros(e.Expires)} {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		c.h.Write(n[:])
		c.h.Write([]byte(f))
	}
	return nil
}

func micros(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano)
}

func (c *chain) Reference(store.Reference) error          { return c.count("conversation_references") }
func (c *chain) Delivery(store.Delivery) error            { return c.count("deliveries") }
func (c *chain) Claim(store.ClaimRow) error               { return c.count("claims") }
func (c *chain) Onboard(store.OnboardRequest) error       { return c.count("onboard_requests") }
func (c *chain) Job(store.JobRow) error                   { return c.count("jobs") }
func (c *chain) Checklist(store.Checklist) error          { return c.count("checklists") }
func (c *chain) TAPIntent(store.IntentRow) error          { return c.count("tap_intents") }
func (c *chain) Confirmation(store.TAPConfirmation) error { return c.count("tap_confirmations") }
func (c *chain) count(table string) error                 { c.counts[table]++; return nil }

// tee hands each row to the target and to the chain (which never fails).
type tee struct {
	w store.Rows
	c *chain
}

func (t tee) Reference(r store.Reference) error {
	return errors.Join(t.w.Reference(r), t.c.Reference(r))
}
func (t tee) Audit(e store.AuditEntry) error  { return errors.Join(t.w.Audit(e), t.c.Audit(e)) }
func (t tee) Delivery(d store.Delivery) error { return errors.Join(t.w.Delivery(d), t.c.Delivery(d)) }
func (t tee) Claim(c store.ClaimRow) error    { return errors.Join(t.w.Claim(c), t.c.Claim(c)) }
func (t tee) Onboard(r store.OnboardRequest) error {
	return errors.Join(t.w.Onboard(r), t.c.Onboard(r))
}
func (t tee) Job(j store.JobRow) error { return errors.Join(t.w.Job(j), t.c.Job(j)) }
func (t tee) Checklist(c store.Checklist) error {
	return errors.Join(t.w.Checklist(c), t.c.Checklist(c))
}
func (t tee) TAPIntent(i store.IntentRow) error {
	return errors.Join(t.w.TAPIntent(i), t.c.TAPIntent(i))
}
func (t tee) Confirmation(c store.TAPConfirmation) error {
	return errors.Join(t.w.Confirmation(c), t.c.Confirmation(c))
}
