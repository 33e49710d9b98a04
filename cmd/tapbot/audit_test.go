package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tapbot/tapbot/internal/store"
	"github.com/tapbot/tapbot/internal/store/sqlite"
	"go.uber.org/zap"
)

func TestAuditExport(t *testing.T) {
	path := t.TempDir() + "/tapbot.db"
	st, err := sqlite.Open(context.Background(), path, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, e := range []store.AuditEntry{
		{Time: now.Add(-48 * time.Hour), Action: "tap.create", Outcome: "allowed", TargetUPN: "old@contoso.com"},
		{Time: now.Add(-time.Hour), Action: "tap.create", Outcome: "allowed", TargetUPN: "nina@contoso.com", MethodID: "m1", Ticket: "=HYPERLINK(\"http://evil\")"},
		{Time: now.Add(-time.Minute), Action: "tap.create", Outcome: "refused", Reason: "privileged_role", TargetUPN: "gwen@contoso.com"},
	} {
		if _, err := st.AppendAudit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	env := envOf("TAPBOT_DB_PATH", path)

	var out, errOut bytes.Buffer
	if code := run([]string{"audit", "--since", "24h"}, env, &out, &errOut); code != 0 {
		t.Fatalf("audit --since 24h: exit code %d, want 0; stderr: %s", code, errOut.String())
	}
	recs, err := csv.NewReader(&out).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || recs[0][0] != "id" || recs[1][6] != "gwen@contoso.com" || recs[2][6] != "nina@contoso.com" {
		t.Fatalf("csv rows = %v, want a header, then gwen's and nina's rows (newest first, last 24h only)", recs)
	}
	if ticket := recs[2][10]; !strings.HasPrefix(ticket, "'=") {
		t.Fatalf("ticket cell = %q, want the formula defused by a leading '", ticket)
	}

	out.Reset()
	if code := run([]string{"audit", "--since", "7d", "--format", "json", "--user", "NINA@contoso.com"}, env, &out, &errOut); code != 0 {
		t.Fatalf("audit --format json --user: exit code %d, want 0; stderr: %s", code, errOut.String())
	}
	var row map[string]string
	if err := json.Unmarshal(out.Bytes(), &row); err != nil || row["method_id"] != "m1" || row["outcome"] != "allowed" {
		t.Fatalf("json output %s (decode error %v), want nina's row with method_id m1, outcome allowed", out.String(), err)
	}

	for _, bad := range [][]string{{"audit", "--since", "yesterday"}, {"audit", "--format", "xml"}, {"audit", "--nope"}} {
		if code := run(bad, env, &out, &errOut); code != 2 {
			t.Errorf("run(%q): exit code %d, want 2", bad, code)
		}
	}
}
