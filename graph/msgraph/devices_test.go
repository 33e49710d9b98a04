package msgraph

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/graph/simtenant"
)

// The enrollment configurations come from v1.0 and only the Windows Hello for
// Business one is kept; the Autopilot profiles from beta, with their assignments
// expanded, on every page.
func TestContractDevices(t *testing.T) {
	srv, c, _ := contoso(t)
	tenant := srv.Tenant()
	tenant.PageSize = 1
	tenant.SetWHfBEnrollment(graph.EnablementDisabled)
	tenant.AddAutopilotProfile("p2", "Unassigned")
	tenant.AddAutopilotProfile("p3", "New hires", graph.AssignmentTarget{Kind: "groupAssignmentTarget", GroupID: simtenant.GroupNewHires})
	ctx := context.Background()
	whfb, err := c.WHfBEnrollments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(whfb) != 1 || whfb[0].State != graph.EnablementDisabled {
		t.Fatalf("WHfB enrollments %+v, want one, disabled", whfb)
	}
	profiles, err := c.AutopilotProfiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(profiles) != 3 || !profiles[0].Assigned() || profiles[1].Assigned() ||
		profiles[2].Targets[0] != (graph.AssignmentTarget{Kind: "groupAssignmentTarget", GroupID: simtenant.GroupNewHires}) {
		t.Fatalf("Autopilot profiles %+v, want 3 over pages: the seeded one assigned, p2 not, p3 to New hires", profiles)
	}
	var beta bool
	for _, r := range srv.Requests() {
		if r.Path == "/beta/deviceManagement/windowsAutopilotDeploymentProfiles" && r.Query.Get("$expand") == "assignments" && r.Status == http.StatusOK {
			beta = true
		}
	}
	if !beta {
		t.Fatalf("requests %+v, want a GET of beta windowsAutopilotDeploymentProfiles with $expand=assignments answered 200", srv.Requests())
	}
}

// Without an Intune permission both reads are refused as Graph refuses them.
func TestDevicesNeedIntunePermission(t *testing.T) {
	srv, c, _ := contoso(t)
	srv.Tenant().SetAppRoles("User.Read.All")
	ctx := context.Background()
	if _, err := c.WHfBEnrollments(ctx); !errors.Is(err, graph.ErrForbidden) {
		t.Fatalf("WHfBEnrollments without permission = %v, want ErrForbidden", err)
	}
	if _, err := c.AutopilotProfiles(ctx); !errors.Is(err, graph.ErrForbidden) {
		t.Fatalf("AutopilotProfiles without permission = %v, want ErrForbidden", err)
	}
	// DeviceManagementConfiguration.Read.All reads the enrollment configurations, not
	// the Autopilot list (whose page names only the DeviceManagementServiceConfig pair).
	srv.Tenant().SetAppRoles("DeviceManagementConfiguration.Read.All")
	if _, err := c.WHfBEnrollments(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AutopilotProfiles(ctx); !errors.Is(err, graph.ErrForbidden) {
		t.Fatalf("AutopilotProfiles with DeviceManagementConfiguration.Read.All = %v, want ErrForbidden", err)
	}
}
