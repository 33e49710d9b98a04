package graphtest

import (
	"net/http"
	"strings"
)

var eligibilityProps = []string{
	"id", "appScopeId", "directoryScopeId", "endDateTime", "memberType", "principalId",
	"roleDefinitionId", "roleEligibilityScheduleId", "startDateTime",
}

var eligibilityFilterProps = map[string]string{"principalid": "string", "roledefinitionid": "string"}

func eligibilityJSON(e eligibility) map[string]any {
	return map[string]any{
		"id":               e.id,
		"appScopeId":       nil,
		"directoryScopeId": "/",
		"endDateTime":      nil, // permanently eligible
		"memberType":       "Direct",
		"principalId":      e.principal,
		// For built-in roles the role definition id is the role template id.
		"roleDefinitionId":          e.template,
		"roleEligibilityScheduleId": e.scheduleID,
		"startDateTime":             graphTime(e.start),
	}
}

func roleDefinitionJSON(e eligibility) map[string]any {
	return map[string]any{
		"id": e.template, "description": nil, "displayName": e.displayName, "isBuiltIn": true,
		"isEnabled": true, "resourceScopes": []string{"/"}, "rolePermissions": []any{},
		"templateId": e.template, "version": "1",
	}
}

// listEligibility answers GET /roleManagement/directory/roleEligibilityScheduleInstances
// with $filter on principalId (or roleDefinitionId) and $expand=roleDefinition. Like
// Graph, a principalId filter matches the principal exactly: an eligibility held
// through a group is listed under the group's id.
func (s *Server) listEligibility(c *call) reply {
	f, err := filterParam(c.query, eligibilityFilterProps, "unifiedRoleEligibilityScheduleInstance")
	if err != nil {
		return fail(err)
	}
	sel, err := selectParam(c.query, eligibilityProps, "microsoft.graph.unifiedRoleEligibilityScheduleInstance")
	if err != nil {
		return fail(err)
	}
	expand := false
	if c.query.Has("$expand") {
		for _, e := range strings.Split(c.query.Get("$expand"), ",") {
			if !strings.EqualFold(strings.TrimSpace(e), "roleDefinition") {
				return fail(gerr(http.StatusBadRequest, "BadRequest", "Could not find a property named '%s' on type 'microsoft.graph.unifiedRoleEligibilityScheduleInstance'.", strings.TrimSpace(e)))
			}
			expand = true
		}
	}
	t := s.tenant
	t.mu.Lock()
	var items []map[string]any
	for _, e := range t.eligible {
		obj := eligibilityJSON(e)
		if f != nil && !f.match(func(p string) any { return lookupFold(obj, p) }) {
			continue
		}
		if sel != nil {
			obj = project(obj, sel)
		}
		if expand {
			obj["roleDefinition"] = roleDefinitionJSON(e)
		}
		items = append(items, obj)
	}
	t.mu.Unlock()
	return page(c, t.PageSize, "roleManagement/directory/roleEligibilityScheduleInstances"+selectContext(sel), items)
}
