package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/tapbot/tapbot/graph/simtenant"
	"github.com/tapbot/tapbot/internal/store"
	"github.com/tapbot/tapbot/internal/store/sqlite"
	"go.uber.org/zap"
)

// wantOutput checks that out contains each of wants.
func wantOutput(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("output:\n%s\nwant it to contain %q", out, want)
		}
	}
}

// probeOK runs `tapbot doctor --dev --probe user` against tenant, auditing into db,
// with the settings env (name, value, …), and returns its output. The probe must
// exit 0 with nothing on stderr.
func probeOK(t *testing.T, tenant *simtenant.Tenant, db, user string, env ...string) string {
	t.Helper()
	code, out, errOut := doctorRun(t, tenant, envOf(append([]string{"TAPBOT_DB_PATH", db}, env...)...), "", "--dev", "--probe", user)
	if code != 0 || errOut != "" {
		t.Fatalf("doctor --probe %s: exit code %d, want 0 and an empty stderr\nstdout:\n%s\nstderr:\n%s", user, code, out, errOut)
	}
	return out
}

// auditProbes lists the audit rows of `doctor --probe`.
func auditProbes(t *testing.T, db string) []string {
	t.Helper()
	st, err := sqlite.Open(context.Background(), db, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows, err := st.Audit(context.Background(), store.AuditFilter{Action: "doctor.probe"})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r.TargetUPN+" "+string(r.Outcome))
	}
	return out
}

func TestDoctorProbeHealthyTenant(t *testing.T) {
	db := t.TempDir() + "/tapbot.db"
	tenant := simtenant.Contoso()
	out := probeOK(t, tenant, db, simtenant.NinaUPN)
	wantOutput(t, out, "probing "+simtenant.NinaUPN, "✓ The user (target batch)", "✓ The user's groups (target batch)",
		"✓ Active directory roles (role batch)", "✓ PIM for Groups eligibility (role batch)", "✓ The Temporary Access Pass policy",
		"✓ The user's sign-in methods", "✓ The user's devices", "✓ The tenant's domains", "✓ The tenant's licences",
		"! The user's Teams apps (checklist install)", "TAPBOT_TEAMS_APP_ID is not set", "nothing is changed")
	if rows := auditProbes(t, db); !slices.Equal(rows, []string{simtenant.NinaUPN + " allowed"}) {
		t.Errorf("probe audit rows %q, want [%s allowed]", rows, simtenant.NinaUPN)
	}
}

// A missing permission: the probe names the refused call, Graph's status and code,
// and the permission from the table that fixes it; a missing group permission shows
// as limited information on the groups. Nothing is written to the tenant.
func TestDoctorProbeCatchesMissingPermissions(t *testing.T) {
	db := t.TempDir() + "/tapbot.db"
	tenant := simtenant.Contoso()
	roles := slices.DeleteFunc(tenant.AppRoles(), func(r string) bool {
		return r == "UserAuthenticationMethod.Read.All" || r == "GroupMember.Read.All" || r == "GroupMember.ReadWrite.All"
	})
	tenant.SetAppRoles(append(roles, "User.Read.All")...)
	before := tenant.TAPsOf(simtenant.NinaID)
	code, out, _ := doctorRun(t, tenant, envOf("TAPBOT_DB_PATH", db), "", "--dev", "--probe", simtenant.NinaUPN)
	if code != 1 {
		t.Fatalf("doctor --probe: exit code %d, want 1:\n%s", code, out)
	}
	wantOutput(t, out,
		"✗ The user's sign-in methods", "403 Authorization_RequestDenied", "fix: Grant UserAuthenticationMethod.Read.All",
		"✗ The user's groups (target batch)", "limited information", "fix: Grant GroupMember.Read.All",
		"✗ Membership of the configured groups", "fix: Grant User.Read.All and GroupMember.Read.All")
	if len(tenant.TAPsOf(simtenant.NinaID)) != len(before) {
		t.Error("the probe changed the tenant")
	}
	if rows := auditProbes(t, db); !slices.Equal(rows, []string{simtenant.NinaUPN + " failed"}) {
		t.Errorf("probe audit rows %q, want [%s failed]", rows, simtenant.NinaUPN)
	}
}

func TestDoctorProbeUsage(t *testing.T) {
	code, _, errOut := doctorRun(t, simtenant.Contoso(), envOf(), "", "--dev", "--fix", "--probe", simtenant.NinaUPN)
	if code != 2 || !strings.Contains(errOut, "does not go with --fix") {
		t.Errorf("--fix --probe: exit code %d, stderr %s; want 2 and a stderr saying it does not go with --fix", code, errOut)
	}
	code, _, errOut = doctorRun(t, simtenant.Contoso(), envOf("TAPBOT_DB_PATH", t.TempDir()+"/tapbot.db"), "", "--dev", "--probe", "not a user")
	if code != 2 || !strings.Contains(errOut, "--probe") {
		t.Errorf("bad user: exit code %d, stderr %s; want 2 and a stderr naming --probe", code, errOut)
	}
}

// The probe reads the roles of the user's role-assignable groups as /tap does, and
// says when the user has none.
func TestDoctorProbeRoleGroups(t *testing.T) {
	db := t.TempDir() + "/tapbot.db"
	tenant := simtenant.Contoso()
	out := probeOK(t, tenant, db, simtenant.GaryUPN)
	wantOutput(t, out, `✓ Active directory roles (role batch) of the user and group "Global admins (PIM)"`,
		`✓ PIM-eligible directory roles (role batch) of group "Global admins (PIM)"`)

	out = probeOK(t, tenant, db, simtenant.NinaUPN)
	wantOutput(t, out, "✓ Roles of the user's role-assignable groups (role batch)", "nothing to read: the user is in no role-assignable group.")
}

// The probe makes doctor's device reads (Intune, optional): without their permission
// each is a warning naming it, and nothing is written.
func TestDoctorProbeDevices(t *testing.T) {
	db := t.TempDir() + "/tapbot.db"
	tenant := simtenant.Contoso()
	out := probeOK(t, tenant, db, simtenant.NinaUPN)
	wantOutput(t, out, "✓ Windows Hello for Business enrollment", "GET /deviceManagement/deviceEnrollmentConfigurations: OK.",
		"✓ Autopilot deployment profiles", "GET /beta/deviceManagement/windowsAutopilotDeploymentProfiles?$expand=assignments: OK.")

	tenant.SetAppRoles(slices.DeleteFunc(tenant.AppRoles(), func(r string) bool { return strings.HasPrefix(r, "DeviceManagement") })...)
	before := tenant.TAPsOf(simtenant.NinaID)
	out = probeOK(t, tenant, db, simtenant.NinaUPN) // devices are optional: warnings, exit code 0
	wantOutput(t, out, "! Windows Hello for Business enrollment", "! Autopilot deployment profiles", "403 Authorization_RequestDenied",
		"fix: Grant DeviceManagementServiceConfig.Read.All")
	if len(tenant.TAPsOf(simtenant.NinaID)) != len(before) {
		t.Error("the probe changed the tenant")
	}
}

// The probe makes the reads of the features the settings switch on, and for the
// others names the setting that is not set.
func TestDoctorProbeConfiguredFeatures(t *testing.T) {
	db := t.TempDir() + "/tapbot.db"
	tenant := simtenant.Contoso()
	out := probeOK(t, tenant, db, simtenant.NinaUPN) // --dev: onboarding on, no confirmation, no joiners
	wantOutput(t, out, "✓ Whether a new user name is free (onboarding)", "GET /users/{upn}: OK.",
		"✓ Configured group "+simtenant.GroupHelpdesk, "✓ Configured group "+simtenant.GroupApprovers, "GET /groups/{id}?$select=id,displayName: OK.",
		"! The user's manager", "neither is on", "! The users who start soon", "TAPBOT_JOINER_GROUPS is not set",
		"! The user's Teams apps", "TAPBOT_TEAMS_APP_ID is not set")

	out = probeOK(t, tenant, db, simtenant.NinaUPN, "TAPBOT_TAP_VERIFY", "target,manager", "TAPBOT_JOINER_GROUPS", simtenant.GroupNewHires)
	wantOutput(t, out, "✓ The user's manager", "GET /users/{id}/manager: OK.", "✓ The users who start soon", "employeeHireDate ge … and employeeHireDate le …")
	out = probeOK(t, tenant, db, simtenant.GwenUPN, "TAPBOT_TAP_VERIFY", "manager")
	wantOutput(t, out, "✓ The user's manager", "nothing to read: the user has no manager.")
}

// The groups probed by id are every group setting doctor checks, and the groups
// onboarding's form offers only when onboarding is on.
func TestProbeConfigGroups(t *testing.T) {
	cfg := Config{HelpdeskGroups: []string{"h"}, AdminGroups: []string{"h", "a"}, OnboardGroupsAllowed: []string{"o"}}
	if got := probeConfig(cfg).NamedGroups; !slices.Equal(got, []string{"h", "a"}) {
		t.Errorf("onboarding off: groups %q, want [h a]", got)
	}
	cfg.ApproverGroups = []string{"p"}
	if got := probeConfig(cfg); !slices.Equal(got.NamedGroups, []string{"h", "a", "p", "o"}) || !got.Onboarding {
		t.Errorf("onboarding on: groups %q, onboarding %v; want [h a p o], true", got.NamedGroups, got.Onboarding)
	}
}
