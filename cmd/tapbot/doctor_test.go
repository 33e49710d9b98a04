package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/graph/simtenant"
	"github.com/tapbot/tapbot/internal/doctor"
	"github.com/tapbot/tapbot/internal/store"
	"github.com/tapbot/tapbot/internal/store/sqlite"
	"go.uber.org/zap"
)

// doctorRun runs `tapbot doctor` against tenant with stdin as typed input.
func doctorRun(t *testing.T, tenant *simtenant.Tenant, env func(string) string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := runDoctor(args, env, strings.NewReader(stdin), &out, &errOut, func() *simtenant.Tenant { return tenant })
	return code, out.String(), errOut.String()
}

func auditRows(t *testing.T, path string) []store.AuditEntry {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	st, err := sqlite.Open(context.Background(), path, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.Audit(context.Background(), store.AuditFilter{Action: "doctor.fix"})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestDoctorDevIsHealthy(t *testing.T) {
	var out, errOut bytes.Buffer
	code := doctorCmd([]string{"--dev"}, envOf("TAPBOT_DB_PATH", t.TempDir()+"/tapbot.db"), nil, &out, &errOut)
	if code != 0 || errOut.Len() != 0 {
		t.Fatalf("doctor --dev: exit code %d, want 0 and an empty stderr\nstdout:\n%s\nstderr:\n%s", code, out.String(), errOut.String())
	}
	s := out.String()
	// Dev mode configures onboarding: doctor names every permission of every configured
	// feature, onboarding's included (it used to check only the TAP flow's seven).
	for _, p := range graph.Grant(graph.FeatureTAP, graph.FeatureChecklist, graph.FeatureDoctor, graph.FeatureOnboarding) {
		if !strings.Contains(s, p) {
			t.Errorf("output:\n%s\nwant it to name the permission %s", s, p)
		}
	}
	for _, want := range []string{"the simulated Contoso tenant", "✓ Graph permissions", "All 10 permissions", "User.ReadWrite.All", "Domain.Read.All", "✓ TAP policy targets",
		"New hires, Staff", "✓ Authenticator phone sign-in", "Found: Helpdesk (" + simtenant.GroupHelpdesk + ")", "17 checks passed."} {
		if !strings.Contains(s, want) {
			t.Errorf("output:\n%s\nwant it to contain %q", s, want)
		}
	}
	// The simulated tenant grants the --fix permission, which is a warning (never a
	// tick), and the CLI has no database to find the approvers' conversation in.
	if strings.Contains(s, "✗") || strings.Count(s, "fix:") != 2 || !strings.Contains(s, "! Least privilege") || !strings.Contains(s, "! Approvers' conversation") {
		t.Errorf("output:\n%s\nwant no ✗, two fix: lines, and warnings for Least privilege and Approvers' conversation only", s)
	}
	// Aligned: every finding starts in the same column.
	var cols []int
	for _, line := range strings.Split(s, "\n") {
		if i := strings.Index(line, "  "); strings.HasPrefix(line, "✓ ") && i > 0 {
			detail := i + len(line[i:]) - len(strings.TrimLeft(line[i:], " "))
			cols = append(cols, utf8.RuneCountInString(line[:detail]))
		}
	}
	if len(cols) != 17 || slices.Min(cols) != slices.Max(cols) {
		t.Errorf("finding columns %v, want 17 findings all in one column:\n%s", cols, s)
	}
}

func TestDoctorFixesADisabledTAPPolicy(t *testing.T) {
	tenant := simtenant.Contoso()
	p := tenant.TAPPolicy()
	p.Enabled = false
	p.IncludeTargets = []string{simtenant.GroupStaff}
	tenant.SetTAPPolicy(p)
	before := tenant.TAPPolicy()
	db := t.TempDir() + "/tapbot.db"
	env := envOf("TAPBOT_DB_PATH", db, "USER", "ops")

	code, out, _ := doctorRun(t, tenant, env, "", "--dev")
	if code != 1 || !strings.Contains(out, "✗ Temporary Access Pass") || !strings.Contains(out, "✗ TAP policy targets") ||
		!strings.Contains(out, "New hires is not among") || !strings.Contains(out, "fix: Enable it") || !strings.Contains(out, "2 problems") ||
		!strings.Contains(out, "`tapbot doctor --fix` can make the changes") {
		t.Fatalf("doctor --dev: exit code %d, want 1, with both TAP policy problems and `tapbot doctor --fix` offered:\n%s", code, out)
	}

	// --fix without --yes is a dry run unless someone types yes.
	for _, typed := range []string{"", "no\n", "y\n", "yes please\n"} {
		code, out, _ = doctorRun(t, tenant, env, typed, "--dev", "--fix")
		if code != 1 || !strings.Contains(out, "1. Enable the Temporary Access Pass method.") ||
			!strings.Contains(out, "2. Add New hires to the Temporary Access Pass policy's targets.") ||
			!strings.Contains(out, "Type yes to continue") || !strings.Contains(out, "Nothing was changed (dry run)") {
			t.Fatalf("typed %q: exit code %d, want 1, with both changes listed, the yes prompt and a dry-run notice:\n%s", typed, code, out)
		}
	}
	if got := tenant.TAPPolicy(); got.Enabled || !slices.Equal(got.IncludeTargets, before.IncludeTargets) {
		t.Fatalf("policy after a dry run = %+v, want it unchanged: %+v", got, before)
	}
	if rows := auditRows(t, db); len(rows) != 0 {
		t.Fatalf("dry run audited %+v, want no audit rows", rows)
	}

	code, out, errOut := doctorRun(t, tenant, env, "", "--dev", "--fix", "--yes")
	if code != 0 || strings.Contains(out, "Type yes") || !strings.Contains(out, "✓ Enable the Temporary Access Pass method.") ||
		!strings.Contains(out, "After the changes:") || !strings.Contains(out, "17 checks passed.") {
		t.Fatalf("doctor --fix --yes: exit code %d, want 0, with no prompt, the change ticked and 17 checks passed after:\n%s\n%s", code, out, errOut)
	}
	got := tenant.TAPPolicy()
	if !got.Enabled || !slices.Equal(got.IncludeTargets, []string{simtenant.GroupStaff, simtenant.GroupNewHires}) || got.DefaultLength != before.DefaultLength {
		t.Fatalf("policy after --fix = %+v, want it enabled, targeting Staff then New hires, default length %d kept", got, before.DefaultLength)
	}
	rows := auditRows(t, db)
	if len(rows) != 2 {
		t.Fatalf("audit rows = %+v, want 2", rows)
	}
	var reasons []string
	for _, r := range rows {
		reasons = append(reasons, r.Reason)
		if r.Action != "doctor.fix" || r.Outcome != "allowed" || r.RequesterUPN != "cli:ops" || r.RequestID == "" || r.Ticket == "" {
			t.Errorf("audit row %+v, want an allowed doctor.fix by cli:ops with a request id and a ticket", r)
		}
	}
	slices.Sort(reasons)
	if !slices.Equal(reasons, []string{doctor.ChangeTAPTargets, doctor.ChangeTAPEnable}) {
		t.Errorf("audit reasons %v, want %v", reasons, []string{doctor.ChangeTAPTargets, doctor.ChangeTAPEnable})
	}

	code, out, _ = doctorRun(t, tenant, env, "", "--dev")
	if code != 0 || !strings.Contains(out, "17 checks passed.") {
		t.Fatalf("second run: exit code %d, want 0 and 17 checks passed:\n%s", code, out)
	}
	code, out, _ = doctorRun(t, tenant, env, "", "--dev", "--fix")
	if code != 0 || !strings.Contains(out, "Nothing here is for tapbot to change") || strings.Contains(out, "Type yes") {
		t.Fatalf("--fix on a healthy tenant: exit code %d, want 0, nothing to change and no prompt:\n%s", code, out)
	}
}

func TestDoctorFixAfterTypedYes(t *testing.T) {
	tenant := simtenant.Contoso()
	tenant.SetAuthenticatorPolicy(simtenant.AuthenticatorPolicy{Enabled: true,
		IncludeTargets: []simtenant.AuthenticatorTarget{{ID: graph.AllUsers, Mode: "push"}}})
	db := t.TempDir() + "/tapbot.db"
	env := envOf("TAPBOT_DB_PATH", db)
	code, out, _ := doctorRun(t, tenant, env, "", "--dev")
	if code != 1 || !strings.Contains(out, "push only") || !strings.Contains(out, "phone sign-in is off") {
		t.Fatalf("doctor --dev: exit code %d, want 1, with the Authenticator policy reported push only and phone sign-in off:\n%s", code, out)
	}
	code, out, _ = doctorRun(t, tenant, env, "YES\n", "--dev", "--fix")
	if code != 0 || !strings.Contains(out, "✓ Target New hires in the Microsoft Authenticator policy with authentication mode any") {
		t.Fatalf("doctor --fix after typing YES: exit code %d, want 0 and New hires targeted with mode any:\n%s", code, out)
	}
	want := []simtenant.AuthenticatorTarget{{ID: graph.AllUsers, Mode: "push"}, {ID: simtenant.GroupNewHires, Mode: "any"}}
	if got := tenant.AuthenticatorPolicy(); !slices.Equal(got.IncludeTargets, want) {
		t.Fatalf("Authenticator policy %+v, want targets %+v", got, want)
	}
	if rows := auditRows(t, db); len(rows) != 1 || rows[0].Reason != doctor.ChangeAuthenticatorTargets || rows[0].RequesterUPN != "cli:unknown" {
		t.Fatalf("audit rows = %+v, want one %s row by cli:unknown", rows, doctor.ChangeAuthenticatorTargets)
	}
}

func TestDoctorKeepsTheTerminalSafe(t *testing.T) {
	tenant := simtenant.Contoso()
	evil := "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d400ee"
	tenant.AddGroup(evil, "New\x1b[2J hires\r\n✓ All good")
	code, out, _ := doctorRun(t, tenant, envOf("TAPBOT_DB_PATH", t.TempDir()+"/db", "TAPBOT_ONBOARDING_GROUPS", evil), "", "--dev")
	if code != 1 || strings.ContainsAny(out, "\x1b\r") || !strings.Contains(out, `New\u001b[2J hires\u000d\u000a✓ All good`) {
		t.Fatalf("exit code %d, output:\n%q\nwant code 1 and the group name escaped, with no raw ESC or CR", code, out)
	}
}

func TestDoctorUsage(t *testing.T) {
	for _, tt := range []struct {
		args    []string
		env     func(string) string
		wantErr string
	}{
		{[]string{"--yes"}, envOf(), "--yes only goes with --fix"},
		{[]string{"--dev", "now"}, envOf(), "takes no arguments"},
		{[]string{"--frobnicate"}, envOf(), "flag provided but not defined"},
		{nil, envOf(), "invalid configuration"},
		{[]string{"--dev"}, envOf("TAPBOT_ADMIN_GROUPS", "admins"), "TAPBOT_ADMIN_GROUPS"},
		{[]string{"--dev"}, envOf("TAPBOT_TENANT_ID", simtenant.ContosoTenantID), "simulated tenant"},
	} {
		var out, errOut bytes.Buffer
		if code := doctorCmd(tt.args, tt.env, nil, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), tt.wantErr) {
			t.Errorf("doctor %q: exit code %d, stderr %s; want code 2 and a stderr containing %q", tt.args, code, errOut.String(), tt.wantErr)
		}
	}
}

func TestDevGraphToken(t *testing.T) {
	roles := simtenant.Contoso().AppRoles()
	parts := strings.Split(devGraphToken(roles), ".")
	if len(parts) != 3 || parts[2] != "" {
		t.Fatalf("devGraphToken = %q, want an unsigned header.payload.", devGraphToken(roles))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Roles []string `json:"roles"`
		Tid   string   `json:"tid"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(claims.Roles, doctor.AllRoles()) || !slices.Contains(claims.Roles, doctor.FixPermission) || claims.Tid != simtenant.ContosoTenantID {
		t.Errorf("claims %+v, want every doctor role (the fix permission among them) and tid %s", claims, simtenant.ContosoTenantID)
	}
}
