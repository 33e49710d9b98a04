// Package simtenant is the simulated tenant: an in-memory Entra tenant served over
// Microsoft Graph's v1.0 wire format (and the one beta list tapbot reads, the
// Autopilot profiles) on a loopback TLS server. It ships in the binary:
// `tapbot dev` uses it so that nobody needs a tenant to try the bot, and the tests point
// the real msgraph-sdk-go client at it.
//
// It is honest on purpose: it answers as Graph documents (paths, JSON property names,
// @odata annotations, paging, error codes and messages), including the refusals, so
// that a client that passes against it has a good chance of passing against Graph.
// Where Microsoft's documentation is silent the choice is the most plausible real
// behaviour, and the comment next to it says so.
//
// It imports neither msgraph-sdk-go nor kiota: it is the standard library (net/http,
// encoding/json) and tapbot's own graph and secret packages only, so packages that
// use it stay fast to build.
package simtenant

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/tapbot/tapbot/graph"
)

// Tenant is a simulated Entra tenant. It is safe for concurrent use. The seed methods
// panic on inconsistent seeds (an unknown id, a duplicate user): those are mistakes in
// a test or fixture, like a bad pattern given to regexp.MustCompile.
type Tenant struct {
	// Now is the tenant's clock. Replace it before serving to test expiry.
	Now func() time.Time
	// PageSize is how many objects a paged list answers before an @odata.nextLink
	// (Graph's default is 100). Set it small before serving to exercise paging.
	PageSize int

	id string

	mu        sync.Mutex
	users     []*user // in creation order, which is the order lists answer in
	groups    []*group
	roleDefs  []RoleDefinition
	active    []assignment
	eligible  []eligibility
	groupPIM  []groupEligibility
	noPIM     bool              // no Entra ID P2: PIM APIs answer AadPremiumLicenseRequired
	dirRoles  map[string]string // role template id → id of its activated directoryRole
	tapPolicy graph.TAPPolicy
	authr     AuthenticatorPolicy
	methods   map[string][]graph.Method // user id → registered methods other than TAPs
	taps      map[string]*tap           // user id → the user's one TAP
	prov      *provState                // domains, SKUs, profiles: provision.go
	teamwork  *teamworkState            // devices, app catalog, installations: teamwork.go
	devices   *devicesState             // Intune: WHfB enrollment, Autopilot profiles: devices.go
	appRoles  []string                  // granted application permissions; nil: the default (permissions.go)
	appID     string                    // the calling app's id for opaque tokens
	// lag counts, per user created through POST /users, the requests addressing it
	// that still answer 404 (SetReplicationLag).
	lag        map[string]int
	replicaLag int
}

type user struct {
	graph.User
	manager string
}

type group struct {
	id, displayName string
	members         []string // user or group ids
	roleAssignable  bool
}

// RoleDefinition is a directory role definition (unifiedRoleDefinition). Built-in
// roles have their template id as id; custom roles get an id of their own and, as a
// rule, the same templateId. An empty TemplateID models a definition Graph answers
// with limited information.
type RoleDefinition struct {
	ID          string
	TemplateID  string
	DisplayName string
	BuiltIn     bool
}

// TenantWide is the directoryScopeId of a role assignment that applies to the whole
// tenant; an administrative unit's scope is "/administrativeUnits/{id}".
const TenantWide = "/"

// assignment is an active directory role assignment to a user or a group.
type assignment struct {
	id, principal, roleDef, scope string
}

// eligibility is a PIM-eligible role assignment.
type eligibility struct {
	id, scheduleID, principal, roleDef, scope string
	start                                     time.Time
}

// groupEligibility is a PIM for Groups eligibility: principal may activate access
// ("member" or "owner") to group.
type groupEligibility struct {
	id, scheduleID, principal, group, access string
	start                                    time.Time
}

// NewTenant returns an empty tenant with Entra's default authentication-method
// policies: Temporary Access Pass disabled with the documented default settings
// (lifetime 1 h, minimum 1 h, maximum 8 h, length 8, reusable, all users), Microsoft
// Authenticator enabled for all users in any mode.
func NewTenant(tenantID string) *Tenant {
	return &Tenant{
		Now:      time.Now,
		PageSize: 100,
		id:       tenantID,
		dirRoles: map[string]string{},
		tapPolicy: graph.TAPPolicy{
			DefaultLifetime: time.Hour,
			MinLifetime:     time.Hour,
			MaxLifetime:     8 * time.Hour,
			DefaultLength:   8,
			IncludeTargets:  []string{graph.AllUsers},
		},
		authr: AuthenticatorPolicy{
			Enabled:        true,
			IncludeTargets: []AuthenticatorTarget{{ID: graph.AllUsers, Mode: "any"}},
		},
		methods: map[string][]graph.Method{},
		taps:    map[string]*tap{},
	}
}

// ID is the tenant id.
func (t *Tenant) ID() string { return t.id }

func (t *Tenant) now() time.Time { return t.Now().UTC() }

// AddUser adds a user and returns it as stored: an empty ID gets a new GUID, an empty
// UserType is "Member", a zero CreatedDateTime is now.
func (t *Tenant) AddUser(u graph.User) graph.User {
	t.mu.Lock()
	defer t.mu.Unlock()
	if u.ID == "" {
		u.ID = newGUID()
	}
	if u.UserType == "" {
		u.UserType = "Member"
	}
	if u.CreatedDateTime.IsZero() {
		u.CreatedDateTime = t.now()
	}
	if u.UserPrincipalName == "" {
		panic("simtenant: AddUser needs a userPrincipalName")
	}
	for _, o := range t.users {
		if strings.EqualFold(o.ID, u.ID) || strings.EqualFold(o.UserPrincipalName, u.UserPrincipalName) {
			panic(fmt.Sprintf("simtenant: user %s (%s) already exists", u.ID, u.UserPrincipalName))
		}
	}
	if t.groupLocked(u.ID) != nil {
		panic("simtenant: id " + u.ID + " is a group")
	}
	t.users = append(t.users, &user{User: u})
	return u
}

// SetManager records managerID as userID's manager.
func (t *Tenant) SetManager(userID, managerID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, m := t.userByIDLocked(userID), t.userByIDLocked(managerID)
	if u == nil || m == nil {
		panic("simtenant: SetManager: unknown user " + userID + " or " + managerID)
	}
	u.manager = m.ID
}

// AddGroup adds a security group with the given members (user or group ids).
func (t *Tenant) AddGroup(id, displayName string, memberIDs ...string) {
	t.mu.Lock()
	if t.groupLocked(id) != nil || t.userByIDLocked(id) != nil {
		t.mu.Unlock()
		panic("simtenant: id " + id + " already exists")
	}
	t.groups = append(t.groups, &group{id: id, displayName: displayName})
	t.mu.Unlock()
	for _, m := range memberIDs {
		t.AddMember(id, m)
	}
}

// AddMember adds a user or a group to a group. Adding an existing member is a no-op.
func (t *Tenant) AddMember(groupID, memberID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	g := t.groupLocked(groupID)
	if g == nil {
		panic("simtenant: AddMember: unknown group " + groupID)
	}
	if t.userByIDLocked(memberID) == nil && t.groupLocked(memberID) == nil {
		panic("simtenant: AddMember: unknown member " + memberID)
	}
	if !slices.Contains(g.members, memberID) {
		g.members = append(g.members, memberID)
	}
}

// AssignRole gives a user or a group an active, tenant-wide assignment of the built-in
// role with roleTemplateID.
func (t *Tenant) AssignRole(principalID, roleTemplateID, displayName string) {
	t.DefineRole(RoleDefinition{ID: roleTemplateID, TemplateID: roleTemplateID, DisplayName: displayName, BuiltIn: true})
	t.AssignRoleAt(principalID, roleTemplateID, TenantWide)
}

// AssignEligibleRole gives a user or a group a PIM-eligible, tenant-wide assignment of
// the built-in role with roleTemplateID, permanent and starting now.
func (t *Tenant) AssignEligibleRole(principalID, roleTemplateID, displayName string) {
	t.DefineRole(RoleDefinition{ID: roleTemplateID, TemplateID: roleTemplateID, DisplayName: displayName, BuiltIn: true})
	t.AssignEligibleRoleAt(principalID, roleTemplateID, TenantWide)
}

// DefineRole adds a role definition; defining one that exists is a no-op.
func (t *Tenant) DefineRole(d RoleDefinition) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.roleDefLocked(d.ID) == nil {
		t.roleDefs = append(t.roleDefs, d)
	}
}

// AssignRoleAt gives a user or a group an active assignment of a defined role at a
// directory scope (TenantWide or "/administrativeUnits/{id}"). A group given a role
// becomes role-assignable: only such groups can hold one
// (https://learn.microsoft.com/en-us/graph/api/resources/unifiedroleassignment:
// "Supported principals are users, role-assignable groups, and service principals").
func (t *Tenant) AssignRoleAt(principalID, roleDefinitionID, scope string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.mustRoleAssignableLocked(principalID, roleDefinitionID)
	if _, ok := t.dirRoles[d.TemplateID]; !ok && d.BuiltIn && scope == TenantWide {
		// A directoryRole object exists once the role is activated in the tenant; its
		// id differs from the template id, as in Entra.
		t.dirRoles[d.TemplateID] = newGUID()
	}
	t.active = append(t.active, assignment{id: newGUID(), principal: principalID, roleDef: d.ID, scope: scope})
}

// AssignEligibleRoleAt gives a user or a group a PIM-eligible assignment of a defined
// role at a directory scope, permanent and starting now.
func (t *Tenant) AssignEligibleRoleAt(principalID, roleDefinitionID, scope string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := t.mustRoleAssignableLocked(principalID, roleDefinitionID)
	t.eligible = append(t.eligible, eligibility{
		id: newGUID(), scheduleID: newGUID(), principal: principalID, roleDef: d.ID, scope: scope, start: t.now(),
	})
}

// AddRoleAssignableGroup adds a security group that roles can be assigned to
// (isAssignableToRole), with the given members.
func (t *Tenant) AddRoleAssignableGroup(id, displayName string, memberIDs ...string) {
	t.AddGroup(id, displayName, memberIDs...)
	t.mu.Lock()
	t.groupLocked(id).roleAssignable = true
	t.mu.Unlock()
}

// AssignEligibleGroupAccess makes principalID eligible, through PIM for Groups, to
// activate access ("member" or "owner") to groupID, permanently from now.
func (t *Tenant) AssignEligibleGroupAccess(principalID, groupID, access string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.mustPrincipalLocked(principalID)
	if t.groupLocked(groupID) == nil || access != "member" && access != "owner" {
		panic("simtenant: AssignEligibleGroupAccess: unknown group " + groupID + " or access " + access)
	}
	t.groupPIM = append(t.groupPIM, groupEligibility{
		id: newGUID(), scheduleID: newGUID(), principal: principalID, group: groupID, access: access, start: t.now(),
	})
}

// SetPIMLicensed says whether the tenant has Entra ID P2 (or ID Governance). Without
// it the PIM APIs answer 400 AadPremiumLicenseRequired. Tenants start licensed.
func (t *Tenant) SetPIMLicensed(licensed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.noPIM = !licensed
}

func (t *Tenant) roleDefLocked(id string) *RoleDefinition {
	for i := range t.roleDefs {
		if strings.EqualFold(t.roleDefs[i].ID, id) {
			return &t.roleDefs[i]
		}
	}
	return nil
}

func (t *Tenant) mustRoleAssignableLocked(principalID, roleDefinitionID string) RoleDefinition {
	t.mustPrincipalLocked(principalID)
	if g := t.groupLocked(principalID); g != nil {
		// Entra fixes isAssignableToRole at creation; seeds may skip AddRoleAssignableGroup.
		g.roleAssignable = true
	}
	d := t.roleDefLocked(roleDefinitionID)
	if d == nil {
		panic("simtenant: unknown role definition " + roleDefinitionID)
	}
	return *d
}

// AddMethod registers an authentication method for a user. Type is the short
// @odata.type (microsoftAuthenticator, windowsHelloForBusiness, fido2, phone, password,
// email, softwareOath); an empty ID gets one, a zero Created is now (an Authenticator with MFAOnly
// has none: Graph answers its createdDateTime null). TAPs are created
// with CreateTAP, as in Graph.
//
// An Authenticator registered for passwordless phone sign-in (not MFAOnly) also
// registers the phone: the method's device is "the registered device on which
// Microsoft Authenticator resides. This property is null if the device isn't
// registered for passwordless Phone Sign-In" (relationship device,
// https://learn.microsoft.com/en-us/graph/api/resources/microsoftauthenticatorauthenticationmethod).
// The phone joins the user's registeredDevices as a Microsoft Entra registered
// device (trustType Workplace), named as the method, registered when the method was.
func (t *Tenant) AddMethod(userID string, m graph.Method) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.userByIDLocked(userID)
	if u == nil {
		panic("simtenant: AddMethod: unknown user " + userID)
	}
	kind, ok := methodKinds[m.Type]
	if !ok {
		panic("simtenant: AddMethod: unsupported method type " + m.Type)
	}
	if m.ID == "" {
		m.ID = kind.fixedID
		if m.ID == "" {
			m.ID = newGUID()
		}
	}
	if m.Created.IsZero() && !m.MFAOnly {
		m.Created = t.now()
	}
	if m.MFAOnly {
		m.Created = time.Time{} // Graph has no date for an MFA-only Authenticator
	}
	t.methods[u.ID] = append(t.methods[u.ID], m)
	if m.Type == "microsoftAuthenticator" && !m.MFAOnly {
		t.addDeviceLocked(u.ID, graph.Device{DisplayName: m.DisplayName, TrustType: graph.TrustRegistered, Registered: m.Created})
	}
}

func (t *Tenant) mustPrincipalLocked(id string) {
	if t.userByIDLocked(id) == nil && t.groupLocked(id) == nil {
		panic("simtenant: unknown principal " + id)
	}
}

func (t *Tenant) userByIDLocked(id string) *user {
	for _, u := range t.users {
		if strings.EqualFold(u.ID, id) {
			return u
		}
	}
	return nil
}

// resolveUserLocked finds a user by id or userPrincipalName, both case-insensitive as
// in Entra.
func (t *Tenant) resolveUserLocked(ref string) (*user, *graph.Error) {
	for _, u := range t.users {
		if strings.EqualFold(u.ID, ref) || strings.EqualFold(u.UserPrincipalName, ref) {
			if t.lag[u.ID] > 0 {
				t.lag[u.ID]-- // not replicated yet: SetReplicationLag
				return nil, errNotFound(ref)
			}
			return u, nil
		}
	}
	return nil, errNotFound(ref)
}

// SetReplicationLag makes the first n requests that address a user created through
// POST /users (by id or UPN) answer 404 Request_ResourceNotFound, as Graph can right
// after a creation while the new object reaches the directory replica serving the
// next request. Microsoft documents no bound; client code is expected to retry
// briefly ("Microsoft Graph error responses and resource types",
// https://learn.microsoft.com/en-us/graph/errors, and graph-facts.md). A count of
// requests, not a duration, keeps tests free of sleeps. 0 (the default) turns it off.
func (t *Tenant) SetReplicationLag(n int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.replicaLag = n
}

// replicatingLocked starts the lag for a user just created. t.mu must be held.
func (t *Tenant) replicatingLocked(id string) {
	if t.replicaLag <= 0 {
		return
	}
	if t.lag == nil {
		t.lag = map[string]int{}
	}
	t.lag[id] = t.replicaLag
}

func (t *Tenant) groupLocked(id string) *group {
	for _, g := range t.groups {
		if strings.EqualFold(g.id, id) {
			return g
		}
	}
	return nil
}

// transitiveGroupsLocked lists the groups a principal belongs to directly or through
// nested groups, nearest first. Membership cycles are tolerated.
func (t *Tenant) transitiveGroupsLocked(id string) []*group {
	var out []*group
	seen := map[string]bool{}
	frontier := []string{id}
	for len(frontier) > 0 {
		var next []string
		for _, g := range t.groups {
			if seen[g.id] {
				continue
			}
			for _, m := range g.members {
				if slices.ContainsFunc(frontier, func(f string) bool { return strings.EqualFold(f, m) }) {
					seen[g.id] = true
					out = append(out, g)
					next = append(next, g.id)
					break
				}
			}
		}
		frontier = next
	}
	return out
}

// activeRolesLocked lists the directoryRole objects a user is a member of, directly or
// through a group, one per role template: tenant-wide assignments of built-in roles
// only. A directoryRole is an activated built-in role
// (https://learn.microsoft.com/en-us/graph/api/resources/directoryrole); that custom
// roles and roles scoped to an administrative unit do not show up as one is what
// graph-facts.md records, not a sentence of that page.
func (t *Tenant) activeRolesLocked(userID string) []graph.Role {
	principals := map[string]bool{strings.ToLower(userID): true}
	for _, g := range t.transitiveGroupsLocked(userID) {
		principals[strings.ToLower(g.id)] = true
	}
	var out []graph.Role
	for _, a := range t.active {
		d := t.roleDefLocked(a.roleDef)
		if !principals[strings.ToLower(a.principal)] || !d.BuiltIn || a.scope != TenantWide {
			continue
		}
		if slices.ContainsFunc(out, func(r graph.Role) bool { return r.RoleTemplateID == d.TemplateID }) {
			continue
		}
		out = append(out, graph.Role{ID: t.dirRoles[d.TemplateID], RoleTemplateID: d.TemplateID, DisplayName: d.DisplayName})
	}
	return out
}

// inScopeLocked reports whether a policy's include and exclude targets (all_users,
// group or user ids) cover a user. Nested groups count, as they do for group membership.
func (t *Tenant) inScopeLocked(userID string, include, exclude []string) bool {
	ids := map[string]bool{graph.AllUsers: true, strings.ToLower(userID): true}
	for _, g := range t.transitiveGroupsLocked(userID) {
		ids[strings.ToLower(g.id)] = true
	}
	hit := func(targets []string) bool {
		return slices.ContainsFunc(targets, func(id string) bool { return ids[strings.ToLower(id)] })
	}
	return hit(include) && !hit(exclude)
}
