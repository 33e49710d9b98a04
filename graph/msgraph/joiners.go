package msgraph

import (
	"context"
	"fmt"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"go.uber.org/zap"

	"github.com/tapbot/tapbot/graph"
)

// joinerSelect adds employeeHireDate, which Graph returns only on $select
// (https://learn.microsoft.com/en-us/graph/api/resources/user, employeeHireDate).
var joinerSelect = append([]string{"employeeHireDate"}, userSelect...)

// Joiners lists the users whose employeeHireDate lies in [from, to]:
//
//	GET /users?$filter=employeeHireDate ge {from} and employeeHireDate le {to}&$count=true&$select=…
//	ConsistencyLevel: eventual
//
// employeeHireDate supports ge and le (and even eq) only in advanced queries: the
// ConsistencyLevel header and $count=true are required, else Graph answers 400
// Request_UnsupportedQuery (https://learn.microsoft.com/en-us/graph/aad-advanced-queries,
// "Support for filter by properties of Microsoft Entra ID (directory) objects", row
// employeeHireDate). Listing users needs User.Read.All
// (https://learn.microsoft.com/en-us/graph/api/user-list); employeeHireDate needs no
// more (unlike employeeLeaveDateTime). Advanced queries are eventually consistent: a
// hire date set a moment ago may show on the next run.
func (c *Client) Joiners(ctx context.Context, from, to time.Time) ([]graph.Joiner, error) {
	filter := fmt.Sprintf("employeeHireDate ge %s and employeeHireDate le %s",
		from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	count := true
	top := int32(999)
	headers := abstractions.NewRequestHeaders()
	headers.Add("ConsistencyLevel", "eventual")
	b := c.sdk.Users()
	var all []models.Userable
	err := c.do(ctx, "list joiners", func(ctx context.Context) error {
		first, err := b.Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
			Headers:         headers,
			QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Filter: &filter, Count: &count, Select: joinerSelect, Top: &top},
		})
		if err != nil {
			return err
		}
		// The nextLink keeps $count and $filter; the header must go again.
		all, err = collect(ctx, c, first, func(ctx context.Context, link string) (models.UserCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{Headers: headers})
		})
		return err
	}, zap.Time("from", from), zap.Time("to", to))
	if err != nil {
		return nil, err
	}
	out := make([]graph.Joiner, 0, len(all))
	for _, u := range all {
		j := graph.Joiner{User: mapUser(u)}
		if h := u.GetEmployeeHireDate(); h != nil {
			j.HireDate = *h
		}
		out = append(out, j)
	}
	return out, nil
}

// Manager returns a user's manager (GET /users/{id}/manager,
// https://learn.microsoft.com/en-us/graph/api/user-list-manager, User.Read.All). No
// manager is graph.ErrNotFound.
func (c *Client) Manager(ctx context.Context, userID string) (graph.User, error) {
	if err := checkRef(userID); err != nil {
		return graph.User{}, err
	}
	var m models.DirectoryObjectable
	err := c.do(ctx, "get manager", func(ctx context.Context) (err error) {
		m, err = c.sdk.Users().ByUserId(userID).Manager().Get(ctx, nil)
		return err
	}, zap.String("user", userID))
	if err != nil {
		return graph.User{}, err
	}
	u, ok := m.(models.Userable)
	if !ok || deref(u.GetId()) == "" {
		return graph.User{}, fmt.Errorf("graph: the manager of %s is not a user: %w", userID, graph.ErrNotFound)
	}
	return mapUser(u), nil
}
