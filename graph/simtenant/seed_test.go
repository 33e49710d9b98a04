package simtenant

import (
	"os"
	"regexp"
	"testing"
)

// TestContosoMatchesPlayground keeps the seeded tenant and the Agents Playground's
// mock users in step: same tenant id, and every playground user exists here with the
// same aadObjectId and UPN.
func TestContosoMatchesPlayground(t *testing.T) {
	yml, err := os.ReadFile("../../.m365agentsplayground.yml")
	if err != nil {
		t.Skip("no playground configuration:", err)
	}
	tenantRE := regexp.MustCompile(`(?m)^tenantId:\s*(\S+)`)
	if m := tenantRE.FindSubmatch(yml); m == nil || string(m[1]) != ContosoTenantID {
		t.Errorf("playground tenantId match %q, want %s", m, ContosoTenantID)
	}
	// userPrincipleName (sic) precedes aadObjectId in each entry.
	userRE := regexp.MustCompile(`userPrincipleName:\s*"?([^"\s]+)"?\s*\n\s*aadObjectId:\s*(\S+)`)
	matches := userRE.FindAllSubmatch(yml, -1)
	if len(matches) != 6 {
		t.Fatalf("found %d playground users, want 6", len(matches))
	}
	h := newHarness(t)
	for _, m := range matches {
		upn, id := string(m[1]), string(m[2])
		r := h.do("GET", "/users/"+id+"?$select=id,userPrincipalName", nil)
		if r.status != 200 || r.body["userPrincipalName"] != upn {
			t.Errorf("GET /users/%s = %d %v, want 200 with userPrincipalName %s", id, r.status, r.body, upn)
		}
	}
}

// TestContosoScenarios checks the people the flows are tried on are what they say.
func TestContosoScenarios(t *testing.T) {
	h := newHarness(t)
	member := func(user, group string) bool {
		v := h.do("POST", "/users/"+user+"/checkMemberGroups", map[string]any{"groupIds": []string{group}}).want(t, 200, "").body["value"].([]any)
		return len(v) == 1
	}
	for _, tt := range []struct {
		user, group string
		want        bool
	}{
		{HanaID, GroupHelpdesk, true}, {AlexID, GroupApprovers, true}, {NinaID, GroupNewHires, true},
		{ErinID, GroupProtected, true}, {HanaID, GroupStaff, true}, {ColinID, GroupStaff, false},
		{ColinID, GroupNewHires, false}, {GregID, GroupStaff, false}, {InesID, GroupAuthAdmin, true},
	} {
		if got := member(tt.user, tt.group); got != tt.want {
			t.Errorf("%s member of %s = %v, want %v", tt.user, tt.group, got, tt.want)
		}
	}
	if v := h.do("GET", "/users/"+NinaID+"/authentication/methods", nil).want(t, 200, "").values(); len(v) != 0 {
		t.Errorf("Nina's methods = %v, want none", v)
	}
	// Everyone in the policy's scope can get a pass from Graph itself; tapbot's own
	// rules (guests, admins, protected, disabled) are tapbot's to enforce.
	for _, id := range []string{HanaID, MaxID, AlexID, GwenID, NinaID, DanID, PaulID, ErinID, InesID} {
		h.do("POST", tapPath(id), nil).want(t, 201, "")
	}
	h.do("POST", tapPath(ColinID), nil).want(t, 400, "badRequest")
	h.do("POST", tapPath(GregID), nil).want(t, 400, "badRequest")
}
