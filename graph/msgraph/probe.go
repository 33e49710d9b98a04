package msgraph

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"go.uber.org/zap"

	"github.com/tapbot/tapbot/graph"
)

// ProbeConfig is what the probe needs of tapbot's configuration: the inputs of the
// reads it makes, and which features are on. tapbot makes a feature's reads only
// when the feature is on, and so does the probe.
type ProbeConfig struct {
	// Groups are the configured groups the target batch checks membership of.
	Groups []string
	// NamedGroups are the configured groups tapbot reads by id: doctor reads each
	// group its settings name, onboarding the names of those new hires may join.
	NamedGroups []string
	// CatalogAppID, when set, is tapbot's Teams catalog app (TAPBOT_TEAMS_APP_ID):
	// the installed-apps read.
	CatalogAppID string
	// ManagerPath: TAPBOT_TAP_VERIFY lets a user's manager confirm a pass.
	ManagerPath bool
	// Onboarding is on (TAPBOT_APPROVER_GROUPS): it checks that a new UPN is free.
	Onboarding bool
	// Joiners are on (TAPBOT_JOINER_GROUPS): tapbot lists the users who start soon,
	// by employeeHireDate, and reads their managers.
	Joiners bool
}

// Probe makes, once each, the read requests tapbot makes about a user and the tenant
// with the features cfg switches on, exactly as tapbot makes them (the same client
// methods and request builders, the same $batch steps), and reports each: `tapbot
// doctor --probe`. A read it does not make has a row saying why. It never writes.
// ref is a UPN or object id.
func (c *Client) Probe(ctx context.Context, ref string, cfg ProbeConfig) ([]graph.ProbeResult, error) {
	if err := checkRef(ref); err != nil {
		return nil, err
	}
	groupIDs := cfg.Groups
	if err := checkGroupIDs(groupIDs); err != nil {
		return nil, err
	}
	if len(groupIDs) > maxTargetGroups {
		groupIDs = groupIDs[:maxTargetGroups]
	}
	out, who, err := c.probeTarget(ctx, ref, groupIDs)
	if err != nil {
		return nil, err
	}
	roles, err := c.probeRoles(ctx, ref, who)
	if err != nil {
		return nil, err
	}
	out = append(out, roles...)
	subject := ref
	if who.userID != "" {
		subject = who.userID
	}
	out = append(out, c.probeReads(ctx, subject, cfg.Onboarding)...)
	out = append(out, c.probeManager(ctx, who.userID, cfg))
	out = append(out, c.probeTeamsApp(ctx, subject, cfg.CatalogAppID))
	out = append(out, c.probeGroups(ctx, cfg.NamedGroups)...)
	out = append(out, c.probeJoiners(ctx, cfg.Joiners))
	return append(out, c.probeDevices(ctx)...), nil
}

// probeSubject is what the target batch told the probe: whose roles the gate reads.
type probeSubject struct {
	userID string      // "" when the user could not be read
	groups []principal // its role-assignable groups, as roleGroups picks them
	// noGroups says why groups is empty; noneToRead that it is empty because the
	// user is in no role-assignable group, not because something could not be read.
	noGroups   string
	noneToRead bool
}

// targetRows name the target batch's fixed steps, in targetSteps' order.
var targetRows = [fixedSteps]struct{ name, key string }{
	stepUser:     {"the user (target batch)", "GET /users/{id | upn}"},
	stepMemberOf: {"the user's groups (target batch)", "/transitiveMemberOf"},
	stepTAPs:     {"the user's passes (target batch)", "GET /users/{id}/authentication/temporaryAccessPassMethods"},
	stepMethods:  {"the user's sign-in methods (target batch)", "GET /users/{id}/authentication/methods"},
}

// probeTarget sends the target batch as Target does, reports each step, and picks
// the user's role-assignable groups from its answer as Target does.
func (c *Client) probeTarget(ctx context.Context, ref string, groupIDs []string) ([]graph.ProbeResult, probeSubject, error) {
	steps, err := c.targetSteps(ctx, ref, groupIDs)
	if err != nil {
		return nil, probeSubject{}, err
	}
	var resp msgraphgocore.BatchResponse
	var ids []string
	err = c.do(ctx, "probe target batch", func(ctx context.Context) (err error) {
		resp, ids, err = c.sendBatch(ctx, steps)
		return err
	}, zap.String("user", ref))
	out := make([]graph.ProbeResult, len(steps))
	for i := range steps {
		out[i] = graph.ProbeResult{Name: "membership of the configured groups (target batch)", Key: "/checkMemberGroups", Err: err}
		if i < fixedSteps {
			out[i].Name, out[i].Key = targetRows[i].name, targetRows[i].key
		}
		if err == nil {
			out[i].Err = stepErr(resp, ids[i])
		}
	}
	who := probeSubject{noGroups: "the user could not be read"}
	if err != nil {
		return out, who, nil
	}
	if out[stepMemberOf].Err == nil {
		out[stepMemberOf].Limited = limitedGroups(resp.GetResponseById(ids[stepMemberOf]))
	}
	u, err := stepValue[models.Userable](resp, ids[stepUser], models.CreateUserFromDiscriminatorValue)
	if err != nil || !isGUID(deref(u.GetId())) {
		return out, who, nil
	}
	who.userID = deref(u.GetId())
	if out[stepMemberOf].Err != nil {
		who.noGroups = "the user's groups could not be read"
		return out, who, nil
	}
	var rs roleSet
	who.groups = c.roleGroups(ctx, ref, resp, ids[stepMemberOf], &rs)
	switch {
	case len(who.groups) > 0:
		who.noGroups = ""
	case rs.unknown != "":
		who.noGroups = "no role-assignable group found: " + rs.unknown
	default:
		who.noGroups, who.noneToRead = "the user is in no role-assignable group", true
	}
	return out, who, nil
}

// roleRows name the role batch's queries by kind (roleQuery.kind).
var roleRows = map[string]struct{ name, key string }{
	"assignments":       {"active directory roles (role batch)", "/roleAssignments"},
	"eligibility":       {"PIM-eligible directory roles (role batch)", "/roleEligibilityScheduleInstances"},
	"group eligibility": {"PIM for Groups eligibility (role batch)", "/privilegedAccess/group/"},
}

// probeRoles sends the role batches as the gate does (readRoles): the roles of the
// user and of its role-assignable groups with the user's PIM for Groups eligibility,
// then the roles of the groups that eligibility names and the first batch did not
// cover. When the user has no role-assignable group it says so: the requests for
// groups were not tried.
func (c *Client) probeRoles(ctx context.Context, ref string, who probeSubject) ([]graph.ProbeResult, error) {
	groupsRow := graph.ProbeResult{Name: "roles of the user's role-assignable groups (role batch)", Key: "/roleAssignments", Skipped: who.noGroups}
	if who.noneToRead {
		groupsRow.Skipped, groupsRow.Nothing = "", who.noGroups
	}
	if who.userID == "" {
		var out []graph.ProbeResult
		for _, kind := range []string{"assignments", "eligibility", "group eligibility"} {
			out = append(out, graph.ProbeResult{Name: roleRows[kind].name, Key: roleRows[kind].key, Skipped: "the user could not be read"})
		}
		return append(out, groupsRow), nil
	}
	me := principal{id: who.userID}
	qs, err := c.roleQueries(ctx, append([]principal{me}, who.groups...), &me)
	if err != nil {
		return nil, err
	}
	out, pim := c.probeRoleQueries(ctx, ref, qs)
	if len(who.groups) == 0 {
		out = append(out, groupsRow)
	}
	if pim = unread(pim, who.groups); len(pim) == 0 {
		return out, nil
	}
	if qs, err = c.roleQueries(ctx, pim, nil); err != nil {
		return nil, err
	}
	more, _ := c.probeRoleQueries(ctx, ref, qs) // groups only: no PIM for Groups query
	return append(out, more...), nil
}

// probeRoleQueries sends qs as the gate does (sendRoleQueries) and reports each
// query's answer, read as the gate reads it, pages included. It returns the groups
// the user may join or own through PIM for Groups.
func (c *Client) probeRoleQueries(ctx context.Context, ref string, qs []roleQuery) ([]graph.ProbeResult, []principal) {
	var out []graph.ProbeResult
	var pim []principal
	row := func(q roleQuery, err error) graph.ProbeResult {
		n := roleRows[q.kind]
		return graph.ProbeResult{Name: n.name + " of " + whose(q.of), Key: n.key, Err: err}
	}
	err := c.do(ctx, "probe role batch", func(ctx context.Context) error {
		return c.sendRoleQueries(ctx, qs, func(q roleQuery, resp msgraphgocore.BatchResponse, id string) {
			var found []principal
			err := c.do(ctx, "probe role "+q.kind, func(ctx context.Context) (err error) {
				found, err = c.readRoleStep(ctx, q, resp, id, &roleSet{})
				return err
			}, zap.String("user", ref))
			pim = append(pim, found...)
			out = append(out, row(q, err))
		})
	}, zap.String("user", ref))
	for _, q := range qs[len(out):] { // the queries of the batch that failed and after
		out = append(out, row(q, err))
	}
	return out, pim
}

// whose names the principals of a role query for the probe's report.
func whose(of []principal) string {
	label := func(p principal) string {
		switch {
		case !p.group:
			return "the user"
		case p.pim:
			return "group " + p.id + " (PIM for Groups)"
		default:
			return fmt.Sprintf("group %q", p.name) // %q: a name from Graph, shown escaped
		}
	}
	if len(of) > 2 {
		return fmt.Sprintf("%s and %d more groups", label(of[0]), len(of)-1)
	}
	names := make([]string, len(of))
	for i, p := range of {
		names[i] = label(p)
	}
	return strings.Join(names, " and ")
}

// probeReads makes the direct reads about the user (subject: its object id when the
// target batch found it) and the tenant.
func (c *Client) probeReads(ctx context.Context, subject string, onboarding bool) []graph.ProbeResult {
	var out []graph.ProbeResult
	add := func(name, key string, err error) {
		out = append(out, graph.ProbeResult{Name: name, Key: key, Err: err})
	}
	_, err := c.TAPPolicy(ctx)
	add("the Temporary Access Pass policy", "GET /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass", err)
	_, err = c.AuthenticatorPolicy(ctx)
	add("the Microsoft Authenticator policy", "GET /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/MicrosoftAuthenticator", err)
	_, err = c.Methods(ctx, subject)
	add("the user's sign-in methods (checklist, /status)", "/authentication/methods", err)
	devs, err := c.RegisteredDevices(ctx, subject)
	r := graph.ProbeResult{Name: "the user's devices (checklist)", Key: "/registeredDevices", Err: err}
	for _, d := range devs {
		if d.TrustType == "" && d.DisplayName == "" {
			r.Limited = "devices without their properties (no Device.Read.All): the checklist cannot tell a joined laptop from the registered phone, so its laptop step waits for Windows Hello"
			break
		}
	}
	out = append(out, r)
	domains, domainsErr := c.Domains(ctx)
	add("the tenant's domains (onboarding)", "GET /domains", domainsErr)
	_, err = c.SubscribedSKUs(ctx)
	add("the tenant's licences (onboarding)", "GET /subscribedSkus", err)
	return append(out, c.probeUPN(ctx, domains, domainsErr, onboarding))
}

// probeManager reads the user's manager as the pass confirmation's manager path and
// joiners do, by object id. No manager (404) is a fact about the user, as both read it.
func (c *Client) probeManager(ctx context.Context, userID string, cfg ProbeConfig) graph.ProbeResult {
	r := graph.ProbeResult{Name: "the user's manager (pass confirmation, joiners)", Key: "GET /users/{id}/manager"}
	switch {
	case !cfg.ManagerPath && !cfg.Joiners:
		r.Skipped = "tapbot reads managers for TAPBOT_TAP_VERIFY's manager path and for joiners (TAPBOT_JOINER_GROUPS), and neither is on"
	case userID == "":
		r.Skipped = "the user could not be read"
	default:
		_, r.Err = c.Manager(ctx, userID)
		if errors.Is(r.Err, graph.ErrNotFound) {
			r.Err, r.Nothing = nil, "the user has no manager"
		}
	}
	return r
}

// probeUPN makes onboarding's check that a new user name is free, for a name no user
// can have (random) in the domain onboarding offers first, so that the check makes
// both its reads: the user by UPN (404) and by mail.
func (c *Client) probeUPN(ctx context.Context, domains []graph.Domain, domainsErr error, onboarding bool) graph.ProbeResult {
	r := graph.ProbeResult{Name: "whether a new user name is free (onboarding)", Key: "GET /users/{upn}"}
	domain := firstDomain(domains)
	switch {
	case !onboarding:
		r.Skipped = "TAPBOT_APPROVER_GROUPS is not set (onboarding is off)"
	case domainsErr != nil:
		r.Skipped = "the tenant's domains could not be read, and a new user name needs one"
	case domain == "":
		r.Skipped = "the tenant has no verified domain for a new user name"
	default:
		_, r.Err = c.UPNAvailable(ctx, "tapbot-probe-"+strings.ToLower(rand.Text())+"@"+domain)
	}
	return r
}

// firstDomain is the domain onboarding offers first: the default one if verified,
// else the first verified one; "" when none is.
func firstDomain(domains []graph.Domain) string {
	first := ""
	for _, d := range domains {
		switch {
		case !d.IsVerified:
		case d.IsDefault:
			return d.ID
		case first == "":
			first = d.ID
		}
	}
	return first
}

// probeTeamsApp makes the checklist install's read: the user's installation of
// tapbot, as InstallAppForUser looks it up. The probe does not install (a write).
func (c *Client) probeTeamsApp(ctx context.Context, subject, catalogAppID string) graph.ProbeResult {
	r := graph.ProbeResult{Name: "the user's Teams apps (checklist install)", Key: "GET /users/{id}/teamwork/installedApps?"}
	if catalogAppID == "" {
		r.Skipped = "TAPBOT_TEAMS_APP_ID is not set"
		return r
	}
	if r.Err = checkID("catalog app", catalogAppID); r.Err != nil {
		return r
	}
	r.Err = c.do(ctx, "probe installed apps", func(ctx context.Context) error {
		_, err := c.installation(ctx, subject, catalogAppID)
		return err
	}, zap.String("user", subject))
	return r
}

// probeGroups reads each configured group by id, as doctor and onboarding's form do.
func (c *Client) probeGroups(ctx context.Context, ids []string) []graph.ProbeResult {
	const key = "GET /groups/{id}?$select=id,displayName"
	if len(ids) == 0 {
		return []graph.ProbeResult{{Name: "the configured groups (doctor, onboarding)", Key: key, Skipped: "no group is configured"}}
	}
	out := make([]graph.ProbeResult, len(ids))
	for i, id := range ids {
		_, err := c.Group(ctx, id)
		out[i] = graph.ProbeResult{Name: "configured group " + id + " (doctor, onboarding)", Key: key, Err: err}
	}
	return out
}

// probeJoiners lists the users who start soon as joiners do: the employeeHireDate
// advanced query. Its window (a day either side here) changes the filter's values,
// not the request or the permission it needs.
func (c *Client) probeJoiners(ctx context.Context, on bool) graph.ProbeResult {
	r := graph.ProbeResult{Name: "the users who start soon, by employeeHireDate (joiners)", Key: "employeeHireDate ge"}
	if !on {
		r.Skipped = "TAPBOT_JOINER_GROUPS is not set"
		return r
	}
	now := time.Now()
	_, r.Err = c.Joiners(ctx, now.Add(-24*time.Hour), now.Add(24*time.Hour))
	return r
}

// probeDevices makes doctor's device reads (Intune), as doctor makes them.
func (c *Client) probeDevices(ctx context.Context) []graph.ProbeResult {
	_, whfb := c.WHfBEnrollments(ctx)
	_, autopilot := c.AutopilotProfiles(ctx)
	return []graph.ProbeResult{
		{Name: "Windows Hello for Business enrollment (doctor's device checks)", Key: "GET /deviceManagement/deviceEnrollmentConfigurations", Err: whfb},
		{Name: "Autopilot deployment profiles, beta (doctor's device checks)", Key: "/windowsAutopilotDeploymentProfiles", Err: autopilot},
	}
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
