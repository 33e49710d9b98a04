package simtenant

import (
	"net/http"
	"slices"
	"strings"

	"github.com/tapbot/tapbot/graph"
)

// userProps are the user properties the fake knows, as Graph spells them. Those it has
// no data for answer null, so that a client may $select any of them.
var userProps = []string{
	"id", "accountEnabled", "businessPhones", "city", "companyName", "country", "createdDateTime",
	"department", "displayName", "employeeHireDate", "employeeId", "employeeType",
	"externalUserState", "givenName", "jobTitle", "mail", "mailNickname", "mobilePhone",
	"officeLocation", "onPremisesSyncEnabled", "otherMails", "preferredLanguage",
	"proxyAddresses", "surname", "usageLocation", "userPrincipalName", "userType",
}

// defaultUserProps is what GET /users answers without $select. accountEnabled,
// userType and createdDateTime are not in it: a client that needs them must ask.
var defaultUserProps = []string{
	"businessPhones", "displayName", "givenName", "jobTitle", "mail", "mobilePhone",
	"officeLocation", "preferredLanguage", "surname", "userPrincipalName", "id",
}

// userFilterProps are the properties $filter may compare with eq, and their literal kind.
var userFilterProps = map[string]string{
	"id": "string", "mail": "string", "userprincipalname": "string", "displayname": "string",
	"mailnickname": "string", "givenname": "string", "surname": "string", "usertype": "string",
	"accountenabled": "bool", "employeehiredate": kindDateTimeAdvanced,
}

func userJSON(u *user) map[string]any {
	given, family, _ := strings.Cut(u.DisplayName, " ")
	nickname, _, _ := strings.Cut(u.UserPrincipalName, "@")
	nickname, _, _ = strings.Cut(nickname, "#EXT#")
	obj := map[string]any{}
	for _, p := range userProps {
		obj[p] = nil
	}
	var mail any
	if u.Mail != "" {
		mail = u.Mail
	}
	var external any
	if u.IsGuest() {
		external = "Accepted"
	}
	for k, v := range map[string]any{
		"id": u.ID, "accountEnabled": u.AccountEnabled, "businessPhones": []string{},
		"createdDateTime": graphTime(u.CreatedDateTime), "displayName": u.DisplayName,
		"externalUserState": external, "givenName": given, "mail": mail, "mailNickname": nickname,
		"otherMails": []string{}, "proxyAddresses": []string{}, "surname": family,
		"userPrincipalName": u.UserPrincipalName, "userType": u.UserType,
	} {
		obj[k] = v
	}
	return obj
}

// orDefault is sel, or the properties GET /users answers without $select.
func orDefault(sel []string) []string {
	if sel == nil {
		return defaultUserProps
	}
	return sel
}

// userValue answers a user with the selected properties, or the default set.
func userValue(u *user, sel []string) map[string]any {
	if sel == nil {
		sel = defaultUserProps
	}
	return project(userJSON(u), sel)
}

// withUser answers with h for the user ref names (an id or a userPrincipalName), the
// tenant locked throughout; an unknown user answers 404.
func (s *Server) withUser(ref string, h func(t *Tenant, u *user) reply) reply {
	t := s.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.resolveUserLocked(ref)
	if err != nil {
		return fail(err)
	}
	return h(t, u)
}

func (s *Server) getUser(c *call, ref string) reply {
	sel, err := selectParam(c.query, userProps, "Microsoft.DirectoryServices.User")
	if err != nil {
		return fail(err)
	}
	return s.withUser(ref, func(_ *Tenant, u *user) reply {
		v := userValue(u, sel)
		v["@odata.context"] = c.context("users" + selectContext(sel) + "/$entity")
		return ok(v)
	})
}

func (s *Server) listUsers(c *call) reply {
	// $search, $count and the ne/not/endsWith filters are advanced queries on
	// directory objects: without ConsistencyLevel: eventual and $count=true Graph
	// answers 400 Request_UnsupportedQuery
	// (https://learn.microsoft.com/en-us/graph/aad-advanced-queries). With them the
	// fake still does not run them and says so (parseFilter refuses ne and functions).
	if (c.query.Has("$search") || c.query.Has("$count") || advancedFilter(c.query.Get("$filter"))) && !c.advanced() {
		return fail(gerr(http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported Query."))
	}
	if c.query.Has("$search") {
		return fail(gerr(http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported Query: simtenant does not run $search."))
	}
	sel, err := selectParam(c.query, userProps, "Microsoft.DirectoryServices.User")
	if err != nil {
		return fail(err)
	}
	f, err := filterParam(c.query, userFilterProps, "User")
	if err != nil {
		return fail(err)
	}
	if f != nil && f.needsAdvanced(userFilterProps) && !c.advanced() {
		// employeeHireDate: every operator needs the advanced query parameters.
		return fail(gerr(http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported Query."))
	}
	t := s.tenant
	t.mu.Lock()
	var items []map[string]any
	for _, u := range t.users {
		full := userJSON(u)
		profileJSON(t.profileLocked(t.provLocked(), u), full) // employeeHireDate and the rest
		if !f.keeps(full) {
			continue
		}
		items = append(items, project(full, orDefault(sel)))
	}
	t.mu.Unlock()
	return page(c, t.PageSize, "users"+selectContext(sel), items)
}

// lookupFold reads a property by its lower-case name.
func lookupFold(obj map[string]any, lower string) any {
	for k, v := range obj {
		if strings.ToLower(k) == lower {
			return v
		}
	}
	return nil
}

func (s *Server) getManager(c *call, ref string) reply {
	return s.withUser(ref, func(t *Tenant, u *user) reply {
		m := t.userByIDLocked(u.manager)
		if m == nil {
			return fail(errNotFound("manager"))
		}
		v := userValue(m, nil)
		v["@odata.type"] = "#microsoft.graph.user"
		v["@odata.context"] = c.context("directoryObjects/$entity")
		return ok(v)
	})
}

// maxCheckGroups is checkMemberGroups' documented limit.
const maxCheckGroups = 20

func (s *Server) checkMemberGroups(c *call, ref string) reply {
	var in struct {
		GroupIDs []string `json:"groupIds"`
	}
	if err := decodeJSON(c.body, &in); err != nil {
		return fail(err)
	}
	if in.GroupIDs == nil {
		return fail(gerr(http.StatusBadRequest, "Request_BadRequest", "The parameter 'groupIds' is missing."))
	}
	if len(in.GroupIDs) > maxCheckGroups {
		// The limit is documented; the wording of the refusal is not.
		return fail(gerr(http.StatusBadRequest, "Request_BadRequest", "The number of group ids exceeds the limit of %d.", maxCheckGroups))
	}
	return s.withUser(ref, func(t *Tenant, u *user) reply {
		groups := t.transitiveGroupsLocked(u.ID)
		value := []string{}
		for _, id := range in.GroupIDs {
			if slices.ContainsFunc(groups, func(g *group) bool { return strings.EqualFold(g.id, id) }) && !slices.Contains(value, id) {
				value = append(value, id)
			}
		}
		return ok(map[string]any{"@odata.context": c.context("Collection(Edm.String)"), "value": value})
	})
}

var groupProps = []string{"id", "description", "displayName", "groupTypes", "isAssignableToRole", "mail", "mailEnabled", "mailNickname", "securityEnabled"}

var directoryRoleProps = []string{"id", "deletedDateTime", "description", "displayName", "roleTemplateId"}

func groupJSON(g *group) map[string]any {
	return map[string]any{
		"@odata.type": "#microsoft.graph.group",
		"id":          g.id, "description": nil, "displayName": g.displayName, "groupTypes": []string{},
		"isAssignableToRole": g.roleAssignable, "mail": nil, "mailEnabled": false,
		"mailNickname": strings.ReplaceAll(g.displayName, " ", ""), "securityEnabled": true,
	}
}

func directoryRoleJSON(r graph.Role) map[string]any {
	return map[string]any{
		"@odata.type": "#microsoft.graph.directoryRole",
		"id":          r.ID, "deletedDateTime": nil, "description": nil,
		"displayName": r.DisplayName, "roleTemplateId": r.RoleTemplateID,
	}
}

// transitiveMemberOf answers the groups and directory roles a user belongs to, directly
// or through groups, optionally cast to one type. msgraph-sdk-go writes the cast
// segment with the "graph." namespace alias; Graph accepts it and "microsoft.graph.".
// A cast, $filter, $search or $orderby needs ConsistencyLevel: eventual and
// $count=true (https://learn.microsoft.com/en-us/graph/api/user-list-transitivememberof,
// "Request headers"); without them Graph answers 400 Request_UnsupportedQuery
// (reported, see graph-facts.md). $select and $top need neither.
func (s *Server) transitiveMemberOf(c *call, ref, cast string) reply {
	needsAdvanced := cast != "" || c.query.Has("$filter") || c.query.Has("$search") || c.query.Has("$orderby")
	if needsAdvanced && !c.advanced() {
		return fail(gerr(http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported Query."))
	}
	if c.query.Has("$filter") || c.query.Has("$search") || c.query.Has("$orderby") {
		// Graph runs these as advanced queries; the fake does not, and says so.
		return fail(gerr(http.StatusBadRequest, "Request_UnsupportedQuery", "Unsupported Query: simtenant does not run $filter, $search or $orderby on transitiveMemberOf."))
	}
	wantGroups, wantRoles := true, true
	context := "directoryObjects"
	props := append(append([]string{}, groupProps...), directoryRoleProps...)
	switch strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(cast), "microsoft."), "graph.") {
	case "":
	case "group":
		wantRoles, context, props = false, "groups", groupProps
	case "directoryrole":
		wantGroups, context, props = false, "directoryRoles", directoryRoleProps
	default:
		return fail(errSegment(cast))
	}
	sel, err := selectParam(c.query, props, "microsoft.graph.directoryObject")
	if err != nil {
		return fail(err)
	}
	return s.withUser(ref, func(t *Tenant, u *user) reply {
		var items []map[string]any
		// With User.Read.All alone the groups and roles are listed with limited
		// information (permissions.go, limitedInfo).
		if wantGroups {
			for _, g := range t.transitiveGroupsLocked(u.ID) {
				items = append(items, c.visible(groupJSON(g), permGroupRead...))
			}
		}
		if wantRoles {
			for _, r := range t.activeRolesLocked(u.ID) {
				items = append(items, c.visible(directoryRoleJSON(r), permRoleRead...))
			}
		}
		if sel != nil {
			for i, it := range items {
				items[i] = project(it, sel)
			}
		}
		return page(c, t.PageSize, context+selectContext(sel), items)
	})
}

// advancedFilter reports whether a $filter uses an operator or function only
// advanced queries support on users: ne, not, endsWith.
func advancedFilter(f string) bool {
	l := " " + strings.ToLower(f) + " "
	return strings.Contains(l, " ne ") || strings.Contains(l, " not ") || strings.Contains(l, "not(") || strings.Contains(l, "endswith(")
}
