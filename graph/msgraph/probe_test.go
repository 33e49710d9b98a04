package msgraph

import (
	"context"
	"errors"
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

// Every probe row is a read call of the permission table, and every request on the
// wire reads: GETs, the $batch that carries them and checkMemberGroups (a POST that
// only reads).
func TestProbeOnlyReads(t *testing.T) {
	srv, c, _ := contoso(t)
	catalogID, err := srv.Tenant().PublishApp(manifestJSON(t, tapbotAppID))
	if err != nil {
		t.Fatal(err)
	}
	srv.Reset()
	results, err := c.Probe(context.Background(), simtenant.PiaUPN, ProbeConfig{Groups: []string{simtenant.GroupStaff}, CatalogAppID: catalogID})
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
