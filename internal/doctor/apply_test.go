package doctor_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"go.uber.org/zap"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/graph/msgraph"
	"github.com/tapbot/tapbot/graph/simtenant"
	"github.com/tapbot/tapbot/internal/doctor"
)

// rolesToken is an unsigned JWT carrying roles, as an Entra app-only token does.
type rolesToken []string

func (r rolesToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	payload, _ := json.Marshal(map[string]any{"aud": "https://graph.microsoft.com", "roles": []string(r)})
	enc := base64.RawURLEncoding.EncodeToString
	return azcore.AccessToken{Token: enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(payload) + ".", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// The real Graph client against the simulated tenant: what Check finds, Plan and
// Apply fix, and the tenant's policies really change.
func TestCheckPlanApplyAgainstTheSimulatedTenant(t *testing.T) {
	tenant := simtenant.Contoso()
	tap := tenant.TAPPolicy()
	tap.Enabled = false
	tap.IncludeTargets = []string{simtenant.GroupStaff}
	tenant.SetTAPPolicy(tap)
	tenant.SetAuthenticatorPolicy(simtenant.AuthenticatorPolicy{
		Enabled:        true,
		IncludeTargets: []simtenant.AuthenticatorTarget{{ID: graph.AllUsers, Mode: "push"}},
	})
	srv := simtenant.NewServer(tenant)
	t.Cleanup(srv.Close)
	c, err := msgraph.New(msgraph.Config{
		Credential: rolesToken(doctor.AllRoles()),
		BaseURL:    srv.URL() + "/v1.0", HTTPClient: srv.Client(),
	}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	cfg := doctor.Config{
		AppID: "8f0c2a1e-3b4d-4e5f-9a6b-7c8d9e0f1a2b", TenantID: simtenant.ContosoTenantID,
		HelpdeskGroups: []string{simtenant.GroupHelpdesk}, OnboardingGroups: []string{simtenant.GroupNewHires},
		ScopeGroups: []string{simtenant.GroupNewHires, simtenant.GroupStaff}, ProtectedGroups: []string{simtenant.GroupProtected},
	}
	ctx := context.Background()

	r := doctor.Check(ctx, c, cfg)
	var failed []string
	for _, it := range r.Items {
		if it.Status != doctor.OK {
			failed = append(failed, it.ID)
		}
	}
	if !slices.Equal(failed, []string{"permissions.least-privilege", "tap.enabled", "tap.targets", "authenticator.targets"}) {
		t.Fatalf("items not OK = %v, want [permissions.least-privilege tap.enabled tap.targets authenticator.targets]\nall items: %+v", failed, r.Items)
	}
	if it, _ := r.Item("tap.targets"); !strings.Contains(it.Detail, "New hires is not among") {
		t.Errorf("tap.targets = %+v, want its detail to name the group from Graph: %q", it, "New hires is not among")
	}

	plan := doctor.Plan(r)
	if len(plan) != 3 {
		t.Fatalf("plan = %+v, want 3 changes", plan)
	}
	before := srv.RequestCount()
	for _, res := range doctor.Apply(ctx, c, plan) {
		if !res.Done || res.Err != nil {
			t.Errorf("%s: %+v, want done without an error", res.ID, res)
		}
	}
	// One read and one update per policy, each update preceded by the client's own
	// read of the targets it keeps.
	if n := srv.RequestCount() - before; n != 6 {
		t.Errorf("%d requests for three changes, want 6", n)
	}
	got := tenant.TAPPolicy()
	if !got.Enabled || !slices.Equal(got.IncludeTargets, []string{simtenant.GroupStaff, simtenant.GroupNewHires}) || got.DefaultLength != 8 {
		t.Errorf("TAP policy = %+v, want enabled, targets [%s %s], default length 8", got, simtenant.GroupStaff, simtenant.GroupNewHires)
	}
	wantAuthr := []simtenant.AuthenticatorTarget{{ID: graph.AllUsers, Mode: "push"}, {ID: simtenant.GroupNewHires, Mode: "any"}}
	if a := tenant.AuthenticatorPolicy(); !a.Enabled || !slices.Equal(a.IncludeTargets, wantAuthr) {
		t.Errorf("Authenticator policy = %+v, want enabled with targets %+v", a, wantAuthr)
	}

	// Only the reminder to take the fix permission away again is left.
	after := doctor.Check(ctx, c, cfg)
	if it, _ := after.Item("permissions.least-privilege"); after.Count(doctor.OK) != len(after.Items)-1 || it.Status != doctor.Warn {
		t.Errorf("items after the fixes = %+v, want all OK but permissions.least-privilege, a warning", after.Items)
	}
}
