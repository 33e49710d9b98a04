package simtenant

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tapbot/tapbot/graph"
)

// goodPassword meets Entra's rules (three kinds: lower, upper, digit... and symbols).
const goodPassword = "Correct-Horse-Battery-9-Staple"

func sampleUser(upn string) map[string]any {
	local, _, _ := strings.Cut(upn, "@")
	return map[string]any{
		"accountEnabled": true, "displayName": "Ana Novak", "mailNickname": local, "userPrincipalName": upn,
		"givenName": "Ana", "surname": "Novak", "jobTitle": "Engineer", "department": "R&D",
		"officeLocation": "Oslo", "employeeHireDate": "2025-07-01T00:00:00Z",
		"passwordProfile": map[string]any{"password": goodPassword, "forceChangePasswordNextSignIn": false},
	}
}

func TestDomainsAndSKUs(t *testing.T) {
	h := newHarness(t)
	r := h.do("GET", "/domains", nil).want(t, 200, "")
	if r.body["@odata.context"] != h.srv.URL()+"/v1.0/$metadata#domains" {
		t.Errorf("context %v, want .../$metadata#domains", r.body["@odata.context"])
	}
	ds := r.values()
	if len(ds) != 2 || ds[0]["id"] != ContosoDomain || ds[0]["isDefault"] != true || ds[0]["isVerified"] != true || ds[0]["isInitial"] != false ||
		ds[1]["id"] != ContosoInitialDomain || ds[1]["isInitial"] != true || ds[1]["isDefault"] != false || ds[1]["authenticationType"] != "Managed" {
		t.Errorf("domains %v, want %s (default, verified) then %s (initial, managed)", ds, ContosoDomain, ContosoInitialDomain)
	}
	h.tenant.AddDomain(graph.Domain{ID: "Fabrikam.com", IsDefault: true})
	d := h.do("GET", "/domains/fabrikam.COM?$select=id,isVerified", nil).want(t, 200, "").body
	if len(d) != 3 || d["id"] != "fabrikam.com" || d["isVerified"] != false {
		t.Errorf("fabrikam.com with $select %v, want id and isVerified false only", d)
	}
	if got := h.tenant.Domains(); len(got) != 3 || got[0].IsDefault || !got[2].IsDefault {
		t.Errorf("domains %+v, want 3 with the new one default and the old one not", got)
	}
	h.do("GET", "/domains/nope.example", nil).want(t, 404, "Request_ResourceNotFound")
	h.do("POST", "/domains", map[string]any{"id": "x.example"}).want(t, 405, "Request_BadRequest")

	skus := h.do("GET", "/subscribedSkus", nil).want(t, 200, "").values()
	if len(skus) != 2 {
		t.Fatalf("SKUs %v, want 2", skus)
	}
	p1, e3 := skus[0], skus[1]
	prepaid := func(m map[string]any) float64 { return m["prepaidUnits"].(map[string]any)["enabled"].(float64) }
	if p1["skuId"] != SKUEntraIDP1 || p1["skuPartNumber"] != "AAD_PREMIUM" || prepaid(p1) != 25 || p1["consumedUnits"] != 10.0 ||
		p1["id"] != ContosoTenantID+"_"+SKUEntraIDP1 || p1["appliesTo"] != "User" || p1["capabilityStatus"] != "Enabled" {
		t.Errorf("P1 %v, want AAD_PREMIUM, 25 prepaid, 10 consumed, id {tenant}_{skuId}, applies to User, Enabled", p1)
	}
	if e3["skuPartNumber"] != "SPE_E3" || prepaid(e3) != 10 || e3["consumedUnits"] != 10.0 {
		t.Errorf("E3 %v, want SPE_E3 with 10 prepaid and 10 consumed", e3)
	}
	if one := h.do("GET", "/subscribedSkus/"+ContosoTenantID+"_"+SKUM365E3, nil).want(t, 200, "").body; one["skuPartNumber"] != "SPE_E3" {
		t.Errorf("GET one SKU = %v, want SPE_E3", one)
	}
	// The seed is consistent: every consumed unit is a member's licence.
	if l := h.tenant.LicensesOf(HanaUPN); !slices.Equal(l, []string{SKUEntraIDP1, SKUM365E3}) {
		t.Errorf("Hana's licences %v, want [%s %s]", l, SKUEntraIDP1, SKUM365E3)
	}
	if l := h.tenant.LicensesOf(GregID); len(l) != 0 {
		t.Errorf("the guest's licences %v, want none", l)
	}
}

// A tenant other than Contoso starts without domains or SKUs; SeedProvisioning
// gives it Contoso's, once.
func TestSeedProvisioning(t *testing.T) {
	ten := NewTenant("00000000-0000-4000-8000-000000000001")
	if len(ten.Domains()) != 0 || len(ten.SKUs()) != 0 {
		t.Fatal("an empty tenant has provisioning data")
	}
	SeedProvisioning(ten)
	SeedProvisioning(ten)
	if len(ten.Domains()) != 2 || len(ten.SKUs()) != 2 || ten.SKUs()[0].Consumed != 0 {
		t.Errorf("seeded twice: domains %+v, SKUs %+v; want 2 and 2, none consumed", ten.Domains(), ten.SKUs())
	}
	c := Contoso()
	SeedProvisioning(c) // what Contoso() may come to call itself
	if s := c.SKUs(); len(s) != 2 || s[0].Consumed != 10 || s[0].Free() != 15 || s[1].Free() != 0 {
		t.Errorf("Contoso SKUs %+v, want 2: 10 consumed and 15 free, then none free", s)
	}
	ten.AddSKU(graph.SKU{ID: "A1B2C3D4-0000-4000-8000-000000000001", PartNumber: "OVER", Enabled: 5, Consumed: 7})
	if s := ten.SKUs()[2]; s.ID != "a1b2c3d4-0000-4000-8000-000000000001" || s.Free() != 0 {
		t.Errorf("over-assigned SKU %+v free %d, want its id in lower case and 0 free", s, s.Free())
	}
	for _, bad := range []func(){
		func() { ten.AddDomain(graph.Domain{ID: ContosoDomain}) },
		func() { ten.AddSKU(graph.SKU{ID: SKUM365E3}) },
		func() { ten.AddSKU(graph.SKU{ID: "not-a-guid"}) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("a bad seed did not panic")
				}
			}()
			bad()
		}()
	}
}

func TestCreateUser(t *testing.T) {
	h := newHarness(t)
	r := h.do("POST", "/users", sampleUser("ana@contoso.com")).want(t, 201, "")
	b := r.body
	id, _ := b["id"].(string)
	if !provIsGUID(id) || b["userPrincipalName"] != "ana@contoso.com" || b["displayName"] != "Ana Novak" || b["givenName"] != "Ana" ||
		b["surname"] != "Novak" || b["jobTitle"] != "Engineer" || b["officeLocation"] != "Oslo" || b["mail"] != nil ||
		b["@odata.context"] != h.srv.URL()+"/v1.0/$metadata#users/$entity" {
		t.Errorf("created %v, want a GUID id, the sent names, job and office, no mail, context users/$entity", b)
	}
	if _, has := b["accountEnabled"]; has {
		t.Errorf("answer %v, want the default properties only (no accountEnabled)", b)
	}
	if strings.Contains(string(r.raw), goodPassword) || strings.Contains(string(r.raw), "passwordProfile") {
		t.Errorf("answer %s, want no password or passwordProfile in it", r.raw)
	}
	u, ok := h.tenant.User(id)
	if !ok || !u.AccountEnabled || u.UserType != "Member" || u.Department != "R&D" || u.UsageLocation != "" || u.MailNickname != "ana" ||
		!u.EmployeeHireDate.Equal(time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)) || u.ForceChangePasswordNextSignIn || !u.CreatedDateTime.Equal(h.clock.Now()) {
		t.Errorf("stored %+v, want enabled member, R&D, no usageLocation, nickname ana, hired 2025-07-01, no forced change, created now", u)
	}
	if pw, ok := h.tenant.PasswordOf("ANA@contoso.com"); !ok || pw.Reveal() != goodPassword {
		t.Error("password not kept for the leak tests")
	}
	if _, ok := h.tenant.PasswordOf(NinaID); ok {
		t.Error("a seeded user has a password")
	}

	// The new user is a user like the others: GET by UPN with $select, the profile
	// properties included.
	g := h.do("GET", "/users/ana@contoso.com?$select=id,department,employeeHireDate,usageLocation,accountEnabled", nil).want(t, 200, "").body
	if g["id"] != id || g["department"] != "R&D" || g["employeeHireDate"] != "2025-07-01T00:00:00Z" || g["usageLocation"] != nil || g["accountEnabled"] != true || len(g) != 6 {
		t.Errorf("read back %v, want the 5 selected with department R&D, hire date 2025-07-01, usageLocation null, enabled", g)
	}

	// Second time: the UPN is taken, whatever its case.
	r = h.do("POST", "/users", sampleUser("ANA@contoso.com")).want(t, 400, "Request_BadRequest")
	if r.errMessage() != msgUPNTaken {
		t.Errorf("conflict message %q, want %q", r.errMessage(), msgUPNTaken)
	}
	// A UPN that is another user's mail address is taken too (proxyAddresses).
	h.tenant.AddUser(graph.User{UserPrincipalName: "bo@contoso.onmicrosoft.com", Mail: "bo@contoso.com", DisplayName: "Bo"})
	if r := h.do("POST", "/users", sampleUser("bo@contoso.com")).want(t, 400, "Request_BadRequest"); r.errMessage() != msgProxyTaken {
		t.Errorf("proxy conflict message %q, want %q", r.errMessage(), msgProxyTaken)
	}
}

func TestCreateUserRefusals(t *testing.T) {
	h := newHarness(t)
	h.tenant.AddDomain(graph.Domain{ID: "unverified.example"})
	for _, tc := range []struct {
		name   string
		change func(b map[string]any)
		msg    string
	}{
		{"no accountEnabled", func(b map[string]any) { delete(b, "accountEnabled") }, msgRequired},
		{"no displayName", func(b map[string]any) { b["displayName"] = "" }, msgRequired},
		{"no mailNickname", func(b map[string]any) { delete(b, "mailNickname") }, msgRequired},
		{"no passwordProfile", func(b map[string]any) { delete(b, "passwordProfile") }, msgRequired},
		{"no password", func(b map[string]any) { b["passwordProfile"] = map[string]any{"forceChangePasswordNextSignIn": false} }, msgRequired},
		{"bad UPN", func(b map[string]any) { b["userPrincipalName"] = "ana novak@contoso.com" }, "Invalid value specified for property 'userPrincipalName' of resource 'User'."},
		{"bad nickname", func(b map[string]any) { b["mailNickname"] = "ana novak" }, "Invalid value specified for property 'mailNickname' of resource 'User'."},
		{"bad usageLocation", func(b map[string]any) { b["usageLocation"] = "USA" }, "Invalid value specified for property 'usageLocation' of resource 'User'."},
		{"unknown domain", func(b map[string]any) { b["userPrincipalName"] = "ana@fabrikam.com" }, msgDomainInvalid},
		{"unverified domain", func(b map[string]any) { b["userPrincipalName"] = "ana@unverified.example" }, msgDomainInvalid},
		{"short password", func(b map[string]any) { b["passwordProfile"] = map[string]any{"password": "Ab1!"} }, msgPasswordWeak},
		{"two kinds", func(b map[string]any) { b["passwordProfile"] = map[string]any{"password": "alllowercase123"} }, msgPasswordWeak},
		{"unicode", func(b map[string]any) { b["passwordProfile"] = map[string]any{"password": "Pässwörd-123-Long"} }, msgPasswordWeak},
		{"too long", func(b map[string]any) { b["passwordProfile"] = map[string]any{"password": strings.Repeat("Ab1-", 65)} }, msgPasswordWeak},
	} {
		b := sampleUser("ana@contoso.com")
		tc.change(b)
		r := h.do("POST", "/users", b)
		if r.status != 400 || r.errMessage() != tc.msg {
			t.Errorf("%s: %d %q, want 400 %q", tc.name, r.status, r.errMessage(), tc.msg)
		}
	}
	// Three kinds are enough; blank space is allowed; 256 characters are.
	for _, pw := range []string{"lowercase-and-123", "Upper lower 123", strings.Repeat("Ab1-", 64)} {
		b := sampleUser("ok" + pw[:2] + "@contoso.com")
		b["mailNickname"] = "ok"
		b["passwordProfile"] = map[string]any{"password": pw}
		h.do("POST", "/users", b).want(t, 201, "")
	}
	if _, ok := h.tenant.User("ana@contoso.com"); ok {
		t.Error("a refused request created the user")
	}
	h.do("POST", "/users", `{"accountEnabled":"yes"}`).want(t, 400, "BadRequest")
}

func TestPatchUser(t *testing.T) {
	h := newHarness(t)
	h.do("PATCH", "/users/"+NinaUPN, map[string]any{"usageLocation": "no", "jobTitle": "Analyst", "@odata.type": "#microsoft.graph.user"}).want(t, 204, "")
	if u, _ := h.tenant.User(NinaID); u.UsageLocation != "NO" || u.JobTitle != "Analyst" || u.GivenName != "Nina" {
		t.Errorf("patched %+v, want usageLocation NO, jobTitle Analyst, givenName still Nina", u)
	}
	g := h.do("GET", "/users/"+NinaID+"?$select=usageLocation,jobTitle", nil).want(t, 200, "").body
	if g["usageLocation"] != "NO" || g["jobTitle"] != "Analyst" {
		t.Errorf("read back %v, want usageLocation NO and jobTitle Analyst", g)
	}
	h.do("PATCH", "/users/"+NinaID, map[string]any{"usageLocation": nil, "accountEnabled": false}).want(t, 204, "")
	if u, _ := h.tenant.User(NinaID); u.UsageLocation != "" || u.AccountEnabled {
		t.Errorf("after clearing %+v, want no usageLocation and disabled", u)
	}

	for _, tc := range []struct {
		body   map[string]any
		status int
		code   string
	}{
		{map[string]any{"usageLocation": "Norway", "jobTitle": "x"}, 400, "Request_BadRequest"},
		{map[string]any{"usageLocation": 47}, 400, "BadRequest"},
		{map[string]any{"favouriteColour": "blue"}, 400, "Request_BadRequest"},
		{map[string]any{"city": "Oslo"}, 501, "NotImplemented"},
		{map[string]any{"displayName": ""}, 400, "Request_BadRequest"},
	} {
		h.do("PATCH", "/users/"+NinaID, tc.body).want(t, tc.status, tc.code)
	}
	if u, _ := h.tenant.User(NinaID); u.JobTitle != "Analyst" {
		t.Error("a refused PATCH changed something")
	}
	h.do("PATCH", "/users/nobody@contoso.com", map[string]any{"jobTitle": "x"}).want(t, 404, "Request_ResourceNotFound")
}

func TestAssignLicense(t *testing.T) {
	h := newHarness(t)
	id := h.do("POST", "/users", sampleUser("ana@contoso.com")).want(t, 201, "").body["id"].(string)
	add := func(skus ...string) map[string]any {
		var l []map[string]any
		for _, s := range skus {
			l = append(l, map[string]any{"skuId": s, "disabledPlans": []string{}})
		}
		return map[string]any{"addLicenses": l, "removeLicenses": []string{}}
	}

	r := h.do("POST", "/users/"+id+"/assignLicense", add(SKUEntraIDP1)).want(t, 400, "Request_BadRequest")
	if r.errMessage() != msgUsageLocation {
		t.Errorf("without usage location: message %q, want %q", r.errMessage(), msgUsageLocation)
	}
	h.do("PATCH", "/users/"+id, map[string]any{"usageLocation": "NO"}).want(t, 204, "")

	r = h.do("POST", "/users/"+id+"/assignLicense", add(SKUM365E3)).want(t, 400, "Request_BadRequest")
	if r.errMessage() != "Subscription with SKU "+SKUM365E3+" does not have any available licenses." {
		t.Errorf("exhausted SKU: message %q, want \"Subscription with SKU %s does not have any available licenses.\"", r.errMessage(), SKUM365E3)
	}
	r = h.do("POST", "/users/"+id+"/assignLicense", add("11111111-2222-4333-8444-555555555555")).want(t, 400, "Request_BadRequest")
	if !strings.HasSuffix(r.errMessage(), "does not correspond to a valid company License.") {
		t.Errorf("unknown SKU: message %q, want it to end \"does not correspond to a valid company License.\"", r.errMessage())
	}
	// All or nothing: a request with one good and one exhausted SKU assigns neither.
	h.do("POST", "/users/"+id+"/assignLicense", add(SKUEntraIDP1, SKUM365E3)).want(t, 400, "Request_BadRequest")
	if len(h.tenant.LicensesOf(id)) != 0 || h.tenant.SKUs()[0].Consumed != 10 {
		t.Error("a refused request assigned something")
	}

	b := h.do("POST", "/users/"+id+"/assignLicense", add(SKUEntraIDP1)).want(t, 200, "").body
	if b["id"] != id || b["@odata.context"] != h.srv.URL()+"/v1.0/$metadata#users/$entity" {
		t.Errorf("answer %v, want the user %s with context users/$entity", b, id)
	}
	// Again: no change, no second unit.
	h.do("POST", "/users/"+id+"/assignLicense", add(SKUEntraIDP1)).want(t, 200, "")
	if l := h.tenant.LicensesOf(id); !slices.Equal(l, []string{SKUEntraIDP1}) || h.tenant.SKUs()[0].Consumed != 11 {
		t.Errorf("licences %v, SKUs %+v; want [%s] and 11 P1 units consumed", l, h.tenant.SKUs(), SKUEntraIDP1)
	}

	// Freeing an E3 unit makes it assignable.
	h.do("POST", "/users/"+NinaID+"/assignLicense", map[string]any{"addLicenses": []any{}, "removeLicenses": []string{SKUM365E3}}).want(t, 200, "")
	h.do("POST", "/users/"+id+"/assignLicense", add(SKUM365E3)).want(t, 200, "")
	if s := h.tenant.SKUs()[1]; s.Consumed != 10 || !slices.Equal(h.tenant.LicensesOf(NinaID), []string{SKUEntraIDP1}) {
		t.Errorf("E3 %+v with Nina's licences %v, want 10 consumed and Nina left with [%s]", s, h.tenant.LicensesOf(NinaID), SKUEntraIDP1)
	}
	h.do("POST", "/users/"+NinaID+"/assignLicense", map[string]any{"addLicenses": []any{}, "removeLicenses": []string{SKUM365E3}}).want(t, 400, "Request_BadRequest")

	// Malformed requests.
	h.do("POST", "/users/"+id+"/assignLicense", map[string]any{"addLicenses": []any{}}).want(t, 400, "Request_BadRequest")
	h.do("POST", "/users/"+id+"/assignLicense", add("not-a-guid")).want(t, 400, "BadRequest")
	h.do("POST", "/users/nobody@contoso.com/assignLicense", add(SKUEntraIDP1)).want(t, 404, "Request_ResourceNotFound")
	h.do("GET", "/users/"+id+"/assignLicense", nil).want(t, 405, "Request_BadRequest")
}

func TestManagerRef(t *testing.T) {
	h := newHarness(t)
	ref := func(kind, id string) map[string]any {
		return map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/" + kind + "/" + id}
	}
	h.do("PUT", "/users/"+ColinUPN+"/manager/$ref", ref("users", MaxID)).want(t, 204, "")
	if m, ok := h.tenant.ManagerOf(ColinID); !ok || m != MaxID {
		t.Errorf("ManagerOf(Colin) = %q, %v; want %s, true", m, ok, MaxID)
	}
	if g := h.do("GET", "/users/"+ColinID+"/manager", nil).want(t, 200, "").body; g["id"] != MaxID {
		t.Errorf("GET manager = %v, want id %s", g, MaxID)
	}
	// Replacing is the same PUT; directoryObjects URLs work too.
	h.do("PUT", "/users/"+ColinID+"/manager/$ref", ref("directoryObjects", AlexID)).want(t, 204, "")
	if m, _ := h.tenant.ManagerOf(ColinID); m != AlexID {
		t.Errorf("replaced manager = %q, want %s", m, AlexID)
	}
	h.do("PUT", "/users/"+ColinID+"/manager/$ref", ref("users", "12345678-1234-4234-8234-123456789012")).want(t, 404, "Request_ResourceNotFound")
	h.do("PUT", "/users/"+ColinID+"/manager/$ref", ref("users", ColinID)).want(t, 400, "Request_BadRequest")
	h.do("PUT", "/users/"+ColinID+"/manager/$ref", map[string]any{"@odata.id": "max"}).want(t, 400, "Request_BadRequest")
	h.do("PUT", "/users/"+ColinID+"/manager/$ref", map[string]any{}).want(t, 400, "Request_BadRequest")
	h.do("PUT", "/users/nobody@contoso.com/manager/$ref", ref("users", MaxID)).want(t, 404, "Request_ResourceNotFound")

	h.do("DELETE", "/users/"+ColinID+"/manager/$ref", nil).want(t, 204, "")
	if _, ok := h.tenant.ManagerOf(ColinID); ok {
		t.Error("manager not removed")
	}
	h.do("DELETE", "/users/"+ColinID+"/manager/$ref", nil).want(t, 404, "Request_ResourceNotFound")
	h.do("GET", "/users/"+ColinID+"/manager", nil).want(t, 404, "Request_ResourceNotFound")
	h.do("POST", "/users/"+ColinID+"/manager/$ref", ref("users", MaxID)).want(t, 405, "Request_BadRequest")
}

func TestAddMemberRef(t *testing.T) {
	h := newHarness(t)
	ref := map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/" + ColinID}
	h.do("POST", "/groups/"+GroupNewHires+"/members/$ref", ref).want(t, 204, "")
	if b := h.do("POST", "/users/"+ColinID+"/checkMemberGroups", map[string]any{"groupIds": []string{GroupNewHires}}).want(t, 200, "").body; len(b["value"].([]any)) != 1 {
		t.Errorf("Colin's checkMemberGroups for New hires = %v, want it listed", b)
	}
	r := h.do("POST", "/groups/"+GroupNewHires+"/members/$ref", ref).want(t, 400, "Request_BadRequest")
	if r.errMessage() != msgAlreadyMember {
		t.Errorf("already a member: message %q, want %q", r.errMessage(), msgAlreadyMember)
	}
	// Groups nest.
	h.do("POST", "/groups/"+GroupStaff+"/members/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/groups/" + GroupNewHires}).want(t, 204, "")
	h.do("POST", "/groups/"+GroupStaff+"/members/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/groups/" + GroupStaff}).want(t, 404, "Request_ResourceNotFound")

	h.do("POST", "/groups/0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d4ffff/members/$ref", ref).want(t, 404, "Request_ResourceNotFound")
	h.do("POST", "/groups/"+GroupNewHires+"/members/$ref", map[string]any{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/12345678-1234-4234-8234-123456789012"}).want(t, 404, "Request_ResourceNotFound")
	if r := h.do("POST", "/groups/"+GroupNewHires+"/members/$ref", map[string]any{"@odata.id": "/directoryObjects/" + NinaID}).want(t, 400, "Request_BadRequest"); r.errMessage() != msgInvalidRefURL {
		t.Errorf("relative URL: message %q, want %q", r.errMessage(), msgInvalidRefURL)
	}
	h.do("GET", "/groups/"+GroupNewHires+"/members/$ref", nil).want(t, 405, "Request_BadRequest")
}

// The provisioning endpoints work inside $batch and honour Forbid and FailNext.
func TestProvisioningBatchForbidAndFaults(t *testing.T) {
	h := newHarness(t)
	b := map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "POST", "url": "/users", "headers": map[string]string{"Content-Type": "application/json"}, "body": sampleUser("ana@contoso.com")},
		map[string]any{"id": "2", "method": "GET", "url": "/domains"},
	}}
	rs := h.do("POST", "/$batch", b).want(t, 200, "").body["responses"].([]any)
	for _, it := range rs {
		m := it.(map[string]any)
		if (m["id"] == "1" && m["status"] != 201.0) || (m["id"] == "2" && m["status"] != 200.0) {
			t.Errorf("batch item %v, want 1: 201 and 2: 200", m)
		}
	}
	h.srv.Forbid("/users/*/assignLicense")
	h.do("POST", "/users/ana@contoso.com/assignLicense", map[string]any{"addLicenses": []any{}, "removeLicenses": []any{}}).want(t, 403, "Authorization_RequestDenied")
	h.srv.FailNext(1, 503, "")
	h.do("POST", "/users", sampleUser("bo@contoso.com")).want(t, 503, "serviceNotAvailable")
	if _, ok := h.tenant.User("bo@contoso.com"); ok {
		t.Error("a failed request created the user")
	}
}

func TestEntraPasswordRules(t *testing.T) {
	for pw, want := range map[string]bool{
		"Abcdefg1":                      true,
		"abcdefg1":                      false,
		"abcdefg!":                      false,
		"abcdef1!":                      true,
		"ABCDEF1!":                      true,
		"Abcdef1":                       false,
		"Tab\tIn-Pass1":                 false,
		`All"the\symbols<>()[]{}Aa1`:    true,
		"":                              false,
		strings.Repeat("aA1", 85) + "b": true,  // 256
		strings.Repeat("aA1", 86):       false, // 258
	} {
		if got := entraPasswordOK(pw); got != want {
			t.Errorf("entraPasswordOK(%q) = %v, want %v", pw, got, want)
		}
	}
}

// FuzzProvisioning: whatever a provisioning request carries, the answer is a
// Graph-shaped status, never a panic.
func FuzzProvisioning(f *testing.F) {
	f.Add("POST", "/users", `{"accountEnabled":true,"displayName":"x","mailNickname":"x","userPrincipalName":"x@contoso.com","passwordProfile":{"password":"Abcdefg1"}}`)
	f.Add("POST", "/users", `{"passwordProfile":null,"employeeHireDate":"yesterday"}`)
	f.Add("PATCH", "/users/"+NinaID, `{"usageLocation":null,"employeeHireDate":null,"accountEnabled":null}`)
	f.Add("POST", "/users/"+NinaID+"/assignLicense", `{"addLicenses":[{"skuId":null}],"removeLicenses":[]}`)
	f.Add("PUT", "/users/"+NinaID+"/manager/$ref", `{"@odata.id":"https://x/v1.0/users/%zz"}`)
	f.Add("POST", "/groups/"+GroupStaff+"/members/$ref", `{"@odata.id":"::"}`)
	f.Add("GET", "/domains/"+ContosoDomain+"?$select=id", "")
	f.Add("GET", "/subscribedSkus/x", "")
	f.Fuzz(func(t *testing.T, method, target, body string) {
		dispatchOnce(t, method, target, body)
	})
}
