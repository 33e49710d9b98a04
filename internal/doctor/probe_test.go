package doctor

import (
	"errors"
	"strings"
	"testing"

	"github.com/tapbot/tapbot/graph"
)

func TestExplainProbe(t *testing.T) {
	denied := &graph.Error{Status: 403, Code: "Authorization_RequestDenied", RequestID: "r-1"}
	tests := []struct {
		name   string
		cfg    Config
		result graph.ProbeResult
		status Status
		detail []string
		fix    []string
	}{
		{"ok", Config{}, graph.ProbeResult{Name: "the user", Key: "GET /users/{id | upn}"}, OK, []string{"GET /users/{id | upn}", "OK."}, nil},
		{"missing permission: the table's permission fixes it", Config{},
			graph.ProbeResult{Name: "methods", Key: "/authentication/methods", Err: denied}, Fail,
			[]string{"403 Authorization_RequestDenied", "r-1"}, []string{"Grant UserAuthenticationMethod.Read.All"}},
		{"missing permission of a feature not configured: a warning", Config{},
			graph.ProbeResult{Name: "domains", Key: "GET /domains", Err: denied}, Warn,
			nil, []string{"Grant Domain.Read.All", "Needed only for onboarding"}},
		{"missing permission of a configured feature: a failure", Config{ApproverGroups: []string{"g"}},
			graph.ProbeResult{Name: "domains", Key: "GET /domains", Err: denied}, Fail, nil, []string{"Grant Domain.Read.All"}},
		{"install read refused", Config{TeamsAppID: "x"},
			graph.ProbeResult{Name: "apps", Key: "GET /users/{id}/teamwork/installedApps?", Err: denied}, Fail,
			nil, []string{"TeamsAppInstallation.ReadForUser.All", "webApplicationInfo.id"}},
		{"unsupported query", Config{},
			graph.ProbeResult{Name: "groups", Key: "/transitiveMemberOf", Err: &graph.Error{Status: 400, Code: "Request_UnsupportedQuery", RequestID: "r-2"}}, Fail,
			[]string{"400 Request_UnsupportedQuery", "ConsistencyLevel: eventual", "$count=true"}, []string{"bug in tapbot"}},
		{"no P2", Config{},
			graph.ProbeResult{Name: "eligibility", Key: "/roleEligibilityScheduleInstances", Err: &graph.Error{Status: 400, Code: "AadPremiumLicenseRequired"}}, OK,
			[]string{"no Entra ID P2", "reads this as none"}, nil},
		{"limited groups", Config{},
			graph.ProbeResult{Name: "groups", Key: "/transitiveMemberOf", Limited: "3 groups without isAssignableToRole"}, Fail,
			[]string{"3 groups without isAssignableToRole"}, []string{"GroupMember.Read.All"}},
		{"limited devices: the laptop step can't see the join", Config{},
			graph.ProbeResult{Name: "devices", Key: "/registeredDevices", Limited: "devices without their properties"}, Fail,
			[]string{"answered with devices without their properties"}, []string{"Device.Read.All"}},
		{"unknown user", Config{},
			graph.ProbeResult{Name: "the user", Key: "GET /users/{id | upn}", Err: &graph.Error{Status: 404, Code: "Request_ResourceNotFound"}}, Fail,
			[]string{"no such user"}, []string{"Check the user principal name"}},
		{"unknown configured group", Config{},
			graph.ProbeResult{Name: "configured group g", Key: "GET /groups/{id}?$select=id,displayName", Err: &graph.Error{Status: 404, Code: "Request_ResourceNotFound"}}, Fail,
			[]string{"GET /groups/{id}?$select=id,displayName", "no such group"}, []string{"group ids in tapbot's settings"}},
		{"no manager is a finding", Config{},
			graph.ProbeResult{Name: "the user's manager", Key: "GET /users/{id}/manager", Nothing: "the user has no manager"}, OK,
			[]string{"GET /users/{id}/manager", "nothing to read: the user has no manager."}, nil},
		{"busy", Config{},
			graph.ProbeResult{Name: "x", Key: "GET /domains", Err: &graph.Error{Status: 503, Code: "serviceNotAvailable"}}, Warn, []string{"busy"}, nil},
		{"skipped", Config{}, graph.ProbeResult{Name: "roles", Key: "/roleAssignments", Skipped: "the user could not be read"}, Warn, []string{"not tried"}, nil},
		{"transport error", Config{}, graph.ProbeResult{Name: "x", Key: "GET /domains", Err: errors.New("dial tcp: refused")}, Fail, []string{"dial tcp"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ExplainProbe([]graph.ProbeResult{tt.result}, tt.cfg)
			it := r.Items[0]
			if it.Status != tt.status {
				t.Errorf("status %s, want %s: %+v", it.Status, tt.status, it)
			}
			for _, w := range tt.detail {
				if !strings.Contains(it.Detail, w) {
					t.Errorf("detail = %q, want it to contain %q", it.Detail, w)
				}
			}
			for _, w := range tt.fix {
				if !strings.Contains(it.Fix, w) {
					t.Errorf("fix = %q, want it to contain %q", it.Fix, w)
				}
			}
		})
	}
}

// Every key the client's probe uses names a read call of the permission table.
func TestProbeKeysAreReadCalls(t *testing.T) {
	for _, key := range []string{"GET /users/{id | upn}", "/transitiveMemberOf", "GET /users/{id}/authentication/temporaryAccessPassMethods",
		"/checkMemberGroups", "/roleAssignments", "/roleEligibilityScheduleInstances", "/privilegedAccess/group/",
		"GET /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass",
		"GET /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/MicrosoftAuthenticator",
		"/authentication/methods", "/registeredDevices", "GET /domains", "GET /subscribedSkus", "GET /users/{id}/teamwork/installedApps?",
		"GET /users/{id}/manager", "GET /users/{upn}",
		"GET /groups/{id}?$select=id,displayName", "employeeHireDate ge"} {
		c, ok := graph.FindCall(key)
		if !ok || !c.Read {
			t.Errorf("FindCall(%q) = %+v, %v; want a read call", key, c, ok)
		}
	}
}
