package simtenant

import (
	"testing"
)

func TestGetGroup(t *testing.T) {
	h := newHarness(t)
	b := h.do("GET", "/groups/"+GroupNewHires, nil).want(t, 200, "").body
	if b["id"] != GroupNewHires || b["displayName"] != "New hires" || b["securityEnabled"] != true ||
		b["@odata.context"] != h.srv.URL()+"/v1.0/$metadata#groups/$entity" {
		t.Errorf("GET /groups/{id} = %v, want id %s, displayName \"New hires\", securityEnabled true and context groups/$entity", b, GroupNewHires)
	}
	if _, typed := b["@odata.type"]; typed {
		t.Errorf("GET /groups/{id} = %v, want no @odata.type on an entity read", b)
	}

	// Ids match case-insensitively, as object ids do in Entra; $select projects.
	b = h.do("GET", "/groups/"+"0E5A1D2B-1C4F-4E8A-9D3B-A1B2C3D40001?$select=id,displayName", nil).want(t, 200, "").body
	if len(b) != 3 || b["displayName"] != "Helpdesk" || b["@odata.context"] != h.srv.URL()+"/v1.0/$metadata#groups(id,displayName)/$entity" {
		t.Errorf("GET /groups/{id}?$select=id,displayName = %v, want id, displayName \"Helpdesk\" and context groups(id,displayName)/$entity only", b)
	}
	h.do("GET", "/groups/"+GroupNewHires+"?$select=nope", nil).want(t, 400, "Request_BadRequest")

	// An unknown id and a user's id are both 404, with Graph's code.
	r := h.do("GET", "/groups/0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d4ffff", nil).want(t, 404, "Request_ResourceNotFound")
	if r.errMessage() == "" {
		t.Errorf("404 answer %s, want an error message", r.raw)
	}
	h.do("GET", "/groups/"+NinaID, nil).want(t, 404, "Request_ResourceNotFound")

	h.do("DELETE", "/groups/"+GroupNewHires, nil).want(t, 405, "Request_BadRequest")
	h.do("GET", "/groups", nil).want(t, 400, "BadRequest")
	h.do("GET", "/groups/"+GroupNewHires+"/owners", nil).want(t, 400, "BadRequest")

	if g, ok := h.tenant.Group(GroupStaff); !ok || g.DisplayName != "Staff" || g.ID != GroupStaff {
		t.Errorf("Tenant.Group(GroupStaff) = %+v, %v; want Staff with id %s, true", g, ok, GroupStaff)
	}
	if _, ok := h.tenant.Group(NinaID); ok {
		t.Error("a user is a group")
	}
}

func TestGetGroupInBatch(t *testing.T) {
	h := newHarness(t)
	b := h.do("POST", "/$batch", map[string]any{"requests": []map[string]any{
		{"id": "1", "method": "GET", "url": "/groups/" + GroupProtected + "?$select=displayName"},
		{"id": "2", "method": "GET", "url": "/groups/" + NinaID},
	}}).want(t, 200, "").body
	got := map[string]float64{}
	for _, r := range b["responses"].([]any) {
		m := r.(map[string]any)
		got[m["id"].(string)] = m["status"].(float64)
	}
	if got["1"] != 200 || got["2"] != 404 {
		t.Errorf("batch statuses %v, want 1: 200 and 2: 404\n%v", got, b)
	}
}
