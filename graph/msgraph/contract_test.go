package msgraph

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/graph/simtenant"
)

// The contract tests run every method against simtenant's Contoso tenant, the fake
// the rest of tapbot (and dev mode) uses: the real SDK, its middleware and TLS.

func contoso(t testing.TB) (*simtenant.Server, *Client, *observer.ObservedLogs) {
	t.Helper()
	tenant := simtenant.Contoso()
	tenant.SetAppID(tapbotAppID) // staticToken is opaque: the tenant knows who calls
	srv := simtenant.NewServer(tenant)
	t.Cleanup(srv.Close)
	core, logs := observer.New(zap.DebugLevel)
	c, err := New(Config{Credential: staticToken{}, BaseURL: srv.URL() + "/v1.0", HTTPClient: srv.Client()}, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	return srv, c, logs
}

func TestContractUsers(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()

	nina, err := c.User(ctx, simtenant.NinaUPN)
	if err != nil {
		t.Fatal(err)
	}
	if nina.ID != simtenant.NinaID || nina.DisplayName != "Nina Newhire" || nina.UserType != "Member" || !nina.AccountEnabled || nina.CreatedDateTime.IsZero() {
		t.Errorf("User(Nina) = %+v, want Nina Newhire, Member, enabled, with a creation time", nina)
	}
	if byID, err := c.User(ctx, simtenant.NinaID); err != nil || byID != nina {
		t.Errorf("User(Nina's id) = %+v, %v; want %+v, nil", byID, err, nina)
	}
	if dan, err := c.User(ctx, simtenant.DanID); err != nil || dan.AccountEnabled {
		t.Errorf("User(Dan) = %+v, %v; want a disabled account, nil", dan, err)
	}
	_, err = c.User(ctx, "nobody@contoso.com")
	var ge *graph.Error
	if !errors.Is(err, graph.ErrNotFound) || !errors.As(err, &ge) || ge.Code != "Request_ResourceNotFound" || ge.RequestID == "" {
		t.Errorf("User(nobody) = %v, want ErrNotFound as a *graph.Error with code Request_ResourceNotFound and a request id", err)
	}

	greg, err := c.UserByMail(ctx, "greg@fabrikam.com")
	if err != nil || greg.ID != simtenant.GregID || !greg.IsGuest() {
		t.Errorf("UserByMail(greg@fabrikam.com) = %+v, %v; want the guest Greg, nil", greg, err)
	}
	if _, err := c.UserByMail(ctx, "o'brien@contoso.com"); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("UserByMail(o'brien@contoso.com) = %v, want ErrNotFound", err)
	}
	last := srv.Requests()[len(srv.Requests())-1]
	if got := last.Query.Get("$filter"); got != "mail eq 'o''brien@contoso.com'" {
		t.Errorf("$filter on the wire %q, want %q", got, "mail eq 'o''brien@contoso.com'")
	}

	// A guest's generated UPN (…#EXT#@…) is a path segment too: the SDK encodes '#'.
	if u, err := c.User(ctx, simtenant.GregUPN); err != nil || u.ID != simtenant.GregID || !u.IsGuest() {
		t.Errorf("User(Greg's #EXT# UPN) = %+v, %v; want the guest Greg, nil", u, err)
	}
	if u, err := c.User(ctx, simtenant.HanaUPN); err != nil || u.ID != simtenant.HanaID {
		t.Errorf("User(Hana's UPN) = %+v, %v; want Hana, nil", u, err)
	}
}

func TestContractGroupsAndRoles(t *testing.T) {
	_, c, _ := contoso(t)
	ctx := context.Background()

	member, err := c.CheckMemberGroups(ctx, simtenant.HanaID, []string{simtenant.GroupHelpdesk, simtenant.GroupStaff, simtenant.GroupProtected})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(member)
	if want := []string{simtenant.GroupHelpdesk, simtenant.GroupStaff}; !slices.Equal(member, want) {
		t.Errorf("Hana is in %v, want %v (Staff nests Helpdesk)", member, want)
	}

}

// TestContractRoles reads, through Target, every way Contoso's people hold a role:
// the holes of issue #9 included.
func TestContractRoles(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()
	type want struct {
		template, scope, via   string
		eligible, builtIn, pim bool
	}
	for _, tc := range []struct {
		user string
		want []want
	}{
		{simtenant.NinaID, nil},
		{simtenant.GwenID, []want{{template: simtenant.RoleGlobalAdministrator, scope: "/", builtIn: true}}},
		{simtenant.InesUPN, []want{{template: simtenant.RoleAuthenticationAdministrator, scope: "/", via: simtenant.GroupAuthAdmin, builtIn: true}}},
		{simtenant.PaulID, []want{{template: simtenant.RolePrivilegedAuthenticationAdministrator, scope: "/", eligible: true, builtIn: true}}},
		{simtenant.GaryUPN, []want{{template: simtenant.RoleGlobalAdministrator, scope: "/", via: simtenant.GroupGAPIM, eligible: true, builtIn: true}}},
		{simtenant.CaraID, []want{{template: simtenant.RoleCustomTier1, scope: "/"}}},
		{simtenant.AudreyID, []want{{template: simtenant.RoleUserAdministrator, scope: simtenant.ScopeParis, builtIn: true}}},
		{simtenant.PiaID, []want{{template: simtenant.RolePrivilegedRoleAdministrator, scope: "/", via: simtenant.GroupRoleAdmin, eligible: true, builtIn: true, pim: true}}},
		{simtenant.OscarID, []want{{template: simtenant.RoleCustomTier1, scope: simtenant.ScopeParis, via: simtenant.GroupParisDesk}}},
	} {
		srv.Reset()
		tg, err := c.Target(ctx, tc.user, nil)
		if err != nil || tg.RolesUnknown != "" {
			t.Fatalf("Target(%s) = %v, roles unknown %q; want nil and the roles known", tc.user, err, tg.RolesUnknown)
		}
		var got []want
		for _, r := range tg.Roles {
			got = append(got, want{r.RoleTemplateID, r.Scope, r.Via, r.Eligible, r.BuiltIn, r.ViaPIM})
			if r.DisplayName == "" {
				t.Errorf("%s: role %+v, want a display name", tc.user, r)
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s roles %+v, want %+v", tc.user, got, tc.want)
		}
		// Two batches; a third only to read the roles of a PIM for Groups group.
		if n, max := srv.RequestCount(), 2+btoi(tc.user == simtenant.PiaID); n != max {
			t.Errorf("%s: %d round trips, want %d", tc.user, n, max)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestContractRolesWithoutPIM: a tenant without Entra ID P2 has no eligibility, and
// that is not a failure; active roles still count.
func TestContractRolesWithoutPIM(t *testing.T) {
	srv, c, _ := contoso(t)
	srv.Tenant().SetPIMLicensed(false)
	for user, n := range map[string]int{simtenant.PaulID: 0, simtenant.PiaID: 0, simtenant.GaryID: 0, simtenant.GwenID: 1} {
		tg, err := c.Target(context.Background(), user, nil)
		if err != nil || tg.RolesUnknown != "" || len(tg.Roles) != n {
			t.Errorf("Target(%s) roles %+v, unknown %q, err %v; want %d roles known, nil", user, tg.Roles, tg.RolesUnknown, err, n)
		}
	}
}

// TestContractRoleQueryFailures: any role query Graph fails leaves the roles unknown.
func TestContractRoleQueryFailures(t *testing.T) {
	srv, c, _ := contoso(t)
	for _, path := range []string{"/users/*/transitiveMemberOf", "/roleManagement/directory/roleAssignments",
		"/roleManagement/directory/roleEligibilityScheduleInstances", "/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances"} {
		srv.Reset()
		srv.FailPath(path, 503)
		tg, err := c.Target(context.Background(), simtenant.NinaID, nil)
		if err != nil || !strings.Contains(tg.RolesUnknown, "unavailable") {
			t.Errorf("%s failing: %v, roles unknown %q; want nil and a reason saying unavailable", path, err, tg.RolesUnknown)
		}
		srv.Reset()
		srv.Forbid(path)
		if tg, err = c.Target(context.Background(), simtenant.NinaID, nil); err != nil || !strings.Contains(tg.RolesUnknown, "permission") {
			t.Errorf("%s forbidden: %v, roles unknown %q; want nil and a reason naming the permission", path, err, tg.RolesUnknown)
		}
	}
}

func TestContractTargetIsTwoRoundTrips(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()
	groups := []string{simtenant.GroupNewHires, simtenant.GroupStaff, simtenant.GroupProtected, simtenant.GroupAuthAdmin}

	srv.Reset()
	nina, err := c.Target(ctx, simtenant.NinaUPN, groups)
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.RequestCount(); n != 2 {
		t.Fatalf("%d round trips, want 2", n)
	}
	if n := len(srv.BatchedRequests()); n != 8 {
		t.Errorf("%d batched requests, want 8: user, memberships, TAPs, methods, groups; assignments, eligibility, PIM for Groups", n)
	}
	if nina.User.ID != simtenant.NinaID || len(nina.Roles) != 0 || !slices.Equal(nina.MemberOf, []string{simtenant.GroupNewHires}) || len(nina.TAPs) != 0 {
		t.Errorf("Target(Nina) = %+v, want no roles, member of New hires only, no TAPs", nina)
	}

	ines, err := c.Target(ctx, simtenant.InesID, groups)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ines.MemberOf)
	if len(ines.Roles) != 1 || ines.Roles[0].RoleTemplateID != simtenant.RoleAuthenticationAdministrator ||
		!slices.Equal(ines.MemberOf, []string{simtenant.GroupStaff, simtenant.GroupAuthAdmin}) {
		t.Errorf("Target(Ines) = %+v, want Authentication Administrator, member of Staff and Authentication admins", ines)
	}

	srv.Reset()
	if _, err := c.Target(ctx, "nobody@contoso.com", groups); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("Target(nobody) = %v, want ErrNotFound", err)
	}
	if n := srv.RequestCount(); n != 1 {
		t.Errorf("%d round trips for an unknown user, want 1", n)
	}

	srv.Forbid("/users/*/authentication")
	if _, err := c.Target(ctx, simtenant.GwenUPN, groups); !errors.Is(err, graph.ErrForbidden) {
		t.Errorf("Target with the TAPs step forbidden = %v, want ErrForbidden", err)
	}
}

func TestContractPaging(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()
	tenant := srv.Tenant()
	tenant.AssignRole(simtenant.MaxID, simtenant.RoleGlobalAdministrator, "Global Administrator")
	tenant.AssignRole(simtenant.MaxID, simtenant.RoleAuthenticationAdministrator, "Authentication Administrator")
	tenant.AssignEligibleRole(simtenant.MaxID, simtenant.RoleGlobalAdministrator, "Global Administrator")
	tenant.AssignEligibleRole(simtenant.MaxID, simtenant.RolePrivilegedAuthenticationAdministrator, "Privileged Authentication Administrator")
	tenant.PageSize = 1

	srv.Reset()
	tg, err := c.Target(ctx, simtenant.MaxUPN, nil)
	if err != nil || len(tg.Roles) != 4 || tg.RolesUnknown != "" {
		t.Errorf("Target(Max) roles %+v, err %v, unknown %q; want 4 roles over pages, nil, known", tg.Roles, err, tg.RolesUnknown)
	}
	// The batch (Max's one group, Staff, fits a page), the role batch, then the
	// second page of assignments and of eligibility.
	if n := srv.RequestCount(); n != 4 {
		t.Errorf("%d round trips, want 4: two batches, then two second pages", n)
	}
}

func TestContractTAPLifecycle(t *testing.T) {
	srv, c, logs := contoso(t)
	ctx := context.Background()

	p, err := c.TAPPolicy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Enabled || p.DefaultLifetime != time.Hour || p.MinLifetime != 10*time.Minute || p.MaxLifetime != 8*time.Hour ||
		p.UsableOnce || p.DefaultLength != 8 || !slices.Equal(p.IncludeTargets, []string{simtenant.GroupNewHires, simtenant.GroupStaff}) {
		t.Errorf("TAPPolicy = %+v, want Contoso's: enabled, 1h default, 10m to 8h, reusable, length 8, New hires and Staff", p)
	}

	created, err := c.CreateTAP(ctx, simtenant.NinaID, graph.TAPRequest{Lifetime: 2 * time.Hour, UsableOnce: true})
	if err != nil {
		t.Fatal(err)
	}
	stored := srv.Tenant().TAPsOf(simtenant.NinaID)
	if created.Value.IsZero() || len(stored) != 1 || created.Value.Reveal() != stored[0].Value.Reveal() {
		t.Fatalf("created %+v, tenant has %+v; want one pass with the same value", created, stored)
	}
	if created.ID != stored[0].ID || created.Lifetime != 2*time.Hour || !created.UsableOnce || !created.Usable || created.UsabilityReason != "EnabledByPolicy" {
		t.Errorf("created %+v, want the stored id, 2h, usable once, usable, EnabledByPolicy", created)
	}

	taps, err := c.TAPs(ctx, simtenant.NinaUPN)
	if err != nil || len(taps) != 1 || taps[0].ID != created.ID || !taps[0].Value.IsZero() {
		t.Errorf("TAPs = %+v, %v; want the created pass without its value, nil", taps, err)
	}
	tg, err := c.Target(ctx, simtenant.NinaUPN, nil)
	if err != nil || len(tg.TAPs) != 1 || !tg.TAPs[0].Value.IsZero() || !tg.TAPs[0].Expires().Equal(created.Expires()) {
		t.Errorf("Target TAPs %+v, %v; want the created pass without its value, same expiry, nil", tg.TAPs, err)
	}
	methods, err := c.Methods(ctx, simtenant.NinaID)
	if err != nil || len(methods) != 1 || methods[0].Type != "temporaryAccessPass" {
		t.Errorf("Nina's methods %+v, %v; want the TAP alone, nil", methods, err)
	}

	if err := c.DeleteTAP(ctx, simtenant.NinaID, created.ID); err != nil {
		t.Fatal(err)
	}
	if taps, err := c.TAPs(ctx, simtenant.NinaID); err != nil || len(taps) != 0 {
		t.Errorf("TAPs after delete = %+v, %v; want none, nil", taps, err)
	}
	if err := c.DeleteTAP(ctx, simtenant.NinaID, created.ID); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("second DeleteTAP = %v, want ErrNotFound", err)
	}
	if s := logText(logs); strings.Contains(s, created.Value.Reveal()) {
		t.Errorf("log:\n%s\nwant no TAP value in it", s)
	}
}

func TestContractPolicyRefusalsAreTyped(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()
	var ge *graph.Error

	// Colin is outside the policy's targets: Graph refuses creation.
	_, err := c.CreateTAP(ctx, simtenant.ColinID, graph.TAPRequest{})
	if !errors.Is(err, graph.ErrBadRequest) || !errors.As(err, &ge) || ge.Code != "badRequest" || !strings.Contains(ge.Message, "UserCredentialPolicy") {
		t.Errorf("CreateTAP(Colin, out of scope) = %v, want ErrBadRequest, code badRequest, a message naming UserCredentialPolicy", err)
	}
	// 9 h is a valid TAP lifetime for Graph but over this tenant's 8 h maximum.
	if _, err := c.CreateTAP(ctx, simtenant.NinaID, graph.TAPRequest{Lifetime: 9 * time.Hour}); !errors.Is(err, graph.ErrBadRequest) {
		t.Errorf("CreateTAP over the policy's maximum = %v, want ErrBadRequest", err)
	}
	if _, err := c.CreateTAP(ctx, simtenant.GregID, graph.TAPRequest{}); !errors.Is(err, graph.ErrBadRequest) {
		t.Errorf("CreateTAP(external guest) = %v, want ErrBadRequest", err)
	}
	if len(srv.Tenant().TAPsOf(simtenant.NinaID)) != 0 || len(srv.Tenant().TAPsOf(simtenant.ColinID)) != 0 {
		t.Error("a refused request created a pass")
	}

	srv.Forbid("/policies")
	if _, err := c.TAPPolicy(ctx); !errors.Is(err, graph.ErrForbidden) {
		t.Errorf("TAPPolicy without permission = %v, want ErrForbidden", err)
	}
	srv.Forbid("/users/*/authentication")
	if _, err := c.CreateTAP(ctx, simtenant.NinaID, graph.TAPRequest{}); !errors.Is(err, graph.ErrForbidden) {
		t.Errorf("CreateTAP without permission = %v, want ErrForbidden", err)
	}
}

func TestContractThrottlingIsRetried(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()

	srv.FailNext(1, 429, "0")
	created, err := c.CreateTAP(ctx, simtenant.NinaID, graph.TAPRequest{Lifetime: 3 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.RequestCount(); n != 2 {
		t.Errorf("%d round trips, want 2: 429 then 201", n)
	}
	// The retried POST carried its body: the pass has the lifetime asked for, not
	// the policy's default.
	if created.Lifetime != 3*time.Hour || srv.Tenant().TAPsOf(simtenant.NinaID)[0].Lifetime != 3*time.Hour {
		t.Errorf("created %+v, want a 3h lifetime, here and in the tenant", created)
	}

	srv.Reset()
	srv.FailNext(1, 503, "0")
	if _, err := c.Target(ctx, simtenant.NinaUPN, []string{simtenant.GroupNewHires}); err != nil {
		t.Fatal(err)
	}
	if n := srv.RequestCount(); n != 3 {
		t.Errorf("%d round trips, want 3: 503, then the batch, then the role batch", n)
	}
}

func TestContractPersistentUnavailability(t *testing.T) {
	srv, c, _ := contoso(t)
	srv.FailNext(10, 503, "0")
	_, err := c.User(context.Background(), simtenant.NinaID)
	if !errors.Is(err, graph.ErrUnavailable) {
		t.Fatalf("User = %v, want ErrUnavailable", err)
	}
	if n := srv.RequestCount(); n != 4 {
		t.Errorf("%d round trips, want 1 + 3 retries", n)
	}
	srv.Reset()
	srv.FailNext(10, 429, "0")
	if _, err := c.TAPPolicy(context.Background()); !errors.Is(err, graph.ErrThrottled) {
		t.Errorf("TAPPolicy under persistent 429 = %v, want ErrThrottled", err)
	}
}

func TestContractMethods(t *testing.T) {
	_, c, _ := contoso(t)
	ctx := context.Background()
	hana, err := c.Methods(ctx, simtenant.HanaUPN)
	if err != nil {
		t.Fatal(err)
	}
	byType := map[string]graph.Method{}
	for _, m := range hana {
		byType[m.Type] = m
	}
	if len(hana) != 3 || byType["microsoftAuthenticator"].DisplayName != "Pixel 8" || byType["windowsHelloForBusiness"].DisplayName != "HANA-LAPTOP" ||
		byType["password"].ID == "" || byType["microsoftAuthenticator"].Created.IsZero() {
		t.Errorf("Hana's methods %+v, want 3: a password with an id, Authenticator Pixel 8 with a creation time, WHfB HANA-LAPTOP", hana)
	}
	max, err := c.Methods(ctx, simtenant.MaxID)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range max {
		if m.Type == "phone" && m.DisplayName != "mobile" {
			t.Errorf("phone method shows %q, want mobile", m.DisplayName)
		}
	}
	if _, err := c.Methods(ctx, "nobody@contoso.com"); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("Methods(nobody) = %v, want ErrNotFound", err)
	}
}

// TestContractNoTAPValueAnywhere issues passes through every path that touches one,
// successes and failures, and looks for the values in every log line (Debug and
// up) and error text.
func TestContractNoTAPValueAnywhere(t *testing.T) {
	srv, c, logs := contoso(t)
	ctx := context.Background()
	var values, texts []string
	for i, user := range []string{simtenant.NinaID, simtenant.HanaUPN, simtenant.NinaUPN} {
		if i == 1 {
			srv.FailNext(1, 429, "0")
		}
		tp, err := c.CreateTAP(ctx, user, graph.TAPRequest{Lifetime: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		values = append(values, tp.Value.Reveal())
		if _, err := c.TAPs(ctx, user); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Target(ctx, user, []string{simtenant.GroupStaff}); err != nil {
			t.Fatal(err)
		}
	}
	for _, call := range []func() error{
		func() error { _, err := c.CreateTAP(ctx, simtenant.ColinID, graph.TAPRequest{}); return err },
		func() error { return c.DeleteTAP(ctx, simtenant.NinaID, methodID) },
		func() error { srv.FailNext(10, 503, "0"); _, err := c.TAPs(ctx, simtenant.HanaID); return err },
	} {
		err := call()
		if err == nil {
			t.Fatal("failure path succeeded")
		}
		texts = append(texts, err.Error())
	}
	texts = append(texts, logText(logs))
	for _, v := range values {
		for _, s := range texts {
			if strings.Contains(s, v) {
				t.Fatalf("TAP value %q found in:\n%s\nwant it nowhere", v, s)
			}
		}
	}
	if len(logs.All()) == 0 {
		t.Fatal("nothing logged: the check proves nothing")
	}
}

func BenchmarkCreateTAP(b *testing.B) {
	_, c, _ := contoso(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.CreateTAP(ctx, simtenant.NinaID, graph.TAPRequest{Lifetime: time.Hour}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTarget(b *testing.B) {
	_, c, _ := contoso(b)
	ctx := context.Background()
	groups := []string{simtenant.GroupNewHires, simtenant.GroupStaff, simtenant.GroupProtected, simtenant.GroupAuthAdmin}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Target(ctx, simtenant.NinaUPN, groups); err != nil {
			b.Fatal(err)
		}
	}
}

func TestContractManager(t *testing.T) {
	_, c, _ := contoso(t)
	ctx := context.Background()
	m, err := c.Manager(ctx, simtenant.NinaID)
	if err != nil || m.ID != simtenant.MaxID || m.UserPrincipalName == "" {
		t.Fatalf("Nina's manager %+v, %v; want Max", m, err)
	}
	if _, err := c.Manager(ctx, simtenant.MaxID); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("Max has no manager: %v, want ErrNotFound", err)
	}
}
