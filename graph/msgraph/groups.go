package msgraph

import (
	"context"
	"errors"

	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"go.uber.org/zap"

	"github.com/tapbot/tapbot/graph"
)

// groupSelect is what tapbot reads of a group: enough to show which group a
// configured id is.
var groupSelect = []string{"id", "displayName"}

// Group returns the group with object id id; an id no group has is graph.ErrNotFound.
func (c *Client) Group(ctx context.Context, id string) (graph.Group, error) {
	if err := checkID("group", id); err != nil {
		return graph.Group{}, err
	}
	var g models.Groupable
	err := c.do(ctx, "get group", func(ctx context.Context) (err error) {
		g, err = c.sdk.Groups().ByGroupId(id).Get(ctx, &groups.GroupItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &groups.GroupItemRequestBuilderGetQueryParameters{Select: groupSelect},
		})
		if err == nil && (g == nil || deref(g.GetId()) == "") {
			err = errors.New("answer carries no group")
		}
		return err
	}, zap.String("group", id))
	if err != nil {
		return graph.Group{}, err
	}
	return graph.Group{ID: deref(g.GetId()), DisplayName: deref(g.GetDisplayName())}, nil
}
