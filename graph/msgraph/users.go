package msgraph

import (
	"context"
	"errors"
	"fmt"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/rolemanagement"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"go.uber.org/zap"

	"github.com/tapbot/tapbot/graph"
)

// userSelect is every user property the flows read; $select keeps the answer small
// and makes Graph return userType and accountEnabled, which are not in the default set.
var userSelect = []string{"id", "userPrincipalName", "mail", "displayName", "userType", "accountEnabled", "createdDateTime"}

// User returns the user with object id or UPN ref.
func (c *Client) User(ctx context.Context, ref string) (graph.User, error) {
	if err := checkRef(ref); err != nil {
		return graph.User{}, err
	}
	var u models.Userable
	err := c.do(ctx, "get user", func(ctx context.Context) (err error) {
		u, err = c.sdk.Users().ByUserId(ref).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: userSelect},
		})
		if err == nil && (u == nil || deref(u.GetId()) == "") {
			err = errors.New("answer carries no user")
		}
		return err
	}, zap.String("user", ref))
	if err != nil {
		return graph.User{}, err
	}
	return mapUser(u), nil
}

// UserByMail returns the one user whose mail is mail. None is graph.ErrNotFound; more
// than one wraps graph.ErrConflict, because picking one would be guessing who the
// helpdesk meant.
func (c *Client) UserByMail(ctx context.Context, mail string) (graph.User, error) {
	if !isMail(mail) {
		return graph.User{}, fmt.Errorf("graph: %s is not a mail address: %w", shown(mail), graph.ErrBadRequest)
	}
	filter := "mail eq " + odataString(mail)
	top := int32(2) // two are enough to tell "one" from "several"
	var found []models.Userable
	err := c.do(ctx, "find user by mail", func(ctx context.Context) error {
		res, err := c.sdk.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Filter: &filter, Select: userSelect, Top: &top},
		})
		if err != nil {
			return err
		}
		found = res.GetValue()
		return nil
	}, zap.String("mail", mail))
	switch {
	case err != nil:
		return graph.User{}, err
	case len(found) == 0:
		return graph.User{}, fmt.Errorf("graph: no user has mail %s: %w", shown(mail), graph.ErrNotFound)
	case len(found) > 1:
		return graph.User{}, fmt.Errorf("graph: several users have mail %s: %w", shown(mail), graph.ErrConflict)
	}
	return mapUser(found[0]), nil
}

// FindUser resolves what a person typed: an object id or UPN first and, if no user
// has that UPN and ref looks like an address, the user with that mail.
func (c *Client) FindUser(ctx context.Context, ref string) (graph.User, error) {
	u, err := c.User(ctx, ref)
	if errors.Is(err, graph.ErrNotFound) && isMail(ref) {
		byMail, merr := c.UserByMail(ctx, ref)
		if errors.Is(merr, graph.ErrNotFound) {
			return graph.User{}, err // the UPN miss is the more useful message
		}
		return byMail, merr
	}
	return u, err
}

// CheckMemberGroups returns which of groupIDs the user is a member of, transitively
// (nested groups count), asking Graph 20 ids at a time as checkMemberGroups requires.
func (c *Client) CheckMemberGroups(ctx context.Context, userID string, groupIDs []string) ([]string, error) {
	if err := checkRef(userID); err != nil {
		return nil, err
	}
	if err := checkGroupIDs(groupIDs); err != nil {
		return nil, err
	}
	var member []string
	err := c.do(ctx, "check member groups", func(ctx context.Context) error {
		for _, chunk := range chunks(groupIDs, groupsPerReq) {
			res, err := c.sdk.Users().ByUserId(userID).CheckMemberGroups().PostAsCheckMemberGroupsPostResponse(ctx, checkMemberGroupsBody(chunk), nil)
			if err != nil {
				return err
			}
			member = append(member, res.GetValue()...)
		}
		return nil
	}, zap.String("user", userID), zap.Int("groups", len(groupIDs)))
	return member, err
}

func checkMemberGroupsBody(ids []string) users.ItemCheckMemberGroupsPostRequestBodyable {
	body := users.NewItemCheckMemberGroupsPostRequestBody()
	body.SetGroupIds(ids)
	return body
}

// ActiveRoles returns the directory roles the user holds now, directly or through a
// role-assignable group: transitiveMemberOf cast to directoryRole, every page. Read
// without ConsistencyLevel: eventual, because a role assigned a moment ago must count.
func (c *Client) ActiveRoles(ctx context.Context, userID string) ([]graph.Role, error) {
	if err := checkRef(userID); err != nil {
		return nil, err
	}
	var roles []graph.Role
	err := c.do(ctx, "list active roles", func(ctx context.Context) error {
		first, err := c.sdk.Users().ByUserId(userID).TransitiveMemberOf().GraphDirectoryRole().Get(ctx, nil)
		if err != nil {
			return err
		}
		roles, err = c.collectRoles(ctx, userID, first)
		return err
	}, zap.String("user", userID))
	return roles, err
}

func (c *Client) collectRoles(ctx context.Context, userRef string, first models.DirectoryRoleCollectionResponseable) ([]graph.Role, error) {
	b := c.sdk.Users().ByUserId(userRef).TransitiveMemberOf().GraphDirectoryRole()
	all, err := collect(ctx, c, first, func(ctx context.Context, link string) (models.DirectoryRoleCollectionResponseable, error) {
		return b.WithUrl(link).Get(ctx, nil)
	})
	if err != nil {
		return nil, err
	}
	roles := make([]graph.Role, 0, len(all))
	for _, r := range all {
		roles = append(roles, graph.Role{ID: deref(r.GetId()), RoleTemplateID: deref(r.GetRoleTemplateId()), DisplayName: deref(r.GetDisplayName())})
	}
	return roles, nil
}

// codeNoPIMLicence is Graph's error code for PIM APIs in a tenant without PIM.
const codeNoPIMLicence = "AadPremiumLicenseRequired"

// EligibleRoles returns the directory roles the user may activate through PIM
// (roleEligibilityScheduleInstances for principalId, with the role definition
// expanded for its name and template id); none in a tenant without PIM. Eligibility
// granted to a group the user is in is listed under the group's id, not the user's:
// protect such groups with the protected-groups rule.
func (c *Client) EligibleRoles(ctx context.Context, userID string) ([]graph.Role, error) {
	if err := checkID("user", userID); err != nil {
		return nil, err
	}
	filter := "principalId eq " + odataString(userID)
	var roles []graph.Role
	err := c.do(ctx, "list eligible roles", func(ctx context.Context) error {
		b := c.sdk.RoleManagement().Directory().RoleEligibilityScheduleInstances()
		first, err := b.Get(ctx, &rolemanagement.DirectoryRoleEligibilityScheduleInstancesRequestBuilderGetRequestConfiguration{
			QueryParameters: &rolemanagement.DirectoryRoleEligibilityScheduleInstancesRequestBuilderGetQueryParameters{
				Filter: &filter, Expand: []string{"roleDefinition"},
			},
		})
		if odataCode(err) == codeNoPIMLicence {
			// Without Entra ID P2 (or ID Governance) the tenant has no PIM, so nobody
			// is eligible for anything; refusing every TAP over it would help no one.
			return nil
		}
		if err != nil {
			return err
		}
		all, err := collect(ctx, c, first, func(ctx context.Context, link string) (models.UnifiedRoleEligibilityScheduleInstanceCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		})
		if err != nil {
			return err
		}
		for _, in := range all {
			roles = append(roles, mapEligible(in))
		}
		return nil
	}, zap.String("user", userID))
	return roles, err
}

func mapEligible(in models.UnifiedRoleEligibilityScheduleInstanceable) graph.Role {
	r := graph.Role{ID: deref(in.GetRoleDefinitionId()), Eligible: true}
	if def := in.GetRoleDefinition(); def != nil {
		r.DisplayName = deref(def.GetDisplayName())
		r.RoleTemplateID = deref(def.GetTemplateId())
	}
	if r.RoleTemplateID == "" {
		// A built-in role's definition id is its template id; custom roles have both.
		r.RoleTemplateID = r.ID
	}
	return r
}

func mapUser(u models.Userable) graph.User {
	if u == nil {
		return graph.User{}
	}
	out := graph.User{
		ID:                deref(u.GetId()),
		UserPrincipalName: deref(u.GetUserPrincipalName()),
		Mail:              deref(u.GetMail()),
		DisplayName:       deref(u.GetDisplayName()),
		UserType:          deref(u.GetUserType()),
		AccountEnabled:    deref(u.GetAccountEnabled()),
	}
	if t := u.GetCreatedDateTime(); t != nil {
		out.CreatedDateTime = *t
	}
	return out
}
