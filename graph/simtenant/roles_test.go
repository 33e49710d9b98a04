package simtenant

import (
	"testing"
	"time"
)

func TestRoleEligibilityScheduleInstances(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances?$filter="+q("principalId eq '"+PaulID+"'")+"&$expand=roleDefinition", nil).want(t, 200, "")
	v := r.values()
	if len(v) != 1 {
		t.Fatalf("Paul's eligibilities %v, want 1", v)
	}
	e := v[0]
	def, _ := e["roleDefinition"].(map[string]any)
	if e["principalId"] != PaulID || e["roleDefinitionId"] != RolePrivilegedAuthenticationAdministrator ||
		e["directoryScopeId"] != "/" || e["memberType"] != "Direct" || e["endDateTime"] != nil ||
		def["templateId"] != RolePrivilegedAuthenticationAdministrator || def["id"] != RolePrivilegedAuthenticationAdministrator ||
		def["displayName"] != "Privileged Authentication Administrator" {
		t.Errorf("instance %v, want Paul eligible for Privileged Authentication Administrator at /, Direct, permanent, its definition expanded", e)
	}
	if _, err := time.Parse(time.RFC3339, e["startDateTime"].(string)); err != nil {
		t.Error(err)
	}
	if r.body["@odata.context"] != h.srv.URL()+"/v1.0/$metadata#roleManagement/directory/roleEligibilityScheduleInstances" {
		t.Errorf("context %v, want .../$metadata#roleManagement/directory/roleEligibilityScheduleInstances", r.body["@odata.context"])
	}
	// Without $expand there is no roleDefinition; Gwen's role is active, not eligible.
	r = h.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances?$filter="+q("principalId eq '"+PaulID+"'"), nil).want(t, 200, "")
	if _, ok := r.values()[0]["roleDefinition"]; ok {
		t.Error("roleDefinition without $expand")
	}
	r = h.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances?$filter="+q("principalId eq '"+GwenID+"'"), nil).want(t, 200, "")
	if len(r.values()) != 0 {
		t.Errorf("Gwen's eligibilities %v, want none (her role is active)", r.values())
	}
	r = h.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances?$select=principalId", nil).want(t, 200, "")
	if v := r.values(); len(v) != 2 || len(v[0]) != 1 {
		t.Errorf("all with $select=principalId: %v, want 2 with principalId only", v)
	}
	h.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances?$expand=principal", nil).want(t, 400, "BadRequest")
	h.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances?$filter="+q("principalId eq "+PaulID), nil).want(t, 400, "BadRequest")
	h.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances?$filter="+q("memberType eq 'Direct'"), nil).want(t, 400, "Request_UnsupportedQuery")
	// principalId supports eq and ne here, not in (unlike roleAssignments).
	h.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances?$filter="+q("principalId in ('"+PaulID+"')"), nil).want(t, 400, "Request_UnsupportedQuery")
	// Eligibility given to a group is filed under the group, not its members.
	r = h.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances?$filter="+q("principalId eq '"+GroupGAPIM+"'")+"&$expand=roleDefinition", nil).want(t, 200, "")
	if v := r.values(); len(v) != 1 || v[0]["roleDefinitionId"] != RoleGlobalAdministrator {
		t.Errorf("Global admins (PIM) group's eligibilities %v, want 1 for Global Administrator", v)
	}
	if v := h.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances?$filter="+q("principalId eq '"+GaryID+"'"), nil).want(t, 200, "").values(); len(v) != 0 {
		t.Errorf("Gary's eligibilities %v, want none (they are filed under his group)", v)
	}
}

func TestRoleAssignments(t *testing.T) {
	h := newHarness(t)
	list := func(filter string) []map[string]any {
		return h.do("GET", "/roleManagement/directory/roleAssignments?$filter="+q(filter)+"&$expand=roleDefinition", nil).want(t, 200, "").values()
	}
	// One request covers a user and their groups: principalId supports "in".
	got := list("principalId in ('" + OscarID + "', '" + GroupParisDesk + "')")
	if len(got) != 1 {
		t.Fatalf("Oscar and Paris desk assignments %v, want 1", got)
	}
	a, def := got[0], got[0]["roleDefinition"].(map[string]any)
	if a["principalId"] != GroupParisDesk || a["directoryScopeId"] != ScopeParis || a["roleDefinitionId"] != RoleCustomTier1 ||
		def["isBuiltIn"] != false || def["templateId"] != RoleCustomTier1 || def["displayName"] != RoleCustomTier1Name {
		t.Errorf("Paris desk assignment %v, want the custom Tier 1 role (not built in) at the Paris scope", a)
	}
	if got := list("principalId eq '" + AudreyID + "'"); len(got) != 1 || got[0]["directoryScopeId"] != ScopeParis ||
		got[0]["roleDefinition"].(map[string]any)["isBuiltIn"] != true {
		t.Errorf("Audrey's assignments %v, want 1 built-in role at the Paris scope", got)
	}
	if got := list("principalId eq '" + GwenID + "'"); len(got) != 1 || got[0]["directoryScopeId"] != "/" || got[0]["roleDefinitionId"] != RoleGlobalAdministrator {
		t.Errorf("Gwen's assignments %v, want Global Administrator at /", got)
	}
	if got := list("principalId eq '" + NinaID + "'"); len(got) != 0 {
		t.Errorf("Nina's assignments %v, want none", got)
	}
	// Without $expand there is no roleDefinition; other expansions are refused.
	r := h.do("GET", "/roleManagement/directory/roleAssignments?$filter="+q("principalId eq '"+CaraID+"'"), nil).want(t, 200, "")
	if _, ok := r.values()[0]["roleDefinition"]; ok || r.body["@odata.context"] != h.srv.URL()+"/v1.0/$metadata#roleManagement/directory/roleAssignments" {
		t.Errorf("Cara's assignments %v, want no roleDefinition and context .../$metadata#roleManagement/directory/roleAssignments", r.body)
	}
	h.do("GET", "/roleManagement/directory/roleAssignments?$expand=principal", nil).want(t, 400, "BadRequest")
	h.do("GET", "/roleManagement/directory/roleAssignments?$filter="+q("principalId ne 'x'"), nil).want(t, 400, "Request_UnsupportedQuery")
	h.do("POST", "/roleManagement/directory/roleAssignments", map[string]any{}).want(t, 405, "Request_BadRequest")
	// Not a PIM API: it answers without P2.
	h.tenant.SetPIMLicensed(false)
	if got := list("principalId eq '" + GwenID + "'"); len(got) != 1 {
		t.Errorf("Gwen's assignments without P2 %v, want 1", got)
	}
}

func TestGroupEligibilityScheduleInstances(t *testing.T) {
	h := newHarness(t)
	const path = "/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances"
	r := h.do("GET", path+"?$filter="+q("principalId eq '"+PiaID+"'"), nil).want(t, 200, "")
	v := r.values()
	if len(v) != 1 || v[0]["groupId"] != GroupRoleAdmin || v[0]["accessId"] != "member" || v[0]["principalId"] != PiaID ||
		v[0]["id"] != GroupRoleAdmin+"_member_"+v[0]["id"].(string)[len(GroupRoleAdmin+"_member_"):] {
		t.Errorf("Pia's group eligibilities %v, want 1: member of the role-assignable group, id {groupId}_member_…", v)
	}
	if got := h.do("GET", path+"?$filter="+q("groupId eq '"+GroupRoleAdmin+"' and accessId eq 'owner'"), nil).want(t, 200, "").values(); len(got) != 0 {
		t.Errorf("owner eligibilities %v, want none", got)
	}
	// The list must be scoped to a principal or a group.
	h.do("GET", path, nil).want(t, 400, "BadRequest")
	h.do("GET", path+"?$filter="+q("accessId eq 'member'"), nil).want(t, 400, "BadRequest")
	h.do("GET", path+"?$filter="+q("principalId in ('"+PiaID+"')"), nil).want(t, 400, "Request_UnsupportedQuery")
}

// A tenant without Entra ID P2 answers the PIM APIs with AadPremiumLicenseRequired.
func TestPIMWithoutLicence(t *testing.T) {
	h := newHarness(t)
	h.tenant.SetPIMLicensed(false)
	h.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances?$filter="+q("principalId eq '"+PaulID+"'"), nil).want(t, 400, "AadPremiumLicenseRequired")
	h.do("GET", "/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances?$filter="+q("principalId eq '"+PiaID+"'"), nil).want(t, 400, "AadPremiumLicenseRequired")
}
