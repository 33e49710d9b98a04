package simtenant

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"testing"

	"github.com/tapbot/tapbot/graph"
)

// without is the default grant minus some permissions.
func without(names ...string) []string {
	return slices.DeleteFunc(graph.Needed(graph.AllFeatures()...), func(r string) bool { return slices.Contains(names, r) })
}

// Each endpoint answers 403 Authorization_RequestDenied when the app lacks every
// permission its page lists, and works with any one of them.
func TestPermissionsEnforced(t *testing.T) {
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		revoke []string // taken from the default grant: then 403
		grant  string   // added back instead: then allowed again
	}{
		{"user", "GET", "/users/" + NinaUPN, nil, []string{"User.Read.All", "User.ReadWrite.All"}, "Directory.Read.All"},
		{"user list", "GET", "/users?$filter=" + q("mail eq 'x@contoso.com'"), nil, []string{"User.Read.All", "User.ReadWrite.All"}, "User.Read.All"},
		{"checkMemberGroups needs a group permission too", "POST", "/users/" + NinaID + "/checkMemberGroups",
			map[string]any{"groupIds": []string{GroupNewHires}}, []string{"GroupMember.Read.All", "GroupMember.ReadWrite.All"}, "Group.Read.All"},
		{"methods", "GET", "/users/" + NinaID + "/authentication/methods", nil, []string{"UserAuthenticationMethod.Read.All"}, "UserAuthenticationMethod.ReadWrite.All"},
		{"passes", "GET", "/users/" + NinaID + "/authentication/temporaryAccessPassMethods", nil,
			[]string{"UserAuthMethod-TAP.Read.All", "UserAuthMethod-TAP.ReadWrite.All", "UserAuthenticationMethod.Read.All"}, "UserAuthMethod-TAP.Read.All"},
		{"create a pass: the narrow permission", "POST", "/users/" + NinaID + "/authentication/temporaryAccessPassMethods",
			map[string]any{}, []string{"UserAuthMethod-TAP.ReadWrite.All"}, "UserAuthMethod-TAP.ReadWrite.All"},
		{"create a pass: the broad permission works too", "POST", "/users/" + NinaID + "/authentication/temporaryAccessPassMethods",
			map[string]any{}, []string{"UserAuthMethod-TAP.ReadWrite.All"}, "UserAuthenticationMethod.ReadWrite.All"},
		{"policy", "GET", "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass", nil,
			[]string{"Policy.Read.AuthenticationMethod", "Policy.ReadWrite.AuthenticationMethod"}, "Policy.Read.All"},
		{"policy change", "PATCH", "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass",
			map[string]any{"@odata.type": "#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration", "state": "enabled"},
			[]string{"Policy.ReadWrite.AuthenticationMethod"}, "Policy.ReadWrite.AuthenticationMethod"},
		{"role assignments", "GET", "/roleManagement/directory/roleAssignments?$filter=" + q("principalId eq '"+NinaID+"'"), nil,
			[]string{"RoleManagement.Read.Directory", "RoleManagement.ReadWrite.Directory"}, "Directory.Read.All"},
		{"PIM for Groups", "GET", "/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances?$filter=" + q("principalId eq '"+NinaID+"'"), nil,
			[]string{"PrivilegedEligibilitySchedule.Read.AzureADGroup"}, "PrivilegedAccess.Read.AzureADGroup"},
		{"group", "GET", "/groups/" + GroupNewHires, nil, []string{"GroupMember.Read.All", "GroupMember.ReadWrite.All"}, "GroupMember.Read.All"},
		{"domains", "GET", "/domains", nil, []string{"Domain.Read.All"}, "Domain.Read.All"},
		{"SKUs: the write permission is not listed", "GET", "/subscribedSkus", nil, []string{"LicenseAssignment.Read.All"}, "Organization.Read.All"},
		{"create user", "POST", "/users", sampleUser("perm.test@contoso.com"), []string{"User.ReadWrite.All"}, "User.ReadWrite.All"},
		{"manager", "PUT", "/users/" + NinaID + "/manager/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/users/" + MaxID},
			[]string{"User.ReadWrite.All"}, "User.ReadWrite.All"},
		{"devices", "GET", "/users/" + NinaID + "/registeredDevices", nil, []string{"User.Read.All", "User.ReadWrite.All"}, "User.Read.All"},
		{"installed apps", "GET", "/users/" + NinaID + "/teamwork/installedApps", nil,
			[]string{"TeamsAppInstallation.ReadWriteSelfForUser.All", "TeamsAppInstallation.ReadForUser.All"}, "TeamsAppInstallation.ReadForUser.All"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.tenant.SetAppRoles(without(tt.revoke...)...)
			r := h.do(tt.method, tt.path, tt.body).want(t, http.StatusForbidden, "Authorization_RequestDenied")
			if r.errMessage() != "Insufficient privileges to complete the operation." {
				t.Errorf("message %q, want \"Insufficient privileges to complete the operation.\"", r.errMessage())
			}
			h.tenant.SetAppRoles(append(without(tt.revoke...), tt.grant)...)
			if r := h.do(tt.method, tt.path, tt.body); r.status >= 400 {
				t.Errorf("with %s: status %d, want success\n%s", tt.grant, r.status, r.raw)
			}
		})
	}
}

// jwtHeader is an Authorization header with an Entra-shaped (unsigned) app token.
func jwtHeader(roles []string, appID string) http.Header {
	payload, _ := json.Marshal(map[string]any{"roles": roles, "appid": appID})
	enc := base64.RawURLEncoding.EncodeToString
	return http.Header{"Authorization": {"Bearer " + enc([]byte(`{"alg":"none"}`)) + "." + enc(payload) + "."}}
}

// A token's roles claim decides, not the tenant's default; $batch items are
// authorised one by one with the batch's token.
func TestPermissionsFromTokenAndInBatch(t *testing.T) {
	h := newHarness(t)
	hdr := jwtHeader([]string{"User.Read.All"}, testBotApp)
	h.doWith("GET", h.srv.URL()+"/v1.0/users/"+NinaID, nil, hdr).want(t, 200, "")
	h.doWith("GET", h.srv.URL()+"/v1.0/users/"+NinaID+"/authentication/methods", nil, hdr).want(t, 403, "Authorization_RequestDenied")
	hdr.Set("Content-Type", "application/json")
	r := h.doWith("POST", h.srv.URL()+"/v1.0/$batch", map[string]any{"requests": []map[string]any{
		{"id": "user", "method": "GET", "url": "/users/" + NinaID},
		{"id": "methods", "method": "GET", "url": "/users/" + NinaID + "/authentication/methods"},
	}}, hdr).want(t, 200, "")
	items := responsesByID(t, r)
	if items["user"]["status"] != float64(200) || items["methods"]["status"] != float64(403) {
		t.Errorf("batch items %v, want user 200 and methods 403", items)
	}
}

// Without a group permission transitiveMemberOf lists groups with limited
// information: no isAssignableToRole, which tapbot must read as "roles unknown".
func TestTransitiveMemberOfLimitedInformation(t *testing.T) {
	h := newHarness(t)
	h.tenant.SetAppRoles(without("GroupMember.Read.All", "GroupMember.ReadWrite.All")...)
	vs := h.do("GET", "/users/"+InesID+"/transitiveMemberOf", nil).want(t, 200, "").values()
	if len(vs) == 0 {
		t.Fatal("no groups")
	}
	for _, v := range vs {
		if v["@odata.type"] != "#microsoft.graph.group" {
			continue // directory roles: RoleManagement.Read.Directory is still granted
		}
		if v["id"] == nil || v["@odata.type"] == nil || v["displayName"] != nil || v["isAssignableToRole"] != nil {
			t.Errorf("group %v, want limited information: id and @odata.type, displayName and isAssignableToRole null", v)
		}
	}
	h.tenant.ResetAppRoles()
	if v := h.do("GET", "/users/"+InesID+"/transitiveMemberOf", nil).want(t, 200, "").values(); v[0]["displayName"] == nil {
		t.Errorf("with the default grant the first group is %v, want a displayName", v[0])
	}
}

// Adding a member to a role-assignable group also needs RoleManagement.ReadWrite.Directory.
func TestRoleAssignableGroupMemberNeedsRoleManagement(t *testing.T) {
	h := newHarness(t)
	ref := map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + MaxID}
	h.tenant.SetAppRoles(without("RoleManagement.ReadWrite.Directory")...)
	h.do("POST", "/groups/"+GroupRoleAdmin+"/members/$ref", ref).want(t, 403, "Authorization_RequestDenied")
	h.do("POST", "/groups/"+GroupNewHires+"/members/$ref", ref).want(t, 204, "")
	h.tenant.ResetAppRoles()
	h.do("POST", "/groups/"+GroupRoleAdmin+"/members/$ref", ref).want(t, 204, "")
}

// With TeamsAppInstallation.ReadWriteSelfForUser.All an app installs only a catalog
// app whose webApplicationInfo.id is its own app id.
func TestSelfInstallNeedsWebApplicationInfo(t *testing.T) {
	h := newHarness(t)
	path := "/users/" + NinaID + "/teamwork/installedApps"
	h.tenant.SetAppCatalog(CatalogApp{ID: testCatalogApp}) // a manifest without webApplicationInfo
	h.do("POST", path, bindBody(testCatalogApp)).want(t, 403, "Forbidden")
	h.tenant.SetAppCatalog(CatalogApp{ID: testCatalogApp, WebApplicationInfoID: "11111111-2222-4333-8444-555555555555"}) // another app's
	h.do("POST", path, bindBody(testCatalogApp)).want(t, 403, "Forbidden")
	id, err := h.tenant.PublishApp([]byte(`{"id":"` + testBotApp + `","webApplicationInfo":{"id":"` + testBotApp + `","resource":"api://botid-` + testBotApp + `"}}`))
	if err != nil {
		t.Fatal(err)
	}
	h.do("POST", path, bindBody(id)).want(t, 201, "")
	if n := len(h.tenant.InstalledApps(NinaID)); n != 1 {
		t.Errorf("%d installations, want 1", n)
	}
}

// Right after POST /users the new user can be missing for a few requests.
func TestReplicationLagAfterCreate(t *testing.T) {
	h := newHarness(t)
	h.tenant.SetReplicationLag(2)
	u := h.do("POST", "/users", sampleUser("lag.test@contoso.com")).want(t, 201, "").body
	id := u["id"].(string)
	h.do("GET", "/users/"+id, nil).want(t, 404, "Request_ResourceNotFound")
	h.do("PATCH", "/users/lag.test@contoso.com", map[string]any{"usageLocation": "FR"}).want(t, 404, "Request_ResourceNotFound")
	h.do("GET", "/users/"+id, nil).want(t, 200, "")
	h.do("GET", "/users/"+NinaID, nil).want(t, 200, "") // seeded users are not affected
}

// $search, $count, ne and endsWith on /users are advanced queries: refused without
// ConsistencyLevel: eventual and $count=true.
func TestUsersAdvancedQueryRules(t *testing.T) {
	h := newHarness(t)
	for _, query := range []string{
		"$search=" + q(`"displayName:nina"`),
		"$filter=" + q("userType ne 'Guest'"),
		"$filter=" + q("endsWith(mail,'@contoso.com')"),
		"$count=true",
	} {
		h.do("GET", "/users?"+query, nil).want(t, 400, "Request_UnsupportedQuery")
	}
	h.do("GET", "/users?$filter="+q("mail eq 'nina@contoso.com'"), nil).want(t, 200, "") // eq is not advanced
}
