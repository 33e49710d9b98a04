package msgraph

import (
	"context"
	"errors"
	"fmt"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
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
