package simtenant

import (
	"net/http"
	"strings"
)

// Role management: /roleManagement/directory/roleAssignments,
// /roleManagement/directory/roleEligibilityScheduleInstances and PIM for Groups'
// /identityGovernance/privilegedAccess/group/eligibilityScheduleInstances. Like Graph,
// a principalId filter matches the principal exactly: a role held through a group is
// listed under the group's id, never under its members'.

// https://learn.microsoft.com/en-us/graph/api/resources/unifiedroleassignment: principalId,
// roleDefinitionId and directoryScopeId support $filter (eq, in).
var assignmentFilterProps = map[string]string{
	"principalid": kindStringIn, "roledefinitionid": kindStringIn, "directoryscopeid": kindStringIn,
}

var assignmentProps = []string{"id", "appScopeId", "directoryScopeId", "principalId", "roleDefinitionId"}

// https://learn.microsoft.com/en-us/graph/api/resources/unifiedroleeligibilityscheduleinstance:
// principalId, roleDefinitionId and directoryScopeId support $filter (eq, ne) — not
// "in". The fake runs eq; ne is refused as unsupported (lenient fakes prove nothing).
var eligibilityFilterProps = map[string]string{"principalid": "string", "roledefinitionid": "string", "directoryscopeid": "string"}

var eligibilityProps = []string{
	"id", "appScopeId", "directoryScopeId", "endDateTime", "memberType", "principalId",
	"roleDefinitionId", "roleEligibilityScheduleId", "startDateTime",
}

// https://learn.microsoft.com/en-us/graph/api/resources/privilegedaccessgroupeligibilityscheduleinstance:
// accessId, groupId, principalId support $filter (eq).
var groupEligibilityFilterProps = map[string]string{"principalid": "string", "groupid": "string", "accessid": "string"}

var groupEligibilityProps = []string{
	"id", "accessId", "eligibilityScheduleId", "endDateTime", "groupId", "memberType", "principalId", "startDateTime",
}

// errNoPIMLicence is what the PIM APIs answer in a tenant without Entra ID P2 or ID
// Governance. The code is the one Graph sends; the text is the fake's.
func errNoPIMLicence() reply {
	return fail(gerr(http.StatusBadRequest, "AadPremiumLicenseRequired",
		"The tenant needs to have Microsoft Entra ID P2 or Microsoft Entra ID Governance license."))
}

func roleDefinitionJSON(d RoleDefinition) map[string]any {
	var template any
	if d.TemplateID != "" {
		template = d.TemplateID
	}
	return map[string]any{
		"id": d.ID, "description": nil, "displayName": d.DisplayName, "isBuiltIn": d.BuiltIn,
		"isEnabled": true, "resourceScopes": []string{"/"}, "rolePermissions": []any{},
		"templateId": template, "version": "1",
	}
}

func assignmentJSON(a assignment) map[string]any {
	return map[string]any{
		"id": a.id, "appScopeId": nil, "directoryScopeId": a.scope,
		"principalId": a.principal, "roleDefinitionId": a.roleDef,
	}
}

func eligibilityJSON(e eligibility) map[string]any {
	return map[string]any{
		"id":                        e.id,
		"appScopeId":                nil,
		"directoryScopeId":          e.scope,
		"endDateTime":               nil, // permanently eligible
		"memberType":                "Direct",
		"principalId":               e.principal,
		"roleDefinitionId":          e.roleDef,
		"roleEligibilityScheduleId": e.scheduleID,
		"startDateTime":             graphTime(e.start),
	}
}

// groupEligibilityJSON follows the documented example: id "{groupId}_{accessId}_{…}".
func groupEligibilityJSON(g groupEligibility) map[string]any {
	return map[string]any{
		"id":                    g.group + "_" + g.access + "_" + g.id,
		"accessId":              g.access,
		"eligibilityScheduleId": g.scheduleID,
		"endDateTime":           nil,
		"groupId":               g.group,
		"memberType":            "direct",
		"principalId":           g.principal,
		"startDateTime":         graphTime(g.start),
	}
}

// expandRoleDefinition reads $expand: roleDefinition is the one expansion the fake
// serves. Graph documents principal and directoryScope too; the fake refuses them
// rather than answer them wrongly.
func expandRoleDefinition(c *call, typeName string) (bool, reply, bool) {
	if !c.query.Has("$expand") {
		return false, reply{}, true
	}
	for _, e := range strings.Split(c.query.Get("$expand"), ",") {
		if !strings.EqualFold(strings.TrimSpace(e), "roleDefinition") {
			return false, fail(gerr(http.StatusBadRequest, "BadRequest", "Could not find a property named '%s' on type '%s'.", strings.TrimSpace(e), typeName)), false
		}
	}
	return true, reply{}, true
}

// listAssignments answers GET /roleManagement/directory/roleAssignments
// (https://learn.microsoft.com/en-us/graph/api/rbacapplication-list-roleassignments):
// $filter, $expand=roleDefinition, $select. Not a PIM API: it answers without P2.
func (s *Server) listAssignments(c *call) reply {
	const typeName = "microsoft.graph.unifiedRoleAssignment"
	f, err := filterParam(c.query, assignmentFilterProps, "unifiedRoleAssignment")
	if err != nil {
		return fail(err)
	}
	sel, err := selectParam(c.query, assignmentProps, typeName)
	if err != nil {
		return fail(err)
	}
	expand, rep, valid := expandRoleDefinition(c, typeName)
	if !valid {
		return rep
	}
	t := s.tenant
	t.mu.Lock()
	var items []map[string]any
	for _, a := range t.active {
		obj := assignmentJSON(a)
		if f != nil && !f.match(func(p string) any { return lookupFold(obj, p) }) {
			continue
		}
		items = append(items, t.withDefinitionLocked(obj, sel, expand, a.roleDef))
	}
	t.mu.Unlock()
	return page(c, t.PageSize, "roleManagement/directory/roleAssignments"+selectContext(sel), items)
}

// listEligibility answers GET /roleManagement/directory/roleEligibilityScheduleInstances
// (https://learn.microsoft.com/en-us/graph/api/rbacapplication-list-roleeligibilityscheduleinstances)
// with $filter, $expand=roleDefinition and $select; AadPremiumLicenseRequired without P2.
func (s *Server) listEligibility(c *call) reply {
	const typeName = "microsoft.graph.unifiedRoleEligibilityScheduleInstance"
	f, err := filterParam(c.query, eligibilityFilterProps, "unifiedRoleEligibilityScheduleInstance")
	if err != nil {
		return fail(err)
	}
	sel, err := selectParam(c.query, eligibilityProps, typeName)
	if err != nil {
		return fail(err)
	}
	expand, rep, valid := expandRoleDefinition(c, typeName)
	if !valid {
		return rep
	}
	t := s.tenant
	t.mu.Lock()
	if t.noPIM {
		t.mu.Unlock()
		return errNoPIMLicence()
	}
	var items []map[string]any
	for _, e := range t.eligible {
		obj := eligibilityJSON(e)
		if f != nil && !f.match(func(p string) any { return lookupFold(obj, p) }) {
			continue
		}
		items = append(items, t.withDefinitionLocked(obj, sel, expand, e.roleDef))
	}
	t.mu.Unlock()
	return page(c, t.PageSize, "roleManagement/directory/roleEligibilityScheduleInstances"+selectContext(sel), items)
}

// withDefinitionLocked projects obj to sel and adds the expanded roleDefinition.
func (t *Tenant) withDefinitionLocked(obj map[string]any, sel []string, expand bool, roleDef string) map[string]any {
	if sel != nil {
		obj = project(obj, sel)
	}
	if expand {
		obj["roleDefinition"] = roleDefinitionJSON(*t.roleDefLocked(roleDef))
	}
	return obj
}

// listGroupEligibility answers GET /identityGovernance/privilegedAccess/group/eligibilityScheduleInstances
// (https://learn.microsoft.com/en-us/graph/api/privilegedaccessgroup-list-eligibilityscheduleinstances:
// "This method requires the $filter (eq) query parameter to scope the request to a
// principalId or a groupId"). The wording of the refusal without one is the fake's.
func (s *Server) listGroupEligibility(c *call) reply {
	f, err := filterParam(c.query, groupEligibilityFilterProps, "privilegedAccessGroupEligibilityScheduleInstance")
	if err != nil {
		return fail(err)
	}
	if f == nil || !f.scopes("principalid", "groupid") {
		return fail(gerr(http.StatusBadRequest, "BadRequest", "The request must filter on principalId or groupId."))
	}
	sel, err := selectParam(c.query, groupEligibilityProps, "microsoft.graph.privilegedAccessGroupEligibilityScheduleInstance")
	if err != nil {
		return fail(err)
	}
	t := s.tenant
	t.mu.Lock()
	if t.noPIM {
		t.mu.Unlock()
		return errNoPIMLicence()
	}
	var items []map[string]any
	for _, g := range t.groupPIM {
		obj := groupEligibilityJSON(g)
		if !f.match(func(p string) any { return lookupFold(obj, p) }) {
			continue
		}
		if sel != nil {
			obj = project(obj, sel)
		}
		items = append(items, obj)
	}
	t.mu.Unlock()
	return page(c, t.PageSize, "identityGovernance/privilegedAccess/group/eligibilityScheduleInstances"+selectContext(sel), items)
}

// routeRoleManagement serves the role management and PIM for Groups lists (GET only).
func (s *Server) routeRoleManagement(c *call) (reply, bool) {
	path := strings.ToLower(strings.Join(c.segs, "/"))
	var h func(*call) reply
	switch path {
	case "rolemanagement/directory/roleassignments":
		h = s.listAssignments
	case "rolemanagement/directory/roleeligibilityscheduleinstances":
		h = s.listEligibility
	case "identitygovernance/privilegedaccess/group/eligibilityscheduleinstances":
		h = s.listGroupEligibility
	default:
		return reply{}, false
	}
	if c.method != http.MethodGet {
		return fail(errMethod()), true
	}
	return h(c), true
}
