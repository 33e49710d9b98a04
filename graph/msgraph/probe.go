package msgraph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	abstractions "github.com/microsoft/kiota-abstractions-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"go.uber.org/zap"

	"github.com/tapbot/tapbot/graph"
)

// Probe makes, once each, the read requests tapbot makes about a user, exactly as
// tapbot makes them (the same request builders, the same $batch steps), and reports
// each: `tapbot doctor --probe`. It never writes. groupIDs are the configured groups
// the target batch checks membership of; catalogAppID, when set, is tapbot's Teams
// catalog app (the installed-apps read). ref is a UPN or object id.
func (c *Client) Probe(ctx context.Context, ref string, groupIDs []string, catalogAppID string) ([]graph.ProbeResult, error) {
	if err := checkRef(ref); err != nil {
		return nil, err
	}
	if err := checkGroupIDs(groupIDs); err != nil {
		return nil, err
	}
	if len(groupIDs) > maxTargetGroups {
		groupIDs = groupIDs[:maxTargetGroups]
	}
	var out []graph.ProbeResult
	add := func(name, key string, err error) {
		out = append(out, graph.ProbeResult{Name: name, Key: key, Err: err})
	}

	// The target batch, as Target sends it.
	userID := ""
	steps, err := c.targetSteps(ctx, ref, groupIDs)
	if err != nil {
		return nil, err
	}
	var resp msgraphgocore.BatchResponse
	var ids []string
	err = c.do(ctx, "probe target batch", func(ctx context.Context) (err error) {
		resp, ids, err = c.sendBatch(ctx, steps)
		return err
	}, zap.String("user", ref))
	names := []struct{ name, key string }{
		{"the user (target batch)", "GET /users/{id | upn}"},
		{"the user's groups (target batch)", "/transitiveMemberOf"},
		{"the user's passes (target batch)", "GET /users/{id}/authentication/temporaryAccessPassMethods"},
		{"the user's sign-in methods (target batch)", "GET /users/{id}/authentication/methods"},
	}
	for i, n := range names {
		if err != nil {
			add(n.name, n.key, err)
			continue
		}
		item := stepErr(resp, ids[i])
		r := graph.ProbeResult{Name: n.name, Key: n.key, Err: item}
		switch i {
		case stepUser:
			if u, verr := stepValue[models.Userable](resp, ids[i], models.CreateUserFromDiscriminatorValue); verr == nil {
				userID = deref(u.GetId())
			}
		case stepMemberOf:
			if item == nil {
				r.Limited = limitedGroups(resp.GetResponseById(ids[i]))
			}
		}
		out = append(out, r)
	}
	for j := fixedSteps; j < len(steps); j++ {
		if err != nil {
			add("membership of the configured groups (target batch)", "/checkMemberGroups", err)
			continue
		}
		add("membership of the configured groups (target batch)", "/checkMemberGroups", stepErr(resp, ids[j]))
	}

	// The role batch, for the user itself (its role-assignable groups get the same
	// requests with their own ids).
	roleNames := map[string]struct{ name, key string }{
		"assignments":       {"active directory roles (role batch)", "/roleAssignments"},
		"eligibility":       {"PIM-eligible directory roles (role batch)", "/roleEligibilityScheduleInstances"},
		"group eligibility": {"PIM for Groups eligibility (role batch)", "/privilegedAccess/group/"},
	}
	if !isGUID(userID) {
		for _, k := range []string{"assignments", "eligibility", "group eligibility"} {
			out = append(out, graph.ProbeResult{Name: roleNames[k].name, Key: roleNames[k].key, Skipped: "the user could not be read"})
		}
	} else {
		me := principal{id: userID}
		qs, qerr := c.roleQueries(ctx, []principal{me}, &me)
		if qerr != nil {
			return nil, qerr
		}
		infos := make([]*abstractions.RequestInformation, len(qs))
		for i, q := range qs {
			infos[i] = q.info
		}
		err = c.do(ctx, "probe role batch", func(ctx context.Context) (err error) {
			resp, ids, err = c.sendBatch(ctx, infos)
			return err
		}, zap.String("user", ref))
		for i, q := range qs {
			n := roleNames[q.kind]
			if err != nil {
				add(n.name, n.key, err)
				continue
			}
			add(n.name, n.key, stepErr(resp, ids[i]))
		}
	}

	// The direct reads.
	_, err = c.TAPPolicy(ctx)
	add("the Temporary Access Pass policy", "GET /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass", err)
	_, err = c.AuthenticatorPolicy(ctx)
	add("the Microsoft Authenticator policy", "GET /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/MicrosoftAuthenticator", err)
	subject := ref
	if isGUID(userID) {
		subject = userID
	}
	_, err = c.Methods(ctx, subject)
	add("the user's sign-in methods (checklist, /status)", "/authentication/methods", err)
	devs, err := c.RegisteredDevices(ctx, subject)
	r := graph.ProbeResult{Name: "the user's devices (checklist)", Key: "/registeredDevices", Err: err}
	for _, d := range devs {
		if d.TrustType == "" && d.DisplayName == "" {
			r.Limited = "devices without their properties (no Device.Read.All): enough to count them, as the checklist does"
			break
		}
	}
	out = append(out, r)
	_, err = c.Domains(ctx)
	add("the tenant's domains (onboarding)", "GET /domains", err)
	_, err = c.SubscribedSKUs(ctx)
	add("the tenant's licences (onboarding)", "GET /subscribedSkus", err)
	if catalogAppID == "" {
		out = append(out, graph.ProbeResult{Name: "the user's Teams apps (checklist install)", Key: "GET /users/{id}/teamwork/installedApps?", Skipped: "TAPBOT_TEAMS_APP_ID is not set"})
	} else {
		add("the user's Teams apps (checklist install)", "GET /users/{id}/teamwork/installedApps?", c.installedApps(ctx, subject, catalogAppID))
	}
	return out, nil
}

// installedApps is InstallAppForUser's read: the user's installations of the app.
func (c *Client) installedApps(ctx context.Context, userRef, catalogAppID string) error {
	if err := checkID("catalog app", catalogAppID); err != nil {
		return err
	}
	filter := "teamsApp/id eq " + odataString(catalogAppID)
	return c.do(ctx, "probe installed apps", func(ctx context.Context) error {
		_, err := c.sdk.Users().ByUserId(userRef).Teamwork().InstalledApps().Get(ctx, &users.ItemTeamworkInstalledAppsRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.ItemTeamworkInstalledAppsRequestBuilderGetQueryParameters{Expand: []string{"teamsApp"}, Filter: &filter},
		})
		return err
	}, zap.String("user", userRef))
}

// stepErr is a batch step's error, nil when it succeeded.
func stepErr(resp msgraphgocore.BatchResponse, id string) error {
	item := resp.GetResponseById(id)
	if item == nil || item.GetStatus() == nil {
		return errors.New(errMalformedText + ": a step has no answer")
	}
	if status := int(*item.GetStatus()); status >= 400 {
		return stepError(item, status)
	}
	return nil
}

// limitedGroups says whether transitiveMemberOf listed groups with limited
// information (no isAssignableToRole), which makes /tap refuse every pass.
func limitedGroups(item msgraphgocore.BatchItem) string {
	if item == nil {
		return ""
	}
	raw, err := json.Marshal(item.GetBody())
	if err != nil {
		return ""
	}
	var body struct {
		Value []map[string]any `json:"value"`
	}
	if json.Unmarshal(raw, &body) != nil {
		return ""
	}
	n := 0
	for _, v := range body.Value {
		if v["@odata.type"] == "#microsoft.graph.group" && v["isAssignableToRole"] == nil {
			n++
		}
	}
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("%d groups without isAssignableToRole (limited information): /tap refuses every pass (roles unknown)", n)
}
