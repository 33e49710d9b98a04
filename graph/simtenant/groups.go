package simtenant

import (
	"net/http"

	"github.com/tapbot/tapbot/graph"
)

// Group returns the group with id, as GET /groups/{id} would.
func (t *Tenant) Group(id string) (graph.Group, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	g := t.groupLocked(id)
	if g == nil {
		return graph.Group{}, false
	}
	return graph.Group{ID: g.id, DisplayName: g.displayName}, true
}

// routeGroups serves /groups/{id}: reading one group, with $select. A user's id is
// not a group's: Graph answers 404 for it, as for an id nobody has.
func (s *Server) routeGroups(c *call, rest []string) reply {
	if len(rest) != 1 {
		if len(rest) == 0 {
			// Listing groups is Graph's but not this fake's.
			return fail(errSegment("groups"))
		}
		return fail(errSegment(rest[len(rest)-1]))
	}
	if c.method != http.MethodGet {
		return fail(errMethod())
	}
	sel, err := selectParam(c.query, groupProps, "Microsoft.DirectoryServices.Group")
	if err != nil {
		return fail(err)
	}
	t := s.tenant
	t.mu.Lock()
	g := t.groupLocked(rest[0])
	var obj map[string]any
	if g != nil {
		obj = groupJSON(g)
	}
	t.mu.Unlock()
	if g == nil {
		return fail(errNotFound(rest[0]))
	}
	if sel != nil {
		obj = project(obj, sel)
	}
	delete(obj, "@odata.type") // an entity read answers its own type; Graph writes no @odata.type then
	obj["@odata.context"] = c.context("groups" + selectContext(sel) + "/$entity")
	return ok(obj)
}
