package tap

import (
	"strings"
	"testing"
	"time"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/store"
)

const (
	helpdeskID  = "11111111-1111-4111-8111-111111111111"
	targetID    = "55555555-5555-4555-8555-555555555555"
	gNewHires   = "aaaaaaaa-0000-4000-8000-000000000001"
	gProtected  = "aaaaaaaa-0000-4000-8000-000000000002"
	gStaff      = "aaaaaaaa-0000-4000-8000-000000000003"
	gExcluded   = "aaaaaaaa-0000-4000-8000-000000000004"
	globalAdmin = "62e90394-69f5-4237-9190-012177145e10"
	dirReaders  = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
	userAdmin   = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	customRole  = "aaaaaaaa-0000-4000-8000-0000000000c1"
	gAdmins     = "aaaaaaaa-0000-4000-8000-000000000005"
	auScope     = "/administrativeUnits/aaaaaaaa-0000-4000-8000-0000000000a1"
)

func roles(r ...graph.Role) func(*graph.Target) {
	return func(t *graph.Target) { t.Roles = r }
}

func TestCheck(t *testing.T) {
	policy := graph.TAPPolicy{Enabled: true, DefaultLifetime: time.Hour, MinLifetime: 10 * time.Minute,
		MaxLifetime: 8 * time.Hour, IncludeTargets: []string{gNewHires}, ExcludeTargets: []string{gExcluded}}
	rules := Rules{ProtectedGroups: []string{gProtected}, ScopeGroups: []string{gNewHires, gStaff}, AllowedRoles: []string{dirReaders}}
	newHire := func() graph.Target {
		return graph.Target{User: graph.User{ID: targetID, UserPrincipalName: "nina@contoso.com", UserType: "Member", AccountEnabled: true},
			MemberOf: []string{gNewHires}}
	}
	tests := []struct {
		name   string
		target func(*graph.Target)
		policy func(*graph.TAPPolicy)
		rules  func(*Rules)
		req    Request
		want   string // refusal code, "" = allowed
		says   string // the refusal's message contains this
		grant  Grant
	}{
		{name: "new hire, policy default", want: "", grant: Grant{Lifetime: time.Hour}},
		{name: "asked lifetime and once", req: Request{Lifetime: 8 * time.Hour, Once: true}, grant: Grant{Lifetime: 8 * time.Hour, Once: true}},
		{name: "policy forces one-time use", policy: func(p *graph.TAPPolicy) { p.UsableOnce = true }, grant: Grant{Lifetime: time.Hour, Once: true}},
		{name: "harmless role allowed", target: roles(graph.Role{RoleTemplateID: dirReaders, BuiltIn: true, Scope: "/"}), grant: Grant{Lifetime: time.Hour}},
		{name: "harmless role allowed eligible, through a group, in an AU", target: roles(graph.Role{RoleTemplateID: dirReaders, Eligible: true, Via: gAdmins, Scope: auScope}), grant: Grant{Lifetime: time.Hour}},
		{name: "all_users policy target", policy: func(p *graph.TAPPolicy) { p.IncludeTargets = []string{graph.AllUsers} }, grant: Grant{Lifetime: time.Hour}},
		{name: "no scope configured", rules: func(r *Rules) { r.ScopeGroups = nil }, grant: Grant{Lifetime: time.Hour}},
		{name: "self", target: func(t *graph.Target) { t.User.ID = helpdeskID }, want: "self"},
		{name: "guest", target: func(t *graph.Target) { t.User.UserType = "Guest" }, want: "guest"},
		{name: "disabled", target: func(t *graph.Target) { t.User.AccountEnabled = false }, want: "disabled"},
		{name: "global admin", target: roles(graph.Role{ID: globalAdmin, RoleTemplateID: globalAdmin, DisplayName: "Global Administrator", BuiltIn: true, Scope: "/"}),
			want: "privileged_role", says: "holds the directory role Global Administrator."},
		{name: "eligible admin", target: roles(graph.Role{RoleTemplateID: globalAdmin, BuiltIn: true, Eligible: true, Scope: "/"}), want: "eligible_role"},
		{name: "eligible global admin through a group", target: roles(graph.Role{ID: globalAdmin, RoleTemplateID: globalAdmin, DisplayName: "Global Administrator",
			BuiltIn: true, Eligible: true, Scope: "/", Via: gAdmins, ViaName: "Global admins (PIM)"}),
			want: "eligible_role", says: "eligible for the directory role Global Administrator through the group Global admins (PIM)"},
		{name: "custom role", target: roles(graph.Role{ID: customRole, RoleTemplateID: customRole, DisplayName: "Tier 1", Scope: "/"}),
			want: "privileged_role", says: "holds the custom directory role Tier 1"},
		{name: "role scoped to an administrative unit", target: roles(graph.Role{ID: userAdmin, RoleTemplateID: userAdmin, DisplayName: "User Administrator", BuiltIn: true, Scope: auScope}),
			want: "privileged_role", says: "scoped to an administrative unit"},
		{name: "role of a group reachable through PIM for Groups", target: roles(graph.Role{ID: userAdmin, RoleTemplateID: userAdmin, DisplayName: "User Administrator",
			BuiltIn: true, Scope: "/", Eligible: true, Via: gAdmins, ViaPIM: true}),
			want: "eligible_role", says: "through the group " + gAdmins + ", which they can join through PIM for Groups"},
		{name: "active custom role through a group", target: roles(graph.Role{ID: customRole, RoleTemplateID: customRole, DisplayName: "Tier 1", Scope: auScope, Via: gAdmins, ViaName: "Paris desk"}),
			want: "privileged_role", says: "through the group Paris desk (scoped"},
		{name: "allowed template does not cover another role", target: roles(graph.Role{RoleTemplateID: dirReaders}, graph.Role{RoleTemplateID: userAdmin, Scope: auScope}), want: "privileged_role"},
		{name: "role without template id", rules: func(r *Rules) { r.AllowedRoles = append(r.AllowedRoles, "") },
			target: func(t *graph.Target) {
				t.Roles = []graph.Role{{ID: customRole, Scope: "/"}}
				t.RolesUnknown = "limited information"
			}, want: "privileged_role"},
		{name: "role lookup failed", target: func(t *graph.Target) { t.RolesUnknown = "reading role eligibility failed: Graph is busy" },
			want: "roles_unknown", says: "reading role eligibility failed: Graph is busy"},
		{name: "known admin is refused as admin even when other roles are unknown", target: func(t *graph.Target) {
			t.Roles, t.RolesUnknown = []graph.Role{{RoleTemplateID: globalAdmin}}, "limited"
		}, want: "privileged_role"},
		{name: "protected group", target: func(t *graph.Target) { t.MemberOf = append(t.MemberOf, gProtected) }, want: "protected_group"},
		{name: "out of scope", target: func(t *graph.Target) { t.MemberOf = nil }, want: "out_of_scope"},
		{name: "policy disabled", policy: func(p *graph.TAPPolicy) { p.Enabled = false }, want: "policy_disabled"},
		{name: "excluded by policy", target: func(t *graph.Target) { t.MemberOf = append(t.MemberOf, gExcluded) }, want: "policy_excluded"},
		{name: "not targeted by policy", target: func(t *graph.Target) { t.MemberOf = []string{gStaff} }, want: "policy_not_targeted"},
		{name: "lifetime above policy max", req: Request{Lifetime: 2 * 24 * time.Hour}, want: "lifetime_out_of_range"},
		{name: "lifetime below policy min", policy: func(p *graph.TAPPolicy) { p.MinLifetime = time.Hour }, req: Request{Lifetime: 30 * time.Minute}, want: "lifetime_out_of_range"},
		// Order matters: a protected admin is refused for the role, the first reason.
		{name: "admin guest is refused as guest first", target: func(t *graph.Target) {
			t.User.UserType = "Guest"
			t.Roles = []graph.Role{{RoleTemplateID: globalAdmin}}
		}, want: "guest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, p, r := newHire(), policy, rules
			p.IncludeTargets = append([]string(nil), policy.IncludeTargets...)
			if tt.target != nil {
				tt.target(&tg)
			}
			if tt.policy != nil {
				tt.policy(&p)
			}
			if tt.rules != nil {
				tt.rules(&r)
			}
			grant, refusal := Check(helpdeskID, tg, p, tt.req, r)
			if tt.want == "" {
				if refusal != nil {
					t.Fatalf("refused %s: %s; want a grant", refusal.Code, refusal.Message)
				}
				if grant != tt.grant {
					t.Fatalf("grant %+v, want %+v", grant, tt.grant)
				}
				return
			}
			if refusal == nil || refusal.Code != tt.want {
				t.Fatalf("want refusal %q, got %+v", tt.want, refusal)
			}
			if refusal.Message == "" || !strings.Contains(refusal.Message, tt.says) {
				t.Fatalf("refusal %q, want it to say %q", refusal.Message, tt.says)
			}
		})
	}
}

func TestGroupsToCheckDeduplicates(t *testing.T) {
	got := groupsToCheck(Rules{ProtectedGroups: []string{"a"}, ScopeGroups: []string{"b", "a"}},
		graph.TAPPolicy{IncludeTargets: []string{graph.AllUsers, "b", "c"}, ExcludeTargets: []string{"d"}})
	want := []string{"a", "b", "c", "d"}
	if len(got) != len(want) {
		t.Fatalf("groupsToCheck = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("groupsToCheck = %v, want %v", got, want)
		}
	}
}

func TestExisting(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	live := graph.TAP{ID: "live", Start: now.Add(-10 * time.Minute), Lifetime: time.Hour}
	expired := graph.TAP{ID: "old", Start: now.Add(-2 * time.Hour), Lifetime: time.Hour}
	used := graph.TAP{ID: "used", Start: now.Add(-10 * time.Minute), Lifetime: time.Hour, UsabilityReason: "OneTimeUsed"}
	future := graph.TAP{ID: "future", Start: now.Add(time.Hour), Lifetime: time.Hour}
	for _, tt := range []struct {
		taps []graph.TAP
		want string
	}{{nil, ""}, {[]graph.TAP{expired}, ""}, {[]graph.TAP{used}, ""}, {[]graph.TAP{expired, live}, "live"}, {[]graph.TAP{future}, "future"}} {
		got, ok := Existing(tt.taps, now)
		if (tt.want == "") == ok || (ok && got.ID != tt.want) {
			t.Errorf("Existing(%v) = %v %v, want %q", tt.taps, got.ID, ok, tt.want)
		}
	}
}

// CheckTarget refuses exactly the targets Check protects, whatever else Check would
// say about creating a pass.
func TestCheckTarget(t *testing.T) {
	rules := Rules{ProtectedGroups: []string{gProtected}, ScopeGroups: []string{gNewHires, gStaff}, AllowedRoles: []string{dirReaders}}
	tests := []struct {
		name   string
		target func(*graph.Target)
		want   string
	}{
		{name: "new hire", want: ""},
		{name: "harmless role", target: func(t *graph.Target) { t.Roles = []graph.Role{{RoleTemplateID: dirReaders}} }},
		{name: "disabled: its pass may go", target: func(t *graph.Target) { t.User.AccountEnabled = false }},
		{name: "guest: its pass may go", target: func(t *graph.Target) { t.User.UserType = "Guest" }},
		{name: "not targeted by any policy", target: func(t *graph.Target) { t.MemberOf = []string{gStaff} }},
		{name: "global admin", target: func(t *graph.Target) {
			t.Roles = []graph.Role{{RoleTemplateID: globalAdmin, DisplayName: "Global Administrator"}}
		}, want: "privileged_role"},
		{name: "disabled global admin", target: func(t *graph.Target) {
			t.User.AccountEnabled = false
			t.Roles = []graph.Role{{RoleTemplateID: globalAdmin}}
		}, want: "privileged_role"},
		{name: "eligible admin", target: func(t *graph.Target) {
			t.Roles = []graph.Role{{RoleTemplateID: globalAdmin, Eligible: true}}
		}, want: "eligible_role"},
		{name: "roles unknown", target: func(t *graph.Target) { t.RolesUnknown = "a role query failed" }, want: "roles_unknown"},
		{name: "protected group", target: func(t *graph.Target) { t.MemberOf = append(t.MemberOf, gProtected) }, want: "protected_group"},
		{name: "out of scope", target: func(t *graph.Target) { t.MemberOf = nil }, want: "out_of_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target := graph.Target{User: graph.User{ID: targetID, UserPrincipalName: "nina@contoso.com", UserType: "Member", AccountEnabled: true},
				MemberOf: []string{gNewHires}}
			if tt.target != nil {
				tt.target(&target)
			}
			got := ""
			if r := CheckTarget(target, rules); r != nil {
				got = r.Code
			}
			if got != tt.want {
				t.Fatalf("refusal %q, want %q", got, tt.want)
			}
		})
	}
}

// A delivered pass that disappeared while the user has another was replaced, not
// revoked: the card must not tell the requester someone revoked it.
func TestSpentReason(t *testing.T) {
	d := store.Delivery{MethodID: "m1"}
	for _, tt := range []struct {
		name string
		taps []graph.TAP
		want string
	}{
		{"still there", []graph.TAP{{ID: "m1", UsabilityReason: "EnabledByPolicy"}}, ""},
		{"used", []graph.TAP{{ID: "m1", UsabilityReason: "OneTimeUsed"}}, store.RedactUsed},
		{"gone, another exists", []graph.TAP{{ID: "m2"}}, store.RedactReplaced},
		{"gone", nil, store.RedactRevoked},
	} {
		if got := spentReason(d, tt.taps); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
