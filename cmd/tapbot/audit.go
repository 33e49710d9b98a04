package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// auditCmd exports the audit log: `tapbot audit --since 24h --format csv`.
func auditCmd(args []string, env func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	fs.SetOutput(stderr)
	since := fs.String("since", "24h", "rows at or after this time: a duration back from now (24h, 7d) or a date (2026-11-01 or RFC 3339)")
	until := fs.String("until", "", "rows before this time (same forms as --since); default now")
	user := fs.String("user", "", "only rows about this user (object id or UPN)")
	format := fs.String("format", "csv", "csv or json (one object per line)")
	limit := fs.Int("limit", 10000, "at most this many rows, newest first")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	now := time.Now()
	f := store.AuditFilter{Target: *user, Limit: *limit}
	var err error
	if f.Since, err = parseWhen(*since, now); err != nil {
		fmt.Fprintf(stderr, "tapbot audit: --since: %v\n", err)
		return 2
	}
	if *until != "" {
		if f.Until, err = parseWhen(*until, now); err != nil {
			fmt.Fprintf(stderr, "tapbot audit: --until: %v\n", err)
			return 2
		}
	}
	if *format != "csv" && *format != "json" {
		fmt.Fprintf(stderr, "tapbot audit: --format must be csv or json\n")
		return 2
	}
	cfg, err := loadStoreConfig(env)
	if err != nil {
		fmt.Fprintf(stderr, "tapbot audit: %v\n", err)
		return 2
	}
	ctx := context.Background()
	st, _, err := openStore(ctx, cfg, besideServerUse, zap.NewNop())
	if err != nil {
		fmt.Fprintf(stderr, "tapbot audit: %v\n", err)
		return 1
	}
	defer st.Close()
	rows, err := st.Audit(ctx, f)
	if err != nil {
		fmt.Fprintf(stderr, "tapbot audit: %v\n", err)
		return 1
	}
	if err := writeAudit(stdout, *format, rows); err != nil {
		fmt.Fprintf(stderr, "tapbot audit: %v\n", err)
		return 1
	}
	return 0
}

// parseWhen reads "24h", "7d" (back from now), a date or an RFC 3339 time.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if n, err := strconv.Atoi(s[:max(len(s)-1, 0)]); err == nil && len(s) > 1 && s[len(s)-1] == 'd' && n >= 0 {
		return now.Add(-time.Duration(n) * 24 * time.Hour), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a duration (24h, 7d), a date (2026-11-01) or an RFC 3339 time", s)
}

var auditColumns = []string{"id", "time", "request_id", "requester_id", "requester_upn", "target_id", "target_upn",
	"action", "outcome", "reason", "ticket", "method_id", "expires"}

func writeAudit(w io.Writer, format string, rows []store.AuditEntry) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(auditRecord(r)); err != nil {
				return err
			}
		}
		return nil
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(auditColumns); err != nil {
		return err
	}
	for _, r := range rows {
		rec := auditRecord(r)
		line := make([]string, len(auditColumns))
		for i, c := range auditColumns {
			line[i] = csvSafe(rec[c])
		}
		if err := cw.Write(line); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func auditRecord(r store.AuditEntry) map[string]string {
	ts := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	return map[string]string{
		"id": strconv.FormatInt(r.ID, 10), "time": ts(r.Time), "request_id": r.RequestID,
		"requester_id": r.RequesterID, "requester_upn": r.RequesterUPN, "target_id": r.TargetID,
		"target_upn": r.TargetUPN, "action": string(r.Action), "outcome": string(r.Outcome), "reason": r.Reason,
		"ticket": r.Ticket, "method_id": r.MethodID, "expires": ts(r.Expires),
	}
}

// csvSafe defuses spreadsheet formula injection: ticket text is typed by people and
// audit exports get opened in Excel.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
