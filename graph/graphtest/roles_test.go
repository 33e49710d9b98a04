package graphtest

import (
	"testing"
	"time"
)

func TestRoleEligibilityScheduleInstances(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances?$filter="+q("principalId eq '"+PaulID+"'")+"&$expand=roleDefinition", nil).want(t, 200, "")
	v := r.values()
	if len(v) != 1 {
		t.Fatalf("Paul: %v", v)
	}
	e := v[0]
	def, _ := e["roleDefinition"].(map[string]any)
	if e["principalId"] != PaulID || e["roleDefinitionId"] != RolePrivilegedAuthenticationAdministrator ||
		e["directoryScopeId"] != "/" || e["memberType"] != "Direct" || e["endDateTime"] != nil ||
		def["templateId"] != RolePrivilegedAuthenticationAdministrator || def["id"] != RolePrivilegedAuthenticationAdministrator ||
		def["displayName"] != "Privileged Authentication Administrator" {
		t.Errorf("instance: %v", e)
	}
	if _, err := time.Parse(time.RFC3339, e["startDateTime"].(string)); err != nil {
		t.Error(err)
	}
	if r.body["@odata.context"] != h.srv.URL()+"/v1.0/$metadata#roleManagement/directory/roleEligibilityScheduleInstances" {
		t.Errorf("context %v", r.body["@odata.context"])
	}
	// Without $expand there is no roleDefinition; Gwen's role is active, not eligible.
	r = h.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances?$filter="+q("principalId eq '"+PaulID+"'"), nil).want(t, 200, "")
	if _, ok := r.values()[0]["roleDefinition"]; ok {
		t.Error("roleDefinition without $expand")
	}
	r = h.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances?$filter="+q("principalId eq '"+GwenID+"'"), nil).want(t, 200, "")
	if len(r.values()) != 0 {
		t.Errorf("Gwen: %v", r.values())
	}
	r = h.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances?$select=principalId", nil).want(t, 200, "")
	if v := r.values(); len(v) != 1 || len(v[0]) != 1 {
		t.Errorf("all, selected: %v", v)
	}
	h.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances?$expand=principal", nil).want(t, 400, "BadRequest")
	h.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances?$filter="+q("principalId eq "+PaulID), nil).want(t, 400, "BadRequest")
	h.do("GET", "/roleManagement/directory/roleEligibilityScheduleInstances?$filter="+q("memberType eq 'Direct'"), nil).want(t, 400, "Request_UnsupportedQuery")
}
