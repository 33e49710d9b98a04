package msgraph

import (
	"context"
	"errors"
	"fmt"
	"strings"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/identitygovernance"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"go.uber.org/zap"

	"github.com/tapbot/tapbot/graph"
)

// Role detection reads role management, not the directoryRole cast on
// transitiveMemberOf: that cast is an advanced query (ConsistencyLevel: eventual,
// $count=true, served from an index that lags) and shows only built-in, tenant-wide
// roles. Role management lists every assignment and eligibility, custom roles and
// administrative-unit scopes included, but files a role held through a group under the
// group's id. So the roles of the user AND of each role-assignable group it belongs to
// are read, plus the groups it may join or own through PIM for Groups.

const (
	// inValues bounds a principalId "in" list. roleAssignments documents "in" but no
	// limit on this page; 15 is the limit Graph's known issues give for "in" on
	// directory objects, kept to be safe (unverified for role management).
	inValues = 15
	// codeNoPIMLicence is Graph's error code for PIM APIs in a tenant without Entra ID
	// P2 (or ID Governance).
	codeNoPIMLicence = "AadPremiumLicenseRequired"
)

// memberOfSelect reads what tells a role-assignable group apart. isAssignableToRole is
// a group property ("Returned by default"); $select and $top are not advanced query
// options on transitiveMemberOf, a cast or $filter would be
// (https://learn.microsoft.com/en-us/graph/api/user-list-transitivememberof).
var memberOfSelect = []string{"id", "displayName", "isAssignableToRole"}

// memberOfPage is transitiveMemberOf's documented maximum page size (999).
const memberOfPage = int32(999)

func memberOfConfig() *users.ItemTransitiveMemberOfRequestBuilderGetRequestConfiguration {
	top := memberOfPage
	return &users.ItemTransitiveMemberOfRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemTransitiveMemberOfRequestBuilderGetQueryParameters{Select: memberOfSelect, Top: &top},
	}
}

// principal is the user or a group whose roles count for the target.
type principal struct {
	id, name string
	group    bool
	pim      bool // a group the user may join or own through PIM for Groups
}

// roleSet gathers a target's roles and the first reason they may be incomplete.
type roleSet struct {
	roles   []graph.Role
	unknown string
}

func (rs *roleSet) limited(why string) {
	if rs.unknown == "" {
		rs.unknown = why
	}
}

// failed records a role query that Graph did not answer.
func (c *Client) failed(rs *roleSet, what string, err error) {
	c.log.Warn("role query failed; the target's roles are unknown", zap.String("query", what), zap.Error(err))
	rs.limited("reading " + what + " failed: " + graph.Explain(err))
}

// roleGroups reads the memberships step: the role-assignable groups the user belongs
// to, transitively. A group answered without isAssignableToRole is limited
// information (a read permission is missing), so the roles are unknown.
func (c *Client) roleGroups(ctx context.Context, ref string, resp msgraphgocore.BatchResponse, id string, rs *roleSet) []principal {
	first, err := stepValue[models.DirectoryObjectCollectionResponseable](resp, id, models.CreateDirectoryObjectCollectionResponseFromDiscriminatorValue)
	if err != nil {
		c.failed(rs, "the user's group memberships", err)
		return nil
	}
	b := c.sdk.Users().ByUserId(ref).TransitiveMemberOf()
	all, err := collect(ctx, c, first, func(ctx context.Context, link string) (models.DirectoryObjectCollectionResponseable, error) {
		return b.WithUrl(link).Get(ctx, nil)
	})
	if err != nil {
		c.failed(rs, "the user's group memberships", err)
		return nil
	}
	var out []principal
	for _, o := range all {
		g, ok := o.(models.Groupable)
		if !ok {
			continue // directory roles and administrative units hold no roles
		}
		gid, assignable := deref(g.GetId()), g.GetIsAssignableToRole()
		switch {
		case !isGUID(gid) || assignable == nil:
			rs.limited("Graph answered a group membership with limited information (no id or isAssignableToRole)")
		case *assignable:
			out = append(out, principal{id: gid, name: deref(g.GetDisplayName()), group: true})
		}
	}
	return out
}

// roleQuery is one step of a role batch.
type roleQuery struct {
	kind string      // "assignments", "eligibility" or "group eligibility"
	of   []principal // whose roles: up to inValues for assignments, one otherwise
	info *abstractions.RequestInformation
}

// readRoles reads the roles of the user and of groups (its role-assignable groups) in
// one batch, then those of the groups it may join through PIM for Groups, if any and
// not already read, in one more.
func (c *Client) readRoles(ctx context.Context, userID string, groups []principal, rs *roleSet) error {
	me := principal{id: userID}
	queries, err := c.roleQueries(ctx, append([]principal{me}, groups...), &me)
	if err != nil {
		return err
	}
	pimGroups, err := c.runRoleQueries(ctx, queries, rs)
	if err != nil {
		return err
	}
	pimGroups = unread(pimGroups, groups)
	if len(pimGroups) == 0 {
		return nil
	}
	if queries, err = c.roleQueries(ctx, pimGroups, nil); err != nil {
		return err
	}
	_, err = c.runRoleQueries(ctx, queries, rs)
	return err
}

// unread drops the PIM for Groups groups whose roles were read already.
func unread(pim, read []principal) []principal {
	var out []principal
	for _, p := range pim {
		seen := false
		for _, r := range append(read, out...) {
			seen = seen || strings.EqualFold(r.id, p.id)
		}
		if !seen {
			out = append(out, p)
		}
	}
	return out
}

// roleQueries builds the steps that read the roles of principals and, when user is
// set, the user's PIM for Groups eligibilities.
func (c *Client) roleQueries(ctx context.Context, principals []principal, user *principal) ([]roleQuery, error) {
	var qs []roleQuery
	for i := 0; i < len(principals); i += inValues {
		chunk := principals[i:min(i+inValues, len(principals))]
		info, err := c.assignmentsRequest(ctx, chunk)
		if err != nil {
			return nil, err
		}
		qs = append(qs, roleQuery{kind: "assignments", of: chunk, info: info})
	}
	for _, p := range principals {
		info, err := c.eligibilityRequest(ctx, p.id)
		if err != nil {
			return nil, err
		}
		qs = append(qs, roleQuery{kind: "eligibility", of: []principal{p}, info: info})
	}
	if user != nil {
		info, err := c.groupEligibilityRequest(ctx, user.id)
		if err != nil {
			return nil, err
		}
		qs = append(qs, roleQuery{kind: "group eligibility", of: []principal{*user}, info: info})
	}
	return qs, nil
}

// assignmentsRequest: GET /roleManagement/directory/roleAssignments?$filter=principalId
// in (…)&$expand=roleDefinition. principalId supports $filter (eq, in)
// (https://learn.microsoft.com/en-us/graph/api/resources/unifiedroleassignment); the
// list supports $filter and $expand
// (https://learn.microsoft.com/en-us/graph/api/rbacapplication-list-roleassignments).
// Active assignments include activated PIM eligibilities.
func (c *Client) assignmentsRequest(ctx context.Context, of []principal) (*abstractions.RequestInformation, error) {
	quoted := make([]string, len(of))
	for i, p := range of {
		if err := checkID("principal", p.id); err != nil {
			return nil, err
		}
		quoted[i] = odataString(p.id)
	}
	filter := "principalId in (" + strings.Join(quoted, ",") + ")"
	return c.sdk.RoleManagement().Directory().RoleAssignments().ToGetRequestInformation(ctx, &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleAssignmentsRequestBuilderGetQueryParameters{Filter: &filter, Expand: []string{"roleDefinition"}},
	})
}

// eligibilityRequest: GET /roleManagement/directory/roleEligibilityScheduleInstances
// ?$filter=principalId eq '…'&$expand=roleDefinition. principalId supports only eq and
// ne here (https://learn.microsoft.com/en-us/graph/api/resources/unifiedroleeligibilityscheduleinstance),
// hence one step per principal; $expand per
// https://learn.microsoft.com/en-us/graph/api/rbacapplication-list-roleeligibilityscheduleinstances.
func (c *Client) eligibilityRequest(ctx context.Context, principalID string) (*abstractions.RequestInformation, error) {
	if err := checkID("principal", principalID); err != nil {
		return nil, err
	}
	filter := "principalId eq " + odataString(principalID)
	return c.sdk.RoleManagement().Directory().RoleEligibilityScheduleInstances().ToGetRequestInformation(ctx, &rolemanagement.DirectoryRoleEligibilityScheduleInstancesRequestBuilderGetRequestConfiguration{
		QueryParameters: &rolemanagement.DirectoryRoleEligibilityScheduleInstancesRequestBuilderGetQueryParameters{Filter: &filter, Expand: []string{"roleDefinition"}},
	})
}

// groupEligibilityRequest: GET /identityGovernance/privilegedAccess/group/eligibilityScheduleInstances
// ?$filter=principalId eq '…', which the list requires
// (https://learn.microsoft.com/en-us/graph/api/privilegedaccessgroup-list-eligibilityscheduleinstances).
func (c *Client) groupEligibilityRequest(ctx context.Context, principalID string) (*abstractions.RequestInformation, error) {
	if err := checkID("principal", principalID); err != nil {
		return nil, err
	}
	filter := "principalId eq " + odataString(principalID)
	return c.sdk.IdentityGovernance().PrivilegedAccess().Group().EligibilityScheduleInstances().ToGetRequestInformation(ctx, &identitygovernance.PrivilegedAccessGroupEligibilityScheduleInstancesRequestBuilderGetRequestConfiguration{
		QueryParameters: &identitygovernance.PrivilegedAccessGroupEligibilityScheduleInstancesRequestBuilderGetQueryParameters{Filter: &filter},
	})
}

// runRoleQueries sends the queries and reads the answers into rs. It returns the
// groups the user may join or own through PIM for Groups.
func (c *Client) runRoleQueries(ctx context.Context, qs []roleQuery, rs *roleSet) ([]principal, error) {
	var pim []principal
	err := c.sendRoleQueries(ctx, qs, func(q roleQuery, resp msgraphgocore.BatchResponse, id string) {
		pim = append(pim, c.readRoleQuery(ctx, q, resp, id, rs)...)
	})
	return pim, err
}

// sendRoleQueries sends qs, 20 to a batch, and hands each query's answer to read, in
// qs' order. The probe reads the same answers its own way (probe.go).
func (c *Client) sendRoleQueries(ctx context.Context, qs []roleQuery, read func(q roleQuery, resp msgraphgocore.BatchResponse, id string)) error {
	for i := 0; i < len(qs); i += batchLimit {
		part := qs[i:min(i+batchLimit, len(qs))]
		steps := make([]*abstractions.RequestInformation, len(part))
		for j, q := range part {
			steps[j] = q.info
		}
		resp, ids, err := c.sendBatch(ctx, steps)
		if err != nil {
			return fmt.Errorf("role batch: %w", err)
		}
		for j, q := range part {
			read(q, resp, ids[j])
		}
	}
	return nil
}

// readRoleQuery reads one query's answer into rs. A PIM query refused for want of
// a licence means no eligibility; any other failure makes the roles unknown.
func (c *Client) readRoleQuery(ctx context.Context, q roleQuery, resp msgraphgocore.BatchResponse, id string, rs *roleSet) []principal {
	pim, err := c.readRoleStep(ctx, q, resp, id, rs)
	var ge *graph.Error
	if q.kind != "assignments" && errors.As(err, &ge) && ge.Code == codeNoPIMLicence {
		// Without Entra ID P2 (or ID Governance) the tenant has no PIM, so nobody is
		// eligible for anything. Only the PIM APIs may be read this way.
		return nil
	}
	if err != nil {
		c.failed(rs, "role "+q.kind, err)
	}
	return pim
}

// readRoleStep reads one query's answer, following its pages, into rs and returns
// the groups a PIM for Groups query names, or Graph's error as it came.
func (c *Client) readRoleStep(ctx context.Context, q roleQuery, resp msgraphgocore.BatchResponse, id string, rs *roleSet) ([]principal, error) {
	switch q.kind {
	case "assignments":
		return nil, c.readAssignments(ctx, q.of, resp, id, rs)
	case "eligibility":
		return nil, c.readEligibility(ctx, q.of[0], resp, id, rs)
	default:
		return c.readGroupEligibility(ctx, resp, id)
	}
}

func (c *Client) readAssignments(ctx context.Context, of []principal, resp msgraphgocore.BatchResponse, id string, rs *roleSet) error {
	first, err := stepValue[models.UnifiedRoleAssignmentCollectionResponseable](resp, id, models.CreateUnifiedRoleAssignmentCollectionResponseFromDiscriminatorValue)
	if err != nil {
		return err
	}
	b := c.sdk.RoleManagement().Directory().RoleAssignments()
	all, err := collect(ctx, c, first, func(ctx context.Context, link string) (models.UnifiedRoleAssignmentCollectionResponseable, error) {
		return b.WithUrl(link).Get(ctx, nil)
	})
	if err != nil {
		return err
	}
	for _, a := range all {
		rs.add(deref(a.GetRoleDefinitionId()), a.GetRoleDefinition(), deref(a.GetDirectoryScopeId()), holder(of, deref(a.GetPrincipalId())), false)
	}
	return nil
}

func (c *Client) readEligibility(ctx context.Context, p principal, resp msgraphgocore.BatchResponse, id string, rs *roleSet) error {
	first, err := stepValue[models.UnifiedRoleEligibilityScheduleInstanceCollectionResponseable](resp, id, models.CreateUnifiedRoleEligibilityScheduleInstanceCollectionResponseFromDiscriminatorValue)
	if err != nil {
		return err
	}
	b := c.sdk.RoleManagement().Directory().RoleEligibilityScheduleInstances()
	all, err := collect(ctx, c, first, func(ctx context.Context, link string) (models.UnifiedRoleEligibilityScheduleInstanceCollectionResponseable, error) {
		return b.WithUrl(link).Get(ctx, nil)
	})
	if err != nil {
		return err
	}
	for _, e := range all {
		rs.add(deref(e.GetRoleDefinitionId()), e.GetRoleDefinition(), deref(e.GetDirectoryScopeId()), p, true)
	}
	return nil
}

// readGroupEligibility returns the groups the user may join or own through PIM for
// Groups. Both count: an owner of a group can add members, themselves included.
func (c *Client) readGroupEligibility(ctx context.Context, resp msgraphgocore.BatchResponse, id string) ([]principal, error) {
	first, err := stepValue[models.PrivilegedAccessGroupEligibilityScheduleInstanceCollectionResponseable](resp, id, models.CreatePrivilegedAccessGroupEligibilityScheduleInstanceCollectionResponseFromDiscriminatorValue)
	if err != nil {
		return nil, err
	}
	b := c.sdk.IdentityGovernance().PrivilegedAccess().Group().EligibilityScheduleInstances()
	all, err := collect(ctx, c, first, func(ctx context.Context, link string) (models.PrivilegedAccessGroupEligibilityScheduleInstanceCollectionResponseable, error) {
		return b.WithUrl(link).Get(ctx, nil)
	})
	if err != nil {
		return nil, err
	}
	var out []principal
	for _, e := range all {
		gid := deref(e.GetGroupId())
		if !isGUID(gid) {
			return nil, errors.New("a PIM for Groups eligibility names no group")
		}
		out = append(out, principal{id: gid, group: true, pim: true})
	}
	return unread(out, nil), nil
}

// holder is the principal an assignment was filed under, one of those asked for.
func holder(of []principal, id string) principal {
	for _, p := range of {
		if strings.EqualFold(p.id, id) {
			return p
		}
	}
	return principal{id: id, group: true} // not asked for: Graph's filter says otherwise
}

// add records one role. A role definition without a template id is limited
// information: the allow-list cannot be applied to it.
func (rs *roleSet) add(defID string, def models.UnifiedRoleDefinitionable, scope string, via principal, eligible bool) {
	r := graph.Role{ID: defID, Scope: scope, Eligible: eligible || via.pim}
	if via.group {
		r.Via, r.ViaName, r.ViaPIM = via.id, via.name, via.pim
	}
	if def != nil {
		r.RoleTemplateID, r.DisplayName, r.BuiltIn = deref(def.GetTemplateId()), deref(def.GetDisplayName()), deref(def.GetIsBuiltIn())
	}
	if r.RoleTemplateID == "" {
		rs.limited("Graph answered a role assignment without its role definition's template id (limited information)")
	}
	rs.roles = append(rs.roles, r)
}
