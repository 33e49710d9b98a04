package msgraph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"go.uber.org/zap"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/every"
)

const (
	batchLimit = 20 // requests one $batch may hold
	// fixedSteps are the user, its group memberships, its TAPs and its sign-in
	// methods; the rest of a Target batch is checkMemberGroups, 20 group ids per step.
	fixedSteps      = 4
	maxTargetGroups = (batchLimit - fixedSteps) * groupsPerReq
	// batchAttempts bounds resending a batch whose steps Graph throttled: the SDK's
	// retry middleware sees only the $batch POST's own status, never the steps'.
	batchAttempts    = 3
	batchBackoff     = 2 * time.Second
	maxBatchWait     = 30 * time.Second
	stepUser         = 0
	stepMemberOf     = 1
	stepTAPs         = 2
	stepMethods      = 3
	errMalformedText = "malformed $batch answer"
)

// Target fetches what /tap decides on about one user: in a first $batch the user, the
// groups it is a transitive member of, which of groupIDs it belongs to, its TAP
// methods (without values) and its other sign-in methods (whether the account is
// established, see tap.Established); in a second every directory role of the user and of its
// role-assignable groups (see roles.go). ref is an object id or a UPN. A user that
// does not exist is graph.ErrNotFound; any other failed step of the first batch fails
// the call. A failed or limited role query sets Target.RolesUnknown instead, so that
// the gate can refuse and say why.
func (c *Client) Target(ctx context.Context, ref string, groupIDs []string) (graph.Target, error) {
	if err := checkRef(ref); err != nil {
		return graph.Target{}, err
	}
	if err := checkGroupIDs(groupIDs); err != nil {
		return graph.Target{}, err
	}
	if len(groupIDs) > maxTargetGroups {
		return graph.Target{}, fmt.Errorf("graph: %d groups to check, at most %d fit one batch: %w", len(groupIDs), maxTargetGroups, graph.ErrBadRequest)
	}
	var t graph.Target
	var rs roleSet
	err := c.do(ctx, "get target", func(ctx context.Context) error {
		steps, err := c.targetSteps(ctx, ref, groupIDs)
		if err != nil {
			return err
		}
		resp, ids, err := c.sendBatch(ctx, steps)
		if err != nil {
			return err
		}
		rs = roleSet{}
		var groups []principal
		t, groups, err = c.readTarget(ctx, ref, resp, ids, &rs)
		if err != nil {
			return err
		}
		return c.readRoles(ctx, t.User.ID, groups, &rs)
	}, zap.String("user", ref), zap.Int("groups", len(groupIDs)))
	t.Roles, t.RolesUnknown = rs.roles, rs.unknown
	return t, err
}

// targetSteps builds each step with the SDK's own request builders, so a step is
// byte for byte the request the direct method would send.
func (c *Client) targetSteps(ctx context.Context, ref string, groupIDs []string) ([]*abstractions.RequestInformation, error) {
	u := c.sdk.Users().ByUserId(ref)
	steps := make([]*abstractions.RequestInformation, fixedSteps, fixedSteps+len(groupIDs)/groupsPerReq+1)
	var err error
	if steps[stepUser], err = u.ToGetRequestInformation(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: userSelect},
	}); err != nil {
		return nil, err
	}
	if steps[stepMemberOf], err = u.TransitiveMemberOf().ToGetRequestInformation(ctx, memberOfConfig()); err != nil {
		return nil, err
	}
	if steps[stepTAPs], err = u.Authentication().TemporaryAccessPassMethods().ToGetRequestInformation(ctx, nil); err != nil {
		return nil, err
	}
	if steps[stepMethods], err = u.Authentication().Methods().ToGetRequestInformation(ctx, nil); err != nil {
		return nil, err
	}
	for _, chunk := range chunks(groupIDs, groupsPerReq) {
		s, err := u.CheckMemberGroups().ToPostRequestInformation(ctx, checkMemberGroupsBody(chunk), nil)
		if err != nil {
			return nil, err
		}
		steps = append(steps, s)
	}
	return steps, nil
}

// sendBatch posts steps as one $batch and returns the answer with the step ids in
// steps' order. Steps Graph throttled (429, 503, 504 inside a 200 batch) make it
// wait as their Retry-After asks and send the batch again, a bounded number of times.
func (c *Client) sendBatch(ctx context.Context, steps []*abstractions.RequestInformation) (msgraphgocore.BatchResponse, []string, error) {
	for attempt := 1; ; attempt++ {
		batch := msgraphgocore.NewBatchRequest(c.adapter)
		ids := make([]string, len(steps))
		for i, s := range steps {
			item, err := batch.AddBatchRequestStep(*s)
			if err != nil {
				return nil, nil, err
			}
			decoded := decodeQuery(deref(item.GetUrl()))
			item.SetUrl(&decoded)
			ids[i] = deref(item.GetId())
		}
		var resp msgraphgocore.BatchResponse
		err := safely(func() (err error) {
			resp, err = batch.Send(ctx, c.adapter)
			return err
		})
		if err != nil {
			return nil, nil, err
		}
		wait, throttled := stepsThrottled(resp, ids, attempt)
		if !throttled || attempt == batchAttempts {
			return resp, ids, nil
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return resp, ids, nil // the throttled steps' errors say what happened
		}
		c.log.Debug("graph batch steps throttled, resending", zap.Int("attempt", attempt), zap.Duration("wait", wait))
		if err := every.Sleep(ctx, wait); err != nil {
			return nil, nil, err
		}
	}
}

// paramNames undoes the URI template's escaping in a step's query ($select arrives as
// %24select), as the SDK's ParametersNameDecodingHandler does for direct requests;
// batch steps never pass through that middleware.
var paramNames = strings.NewReplacer("%24", "$", "%2D", "-", "%2d", "-", "%2E", ".", "%2e", ".", "%7E", "~", "%7e", "~")

func decodeQuery(u string) string {
	path, query, ok := strings.Cut(u, "?")
	if !ok {
		return u
	}
	return path + "?" + paramNames.Replace(query)
}

// stepsThrottled reports whether any step was throttled and how long to wait: the
// longest Retry-After among them, else an exponential backoff, capped.
func stepsThrottled(resp msgraphgocore.BatchResponse, ids []string, attempt int) (time.Duration, bool) {
	var wait time.Duration
	throttled := false
	for _, id := range ids {
		item := resp.GetResponseById(id)
		if item == nil || item.GetStatus() == nil {
			continue
		}
		switch *item.GetStatus() {
		case 429, 503, 504:
			throttled = true
			d := batchBackoff << (attempt - 1)
			if s, err := strconv.Atoi(stepHeader(item, "Retry-After")); err == nil && s >= 0 {
				d = time.Duration(s) * time.Second
			}
			wait = max(wait, d)
		}
	}
	return min(wait, maxBatchWait), throttled
}

// readTarget reads the first batch's answer: the target and its role-assignable groups.
func (c *Client) readTarget(ctx context.Context, ref string, resp msgraphgocore.BatchResponse, ids []string, rs *roleSet) (graph.Target, []principal, error) {
	var t graph.Target
	u, err := stepValue[models.Userable](resp, ids[stepUser], models.CreateUserFromDiscriminatorValue)
	if err != nil {
		return t, nil, err
	}
	if t.User = mapUser(u); !isGUID(t.User.ID) {
		return t, nil, errors.New("user step answered no user id")
	}
	groups := c.roleGroups(ctx, ref, resp, ids[stepMemberOf], rs)
	t, err = c.readTAPsAndMembership(ctx, t, ref, resp, ids)
	return t, groups, err
}

func (c *Client) readTAPsAndMembership(ctx context.Context, t graph.Target, ref string, resp msgraphgocore.BatchResponse, ids []string) (graph.Target, error) {
	taps, err := stepValue[models.TemporaryAccessPassAuthenticationMethodCollectionResponseable](resp, ids[stepTAPs], models.CreateTemporaryAccessPassAuthenticationMethodCollectionResponseFromDiscriminatorValue)
	if err != nil {
		return t, err
	}
	tb := c.sdk.Users().ByUserId(ref).Authentication().TemporaryAccessPassMethods()
	allTAPs, err := collect(ctx, c, taps, func(ctx context.Context, link string) (models.TemporaryAccessPassAuthenticationMethodCollectionResponseable, error) {
		return tb.WithUrl(link).Get(ctx, nil)
	})
	if err != nil {
		return t, err
	}
	t.TAPs = mapTAPs(allTAPs)
	if t.Methods, err = c.readMethods(ctx, ref, resp, ids[stepMethods]); err != nil {
		return t, err
	}
	for _, id := range ids[fixedSteps:] {
		m, err := stepValue[users.ItemCheckMemberGroupsPostResponseable](resp, id, users.CreateItemCheckMemberGroupsPostResponseFromDiscriminatorValue)
		if err != nil {
			return t, err
		}
		t.MemberOf = append(t.MemberOf, m.GetValue()...)
	}
	return t, nil
}

// readMethods reads the methods step, following its pages.
func (c *Client) readMethods(ctx context.Context, ref string, resp msgraphgocore.BatchResponse, id string) ([]graph.Method, error) {
	first, err := stepValue[models.AuthenticationMethodCollectionResponseable](resp, id, models.CreateAuthenticationMethodCollectionResponseFromDiscriminatorValue)
	if err != nil {
		return nil, err
	}
	b := c.sdk.Users().ByUserId(ref).Authentication().Methods()
	all, err := collect(ctx, c, first, func(ctx context.Context, link string) (models.AuthenticationMethodCollectionResponseable, error) {
		return b.WithUrl(link).Get(ctx, nil)
	})
	if err != nil {
		return nil, err
	}
	methods := make([]graph.Method, 0, len(all))
	for _, m := range all {
		methods = append(methods, mapMethod(m))
	}
	return methods, nil
}

// stepValue returns one successful step's body as T, or the step's error as a
// *graph.Error. It checks what GetBatchResponseById takes for granted (the step is
// there, has a status and a body) and recovers from its panic on a body the model
// cannot take.
func stepValue[T absser.Parsable](resp msgraphgocore.BatchResponse, id string, ctor absser.ParsableFactory) (T, error) {
	var zero T
	item := resp.GetResponseById(id)
	if item == nil || item.GetStatus() == nil {
		return zero, errors.New(errMalformedText + ": a step has no answer")
	}
	if status := int(*item.GetStatus()); status >= 400 {
		return zero, stepError(item, status)
	}
	if item.GetBody() == nil {
		return zero, errors.New(errMalformedText + ": a step has no body")
	}
	var v T
	err := safely(func() (err error) {
		v, err = msgraphgocore.GetBatchResponseById[T](resp, id, ctor)
		return err
	})
	return v, err
}

// stepError reads a failed step's Graph error body.
func stepError(item msgraphgocore.BatchItem, status int) *graph.Error {
	ge := &graph.Error{Status: status, RequestID: stepHeader(item, "request-id")}
	raw, err := json.Marshal(item.GetBody())
	if err != nil {
		return ge
	}
	var body struct {
		Error struct {
			Code       string `json:"code"`
			Message    string `json:"message"`
			InnerError struct {
				RequestID string `json:"request-id"`
			} `json:"innerError"`
		} `json:"error"`
	}
	if json.Unmarshal(raw, &body) == nil {
		ge.Code, ge.Message = body.Error.Code, body.Error.Message
		if body.Error.InnerError.RequestID != "" {
			ge.RequestID = body.Error.InnerError.RequestID
		}
	}
	return ge
}

func stepHeader(item msgraphgocore.BatchItem, name string) string {
	for k, v := range item.GetHeaders() {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// safely runs f, turning a panic inside the SDK's batch code (it type-asserts
// values it never checked) into an error. The panic value is not kept: it could
// quote the answer.
func safely(f func() error) (err error) {
	defer func() {
		if recover() != nil {
			err = errors.New(errMalformedText)
		}
	}()
	return f()
}
