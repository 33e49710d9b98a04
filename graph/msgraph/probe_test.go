package msgraph

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/graph/simtenant"
)

// wire lists requests as "METHOD path?query", sorted: what was asked, whatever the
// order of a batch's steps.
func wire(rs []simtenant.Request) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Method + " " + r.Path + "?" + r.Query.Encode()
	}
	slices.Sort(out)
	return out
}

// probeRow returns the first result whose name contains name.
func probeRow(t *testing.T, results []graph.ProbeResult, name string) graph.ProbeResult {
	t.Helper()
	for _, r := range results {
		if strings.Contains(r.Name, name) {
			return r
		}
	}
	t.Fatalf("results %+v, want one named %q", results, name)
	return graph.ProbeResult{}
}

// The probe's batches are the gate's, step for step: the target batch, the role
// batch for the user and its role-assignable groups, and the role batch for the
// groups it may join through PIM for Groups.
func TestProbeSendsTheGatesBatches(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()
	groups := []string{simtenant.GroupNewHires, simtenant.GroupProtected}
	tests := []struct {
		user string
		row  string // a role row the probe reports, without error
	}{
		{simtenant.NinaID, "PIM for Groups eligibility (role batch) of the user"},
		{simtenant.GaryID, `active directory roles (role batch) of the user and group "Global admins (PIM)"`},
		{simtenant.OscarID, `PIM-eligible directory roles (role batch) of group "Paris desk"`},
		{simtenant.PiaID, "active directory roles (role batch) of group " + simtenant.GroupRoleAdmin + " (PIM for Groups)"},
	}
	for _, tt := range tests {
		srv.Reset()
		if _, err := c.Target(ctx, tt.user, groups); err != nil {
			t.Fatal(err)
		}
		gate := wire(srv.BatchedRequests())
		srv.Reset()
		results, err := c.Probe(ctx, tt.user, ProbeConfig{Groups: groups})
		if err != nil {
			t.Fatal(err)
		}
		if probe := wire(srv.BatchedRequests()); !slices.Equal(probe, gate) {
			t.Errorf("%s: the probe batched\n%s\nwant the gate's\n%s", tt.user, strings.Join(probe, "\n"), strings.Join(gate, "\n"))
		}
		if r := probeRow(t, results, tt.row); r.Err != nil || r.Skipped != "" {
			t.Errorf("%s: row %+v, want answered, no error", tt.user, r)
		}
	}
}

// A user in no role-assignable group: the probe says there was nothing to read for
// groups, and why — a finding about the user, not a request left out.
func TestProbeSaysWhenNoRoleAssignableGroup(t *testing.T) {
	_, c, _ := contoso(t)
	results, err := c.Probe(context.Background(), simtenant.NinaUPN, ProbeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	r := probeRow(t, results, "roles of the user's role-assignable groups")
	if r.Nothing != "the user is in no role-assignable group" || r.Skipped != "" || r.Key != "/roleAssignments" {
		t.Errorf("row %+v, want nothing to read: the user is in no role-assignable group, key /roleAssignments", r)
	}
	results, err = c.Probe(context.Background(), simtenant.GaryUPN, ProbeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if strings.Contains(r.Name, "roles of the user's role-assignable groups") {
			t.Errorf("Gary is in a role-assignable group, yet the probe reports %+v", r)
		}
	}
}

// doctor's device reads are probed too; without the Intune permission each is a 403
// whose permission-table row names DeviceManagementServiceConfig.Read.All.
func TestProbeDeviceReads(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()
	names := []string{"Windows Hello for Business enrollment", "Autopilot deployment profiles"}
	results, err := c.Probe(ctx, simtenant.NinaUPN, ProbeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if r := probeRow(t, results, name); r.Err != nil {
			t.Errorf("with every permission: %+v, want no error", r)
		}
	}

	srv.Tenant().SetAppRoles(slices.DeleteFunc(srv.Tenant().AppRoles(), func(r string) bool { return strings.HasPrefix(r, "DeviceManagement") })...)
	if results, err = c.Probe(ctx, simtenant.NinaUPN, ProbeConfig{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		r := probeRow(t, results, name)
		call, ok := graph.FindCall(r.Key)
		if !errors.Is(r.Err, graph.ErrForbidden) || !ok || call.Fixes() != "DeviceManagementServiceConfig.Read.All" {
			t.Errorf("without an Intune permission: %+v, table row %+v; want ErrForbidden and a row fixed by DeviceManagementServiceConfig.Read.All", r, call)
		}
	}
}

// everyFeature switches on every feature the probe reads for, with tapbot published
// and installed for user, so that the installed-apps read finds its installation.
func everyFeature(t *testing.T, srv *simtenant.Server, c *Client, user string) ProbeConfig {
	t.Helper()
	catalogID, err := srv.Tenant().PublishApp(manifestJSON(t, tapbotAppID))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.InstallAppForUser(context.Background(), user, catalogID); err != nil {
		t.Fatal(err)
	}
	return ProbeConfig{Groups: []string{simtenant.GroupStaff}, NamedGroups: []string{simtenant.GroupHelpdesk, simtenant.GroupApprovers},
		CatalogAppID: catalogID, ManagerPath: true, Onboarding: true, Joiners: true}
}

// Every probe row is a read call of the permission table, and every request on the
// wire reads: GETs, the $batch that carries them and checkMemberGroups (a POST that
// only reads).
func TestProbeOnlyReads(t *testing.T) {
	srv, c, _ := contoso(t)
	cfg := everyFeature(t, srv, c, simtenant.PiaUPN)
	srv.Reset()
	results, err := c.Probe(context.Background(), simtenant.PiaUPN, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if call, ok := graph.FindCall(r.Key); !ok || !call.Read {
			t.Errorf("row %+v: table row %+v, %v; want a read call", r, call, ok)
		}
		if r.Err != nil {
			t.Errorf("row %+v, want no error", r)
		}
	}
	for _, r := range append(srv.Requests(), srv.BatchedRequests()...) {
		if r.Method != "GET" && !strings.HasSuffix(r.Path, "/$batch") && !strings.HasSuffix(r.Path, "/checkMemberGroups") {
			t.Errorf("the probe sent %s %s, want only reads", r.Method, r.Path)
		}
	}
}

// The reads of configured features: the manager (none is a fact about the user), a
// new user name (both of onboarding's reads), the user's Teams apps, each
// configured group and the joiners' advanced query.
func TestProbeReadsOfConfiguredFeatures(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()
	cfg := everyFeature(t, srv, c, simtenant.NinaID)
	srv.Reset()
	results, err := c.Probe(ctx, simtenant.NinaUPN, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"the user's manager", "whether a new user name is free", "the user's Teams apps",
		"configured group " + simtenant.GroupHelpdesk, "configured group " + simtenant.GroupApprovers, "the users who start soon"} {
		if r := probeRow(t, results, name); r.Err != nil || r.Skipped != "" || r.Nothing != "" {
			t.Errorf("row %+v, want it made and answered", r)
		}
	}
	var upn []string
	for _, r := range srv.Requests() {
		if strings.Contains(r.Path, "/users/tapbot-probe-") || strings.HasPrefix(r.Query.Get("$filter"), "mail eq 'tapbot-probe-") {
			upn = append(upn, fmt.Sprintf("%s %s %d", r.Method, r.Path, r.Status))
		}
	}
	if len(upn) != 2 || !strings.HasSuffix(upn[0], "@"+simtenant.ContosoDomain+" 404") || !strings.HasSuffix(upn[1], "/v1.0/users 200") {
		t.Errorf("the new user name's requests %q, want GET /users/{upn} answered 404, then GET /users?$filter=mail eq … answered 200", upn)
	}

	results, err = c.Probe(ctx, simtenant.GwenUPN, cfg) // no manager
	if err != nil {
		t.Fatal(err)
	}
	if r := probeRow(t, results, "the user's manager"); r.Nothing != "the user has no manager" || r.Err != nil {
		t.Errorf("Gwen's manager row %+v, want nothing to read: the user has no manager", r)
	}

	cfg.NamedGroups = []string{"0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d4ffff"}
	if results, err = c.Probe(ctx, simtenant.NinaUPN, cfg); err != nil {
		t.Fatal(err)
	}
	if r := probeRow(t, results, "configured group 0e5a1d2b"); !errors.Is(r.Err, graph.ErrNotFound) {
		t.Errorf("a configured group that does not exist: %+v, want ErrNotFound", r)
	}
}

// A feature that is off: tapbot makes none of its reads, and the probe says which
// setting is missing instead.
func TestProbeSkipsFeaturesThatAreOff(t *testing.T) {
	srv, c, _ := contoso(t)
	results, err := c.Probe(context.Background(), simtenant.NinaUPN, ProbeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ row, skipped string }{
		{"the user's manager", "TAPBOT_TAP_VERIFY's manager path"},
		{"whether a new user name is free", "TAPBOT_APPROVER_GROUPS is not set"},
		{"the user's Teams apps", "TAPBOT_TEAMS_APP_ID is not set"},
		{"the configured groups", "no group is configured"},
		{"the users who start soon", "TAPBOT_JOINER_GROUPS is not set"},
	}
	for _, tt := range tests {
		if r := probeRow(t, results, tt.row); !strings.Contains(r.Skipped, tt.skipped) {
			t.Errorf("row %+v, want skipped: %s", r, tt.skipped)
		}
	}
	for _, r := range srv.Requests() {
		if strings.Contains(r.Path, "/manager") || strings.Contains(r.Path, "/groups/") || strings.Contains(r.Query.Get("$filter"), "employeeHireDate") {
			t.Errorf("the probe sent %s %s?%s for a feature that is off", r.Method, r.Path, r.Query.Encode())
		}
	}
}

// probeCannotRead are the read calls of the permission table (by Request) that the
// probe does not make, each with the reason. Empty: it makes every one.
var probeCannotRead = map[string]string{}

// Every read call of the permission table whose feature is on is made by the probe
// (a row whose key is in the call's request, neither skipped nor with nothing to
// read), or is in probeCannotRead with the reason it cannot be.
func TestProbeMakesEveryRead(t *testing.T) {
	srv, c, _ := contoso(t)
	cfg := everyFeature(t, srv, c, simtenant.NinaID)
	// The features always on, those cfg switches on, and the devices (the simulated
	// tenant grants their permission).
	on := []graph.Feature{graph.FeatureTAP, graph.FeatureChecklist, graph.FeatureDoctor, graph.FeatureOnboarding,
		graph.FeatureChecklistInstall, graph.FeatureJoiners, graph.FeatureDevices}
	results, err := c.Probe(context.Background(), simtenant.NinaUPN, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, call := range graph.Calls {
		if !call.Read || !graph.On(on, call.Feature) {
			continue
		}
		made := slices.ContainsFunc(results, func(r graph.ProbeResult) bool {
			return r.Key != "" && r.Skipped == "" && r.Nothing == "" && strings.Contains(call.Request, r.Key)
		})
		reason, cannot := probeCannotRead[call.Request]
		switch {
		case !made && !cannot:
			t.Errorf("%s (%s, %s): no probe row made it; want one, or the reason the probe cannot in probeCannotRead", call.Request, call.Feature, strings.Join(call.Methods, ", "))
		case made && cannot:
			t.Errorf("%s: the probe made it, yet probeCannotRead says %q; want it off that list", call.Request, reason)
		}
	}
	for req := range probeCannotRead {
		if !slices.ContainsFunc(graph.Calls, func(c graph.Call) bool { return c.Request == req && c.Read }) {
			t.Errorf("probeCannotRead lists %s; want only read calls of the permission table", req)
		}
	}
}
