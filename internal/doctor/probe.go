package doctor

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tapbot/tapbot/graph"
)

// Codes Graph answers that the probe explains.
const (
	codeUnsupportedQuery = "Request_UnsupportedQuery"
	codeNoPIMLicence     = "AadPremiumLicenseRequired"
)

// ExplainProbe turns the results of `tapbot doctor --probe` into findings: OK, or
// Graph's status and error code with the permission (from the permission table,
// graph.Calls) or setting that fixes it. A refused call of a feature cfg does not
// switch on is a warning, not a failure.
func ExplainProbe(results []graph.ProbeResult, cfg Config) Report {
	features := cfg.Features()
	var items []Item
	for i, r := range results {
		it := Item{ID: fmt.Sprintf("probe.%d", i+1), Title: upper(r.Name)}
		call, known := graph.FindCall(r.Key)
		if known {
			it.Detail = firstRequest(call.Request) + ": "
		}
		on := !known || graph.On(features, call.Feature)
		var ge *graph.Error
		errors.As(r.Err, &ge)
		ref := ""
		if ge != nil {
			ref = fmt.Sprintf("Graph: %d %s, request id %s", ge.Status, ge.Code, ge.RequestID)
		}
		switch {
		case r.Nothing != "":
			it.Status, it.Detail = OK, it.Detail+"nothing to read: "+r.Nothing+"."
		case r.Skipped != "":
			it.Status, it.Detail = Warn, it.Detail+"not tried: "+r.Skipped+"."
		case r.Err == nil && r.Limited != "" && strings.Contains(r.Key, "transitiveMemberOf"):
			it.Status, it.Detail = Fail, it.Detail+"answered with "+r.Limited+"."
			it.Fix = "Grant GroupMember.Read.All (admin consent): without it Graph hides the groups' properties."
		case r.Err == nil && r.Limited != "" && strings.Contains(r.Key, "registeredDevices"):
			it.Status, it.Detail = Fail, it.Detail+"answered with "+r.Limited+"."
			it.Fix = "Grant Device.Read.All (admin consent): without it Graph hides the devices' join type."
		case r.Err == nil && r.Limited != "":
			it.Status, it.Detail = OK, it.Detail+"OK; "+r.Limited+"."
		case r.Err == nil:
			it.Status, it.Detail = OK, it.Detail+"OK."
		case ge != nil && ge.Code == codeNoPIMLicence:
			it.Status, it.Detail = OK, it.Detail+"no Entra ID P2 ("+ref+"): there is no PIM eligibility to read, and tapbot reads this as none."
		case ge != nil && ge.Code == codeUnsupportedQuery:
			it.Status = Fail
			it.Detail += "Graph refused the query as unsupported (" + ref + "). Casts, $search, ne and endsWith on directory objects are advanced queries that need the ConsistencyLevel: eventual header and $count=true."
			it.Fix = "This is a bug in tapbot, not in your tenant: report it with the request id."
		case ge != nil && ge.Status == 403:
			it.Status = Fail
			it.Detail += "refused (" + ref + ")."
			if known {
				it.Fix = "Grant " + call.Fixes() + " to tapbot's app and give admin consent (Entra admin centre → App registrations → tapbot's app → API permissions)."
				if strings.Contains(call.Request, "installedApps") {
					it.Fix += " Installing also needs the app package from `tapbot manifest` (webApplicationInfo.id = the bot's app id)."
				}
			}
			if !on {
				it.Status = Warn
				it.Fix += " " + unconfigured(call.Feature)
			}
		case ge != nil && ge.Status == 404 && r.Key == "GET /users/{id | upn}":
			it.Status, it.Detail = Fail, it.Detail+"no such user ("+ref+")."
			it.Fix = "Check the user principal name or object id given to --probe."
		case ge != nil && ge.Status == 404 && strings.HasPrefix(r.Key, "GET /groups/"):
			it.Status, it.Detail = Fail, it.Detail+"no such group ("+ref+")."
			it.Fix = "Check the group ids in tapbot's settings: `tapbot doctor` names the setting that holds this one."
		case ge != nil && ge.Status == 401:
			it.Status, it.Detail = Fail, it.Detail+"Graph did not accept tapbot's token ("+ref+")."
			it.Fix = "Check the app id, tenant id and credential."
		case ge != nil && (ge.Status == 429 || ge.Status >= 500):
			it.Status, it.Detail = Warn, it.Detail+"Graph is busy or unavailable ("+ref+"); run the probe again in a minute."
		case ge != nil:
			it.Status, it.Detail = Fail, it.Detail+"failed ("+ref+")."
		default:
			it.Status, it.Detail = Fail, it.Detail+"failed: "+short(r.Err)
		}
		items = append(items, it)
	}
	return Report{Items: items}
}

// firstRequest is the first request of a table row, without markdown.
func firstRequest(req string) string {
	s := strings.ReplaceAll(req, "`", "")
	if i := strings.Index(s, ", GET "); i > 0 {
		s = s[:i]
	}
	if i := strings.Index(s, " ("); i > 0 {
		s = s[:i]
	}
	return s
}

// unconfigured says why a refused request matters little here: its feature is off,
// or optional.
func unconfigured(f graph.Feature) string {
	if f == graph.FeatureDevices {
		return "Optional: without it doctor skips its device checks and says why."
	}
	return "Needed only for " + string(f) + ", which is not configured."
}
