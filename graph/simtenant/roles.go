package simtenant

import (
	"net/http"
	"strings"

	"github.com/tapbot/tapbot/graph"
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

// withPIM answers with h, the tenant locked throughout, when the tenant is licensed
// for PIM, and AadPremiumLicenseRequired otherwise.
func (s *Server) withPIM(h func(t *Tenant) reply) reply {
	t := s.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.noPIM {
		return errNoPIMLicence()
	}
	return h(t)
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

// roleQuery is what a role list's query asks for: $filter, $select and
// $expand=roleDefinition.
type roleQuery struct {
	filter *filterExpr
	sel    []string
	expand bool
}

// parseRoleQuery reads a role list's query options against its entity type's
// filterable and selectable properties. resource names the type ("unifiedRoleAssignment").
func parseRoleQuery(c *call, filterProps map[string]string, props []string, resource string) (roleQuery, *graph.Error) {
	typeName := "microsoft.graph." + resource
	var q roleQuery
	var err *graph.Error
	if q.filter, err = filterParam(c.query, filterProps, resource); err != nil {
		return q, err
	}
	if q.sel, err = selectParam(c.query, props, typeName); err != nil {
		return q, err
	}
	q.expand, err = expandRoleDefinition(c, typeName)
	return q, err
}

// expandRoleDefinition reads $expand: roleDefinition is the one expansion the fake
// serves. Graph documents principal and directoryScope too; the fake refuses them
// rather than answer them wrongly.
func expandRoleDefinition(c *call, typeName string) (bool, *graph.Error) {
	if !c.query.Has("$expand") {
		return false, nil
	}
	for _, e := range strings.Split(c.query.Get("$expand"), ",") {
		if !strings.EqualFold(strings.TrimSpace(e), "roleDefinition") {
			return false, gerr(http.StatusBadRequest, "BadRequest", "Could not find a property named '%s' on type '%s'.", strings.TrimSpace(e), typeName)
		}
	}
	return true, nil
}

// listAssignments answers GET /roleManagement/directory/roleAssignments
// (https://learn.microsoft.com/en-us/graph/api/rbacapplication-list-roleassignments):
// $filter, $expand=roleDefinition, $select. Not a PIM API: it answers without P2.
func (s *Server) listAssignments(c *call) reply {
	q, err := parseRoleQuery(c, assignmentFilterProps, assignmentProps, "unifiedRoleAssignment")
	if err != nil {
		return fail(err)
	}
	t := s.tenant
	t.mu.Lock()
	var items []map[string]any
	for _, a := range t.active {
		if obj, keep := t.roleItemLocked(q, assignmentJSON(a), a.roleDef); keep {
			items = append(items, obj)
		}
	}
	t.mu.Unlock()
	return page(c, t.PageSize, "roleManagement/directory/roleAssignments"+selectContext(q.sel), items)
}

// listEligibility answers GET /roleManagement/directory/roleEligibilityScheduleInstances
// (https://learn.microsoft.com/en-us/graph/api/rbacapplication-list-roleeligibilityscheduleinstances)
// with $filter, $expand=roleDefinition and $select; AadPremiumLicenseRequired without P2.
func (s *Server) listEligibility(c *call) reply {
	q, err := parseRoleQuery(c, eligibilityFilterProps, eligibilityProps, "unifiedRoleEligibilityScheduleInstance")
	if err != nil {
		return fail(err)
	}
	return s.withPIM(func(t *Tenant) reply {
		var items []map[string]any
		for _, e := range t.eligible {
			if obj, keep := t.roleItemLocked(q, eligibilityJSON(e), e.roleDef); keep {
				items = append(items, obj)
			}
		}
		return page(c, t.PageSize, "roleManagement/directory/roleEligibilityScheduleInstances"+selectContext(q.sel), items)
	})
}

// roleItemLocked reports whether obj, which grants the role definition roleDef,
// passes q's filter and answers it as q asks: projected to the selection, with the
// role definition expanded.
func (t *Tenant) roleItemLocked(q roleQuery, obj map[string]any, roleDef string) (map[string]any, bool) {
	if !q.filter.keeps(obj) {
		return nil, false
	}
	if q.sel != nil {
		obj = project(obj, q.sel)
	}
	if q.expand {
		obj["roleDefinition"] = roleDefinitionJSON(*t.roleDefLocked(roleDef))
	}
	return obj, true
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
	return s.withPIM(func(t *Tenant) reply {
		var items []map[string]any
		for _, g := range t.groupPIM {
			obj := groupEligibilityJSON(g)
			if !f.keeps(obj) {
				continue
			}
			if sel != nil {
				obj = project(obj, sel)
			}
			items = append(items, obj)
		}
		return page(c, t.PageSize, "identityGovernance/privilegedAccess/group/eligibilityScheduleInstances"+selectContext(sel), items)
	})
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
