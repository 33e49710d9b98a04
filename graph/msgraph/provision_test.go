package msgraph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/graph/simtenant"
	"github.com/tapbot/tapbot/internal/password"
	"github.com/tapbot/tapbot/internal/secret"
)

func newHire(t testing.TB, upn string) graph.NewUser {
	t.Helper()
	pw, err := password.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return graph.NewUser{
		GivenName: "Ana", Surname: "Novak", DisplayName: "Ana Novak", UserPrincipalName: upn,
		JobTitle: "Engineer", Department: "R&D", OfficeLocation: "Oslo",
		EmployeeHireDate: time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC), Password: pw,
	}
}

// TestContractProvisioning runs flow steps 4–5 against the fake tenant: check the
// name, create the account, usage location, licence, manager, group.
func TestContractProvisioning(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()
	tenant := srv.Tenant()

	domains, err := c.Domains(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(domains, []graph.Domain{{ID: "contoso.com", IsVerified: true, IsDefault: true}, {ID: "contoso.onmicrosoft.com", IsVerified: true}}) {
		t.Errorf("Domains = %+v, want contoso.com (verified, default) and contoso.onmicrosoft.com (verified)", domains)
	}
	skus, err := c.SubscribedSKUs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(skus) != 2 || skus[0] != (graph.SKU{ID: simtenant.SKUEntraIDP1, PartNumber: "AAD_PREMIUM", Enabled: 25, Consumed: 10}) ||
		skus[0].Free() != 15 || skus[1].PartNumber != "SPE_E3" || skus[1].Free() != 0 {
		t.Errorf("SubscribedSKUs = %+v, want AAD_PREMIUM 10 of 25 (15 free), then SPE_E3 with none free", skus)
	}

	for upn, want := range map[string]bool{
		"ana.novak@contoso.com": true,
		simtenant.NinaUPN:       false, // a user's UPN
		"NINA@contoso.com":      false, // in any case
		"greg@fabrikam.com":     false, // a user's mail address (Greg the guest)
	} {
		if got, err := c.UPNAvailable(ctx, upn); err != nil || got != want {
			t.Errorf("UPNAvailable(%s) = %v, %v; want %v, nil", upn, got, err, want)
		}
	}

	nu := newHire(t, "ana.novak@contoso.com")
	u, err := c.CreateUser(ctx, nu)
	if err != nil {
		t.Fatal(err)
	}
	stored, ok := tenant.User(u.ID)
	if !ok || u.UserPrincipalName != nu.UserPrincipalName || u.DisplayName != "Ana Novak" || !u.AccountEnabled || u.UserType != "Member" {
		t.Fatalf("created %+v, stored %+v; want Ana Novak stored, enabled Member with the UPN asked for", u, stored)
	}
	if !stored.AccountEnabled || stored.ForceChangePasswordNextSignIn || stored.MailNickname != "ana.novak" || stored.GivenName != "Ana" ||
		stored.Department != "R&D" || !stored.EmployeeHireDate.Equal(nu.EmployeeHireDate) || stored.UsageLocation != "" {
		t.Errorf("stored %+v, want enabled, no forced change, nickname ana.novak, Ana, R&D, the hire date, no usage location", stored)
	}
	if pw, _ := tenant.PasswordOf(u.ID); pw.Reveal() != nu.Password.Reveal() {
		t.Error("Graph got another password than the one generated")
	}
	if free, err := c.UPNAvailable(ctx, nu.UserPrincipalName); err != nil || free {
		t.Errorf("UPNAvailable(the new account's UPN) = %v, %v; want false, nil", free, err)
	}
	if again, err := c.User(ctx, nu.UserPrincipalName); err != nil || again.ID != u.ID || again.CreatedDateTime.IsZero() {
		t.Errorf("User(the new UPN) = %+v, %v; want id %s with a creation time, nil", again, err, u.ID)
	}

	if err := c.SetUsageLocation(ctx, u.ID, "no"); err != nil {
		t.Fatal(err)
	}
	if s, _ := tenant.User(u.ID); s.UsageLocation != "NO" {
		t.Errorf("usage location %q, want NO", s.UsageLocation)
	}
	if err := c.AssignLicense(ctx, u.ID, simtenant.SKUEntraIDP1); err != nil {
		t.Fatal(err)
	}
	if err := c.AssignLicense(ctx, nu.UserPrincipalName, strings.ToUpper(simtenant.SKUEntraIDP1)); err != nil {
		t.Errorf("AssignLicense again = %v, want nil", err)
	}
	if l := tenant.LicensesOf(u.ID); !slices.Equal(l, []string{simtenant.SKUEntraIDP1}) || tenant.SKUs()[0].Consumed != 11 {
		t.Errorf("licences %v, SKUs %+v; want [%s] and 11 P1 units consumed", l, tenant.SKUs(), simtenant.SKUEntraIDP1)
	}

	if err := c.SetManager(ctx, u.ID, simtenant.MaxID); err != nil {
		t.Fatal(err)
	}
	if m, _ := tenant.ManagerOf(u.ID); m != simtenant.MaxID {
		t.Errorf("manager %q, want %s", m, simtenant.MaxID)
	}
	if err := c.SetManager(ctx, nu.UserPrincipalName, simtenant.AlexID); err != nil {
		t.Fatal(err)
	}
	if m, _ := tenant.ManagerOf(u.ID); m != simtenant.AlexID {
		t.Errorf("replaced manager %q, want %s", m, simtenant.AlexID)
	}

	for range 2 { // the second add finds the member there: success all the same
		if err := c.AddGroupMember(ctx, simtenant.GroupNewHires, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	if in, err := c.CheckMemberGroups(ctx, u.ID, []string{simtenant.GroupNewHires, simtenant.GroupStaff}); err != nil || !slices.Equal(in, []string{simtenant.GroupNewHires}) {
		t.Errorf("CheckMemberGroups = %v, %v; want [%s], nil", in, err, simtenant.GroupNewHires)
	}
}

func TestContractProvisioningRefusals(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()
	var ge *graph.Error

	u, err := c.CreateUser(ctx, newHire(t, "ana@contoso.com"))
	if err != nil {
		t.Fatal(err)
	}

	// A UPN that is taken: Graph says 400, the client says conflict.
	_, err = c.CreateUser(ctx, newHire(t, "Ana@contoso.com"))
	if !errors.Is(err, graph.ErrConflict) || !errors.As(err, &ge) || ge.Status != 400 || ge.Code != "Request_BadRequest" ||
		!strings.Contains(ge.Message, "userPrincipalName") || !strings.Contains(err.Error(), "userPrincipalName") {
		t.Errorf("CreateUser(taken UPN) = %v, want ErrConflict from a 400 Request_BadRequest naming userPrincipalName", err)
	}
	_, err = c.CreateUser(ctx, newHire(t, "greg@fabrikam.com"))
	if !errors.Is(err, graph.ErrBadRequest) || errors.Is(err, graph.ErrConflict) {
		t.Errorf("CreateUser(not a tenant domain) = %v, want ErrBadRequest, not ErrConflict", err)
	}
	srv.Tenant().AddUser(graph.User{UserPrincipalName: "bo@contoso.onmicrosoft.com", Mail: "bo@contoso.com", DisplayName: "Bo"})
	if _, err = c.CreateUser(ctx, newHire(t, "bo@contoso.com")); !errors.Is(err, graph.ErrConflict) || !strings.Contains(err.Error(), "proxyAddresses") {
		t.Errorf("CreateUser(taken address) = %v, want ErrConflict naming proxyAddresses", err)
	}
	weak := newHire(t, "weak@contoso.com")
	weak.Password = "password"
	if _, err = c.CreateUser(ctx, weak); !errors.Is(err, graph.ErrBadRequest) || !errors.As(err, &ge) || !strings.Contains(ge.Message, "complexity") {
		t.Errorf("CreateUser(weak password) = %v, want ErrBadRequest with a message about complexity", err)
	}

	// Licences: no usage location, then an exhausted SKU, then one not subscribed.
	err = c.AssignLicense(ctx, u.ID, simtenant.SKUEntraIDP1)
	if !errors.Is(err, graph.ErrUsageLocationRequired) || errors.Is(err, graph.ErrLicenceUnavailable) || !errors.As(err, &ge) || ge.Status != 400 || ge.RequestID == "" {
		t.Errorf("AssignLicense without usage location = %v, want ErrUsageLocationRequired (not ErrLicenceUnavailable) from a 400 with a request id", err)
	}
	if err := c.SetUsageLocation(ctx, u.ID, "US"); err != nil {
		t.Fatal(err)
	}
	err = c.AssignLicense(ctx, u.ID, simtenant.SKUM365E3)
	if !errors.Is(err, graph.ErrLicenceUnavailable) || !errors.Is(err, graph.ErrBadRequest) || !errors.As(err, &ge) || ge.Code != "Request_BadRequest" {
		t.Errorf("AssignLicense of an exhausted SKU = %v, want ErrLicenceUnavailable and ErrBadRequest, code Request_BadRequest", err)
	}
	err = c.AssignLicense(ctx, u.ID, "11111111-2222-4333-8444-555555555555")
	if !errors.Is(err, graph.ErrBadRequest) || errors.Is(err, graph.ErrLicenceUnavailable) || errors.Is(err, graph.ErrUsageLocationRequired) {
		t.Errorf("AssignLicense of an unknown SKU = %v, want ErrBadRequest alone", err)
	}
	if len(srv.Tenant().LicensesOf(u.ID)) != 0 {
		t.Error("a refused assignment assigned")
	}

	if err := c.SetManager(ctx, u.ID, "12345678-1234-4234-8234-123456789012"); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("SetManager(unknown manager) = %v, want ErrNotFound", err)
	}
	if err := c.AddGroupMember(ctx, "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d4ffff", u.ID); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("AddGroupMember(unknown group) = %v, want ErrNotFound", err)
	}
	if err := c.AddGroupMember(ctx, simtenant.GroupNewHires, "12345678-1234-4234-8234-123456789012"); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("AddGroupMember(unknown member) = %v, want ErrNotFound", err)
	}
	if err := c.SetUsageLocation(ctx, "nobody@contoso.com", "US"); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("SetUsageLocation(unknown user) = %v, want ErrNotFound", err)
	}

	srv.Forbid("/users/*/assignLicense")
	if err := c.AssignLicense(ctx, u.ID, simtenant.SKUEntraIDP1); !errors.Is(err, graph.ErrForbidden) || errors.Is(err, graph.ErrLicenceUnavailable) {
		t.Errorf("AssignLicense without LicenseAssignment.ReadWrite.All = %v, want ErrForbidden, not ErrLicenceUnavailable", err)
	}
}

// TestContractProvisioningValidation: input that cannot be right is refused before any
// request.
func TestContractProvisioningValidation(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()
	srv.Reset()
	good := newHire(t, "ana@contoso.com")
	with := func(f func(*graph.NewUser)) graph.NewUser { nu := good; f(&nu); return nu }
	for name, call := range map[string]func() error{
		"UPNAvailable bad UPN": func() error { _, err := c.UPNAvailable(ctx, "ana novak@contoso.com"); return err },
		"CreateUser bad UPN": func() error {
			_, err := c.CreateUser(ctx, with(func(n *graph.NewUser) { n.UserPrincipalName = "ana" }))
			return err
		},
		"CreateUser guest UPN": func() error {
			_, err := c.CreateUser(ctx, with(func(n *graph.NewUser) { n.UserPrincipalName = simtenant.GregUPN }))
			return err
		},
		"CreateUser no name": func() error {
			_, err := c.CreateUser(ctx, with(func(n *graph.NewUser) { n.DisplayName = "" }))
			return err
		},
		"CreateUser nickname": func() error {
			_, err := c.CreateUser(ctx, with(func(n *graph.NewUser) { n.MailNickname = "ana novak" }))
			return err
		},
		"CreateUser country": func() error {
			_, err := c.CreateUser(ctx, with(func(n *graph.NewUser) { n.UsageLocation = "NOR" }))
			return err
		},
		"CreateUser no pw": func() error {
			_, err := c.CreateUser(ctx, with(func(n *graph.NewUser) { n.Password = "" }))
			return err
		},
		"CreateUser bad UTF-8": func() error {
			_, err := c.CreateUser(ctx, with(func(n *graph.NewUser) { n.JobTitle = "\xff" }))
			return err
		},
		"SetUsageLocation":      func() error { return c.SetUsageLocation(ctx, simtenant.NinaID, "N0") },
		"SetUsageLocation user": func() error { return c.SetUsageLocation(ctx, "nina", "NO") },
		"AssignLicense SKU":     func() error { return c.AssignLicense(ctx, simtenant.NinaID, "AAD_PREMIUM") },
		"SetManager by UPN":     func() error { return c.SetManager(ctx, simtenant.NinaID, simtenant.MaxUPN) },
		"SetManager self":       func() error { return c.SetManager(ctx, simtenant.NinaID, simtenant.NinaID) },
		"AddGroupMember group":  func() error { return c.AddGroupMember(ctx, "New hires", simtenant.NinaID) },
		"AddGroupMember UPN":    func() error { return c.AddGroupMember(ctx, simtenant.GroupNewHires, simtenant.NinaUPN) },
	} {
		if err := call(); !errors.Is(err, graph.ErrBadRequest) {
			t.Errorf("%s = %v, want ErrBadRequest", name, err)
		}
	}
	if n := srv.RequestCount(); n != 0 {
		t.Errorf("%d requests for invalid input, want 0", n)
	}
}

func TestContractProvisioningUnavailable(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()

	// One 503: the SDK retries, and the retried POST carries the whole body.
	srv.FailNext(1, 503, "0")
	nu := newHire(t, "ana@contoso.com")
	nu.UsageLocation = "se"
	u, err := c.CreateUser(ctx, nu)
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.RequestCount(); n != 2 {
		t.Errorf("%d round trips, want 2: 503 then 201", n)
	}
	if s, _ := srv.Tenant().User(u.ID); s.UsageLocation != "SE" || s.JobTitle != "Engineer" {
		t.Errorf("stored after retry %+v, want usage location SE and job title Engineer", s)
	}
	if pw, _ := srv.Tenant().PasswordOf(u.ID); pw.Reveal() != nu.Password.Reveal() {
		t.Error("retried body lost the password")
	}

	for name, call := range map[string]func() error{
		"CreateUser":       func() error { _, err := c.CreateUser(ctx, newHire(t, "bo@contoso.com")); return err },
		"UPNAvailable":     func() error { _, err := c.UPNAvailable(ctx, "bo@contoso.com"); return err },
		"Domains":          func() error { _, err := c.Domains(ctx); return err },
		"SubscribedSKUs":   func() error { _, err := c.SubscribedSKUs(ctx); return err },
		"SetUsageLocation": func() error { return c.SetUsageLocation(ctx, u.ID, "NO") },
		"AssignLicense":    func() error { return c.AssignLicense(ctx, u.ID, simtenant.SKUEntraIDP1) },
		"SetManager":       func() error { return c.SetManager(ctx, u.ID, simtenant.MaxID) },
		"AddGroupMember":   func() error { return c.AddGroupMember(ctx, simtenant.GroupNewHires, u.ID) },
	} {
		srv.Reset()
		srv.FailNext(10, 503, "0")
		if err := call(); !errors.Is(err, graph.ErrUnavailable) || errors.Is(err, graph.ErrLicenceUnavailable) {
			t.Errorf("%s under persistent 503 = %v, want ErrUnavailable, not ErrLicenceUnavailable", name, err)
		}
	}
	srv.Reset()
	if _, ok := srv.Tenant().User("bo@contoso.com"); ok {
		t.Error("a failed creation created the user")
	}
}

// TestContractPasswordNeverShows creates accounts through every path, successes and
// failures, retries included, and looks for the passwords in every log line (Debug
// and up), in every error text and in printed values.
func TestContractPasswordNeverShows(t *testing.T) {
	srv, c, logs := contoso(t)
	ctx := context.Background()
	var passwords, texts []string
	create := func(nu graph.NewUser) error {
		passwords = append(passwords, nu.Password.Reveal())
		texts = append(texts, fmt.Sprintf("%v %+v %#v", nu, nu, nu))
		_, err := c.CreateUser(ctx, nu)
		if err != nil {
			texts = append(texts, err.Error(), fmt.Sprintf("%+v %#v", err, err))
		}
		return err
	}

	if err := create(newHire(t, "ana@contoso.com")); err != nil {
		t.Fatal(err)
	}
	srv.FailNext(1, 429, "0")
	if err := create(newHire(t, "bo@contoso.com")); err != nil {
		t.Fatal(err)
	}
	weak := newHire(t, "cy@contoso.com")
	weak.Password = secret.String("weakpassword")
	for _, nu := range []graph.NewUser{
		newHire(t, "ana@contoso.com"),     // taken
		newHire(t, "ana@fabrikam.com"),    // not a verified domain
		weak,                              // refused by Graph
		newHire(t, "bad upn@contoso.com"), // refused before sending
	} {
		if err := create(nu); err == nil {
			t.Fatal("a refused creation succeeded")
		}
	}
	srv.FailNext(10, 503, "0")
	if err := create(newHire(t, "dee@contoso.com")); !errors.Is(err, graph.ErrUnavailable) {
		t.Fatalf("CreateUser under persistent 503 = %v, want ErrUnavailable", err)
	}
	texts = append(texts, logText(logs))
	for _, pw := range passwords {
		for _, s := range texts {
			if strings.Contains(s, pw) {
				t.Fatalf("password %q found in:\n%s\nwant it nowhere", pw, s)
			}
		}
	}
	if !strings.Contains(logText(logs), "user created") || !strings.Contains(logText(logs), "graph call failed") {
		t.Fatalf("log:\n%s\nwant \"user created\" and \"graph call failed\", else the check proves nothing", logText(logs))
	}
}

// TestProvisioningWire checks the request bodies the provisioning methods send, on the
// recording fake.
func TestProvisioningWire(t *testing.T) {
	const userID = "33333333-3333-4333-8333-333333333333"
	f := newFake(t, func(w http.ResponseWriter, r seen) {
		switch {
		case r.Method == "POST" && r.Path == "/v1.0/users":
			writeJSON(w, 201, map[string]any{"id": userID, "userPrincipalName": "ana@contoso.com", "displayName": "Ana Novak"})
		case r.Method == "POST" && strings.HasSuffix(r.Path, "/assignLicense"):
			writeJSON(w, 200, map[string]any{"id": userID})
		default:
			w.WriteHeader(204)
		}
	})
	c, _ := f.client()
	ctx := context.Background()
	nu := newHire(t, "ana@contoso.com")
	nu.UsageLocation = "no"
	u, err := c.CreateUser(ctx, nu)
	if err != nil || u.ID != userID || !u.AccountEnabled || u.UserType != "Member" {
		t.Fatalf("CreateUser = %+v, %v; want id %s, enabled Member, nil", u, err, userID)
	}
	var body map[string]any
	decodeJSON(t, f.requests()[0].Body, &body)
	pp, _ := body["passwordProfile"].(map[string]any)
	if body["accountEnabled"] != true || body["mailNickname"] != "ana" || body["usageLocation"] != "NO" || body["employeeHireDate"] != "2025-07-01T00:00:00Z" ||
		body["userPrincipalName"] != "ana@contoso.com" || pp["password"] != nu.Password.Reveal() || pp["forceChangePasswordNextSignIn"] != false {
		t.Errorf("create body %v, want enabled, nickname ana, usage location NO, hire date 2025-07-01T00:00:00Z, the UPN and password, no forced change", body)
	}
	if _, sent := body["surname"]; !sent {
		t.Errorf("create body %v, want the optional properties (surname) sent", body)
	}

	if err := c.AssignLicense(ctx, userID, simtenant.SKUEntraIDP1); err != nil {
		t.Fatal(err)
	}
	decodeJSON(t, f.requests()[1].Body, &body)
	add, _ := body["addLicenses"].([]any)
	if rm, ok := body["removeLicenses"].([]any); !ok || len(rm) != 0 || len(add) != 1 {
		t.Fatalf("assignLicense body %v, want one licence to add and an empty removeLicenses", body)
	}
	if l := add[0].(map[string]any); l["skuId"] != simtenant.SKUEntraIDP1 || l["disabledPlans"] == nil {
		t.Errorf("licence %v, want skuId %s with disabledPlans", l, simtenant.SKUEntraIDP1)
	}

	if err := c.SetManager(ctx, userID, simtenant.MaxID); err != nil {
		t.Fatal(err)
	}
	if err := c.AddGroupMember(ctx, simtenant.GroupNewHires, userID); err != nil {
		t.Fatal(err)
	}
	if err := c.SetUsageLocation(ctx, userID, "de"); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	for i, want := range []struct{ method, path, key, value string }{
		{"PUT", "/v1.0/users/" + userID + "/manager/$ref", "@odata.id", f.srv.URL + "/v1.0/users/" + simtenant.MaxID},
		{"POST", "/v1.0/groups/" + simtenant.GroupNewHires + "/members/$ref", "@odata.id", f.srv.URL + "/v1.0/directoryObjects/" + userID},
		{"PATCH", "/v1.0/users/" + userID, "usageLocation", "DE"},
	} {
		r := reqs[2+i]
		decodeJSON(t, r.Body, &body)
		if r.Method != want.method || r.Path != want.path || body[want.key] != want.value {
			t.Errorf("%s %s %v, want %+v", r.Method, r.Path, body, want)
		}
	}
}

// Graph names the conflicting property in details; the client reads it there first.
func TestCreateUserConflictDetails(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r seen) {
		writeJSON(w, 400, map[string]any{"error": map[string]any{
			"code": "Request_BadRequest", "message": "A conflicting object with one or more of the specified property values is present in the directory.",
			"details":    []any{map[string]any{"code": "ObjectConflict", "target": "proxyAddresses", "message": "…"}},
			"innerError": map[string]any{"request-id": "r1", "date": "2026-01-01T00:00:00"},
		}})
	})
	c, _ := f.client()
	_, err := c.CreateUser(context.Background(), newHire(t, "ana@contoso.com"))
	var ge *graph.Error
	if !errors.Is(err, graph.ErrConflict) || !strings.Contains(err.Error(), "proxyAddresses") || !errors.As(err, &ge) || ge.RequestID != "r1" {
		t.Errorf("CreateUser = %v, want ErrConflict naming proxyAddresses, request id r1", err)
	}
}

func TestConflictProperty(t *testing.T) {
	mk := func(status int, msg string) error {
		main := odataerrors.NewMainError()
		main.SetCode(provPtr("Request_BadRequest"))
		main.SetMessage(&msg)
		oe := odataerrors.NewODataError()
		oe.SetErrorEscaped(main)
		oe.ResponseStatusCode = status
		return fmt.Errorf("wrapped: %w", oe)
	}
	for _, tc := range []struct {
		status   int
		msg, out string
	}{
		{400, "Another object with the same value for property userPrincipalName already exists.", "userPrincipalName"},
		{400, "another object with the same value for property proxyAddresses already exists.", "proxyAddresses"},
		{400, "Another object with the same value for property", "unknown property"},
		{400, "The specified password does not comply with password complexity requirements.", ""},
		{409, "Another object with the same value for property userPrincipalName already exists.", ""},
	} {
		if got := conflictProperty(mk(tc.status, tc.msg)); got != tc.out {
			t.Errorf("%d %q: %q, want %q", tc.status, tc.msg, got, tc.out)
		}
	}
	if conflictProperty(nil) != "" || conflictProperty(errors.New("x")) != "" {
		t.Error("not an error answer")
	}
}

func provPtr[T any](v T) *T { return &v }
