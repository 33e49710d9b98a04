package doctor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/store"
)

const (
	appID      = "8f0c2a1e-3b4d-4e5f-9a6b-7c8d9e0f1a2b"
	tenantID   = "7a1c4e2b-5d3f-4b8a-9c6e-2f1d0b3a4c5e"
	helpdesk   = "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d40001"
	newHires   = "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d40003"
	staff      = "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d40004"
	protected  = "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d40005"
	nowhere    = "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d4ffff"
	groupNames = "Helpdesk New hires Staff Protected"
)

// allRoles is what a healthy tenant grants: what tapbot needs and no more.
var allRoles = RequiredNames(Config{})

// healthy is a tenant set up as docs/flow.md asks, with tapbot configured for it.
func healthy() (Facts, Config) {
	f := Facts{
		TAP: graph.TAPPolicy{Enabled: true, DefaultLifetime: time.Hour, MinLifetime: 10 * time.Minute, MaxLifetime: 8 * time.Hour,
			DefaultLength: 8, IncludeTargets: []string{newHires, staff}},
		Authenticator: graph.AuthenticatorPolicy{Enabled: true, Targets: []graph.AuthenticatorTarget{{ID: graph.AllUsers, Mode: graph.AuthenticatorAny}}},
		Roles:         append(slices.Clone(allRoles), intunePermission),
		Devices: DeviceFacts{WHfB: []graph.WHfBEnrollment{{DisplayName: "All users and all devices", State: graph.EnablementEnabled}},
			Autopilot: []graph.AutopilotProfile{{DisplayName: "Laptops", Targets: []graph.AssignmentTarget{{Kind: "allDevicesAssignmentTarget"}}}}},
		Groups: map[string]GroupFact{
			helpdesk:  {Group: graph.Group{ID: helpdesk, DisplayName: "Helpdesk"}},
			newHires:  {Group: graph.Group{ID: newHires, DisplayName: "New hires"}},
			staff:     {Group: graph.Group{ID: staff, DisplayName: "Staff"}},
			protected: {Group: graph.Group{ID: protected, DisplayName: "Protected"}},
		},
	}
	cfg := Config{AppID: appID, TenantID: tenantID, HelpdeskGroups: []string{helpdesk}, OnboardingGroups: []string{newHires},
		ScopeGroups: []string{newHires, staff}, ProtectedGroups: []string{protected}, AuditorGroups: []string{helpdesk}, AdminGroups: []string{helpdesk}}
	return f, cfg
}

func TestHealthyTenantIsAllOK(t *testing.T) {
	f, cfg := healthy()
	r := Evaluate(f, cfg)
	for _, it := range r.Items {
		if it.Status != OK || it.Fix != "" || it.Fixable || it.Detail == "" || it.Title == "" {
			t.Errorf("item = %+v, want OK with a title and a detail, no fix", it)
		}
	}
	wantIDs := []string{"registration", "permissions", "permissions.least-privilege", "tap.enabled", "tap.targets", "tap.lifetime",
		"authenticator.enabled", "authenticator.targets", "groups.helpdesk", "groups.onboarding", "groups.scope", "groups.protected",
		"groups.auditor", "groups.admin", "groups.approvers", "devices.whfb", "devices.autopilot", "devices.reboot"}
	var ids []string
	for _, it := range r.Items {
		ids = append(ids, it.ID)
	}
	if !slices.Equal(ids, wantIDs) {
		t.Errorf("items = %v, want %v", ids, wantIDs)
	}
	if r.Failed() || r.Count(OK) != len(wantIDs) || len(Plan(r)) != 0 {
		t.Errorf("failed %v, %d OK, plan %v; want not failed, %d OK, no plan", r.Failed(), r.Count(OK), Plan(r), len(wantIDs))
	}
	reg, _ := r.Item("registration")
	if !strings.Contains(reg.Detail, appID) || !strings.Contains(reg.Detail, tenantID) {
		t.Errorf("registration detail = %q, want it to name app %s and tenant %s", reg.Detail, appID, tenantID)
	}
}

// finding is what one row of the table expects of one item.
type finding struct {
	status   Status
	detail   []string // substrings of Detail
	fix      []string // substrings of Fix
	fixable  bool
	change   string // Plan's change id for the item, if any
	groups   []string
	notInFix []string
}

func TestEvaluate(t *testing.T) {
	forbidden := &graph.Error{Status: 403, Code: "Authorization_RequestDenied", RequestID: "req-1"}
	notFound := &graph.Error{Status: 404, Code: "Request_ResourceNotFound", RequestID: "req-2"}
	busy := fmt.Errorf("graph: get group: %w", &graph.Error{Status: 503, Code: "serviceNotAvailable", RequestID: "req-3"})
	tests := []struct {
		name  string
		setup func(*Facts, *Config)
		item  string
		want  finding
	}{
		{"TAP disabled", func(f *Facts, _ *Config) { f.TAP.Enabled = false },
			"tap.enabled", finding{status: Fail, detail: []string{"disabled"}, fix: []string{"tapbot doctor --fix", "Temporary Access Pass"}, fixable: true, change: ChangeTAPEnable}},
		{"TAP policy unreadable", func(f *Facts, _ *Config) { f.TAPErr = forbidden },
			"tap.enabled", finding{status: Fail, detail: []string{"Policy.Read.AuthenticationMethod", "403", "req-1"}}},
		{"TAP policy busy", func(f *Facts, _ *Config) { f.TAPErr = busy },
			"tap.enabled", finding{status: Warn, detail: []string{"again"}}},
		{"TAP targets all users", func(f *Facts, _ *Config) { f.TAP.IncludeTargets = []string{graph.AllUsers} },
			"tap.targets", finding{status: OK, detail: []string{"all users"}}},
		{"TAP misses the new hires", func(f *Facts, _ *Config) { f.TAP.IncludeTargets = []string{staff} },
			"tap.targets", finding{status: Fail, detail: []string{"New hires is not among"}, fix: []string{"Add New hires", "--fix"}, fixable: true,
				change: ChangeTAPTargets, groups: []string{newHires}}},
		{"TAP misses a scope group", func(f *Facts, _ *Config) { f.TAP.IncludeTargets = []string{newHires} },
			"tap.targets", finding{status: Fail, detail: []string{"Staff is not"}, fixable: true, change: ChangeTAPTargets, groups: []string{staff}}},
		{"TAP misses a group that does not exist", func(f *Facts, c *Config) {
			c.OnboardingGroups = []string{nowhere}
			f.Groups[nowhere] = GroupFact{Err: notFound}
		}, "tap.targets", finding{status: Fail, detail: []string{nowhere, "do not exist"}, fix: []string{"Add " + nowhere}, notInFix: []string{"--fix"}}},
		{"TAP excludes the new hires", func(f *Facts, _ *Config) { f.TAP.ExcludeTargets = []string{newHires} },
			"tap.targets", finding{status: Fail, detail: []string{"New hires is excluded"}, fix: []string{"Remove New hires"}}},
		{"no groups configured, TAP for some", func(f *Facts, c *Config) { c.OnboardingGroups, c.ScopeGroups = nil, nil },
			"tap.targets", finding{status: Warn, detail: []string{"New hires, Staff", "cannot be checked"}, fix: []string{"TAPBOT_ONBOARDING_GROUPS"}}},
		{"no groups configured, TAP for all", func(f *Facts, c *Config) {
			c.OnboardingGroups, c.ScopeGroups = nil, nil
			f.TAP.IncludeTargets = []string{graph.AllUsers}
		}, "tap.targets", finding{status: OK}},
		{"one-time use reported", func(f *Facts, _ *Config) { f.TAP.UsableOnce = true },
			"tap.lifetime", finding{status: OK, detail: []string{"one-time use", "Default 1 h, allowed 10 min to 8 h"}}},
		{"multi-use reported", func(*Facts, *Config) {},
			"tap.lifetime", finding{status: OK, detail: []string{"several times"}}},
		{"default lifetime long", func(f *Facts, _ *Config) { f.TAP.DefaultLifetime, f.TAP.MaxLifetime = 3*24*time.Hour, 30*24*time.Hour },
			"tap.lifetime", finding{status: Warn, detail: []string{"long", "3 days"}, fix: []string{"1 h"}}},
		{"default lifetime short", func(f *Facts, _ *Config) { f.TAP.DefaultLifetime = 15 * time.Minute },
			"tap.lifetime", finding{status: Warn, detail: []string{"run out"}, fix: []string{"1 h"}}},
		{"default over maximum", func(f *Facts, _ *Config) { f.TAP.DefaultLifetime, f.TAP.MaxLifetime = 2*time.Hour, time.Hour },
			"tap.lifetime", finding{status: Warn, detail: []string{"outside"}}},

		{"Authenticator disabled", func(f *Facts, _ *Config) { f.Authenticator.Enabled = false },
			"authenticator.enabled", finding{status: Fail, fix: []string{"--fix"}, fixable: true, change: ChangeAuthenticatorEnable}},
		{"Authenticator unreadable", func(f *Facts, _ *Config) { f.AuthenticatorErr = forbidden },
			"authenticator.enabled", finding{status: Fail, detail: []string{"Policy.Read.AuthenticationMethod"}}},
		{"push only for all users", func(f *Facts, _ *Config) { f.Authenticator.Targets[0].Mode = graph.AuthenticatorPush },
			"authenticator.targets", finding{status: Fail, detail: []string{"push only", "phone sign-in is off", "password"}, fix: []string{"mode Any", "--fix"},
				fixable: true, change: ChangeAuthenticatorTargets, groups: []string{newHires}}},
		{"push only for the group", func(f *Facts, _ *Config) {
			f.Authenticator.Targets = []graph.AuthenticatorTarget{{ID: newHires, Mode: graph.AuthenticatorPush}}
		}, "authenticator.targets", finding{status: Fail, detail: []string{"push only"}, fixable: true, change: ChangeAuthenticatorTargets, groups: []string{newHires}}},
		{"deviceBasedPush is passwordless", func(f *Facts, _ *Config) {
			f.Authenticator.Targets = []graph.AuthenticatorTarget{{ID: graph.AllUsers, Mode: graph.AuthenticatorPush}, {ID: newHires, Mode: graph.AuthenticatorDeviceBasedPush}}
		}, "authenticator.targets", finding{status: OK, detail: []string{"New hires can use"}}},
		{"group not targeted", func(f *Facts, _ *Config) {
			f.Authenticator.Targets = []graph.AuthenticatorTarget{{ID: staff, Mode: graph.AuthenticatorAny}}
		}, "authenticator.targets", finding{status: Fail, detail: []string{"New hires is not among", "TAPBOT_ONBOARDING_GROUPS"}, fixable: true,
			change: ChangeAuthenticatorTargets, groups: []string{newHires}}},
		{"scope groups stand in for onboarding groups", func(f *Facts, c *Config) {
			c.OnboardingGroups = nil
			f.Authenticator.Targets = []graph.AuthenticatorTarget{{ID: newHires, Mode: graph.AuthenticatorAny}}
		}, "authenticator.targets", finding{status: Fail, detail: []string{"Staff is not among", "TAPBOT_SCOPE_GROUPS"}, fixable: true,
			change: ChangeAuthenticatorTargets, groups: []string{staff}}},
		{"group excluded from Authenticator", func(f *Facts, _ *Config) { f.Authenticator.Exclude = []string{newHires} },
			"authenticator.targets", finding{status: Fail, detail: []string{"excluded"}, fix: []string{"Remove New hires"}}},
		{"unknown mode", func(f *Facts, _ *Config) { f.Authenticator.Targets[0].Mode = "" },
			"authenticator.targets", finding{status: Warn, detail: []string{"does not know"}}},

		{"permission missing", func(f *Facts, _ *Config) {
			f.Roles = slices.DeleteFunc(f.Roles, func(r string) bool { return r == "RoleManagement.Read.Directory" || r == "User.Read.All" })
		}, "permissions", finding{status: Fail, detail: []string{"Missing: User.Read.All, RoleManagement.Read.Directory"}, fix: []string{"admin consent", "User.Read.All, RoleManagement.Read.Directory"}}},
		{"no Device.Read.All: the checklist cannot tell the laptop from the phone", func(f *Facts, _ *Config) {
			f.Roles = slices.DeleteFunc(f.Roles, func(r string) bool { return r == "Device.Read.All" })
		}, "permissions", finding{status: Fail, detail: []string{"Missing: Device.Read.All"}, fix: []string{"Device.Read.All"}}},
		{"no permissions at all", func(f *Facts, _ *Config) { f.Roles = []string{} },
			"permissions", finding{status: Fail, detail: []string{"UserAuthMethod-TAP.ReadWrite.All", "would also need " + FixPermission}}},
		{"write permission stands for read", func(f *Facts, _ *Config) {
			f.Roles = append(slices.DeleteFunc(f.Roles, func(r string) bool { return r == "Policy.Read.AuthenticationMethod" }), FixPermission)
		}, "permissions", finding{status: OK, detail: []string{"All 8", FixPermission + " is granted for `tapbot doctor --fix`"}}},
		// Granted only for --fix: a warning to remove it afterwards, never a tick.
		{"fix permission granted", func(f *Facts, _ *Config) { f.Roles = append(f.Roles, FixPermission) },
			"permissions.least-privilege", finding{status: Warn, detail: []string{"only needed while you run `tapbot doctor --fix`"}, fix: []string{"Remove " + FixPermission}}},
		{"approver groups checked", func(f *Facts, c *Config) {
			c.ApproverGroups, f.Groups[nowhere] = []string{nowhere}, GroupFact{Err: graph.ErrNotFound}
		},
			"groups.approvers", finding{status: Fail, detail: []string{"No group in the tenant has the id " + nowhere}, fix: []string{"TAPBOT_APPROVER_GROUPS"}}},
		{"approvers' conversation not set", func(f *Facts, c *Config) { c.ApproverGroups = []string{helpdesk} },
			"conversation.approvers", finding{status: Fail, detail: []string{"TAPBOT_APPROVERS_CONVERSATION is not"}, fix: []string{"TAPBOT_APPROVERS_CONVERSATION"}}},
		{"approvers' conversation unknown to tapbot", func(f *Facts, c *Config) {
			c.ApproverGroups, c.ApproversConversation, f.ApproversRef = []string{helpdesk}, "19:approvers@thread.tacv2", store.ErrNotFound
		}, "conversation.approvers", finding{status: Fail, detail: []string{"no reference to 19:approvers@thread.tacv2"}, fix: []string{"@mention it once"}}},
		{"approvers' conversation not checked", func(f *Facts, c *Config) {
			c.ApproverGroups, c.ApproversConversation, f.ApproversRef = []string{helpdesk}, "19:approvers@thread.tacv2", ErrNotChecked
		}, "conversation.approvers", finding{status: Warn, detail: []string{"Not checked here"}}},
		{"approvers' conversation stored", func(f *Facts, c *Config) {
			c.ApproverGroups, c.ApproversConversation, f.ApproversRef = []string{helpdesk}, "19:approvers@thread.tacv2", nil
		}, "conversation.approvers", finding{status: OK, detail: []string{"can post approval cards there"}}},
		{"without the write permission", func(f *Facts, c *Config) { f.Roles = RequiredNames(*c) },
			"permissions", finding{status: OK, detail: []string{"would also need " + FixPermission}}},
		// The required set follows the configured features (graph.Calls).
		{"onboarding configured: its permissions are required", func(f *Facts, c *Config) {
			c.ApproverGroups = []string{helpdesk}
		}, "permissions", finding{status: Fail, detail: []string{"Missing: Domain.Read.All, LicenseAssignment.Read.All, User.ReadWrite.All, LicenseAssignment.ReadWrite.All, GroupMember.ReadWrite.All", "CreateUser", "Domains", "SubscribedSKUs", "AddGroupMember"},
			fix: []string{"Domain.Read.All, LicenseAssignment.Read.All, User.ReadWrite.All, GroupMember.ReadWrite.All."}}},
		{"onboarding configured and granted: nothing to remove", func(f *Facts, c *Config) {
			c.ApproverGroups = []string{helpdesk}
			f.Roles = RequiredNames(*c)
		}, "permissions.least-privilege", finding{status: OK, detail: []string{"No permission broader"}}},
		{"onboarding configured and granted: all there", func(f *Facts, c *Config) {
			c.ApproverGroups = []string{helpdesk}
			f.Roles = RequiredNames(*c)
		}, "permissions", finding{status: OK, detail: []string{"onboarding", "role-assignable group, onboarding also needs RoleManagement.ReadWrite.Directory"}}},
		{"onboarding off: User.ReadWrite.All instead of User.Read.All is too broad", func(f *Facts, _ *Config) {
			f.Roles = append(slices.DeleteFunc(f.Roles, func(r string) bool { return r == "User.Read.All" }), "User.ReadWrite.All")
		}, "permissions.least-privilege", finding{status: Warn, detail: []string{"User.Read.All (only through User.ReadWrite.All)"}}},
		{"checklist install configured: Teams permission required", func(_ *Facts, c *Config) { c.TeamsAppID = appID },
			"permissions", finding{status: Fail, detail: []string{"Missing: TeamsAppInstallation.ReadWriteSelfForUser.All", "InstallAppForUser"}}},
		{"the broad authentication-method permission works for passes, and doctor says why to narrow it", func(f *Facts, _ *Config) {
			f.Roles = append(slices.DeleteFunc(f.Roles, func(r string) bool { return r == "UserAuthMethod-TAP.ReadWrite.All" }), "UserAuthenticationMethod.ReadWrite.All")
		}, "permissions.least-privilege", finding{status: Warn, detail: []string{"UserAuthMethod-TAP.ReadWrite.All (only through UserAuthenticationMethod.ReadWrite.All)", "some Microsoft pages still list only it", "manages passes only"}}},
		{"roles unreadable", func(f *Facts, _ *Config) {
			f.Roles, f.RolesErr = nil, errors.New("the access token is not a readable JWT")
		},
			"permissions", finding{status: Warn, detail: []string{"not a readable JWT"}, fix: []string{"API permissions", "User.Read.All"}}},
		{"over-broad permission", func(f *Facts, _ *Config) {
			f.Roles = append(f.Roles, "Directory.Read.All", "UserAuthenticationMethod.ReadWrite.All")
		},
			"permissions.least-privilege", finding{status: Warn, detail: []string{"Directory.Read.All (can read the whole directory)", "UserAuthenticationMethod.ReadWrite.All"}, fix: []string{"Grant less"}}},
		{"needed one only through a broader one", func(f *Facts, _ *Config) {
			f.Roles = append(slices.DeleteFunc(f.Roles, func(r string) bool { return r == "UserAuthMethod-TAP.ReadWrite.All" }), "UserAuthenticationMethod.ReadWrite.All")
		}, "permissions.least-privilege", finding{status: Warn, detail: []string{"UserAuthMethod-TAP.ReadWrite.All (only through UserAuthenticationMethod.ReadWrite.All)"}}},
		{"needed one only through a broader one is no failure", func(f *Facts, _ *Config) {
			f.Roles = append(slices.DeleteFunc(f.Roles, func(r string) bool { return r == "GroupMember.Read.All" }), "Group.Read.All")
		}, "permissions", finding{status: OK}},
		{"roles compared case-insensitively", func(f *Facts, _ *Config) { f.Roles = []string{"user.read.all"} },
			"permissions", finding{status: Fail, detail: []string{"Missing: GroupMember.Read.All"}, notInFix: []string{"User.Read.All,"}}},

		{"helpdesk group missing", func(f *Facts, c *Config) {
			c.HelpdeskGroups = []string{helpdesk, nowhere}
			f.Groups[nowhere] = GroupFact{Err: notFound}
		}, "groups.helpdesk", finding{status: Fail, detail: []string{"Found: Helpdesk (" + helpdesk + ")", "No group in the tenant has the id " + nowhere}, fix: []string{"TAPBOT_HELPDESK_GROUPS", "Object ID"}}},
		{"helpdesk group not set", func(_ *Facts, c *Config) { c.HelpdeskGroups = nil },
			"groups.helpdesk", finding{status: Fail, detail: []string{"Not set"}, fix: []string{"TAPBOT_HELPDESK_GROUPS"}}},
		{"admin group not set", func(_ *Facts, c *Config) { c.AdminGroups = nil },
			"groups.admin", finding{status: OK, detail: []string{"/doctor is off"}}},
		{"groups unreadable", func(f *Facts, _ *Config) { f.Groups[protected] = GroupFact{Err: forbidden} },
			"groups.protected", finding{status: Fail, detail: []string{"GroupMember.Read.All"}, fix: []string{"GroupMember.Read.All"}}},
		{"group read busy", func(f *Facts, _ *Config) { f.Groups[protected] = GroupFact{Err: busy} },
			"groups.protected", finding{status: Warn, detail: []string{"busy", "req-3"}}},

		{"app id not set", func(_ *Facts, c *Config) { c.AppID = "" },
			"registration", finding{status: Fail, detail: []string{"app id", "not set"}, fix: []string{"GUIDs"}}},
		{"tenant id not a GUID", func(_ *Facts, c *Config) { c.TenantID = "contoso.onmicrosoft.com" },
			"registration", finding{status: Fail, detail: []string{`"contoso.onmicrosoft.com", not a GUID`}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, cfg := healthy()
			tt.setup(&f, &cfg)
			r := Evaluate(f, cfg)
			it, ok := r.Item(tt.item)
			if !ok {
				t.Fatalf("items = %+v, want one %s", r.Items, tt.item)
			}
			w := tt.want
			if it.Status != w.status || it.Fixable != w.fixable {
				t.Errorf("status %s fixable %v, want %s fixable %v: %+v", it.Status, it.Fixable, w.status, w.fixable, it)
			}
			for _, s := range w.detail {
				if !strings.Contains(it.Detail, s) {
					t.Errorf("detail = %q, want it to contain %q", it.Detail, s)
				}
			}
			for _, s := range w.fix {
				if !strings.Contains(it.Fix, s) {
					t.Errorf("fix = %q, want it to contain %q", it.Fix, s)
				}
			}
			for _, s := range w.notInFix {
				if strings.Contains(it.Fix, s) {
					t.Errorf("fix = %q, want it not to contain %q", it.Fix, s)
				}
			}
			if it.Status != OK && it.Fix == "" {
				t.Errorf("a %s without a fix, want one: %+v", it.Status, it)
			}
			var plan []Change
			for _, c := range Plan(r) {
				if c.ID == w.change {
					plan = append(plan, c)
				}
			}
			switch {
			case w.change == "" && it.change != nil:
				t.Errorf("change = %+v, want none", it.change)
			case w.change != "" && (len(plan) != 1 || !slices.Equal(plan[0].Groups, w.groups) || plan[0].Description == ""):
				t.Errorf("plan %+v, want %s %v", Plan(r), w.change, w.groups)
			}
			if r.Failed() != (r.Count(Fail) > 0) {
				t.Errorf("Failed() = %v with %d failures, want true exactly when there is at least one", r.Failed(), r.Count(Fail))
			}
		})
	}
}

func TestPlanOrderAndCopies(t *testing.T) {
	f, cfg := healthy()
	f.TAP.Enabled = false
	f.TAP.IncludeTargets = []string{staff}
	f.Authenticator = graph.AuthenticatorPolicy{Targets: []graph.AuthenticatorTarget{{ID: graph.AllUsers, Mode: graph.AuthenticatorPush}}}
	r := Evaluate(f, cfg)
	plan := Plan(r)
	var ids []string
	for _, c := range plan {
		ids = append(ids, c.ID)
	}
	if !slices.Equal(ids, []string{ChangeTAPEnable, ChangeTAPTargets, ChangeAuthenticatorEnable, ChangeAuthenticatorTargets}) {
		t.Fatalf("plan = %v, want %v", ids, []string{ChangeTAPEnable, ChangeTAPTargets, ChangeAuthenticatorEnable, ChangeAuthenticatorTargets})
	}
	plan[1].Groups[0] = "changed"
	if again := Plan(r); again[1].Groups[0] != newHires {
		t.Error("Plan hands out the report's own slices, want copies")
	}
	if !strings.Contains(plan[3].Description, "New hires") || !strings.Contains(plan[3].Description, "any") {
		t.Errorf("description = %q, want it to contain %q and %q", plan[3].Description, "New hires", "any")
	}
	// Items that are not fixable by tapbot contribute nothing.
	if Plan(Report{Items: []Item{{ID: "x", Status: Fail, Fixable: false, change: &Change{ID: ChangeTAPEnable}}}}) != nil {
		t.Error("unfixable item planned, want no plan")
	}
}

func TestMutate(t *testing.T) {
	tests := []struct {
		name    string
		before  graph.AuthenticatorPolicy
		change  Change
		changed bool
		after   []graph.AuthenticatorTarget
	}{
		{"adds the group in mode any", graph.AuthenticatorPolicy{Targets: []graph.AuthenticatorTarget{{ID: graph.AllUsers, Mode: "push", RegistrationRequired: true}}},
			Change{ID: ChangeAuthenticatorTargets, Groups: []string{newHires}}, true,
			[]graph.AuthenticatorTarget{{ID: graph.AllUsers, Mode: "push", RegistrationRequired: true}, {ID: newHires, Mode: "any"}}},
		{"switches the group's push to any", graph.AuthenticatorPolicy{Targets: []graph.AuthenticatorTarget{{ID: newHires, Mode: "push", RegistrationRequired: true}}},
			Change{ID: ChangeAuthenticatorTargets, Groups: []string{strings.ToUpper(newHires)}}, true,
			[]graph.AuthenticatorTarget{{ID: newHires, Mode: "any", RegistrationRequired: true}}},
		{"nothing when already passwordless", graph.AuthenticatorPolicy{Targets: []graph.AuthenticatorTarget{{ID: graph.AllUsers, Mode: "deviceBasedPush"}}},
			Change{ID: ChangeAuthenticatorTargets, Groups: []string{newHires}}, false,
			[]graph.AuthenticatorTarget{{ID: graph.AllUsers, Mode: "deviceBasedPush"}}},
		{"enable", graph.AuthenticatorPolicy{}, Change{ID: ChangeAuthenticatorEnable}, true, nil},
		{"enable when enabled", graph.AuthenticatorPolicy{Enabled: true}, Change{ID: ChangeAuthenticatorEnable}, false, nil},
	}
	for _, tt := range tests {
		p := tt.before
		p.Targets = slices.Clone(p.Targets)
		if got := mutateAuthenticator(&p, tt.change); got != tt.changed || !slices.Equal(p.Targets, tt.after) {
			t.Errorf("%s: changed %v, targets %+v; want %v, %+v", tt.name, got, p.Targets, tt.changed, tt.after)
		}
		if tt.change.ID == ChangeAuthenticatorEnable && !p.Enabled {
			t.Errorf("%s: not enabled, want enabled", tt.name)
		}
	}

	p := graph.TAPPolicy{IncludeTargets: []string{staff}}
	if !mutateTAP(&p, Change{ID: ChangeTAPTargets, Groups: []string{newHires, strings.ToUpper(staff)}}) || !slices.Equal(p.IncludeTargets, []string{staff, newHires}) {
		t.Errorf("TAP targets = %v, want [%s %s] and a change", p.IncludeTargets, staff, newHires)
	}
	p = graph.TAPPolicy{IncludeTargets: []string{graph.AllUsers}}
	if mutateTAP(&p, Change{ID: ChangeTAPTargets, Groups: []string{newHires}}) || len(p.IncludeTargets) != 1 {
		t.Errorf("TAP targets = %v, want all users alone and no change", p.IncludeTargets)
	}
	if !mutateTAP(&p, Change{ID: ChangeTAPEnable}) || !p.Enabled || mutateTAP(&p, Change{ID: ChangeTAPEnable}) {
		t.Errorf("TAP enable: enabled %v, want a change the first time and none the second", p.Enabled)
	}
}

// fakeTenant is a Writer over two policies, recording the updates.
type fakeTenant struct {
	tap      graph.TAPPolicy
	authr    graph.AuthenticatorPolicy
	readErr  error
	writeErr error
	updates  []string
}

func (f *fakeTenant) TAPPolicy(context.Context) (graph.TAPPolicy, error) {
	p := f.tap
	p.IncludeTargets = slices.Clone(p.IncludeTargets)
	return p, f.readErr
}
func (f *fakeTenant) AuthenticatorPolicy(context.Context) (graph.AuthenticatorPolicy, error) {
	p := f.authr
	p.Targets = slices.Clone(p.Targets)
	return p, f.readErr
}
func (f *fakeTenant) Group(_ context.Context, id string) (graph.Group, error) {
	if strings.Contains(groupNames, id) {
		return graph.Group{ID: id}, nil
	}
	return graph.Group{ID: id, DisplayName: id}, nil
}
func (f *fakeTenant) GrantedRoles(context.Context) ([]string, error) { return allRoles, nil }
func (f *fakeTenant) WHfBEnrollments(context.Context) ([]graph.WHfBEnrollment, error) {
	return nil, errors.New("not read without an Intune permission")
}
func (f *fakeTenant) AutopilotProfiles(context.Context) ([]graph.AutopilotProfile, error) {
	return nil, errors.New("not read without an Intune permission")
}
func (f *fakeTenant) UpdateTAPPolicy(_ context.Context, p graph.TAPPolicy) error {
	f.updates = append(f.updates, "tap")
	if f.writeErr != nil {
		return f.writeErr
	}
	f.tap = p
	return nil
}
func (f *fakeTenant) UpdateAuthenticatorPolicy(_ context.Context, p graph.AuthenticatorPolicy) error {
	f.updates = append(f.updates, "authenticator")
	if f.writeErr != nil {
		return f.writeErr
	}
	f.authr = p
	return nil
}

func TestApplyOneUpdatePerPolicy(t *testing.T) {
	ft := &fakeTenant{
		tap:   graph.TAPPolicy{IncludeTargets: []string{staff}},
		authr: graph.AuthenticatorPolicy{Enabled: true, Targets: []graph.AuthenticatorTarget{{ID: graph.AllUsers, Mode: "push"}}},
	}
	changes := []Change{
		{ID: ChangeTAPEnable}, {ID: ChangeTAPTargets, Groups: []string{newHires}},
		{ID: ChangeAuthenticatorEnable}, {ID: ChangeAuthenticatorTargets, Groups: []string{newHires}},
		{ID: "tenant.delete"},
	}
	res := Apply(context.Background(), ft, changes)
	if !slices.Equal(ft.updates, []string{"tap", "authenticator"}) {
		t.Errorf("updates = %v, want [tap authenticator]", ft.updates)
	}
	if !ft.tap.Enabled || !slices.Equal(ft.tap.IncludeTargets, []string{staff, newHires}) || len(ft.authr.Targets) != 2 {
		t.Errorf("tenant = %+v %+v, want TAP enabled with targets [%s %s] and 2 Authenticator targets", ft.tap, ft.authr, staff, newHires)
	}
	want := []struct{ done, already, failed bool }{{true, false, false}, {true, false, false}, {false, true, false}, {true, false, false}, {false, false, true}}
	for i, r := range res {
		if r.ID != changes[i].ID || r.Done != want[i].done || r.AlreadyDone != want[i].already || (r.Err != nil) != want[i].failed {
			t.Errorf("result %d = %+v, want ID %s, done %v, already done %v, failed %v", i, r, changes[i].ID, want[i].done, want[i].already, want[i].failed)
		}
	}

	// Nothing left to do: no update at all.
	ft.updates = nil
	for _, r := range Apply(context.Background(), ft, changes[:4]) {
		if !r.AlreadyDone || r.Done || r.Err != nil {
			t.Errorf("second apply = %+v, want already done, no error", r)
		}
	}
	if len(ft.updates) != 0 {
		t.Errorf("updates = %v, want none", ft.updates)
	}

	// A failed update fails the changes it carried, and the tenant stays as it was.
	ft = &fakeTenant{writeErr: &graph.Error{Status: 403}, tap: graph.TAPPolicy{IncludeTargets: []string{staff}}}
	res = Apply(context.Background(), ft, changes[:2])
	if !errors.Is(res[0].Err, graph.ErrForbidden) || !errors.Is(res[1].Err, graph.ErrForbidden) || res[0].Done || ft.tap.Enabled {
		t.Errorf("failed apply = %+v, TAP %+v; want both changes forbidden, not done, TAP unchanged", res, ft.tap)
	}
	ft = &fakeTenant{readErr: graph.ErrUnavailable}
	if res := Apply(context.Background(), ft, changes[2:4]); !errors.Is(res[0].Err, graph.ErrUnavailable) || len(ft.updates) != 0 {
		t.Errorf("apply with a failing read = %+v, updates %v; want unavailable and no update", res, ft.updates)
	}
}

func TestGatherReadsEachGroupOnce(t *testing.T) {
	r := &countingReader{fakeTenant: &fakeTenant{}}
	f, cfg := healthy()
	_ = f
	cfg.AuditorGroups = []string{strings.ToUpper(helpdesk)}
	facts := Gather(context.Background(), r, cfg)
	if len(r.groups) != 4 || len(facts.Groups) != 4 {
		t.Errorf("read %v, facts %v; want 4 groups each", r.groups, facts.Groups)
	}
	if _, ok := facts.Groups[helpdesk]; !ok {
		t.Errorf("facts %v, want them keyed by lower-case id %s", facts.Groups, helpdesk)
	}
}

type countingReader struct {
	*fakeTenant
	groups []string
}

func (c *countingReader) Group(ctx context.Context, id string) (graph.Group, error) {
	c.groups = append(c.groups, id)
	return c.fakeTenant.Group(ctx, id)
}

func TestLongErrorsAreShortened(t *testing.T) {
	f, cfg := healthy()
	f.RolesErr = errors.New("azidentity: ClientSecretCredential: authentication failed\n" + strings.Repeat("----- RESPONSE 401 ", 100))
	it, _ := Evaluate(f, cfg).Item("permissions")
	if len(it.Detail) > 500 || strings.Contains(it.Detail, "\n") || !strings.Contains(it.Detail, "authentication failed") || !strings.Contains(it.Detail, "…") {
		t.Errorf("detail = %q, want one line of at most 500 bytes, with %q and %q", it.Detail, "authentication failed", "…")
	}
}

func TestDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{0: "unset", time.Hour: "1 h", 90 * time.Minute: "90 min", 24 * time.Hour: "1 day", 30 * 24 * time.Hour: "30 days", 10 * time.Minute: "10 min"} {
		if got := duration(d); got != want {
			t.Errorf("duration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestVerifyOffWarns(t *testing.T) {
	if _, ok := Evaluate(Facts{}, Config{}).Item("tap.verify"); ok {
		t.Error("verification on has a tap.verify item, want none")
	}
	it, ok := Evaluate(Facts{}, Config{VerifyOff: true}).Item("tap.verify")
	if !ok || it.Status != Warn || !strings.Contains(it.Fix, "TAPBOT_TAP_VERIFY") {
		t.Errorf("verification off: %+v, %v; want a warning naming TAPBOT_TAP_VERIFY", it, ok)
	}
}

// The device side: skipped with the reason without an Intune permission (and Intune
// is then not asked at all); WHfB disabled fails; no profile, or one assigned to
// nobody, warns; a one-time pass policy warns about the reboot.
func TestDevices(t *testing.T) {
	profile := func(name string, targets ...graph.AssignmentTarget) graph.AutopilotProfile {
		return graph.AutopilotProfile{DisplayName: name, Targets: targets}
	}
	tests := []struct {
		name   string
		mutate func(*Facts)
		want   map[string]finding
	}{
		{"without Intune permissions", func(f *Facts) {
			f.Devices = DeviceFacts{Skipped: "tapbot's app has no Intune read permission (" + intunePermission + ")"}
		},
			map[string]finding{"devices": {status: Warn, detail: []string{"Skipped", intunePermission, "not checked"}, fix: []string{intunePermission, "do not use Intune"}},
				"devices.reboot": {status: OK, detail: []string{"Web sign-in", "EnableWebSignIn"}}}},
		{"WHfB disabled", func(f *Facts) { f.Devices.WHfB[0].State = graph.EnablementDisabled },
			map[string]finding{"devices.whfb": {status: Fail, detail: []string{"disabled", "password"}, fix: []string{"Enabled"}}}},
		{"WHfB not configured", func(f *Facts) { f.Devices.WHfB[0].State = graph.EnablementNotConfigured },
			map[string]finding{"devices.whfb": {status: Warn, detail: []string{"does not override"}}}},
		{"no Autopilot profile", func(f *Facts) { f.Devices.Autopilot = nil },
			map[string]finding{"devices.autopilot": {status: Warn, detail: []string{"no Windows Autopilot deployment profile", "beta"}, fix: []string{"Create a deployment profile"}}}},
		{"a profile without assignment", func(f *Facts) {
			f.Devices.Autopilot = []graph.AutopilotProfile{profile("Laptops"), profile("Kiosks", graph.AssignmentTarget{Kind: "exclusionGroupAssignmentTarget", GroupID: staff})}
		},
			map[string]finding{"devices.autopilot": {status: Warn, detail: []string{"No deployment profile is assigned", "Laptops, Kiosks"}, fix: []string{"assign a profile"}}}},
		{"profiles unreadable (beta refused)", func(f *Facts) { f.Devices.AutopilotErr = fmt.Errorf("graph: list: %w", graph.ErrForbidden) },
			map[string]finding{"devices.autopilot": {status: Fail, detail: []string{"not allowed", intunePermission, "beta"}}}},
		{"one-time passes", func(f *Facts) { f.TAP.UsableOnce = true },
			map[string]finding{"devices.reboot": {status: Warn, detail: []string{"one-time use", "password screen"}, fix: []string{"more than once", "EnableWebSignIn"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, cfg := healthy()
			tt.mutate(&f)
			r := Evaluate(f, cfg)
			for id, w := range tt.want {
				it, ok := r.Item(id)
				if !ok {
					t.Fatalf("items = %+v, want one %s", r.Items, id)
				}
				if it.Status != w.status {
					t.Errorf("%s: status %s, want %s: %s", id, it.Status, w.status, it.Detail)
				}
				for _, s := range w.detail {
					if !strings.Contains(it.Detail, s) {
						t.Errorf("%s: detail = %q, want it to contain %q", id, it.Detail, s)
					}
				}
				for _, s := range w.fix {
					if !strings.Contains(it.Fix, s) {
						t.Errorf("%s: fix = %q, want it to contain %q", id, it.Fix, s)
					}
				}
			}
		})
	}
}

// Gather asks Intune only when the token allows it.
func TestGatherDevicesOnlyWithIntunePermission(t *testing.T) {
	d := gatherDevices(context.Background(), &fakeTenant{}, allRoles, nil)
	if !strings.Contains(d.Skipped, intunePermission) || d.WHfBErr != nil || d.AutopilotErr != nil {
		t.Fatalf("devices without the permission = %+v, want skipped naming %s and Intune not read", d, intunePermission)
	}
	d = gatherDevices(context.Background(), &fakeTenant{}, append(slices.Clone(allRoles), intunePermission), nil)
	if d.Skipped != "" || d.WHfBErr == nil || d.AutopilotErr == nil {
		t.Fatalf("devices with the permission = %+v, want not skipped and both Intune reads tried (the fake fails them)", d)
	}
}
