package simtenant

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tapbot/tapbot/graph"
)

func TestGetUser(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/users/"+NinaID, nil).want(t, 200, "")
	want := map[string]any{
		"@odata.context":    h.srv.URL() + "/v1.0/$metadata#users/$entity",
		"id":                NinaID,
		"displayName":       "Nina Newhire",
		"givenName":         "Nina",
		"surname":           "Newhire",
		"mail":              NinaUPN,
		"userPrincipalName": NinaUPN,
		"businessPhones":    []any{},
		"jobTitle":          nil, "mobilePhone": nil, "officeLocation": nil, "preferredLanguage": nil,
	}
	if fmt.Sprint(r.body) != fmt.Sprint(want) {
		t.Errorf("default properties:\n got %v\nwant %v", r.body, want)
	}
	// accountEnabled and userType are not in Graph's default set: they must be selected.
	r = h.do("GET", "/users/"+DanUPN+"?$select=id,accountEnabled,userType,CreatedDateTime", nil).want(t, 200, "")
	if r.body["accountEnabled"] != false || r.body["userType"] != "Member" || r.body["createdDateTime"] != "2024-03-04T09:00:00Z" || len(r.body) != 5 {
		t.Errorf("selected %v, want id, accountEnabled false, userType Member, createdDateTime 2024-03-04T09:00:00Z and the context", r.body)
	}
	if r.body["@odata.context"] != h.srv.URL()+"/v1.0/$metadata#users(id,accountEnabled,userType,createdDateTime)/$entity" {
		t.Errorf("context %v, want .../$metadata#users(id,accountEnabled,userType,createdDateTime)/$entity", r.body["@odata.context"])
	}
	h.do("GET", "/users/"+NinaID+"?$select=id,shoeSize", nil).want(t, 400, "Request_BadRequest")
	h.do("GET", "/users/00000000-0000-4000-8000-000000000000", nil).want(t, 404, "Request_ResourceNotFound")
}

func TestGetGuestByUPN(t *testing.T) {
	h := newHarness(t)
	// '#' must be escaped in a URL path; the UPN matches case-insensitively.
	path := "/users/" + url.PathEscape(strings.ToUpper(GregUPN)) + "?$select=id,userType,mail,externalUserState,mailNickname"
	r := h.do("GET", path, nil).want(t, 200, "")
	if r.body["id"] != GregID || r.body["userType"] != "Guest" || r.body["mail"] != "greg@fabrikam.com" ||
		r.body["externalUserState"] != "Accepted" || r.body["mailNickname"] != "greg_fabrikam.com" {
		t.Errorf("guest %v, want Greg, Guest, mail greg@fabrikam.com, Accepted, nickname greg_fabrikam.com", r.body)
	}
}

func TestFilterUsers(t *testing.T) {
	h := newHarness(t)
	h.tenant.AddUser(graph.User{ID: "dddddddd-dddd-4ddd-8ddd-dddddddddddd", UserPrincipalName: "oonagh.obrien@contoso.com",
		Mail: "O'Brien@contoso.com", DisplayName: "Oonagh O'Brien", AccountEnabled: true})
	for _, tt := range []struct {
		filter string
		want   []string
	}{
		{"mail eq 'nina@contoso.com'", []string{NinaID}},
		{"mail eq 'NINA@CONTOSO.COM'", []string{NinaID}},
		{"userPrincipalName eq '" + GregUPN + "'", []string{GregID}},
		{"mail eq 'O''Brien@contoso.com'", []string{"dddddddd-dddd-4ddd-8ddd-dddddddddddd"}},
		{"mail eq 'greg@fabrikam.com' or userPrincipalName eq 'max@contoso.com'", []string{MaxID, GregID}},
		{"(userType eq 'Guest') and accountEnabled eq true", []string{GregID}},
		{"accountEnabled eq false", []string{DanID}},
		{"mail eq 'nobody@contoso.com'", nil},
	} {
		r := h.do("GET", "/users?$filter="+q(tt.filter)+"&$select=id", nil).want(t, 200, "")
		var got []string
		for _, v := range r.values() {
			got = append(got, v["id"].(string))
		}
		sort.Strings(got)
		sort.Strings(tt.want)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.filter, got, tt.want)
		}
		if r.body["@odata.context"] != h.srv.URL()+"/v1.0/$metadata#users(id)" {
			t.Errorf("context %v, want .../$metadata#users(id)", r.body["@odata.context"])
		}
	}
}

func TestFilterRefusals(t *testing.T) {
	h := newHarness(t)
	for _, tt := range []struct{ filter, code string }{
		{"mail eq 'O'Brien@contoso.com'", "BadRequest"}, // unescaped quote
		{"mail eq 'unterminated", "BadRequest"},
		{"mail eq", "BadRequest"},
		{"mail 'x'", "BadRequest"},
		{"mail eq 'a' and", "BadRequest"},
		{"(mail eq 'a'", "BadRequest"},
		{"mail eq 'a')", "BadRequest"},
		{"mail == 'a'", "BadRequest"},
		{"", "BadRequest"},
		{"mail ne 'a'", "Request_UnsupportedQuery"},
		{"startswith(mail,'a')", "Request_UnsupportedQuery"},
		{"jobTitle eq 'CEO'", "Request_UnsupportedQuery"},
		{"accountEnabled eq 'yes'", "Request_UnsupportedQuery"},
	} {
		r := h.do("GET", "/users?$filter="+q(tt.filter), nil)
		if r.status != 400 || r.errCode() != tt.code {
			t.Errorf("%q: %d %q, want 400 %q (%s)", tt.filter, r.status, r.errCode(), tt.code, r.errMessage())
		}
	}
	r := h.do("GET", "/users?$filter="+q("jobTitle eq 'CEO'"), nil)
	if r.errMessage() != "Unsupported or invalid query filter clause specified for property 'jobTitle' of resource 'User'." {
		t.Errorf("message %q, want \"Unsupported or invalid query filter clause specified for property 'jobTitle' of resource 'User'.\"", r.errMessage())
	}
}

func TestUsersPaging(t *testing.T) {
	h := newHarness(t)
	h.tenant.PageSize = 4
	next := h.srv.URL() + "/v1.0/users?$select=id"
	var ids []string
	pages := 0
	for next != "" {
		r := h.doWith("GET", next, nil, map[string][]string{"Authorization": {"Bearer t"}}).want(t, 200, "")
		pages++
		for _, v := range r.values() {
			ids = append(ids, v["id"].(string))
		}
		next, _ = r.body["@odata.nextLink"].(string)
		if next != "" && !strings.Contains(next, "$select=id") {
			t.Fatalf("nextLink %s, want it to keep $select=id", next)
		}
	}
	if pages != 4 || len(ids) != 16 || ids[0] != HanaID || ids[15] != OscarID {
		t.Errorf("%d pages, ids %v; want 4 pages of 16 users from Hana to Oscar", pages, ids)
	}
	r := h.do("GET", "/users?$top=2", nil).want(t, 200, "")
	if len(r.values()) != 2 || r.body["@odata.nextLink"] == nil {
		t.Errorf("$top=2: %v, want 2 users and a nextLink", r.body)
	}
	h.do("GET", "/users?$top=0", nil).want(t, 400, "Request_BadRequest")
	h.do("GET", "/users?$skiptoken=garbage", nil).want(t, 400, "Request_BadRequest")
}

func TestCheckMemberGroups(t *testing.T) {
	h := newHarness(t)
	check := func(user string, ids ...string) []any {
		r := h.do("POST", "/users/"+user+"/checkMemberGroups", map[string]any{"groupIds": ids}).want(t, 200, "")
		if r.body["@odata.context"] != h.srv.URL()+"/v1.0/$metadata#Collection(Edm.String)" {
			t.Errorf("context %v, want .../$metadata#Collection(Edm.String)", r.body["@odata.context"])
		}
		return r.body["value"].([]any)
	}
	// Hana is in Staff through the nested Helpdesk group.
	if got := check(HanaUPN, GroupStaff, GroupHelpdesk, GroupNewHires, "ffffffff-ffff-4fff-8fff-ffffffffffff"); fmt.Sprint(got) != fmt.Sprint([]any{GroupStaff, GroupHelpdesk}) {
		t.Errorf("Hana's groups %v, want [%s %s]", got, GroupStaff, GroupHelpdesk)
	}
	if got := check(ColinID, GroupStaff, GroupNewHires); len(got) != 0 {
		t.Errorf("Colin's groups %v, want none", got)
	}
	many := make([]string, 21)
	for i := range many {
		many[i] = GroupStaff
	}
	h.do("POST", "/users/"+NinaID+"/checkMemberGroups", map[string]any{"groupIds": many}).want(t, 400, "Request_BadRequest")
	h.do("POST", "/users/"+NinaID+"/checkMemberGroups", map[string]any{}).want(t, 400, "Request_BadRequest")
	h.do("POST", "/users/"+NinaID+"/checkMemberGroups", `{"groupIds":`).want(t, 400, "BadRequest")
	h.do("POST", "/users/"+NinaID+"/checkMemberGroups", `{"groupIds":"x"}`).want(t, 400, "BadRequest")
	h.do("POST", "/users/nobody/checkMemberGroups", map[string]any{"groupIds": []string{GroupStaff}}).want(t, 404, "Request_ResourceNotFound")
}

func TestTransitiveMemberOfDirectoryRole(t *testing.T) {
	h := newHarness(t)
	advanced := http.Header{"Authorization": {"Bearer test-token"}, "Consistencylevel": {"eventual"}}
	roles := func(user, cast string) []map[string]any {
		return h.doWith("GET", h.srv.URL()+"/v1.0/users/"+user+"/transitiveMemberOf/"+cast+"?$count=true", nil, advanced).want(t, 200, "").values()
	}
	// A cast is an advanced query: without ConsistencyLevel: eventual and $count=true
	// Graph refuses it.
	h.do("GET", "/users/"+GwenID+"/transitiveMemberOf/microsoft.graph.directoryRole", nil).want(t, 400, "Request_UnsupportedQuery")
	h.doWith("GET", h.srv.URL()+"/v1.0/users/"+GwenID+"/transitiveMemberOf/microsoft.graph.directoryRole", nil, advanced).want(t, 400, "Request_UnsupportedQuery")
	h.do("GET", "/users/"+GwenID+"/transitiveMemberOf/microsoft.graph.directoryRole?$count=true", nil).want(t, 400, "Request_UnsupportedQuery")
	h.do("GET", "/users/"+GwenID+"/transitiveMemberOf?$filter="+q("id eq 'x'"), nil).want(t, 400, "Request_UnsupportedQuery")
	got := roles(GwenID, "microsoft.graph.directoryRole")
	if len(got) != 1 || got[0]["@odata.type"] != "#microsoft.graph.directoryRole" ||
		got[0]["roleTemplateId"] != RoleGlobalAdministrator || got[0]["displayName"] != "Global Administrator" ||
		!guidRE.MatchString(got[0]["id"].(string)) || got[0]["id"] == RoleGlobalAdministrator {
		t.Errorf("Gwen's roles %v, want Global Administrator alone, its id a GUID other than the template id", got)
	}
	// Ines holds her role through the role-assignable Authentication admins group;
	// msgraph-sdk-go writes the cast with the "graph." alias.
	got = roles(InesID, "graph.directoryRole")
	if len(got) != 1 || got[0]["roleTemplateId"] != RoleAuthenticationAdministrator {
		t.Errorf("Ines's roles %v, want Authentication Administrator alone", got)
	}
	// Paul's role is only eligible: not active.
	if got := roles(PaulID, "microsoft.graph.directoryRole"); len(got) != 0 {
		t.Errorf("Paul's roles %v, want none (his role is eligible, not active)", got)
	}
	r := h.do("GET", "/users/"+InesID+"/transitiveMemberOf", nil).want(t, 200, "")
	var types []string
	for _, v := range r.values() {
		types = append(types, v["@odata.type"].(string)+" "+v["displayName"].(string))
	}
	if fmt.Sprint(types) != "[#microsoft.graph.group Authentication admins #microsoft.graph.group Staff #microsoft.graph.directoryRole Authentication Administrator]" {
		t.Errorf("Ines's transitiveMemberOf %v, want the groups Authentication admins and Staff, then the role Authentication Administrator", types)
	}
	if r.body["@odata.context"] != h.srv.URL()+"/v1.0/$metadata#directoryObjects" {
		t.Errorf("context %v, want .../$metadata#directoryObjects", r.body["@odata.context"])
	}
	r = h.doWith("GET", h.srv.URL()+"/v1.0/users/"+HanaID+"/transitiveMemberOf/microsoft.graph.group?$count=true&$select=id,displayName", nil, advanced).want(t, 200, "")
	if v := r.values(); len(v) != 2 || v[0]["id"] != GroupHelpdesk || v[1]["id"] != GroupStaff || len(v[0]) != 3 {
		t.Errorf("Hana's groups with $select=id,displayName: %v, want Helpdesk then Staff with those two and @odata.type", v)
	}
	h.doWith("GET", h.srv.URL()+"/v1.0/users/"+HanaID+"/transitiveMemberOf/microsoft.graph.user?$count=true", nil, advanced).want(t, 400, "BadRequest")
	h.do("GET", "/users/nobody/transitiveMemberOf", nil).want(t, 404, "Request_ResourceNotFound")

	h.tenant.PageSize = 1
	r = h.do("GET", "/users/"+InesID+"/transitiveMemberOf", nil).want(t, 200, "")
	if len(r.values()) != 1 || !strings.HasPrefix(r.body["@odata.nextLink"].(string), h.srv.URL()+"/v1.0/users/"+InesID+"/transitiveMemberOf?$skiptoken=") {
		t.Errorf("first page %v, want 1 item and a nextLink to .../users/%s/transitiveMemberOf?$skiptoken=…", r.body, InesID)
	}
}

func TestManager(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/users/"+NinaUPN+"/manager", nil).want(t, 200, "")
	if r.body["id"] != MaxID || r.body["@odata.type"] != "#microsoft.graph.user" {
		t.Errorf("Nina's manager %v, want the user %s", r.body, MaxID)
	}
	h.do("GET", "/users/"+MaxID+"/manager", nil).want(t, 404, "Request_ResourceNotFound")
}
