package simtenant

import (
	"time"

	"github.com/tapbot/tapbot/graph"
)

// The Contoso tenant, shared with the Agents Playground configuration
// (.m365agentsplayground.yml): same tenant id, and the same aadObjectId and UPN for the
// six people the playground knows.
const (
	ContosoTenantID = "7a1c4e2b-5d3f-4b8a-9c6e-2f1d0b3a4c5e"
	ContosoDomain   = "contoso.com"
)

// Contoso's people. The first six are the playground's users.
const (
	HanaID  = "11111111-1111-4111-8111-111111111111" // Hana Helpdesk: helpdesk operator
	HanaUPN = "hana@contoso.com"
	MaxID   = "22222222-2222-4222-8222-222222222222" // Max Manager: Nina's manager
	MaxUPN  = "max@contoso.com"
	AlexID  = "33333333-3333-4333-8333-333333333333" // Alex Approver: approves onboarding
	AlexUPN = "alex@contoso.com"
	GwenID  = "44444444-4444-4444-8444-444444444444" // Gwen Globaladmin: active Global Administrator
	GwenUPN = "gwen@contoso.com"
	NinaID  = "55555555-5555-4555-8555-555555555555" // Nina Newhire: new hire, no methods yet
	NinaUPN = "nina@contoso.com"
	GregID  = "66666666-6666-4666-8666-666666666666" // Greg Guest: external B2B guest
	GregUPN = "greg_fabrikam.com#EXT#@contoso.onmicrosoft.com"

	// 77777777-… is the playground team's group id; the ids below avoid it.

	DanID    = "88888888-8888-4888-8888-888888888888" // Dan Departed: disabled account
	DanUPN   = "dan@contoso.com"
	PaulID   = "99999999-9999-4999-8999-999999999999" // Paul Privileged: PIM-eligible Privileged Authentication Administrator only
	PaulUPN  = "paul@contoso.com"
	ErinID   = "aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa" // Erin Executive: CEO, in Protected accounts
	ErinUPN  = "erin@contoso.com"
	ColinID  = "bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb" // Colin Contractor: outside the TAP policy's scope
	ColinUPN = "colin@contoso.com"
	InesID   = "cccccccc-cccc-4ccc-8ccc-cccccccccccc" // Ines Identity: Authentication Administrator through a role-assignable group
	InesUPN  = "ines@contoso.com"

	// Admins the directoryRole cast cannot show (issue #9): each would get a pass if
	// tapbot looked only at the user's own tenant-wide built-in roles.
	GaryID    = "14141414-1414-4414-8414-141414141414" // Gary Globalgroup: PIM-eligible Global Administrator through a role-assignable group
	GaryUPN   = "gary@contoso.com"
	CaraID    = "15151515-1515-4515-8515-151515151515" // Cara Custom: holds a custom role
	CaraUPN   = "cara@contoso.com"
	AudreyID  = "16161616-1616-4616-8616-161616161616" // Audrey Adminunit: User Administrator scoped to an administrative unit
	AudreyUPN = "audrey@contoso.com"
	PiaID     = "12121212-1212-4212-8212-121212121212" // Pia PIMgroup: eligible member (PIM for Groups) of a group that holds Privileged Role Administrator
	PiaUPN    = "pia@contoso.com"
	OscarID   = "13131313-1313-4313-8313-131313131313" // Oscar Officegroup: custom role scoped to an administrative unit, held through a group
	OscarUPN  = "oscar@contoso.com"
)

// Contoso's groups.
const (
	GroupHelpdesk  = "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d40001" // Helpdesk: who may mint TAPs
	GroupApprovers = "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d40002" // Onboarding approvers
	GroupNewHires  = "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d40003" // New hires: TAP and Authenticator policy target
	GroupStaff     = "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d40004" // Staff: TAP policy target; nests Helpdesk
	GroupProtected = "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d40005" // Protected accounts: executives tapbot must not touch
	GroupAuthAdmin = "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d40006" // Authentication admins: role-assignable
	GroupGAPIM     = "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d40007" // Global admins (PIM): role-assignable, eligible for Global Administrator
	GroupRoleAdmin = "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d40008" // Role admins: role-assignable, Privileged Role Administrator; Pia may join through PIM for Groups
	GroupParisDesk = "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d40009" // Paris desk: role-assignable, custom role scoped to the Paris administrative unit
)

// Contoso's administrative unit and custom role.
const (
	AUParis             = "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d400a1" // Paris office administrative unit
	ScopeParis          = "/administrativeUnits/" + AUParis
	RoleCustomTier1     = "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d400b1" // Contoso Tier 1 Support: custom role (id = templateId)
	RoleCustomTier1Name = "Contoso Tier 1 Support"
)

// Directory role template ids (stable across tenants; Microsoft Entra built-in roles).
const (
	RoleGlobalAdministrator                   = "62e90394-69f5-4237-9190-012177145e10"
	RolePrivilegedAuthenticationAdministrator = "7be44c8a-adaf-4e2a-84d6-ab2649e08a13"
	RoleAuthenticationAdministrator           = "c4e39bd9-1100-46d3-8c65-fb160da0071f"
	RoleUserAdministrator                     = "fe930be7-5e62-47db-91af-98c3a49a38b1"
	RolePrivilegedRoleAdministrator           = "e8611ab8-c189-46e8-94e1-60213ab1f814"
	RoleDirectoryReaders                      = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
)

// Contoso returns a realistic tenant for local development and tests: helpdesk and
// approvers, a new hire with nothing registered, an external guest, a Global
// Administrator, an admin by group, a PIM-eligible admin, a protected executive, a
// disabled account, a contractor outside the TAP policy, and admins only role
// management shows: eligible through a group, a custom role, a role scoped to an
// administrative unit, PIM for Groups, and a scoped custom role through a group. The TAP policy is enabled
// for New hires and Staff (1 h by default, 10 min to 8 h, reusable, 8 characters); the
// Authenticator policy is enabled for all users in any mode.
func Contoso() *Tenant {
	t := NewTenant(ContosoTenantID)
	// Accounts were created before "now", as in a real tenant.
	created := time.Date(2024, 3, 4, 9, 0, 0, 0, time.UTC)
	add := func(id, upn, mail, name, userType string, enabled bool) {
		t.AddUser(graph.User{
			ID: id, UserPrincipalName: upn, Mail: mail, DisplayName: name,
			UserType: userType, AccountEnabled: enabled, CreatedDateTime: created,
		})
	}
	add(HanaID, HanaUPN, HanaUPN, "Hana Helpdesk", "Member", true)
	add(MaxID, MaxUPN, MaxUPN, "Max Manager", "Member", true)
	add(AlexID, AlexUPN, AlexUPN, "Alex Approver", "Member", true)
	add(GwenID, GwenUPN, GwenUPN, "Gwen Globaladmin", "Member", true)
	// Nina joined this week: a new hire for TAPBOT_TAP_VERIFY (younger than 14 days,
	// no sign-in method), whenever the tenant is built.
	t.AddUser(graph.User{ID: NinaID, UserPrincipalName: NinaUPN, Mail: NinaUPN, DisplayName: "Nina Newhire",
		UserType: "Member", AccountEnabled: true, CreatedDateTime: time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)})
	add(GregID, GregUPN, "greg@fabrikam.com", "Greg Guest", "Guest", true)
	add(DanID, DanUPN, DanUPN, "Dan Departed", "Member", false)
	add(PaulID, PaulUPN, PaulUPN, "Paul Privileged", "Member", true)
	add(ErinID, ErinUPN, ErinUPN, "Erin Executive", "Member", true)
	add(ColinID, ColinUPN, ColinUPN, "Colin Contractor", "Member", true)
	add(InesID, InesUPN, InesUPN, "Ines Identity", "Member", true)
	add(GaryID, GaryUPN, GaryUPN, "Gary Globalgroup", "Member", true)
	add(CaraID, CaraUPN, CaraUPN, "Cara Custom", "Member", true)
	add(AudreyID, AudreyUPN, AudreyUPN, "Audrey Adminunit", "Member", true)
	add(PiaID, PiaUPN, PiaUPN, "Pia PIMgroup", "Member", true)
	add(OscarID, OscarUPN, OscarUPN, "Oscar Officegroup", "Member", true)

	t.SetManager(NinaID, MaxID)
	t.SetManager(HanaID, MaxID)

	t.AddGroup(GroupHelpdesk, "Helpdesk", HanaID)
	t.AddGroup(GroupApprovers, "Onboarding approvers", AlexID)
	t.AddGroup(GroupNewHires, "New hires", NinaID)
	t.AddGroup(GroupProtected, "Protected accounts", ErinID)
	t.AddGroup(GroupAuthAdmin, "Authentication admins", InesID)
	t.AddRoleAssignableGroup(GroupGAPIM, "Global admins (PIM)", GaryID)
	t.AddRoleAssignableGroup(GroupRoleAdmin, "Role admins")
	t.AddRoleAssignableGroup(GroupParisDesk, "Paris desk", OscarID)
	t.AddGroup(GroupStaff, "Staff", GroupHelpdesk, MaxID, AlexID, GwenID, DanID, PaulID, ErinID, InesID,
		GaryID, CaraID, AudreyID, PiaID, OscarID)

	t.AssignRole(GwenID, RoleGlobalAdministrator, "Global Administrator")
	t.AssignRole(GroupAuthAdmin, RoleAuthenticationAdministrator, "Authentication Administrator")
	t.AssignEligibleRole(PaulID, RolePrivilegedAuthenticationAdministrator, "Privileged Authentication Administrator")
	t.AssignEligibleRole(GroupGAPIM, RoleGlobalAdministrator, "Global Administrator")
	t.DefineRole(RoleDefinition{ID: RoleCustomTier1, TemplateID: RoleCustomTier1, DisplayName: RoleCustomTier1Name})
	t.AssignRoleAt(CaraID, RoleCustomTier1, TenantWide)
	t.DefineRole(RoleDefinition{ID: RoleUserAdministrator, TemplateID: RoleUserAdministrator, DisplayName: "User Administrator", BuiltIn: true})
	t.AssignRoleAt(AudreyID, RoleUserAdministrator, ScopeParis)
	t.AssignRole(GroupRoleAdmin, RolePrivilegedRoleAdministrator, "Privileged Role Administrator")
	t.AssignEligibleGroupAccess(PiaID, GroupRoleAdmin, "member")
	t.AssignRoleAt(GroupParisDesk, RoleCustomTier1, ScopeParis)

	t.SetTAPPolicy(graph.TAPPolicy{
		Enabled:         true,
		DefaultLifetime: time.Hour,
		MinLifetime:     10 * time.Minute,
		MaxLifetime:     8 * time.Hour,
		DefaultLength:   8,
		IncludeTargets:  []string{GroupNewHires, GroupStaff},
	})
	t.SetAuthenticatorPolicy(AuthenticatorPolicy{
		Enabled:        true,
		IncludeTargets: []AuthenticatorTarget{{ID: graph.AllUsers, Mode: "any"}},
	})

	method := func(userID, typ, name string) {
		t.AddMethod(userID, graph.Method{Type: typ, DisplayName: name, Created: created})
	}
	for _, id := range []string{HanaID, MaxID, AlexID, GwenID, DanID, PaulID, ErinID, ColinID, InesID, GaryID, CaraID, AudreyID, PiaID, OscarID} {
		method(id, "password", "")
	}
	method(HanaID, "microsoftAuthenticator", "Pixel 8")
	method(HanaID, "windowsHelloForBusiness", "HANA-LAPTOP")
	method(MaxID, "microsoftAuthenticator", "iPhone 15")
	method(MaxID, "phone", "+1 4255550102")
	method(AlexID, "microsoftAuthenticator", "Galaxy S23")
	method(AlexID, "fido2", "YubiKey 5 NFC")
	method(GwenID, "fido2", "YubiKey 5C")
	method(GwenID, "microsoftAuthenticator", "iPhone 14")
	method(ErinID, "microsoftAuthenticator", "iPhone 15 Pro")
	method(ErinID, "fido2", "YubiKey 5 NFC")
	method(PaulID, "microsoftAuthenticator", "Pixel 7")
	method(InesID, "microsoftAuthenticator", "iPhone 13")
	method(ColinID, "phone", "+1 4255550188")
	// Intune set up for passwordless laptops: Windows Hello for Business on at
	// enrollment, one Autopilot profile for every device.
	t.SetWHfBEnrollment(graph.EnablementEnabled)
	t.AddAutopilotProfile("5c2f3a1e-7b4d-4e8a-9c6f-0a1b2c3d4e5f", "Contoso laptops", graph.AssignmentTarget{Kind: "allDevicesAssignmentTarget"})
	return t
}
