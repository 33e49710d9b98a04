package doctor

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tapbot/tapbot/graph"
)

// The permission table is graph.Calls (graph/permissions.go): the features the
// configuration switches on decide which permissions are needed, and a permission a
// configured feature needs is never called too broad.

// FixPermission is what `tapbot doctor --fix` needs on top of the rest to change the
// authentication-methods policies. The bot itself never uses it.
const FixPermission = "Policy.ReadWrite.AuthenticationMethod"

// Features lists the features cfg switches on: the TAP flow, the checklist's evidence
// and the check itself always; onboarding with approver groups; installing tapbot for
// new hires with a Teams catalog app id. doctor --fix is not a configured feature.
func (cfg Config) Features() []graph.Feature {
	fs := []graph.Feature{graph.FeatureTAP, graph.FeatureChecklist, graph.FeatureDoctor}
	if len(cfg.ApproverGroups) > 0 {
		fs = append(fs, graph.FeatureOnboarding)
	}
	if cfg.TeamsAppID != "" {
		fs = append(fs, graph.FeatureChecklistInstall)
	}
	if len(cfg.JoinerGroups) > 0 {
		fs = append(fs, graph.FeatureJoiners)
	}
	return fs
}

// RequiredNames is what an administrator grants for the configured features
// (graph.Grant).
func RequiredNames(cfg Config) []string { return graph.Grant(cfg.Features()...) }

// AllRoles is every permission tapbot's table names, --fix's included: the token of
// a simulated tenant that grants everything.
func AllRoles() []string { return graph.Needed(graph.AllFeatures()...) }

func hasRole(granted []string, name string) bool {
	return slices.ContainsFunc(granted, func(g string) bool { return strings.EqualFold(g, name) })
}

func anyRole(granted, names []string) string {
	for _, n := range names {
		if hasRole(granted, n) {
			return n
		}
	}
	return ""
}

// allowedExtra are permissions a configured feature may use without the check calling
// them too broad, though it does not require them: onboarding into a role-assignable
// group needs RoleManagement.ReadWrite.Directory, which the check cannot tell.
func allowedExtra(cfg Config) []string {
	if graph.On(cfg.Features(), graph.FeatureOnboarding) {
		return graph.Needed(graph.FeatureRoleAssignableGroups)
	}
	return nil
}

// checkPermissions compares the token's roles with what the configured features need
// and with graph.OverBroad.
func checkPermissions(f Facts, cfg Config) []Item {
	perms := Item{ID: "permissions", Title: "Graph permissions"}
	broad := Item{ID: "permissions.least-privilege", Title: "Least privilege"}
	features := cfg.Features()
	grant := graph.Grant(features...)
	needed := graph.Needed(features...)
	fine := append(slices.Clone(needed), allowedExtra(cfg)...)
	if f.RolesErr != nil {
		perms.Status = Warn
		perms.Detail = "The permissions in tapbot's Microsoft Graph token could not be read (" + short(f.RolesErr) + "), so they were not checked."
		perms.Fix = "Check them in the Entra admin centre: App registrations → tapbot's app → API permissions. Grant, with admin consent, these Microsoft Graph application permissions: " + strings.Join(grant, ", ") + "."
		broad.Status = Warn
		broad.Detail = "Not checked: the token's permissions could not be read."
		broad.Fix = "In API permissions, remove any of " + strings.Join(overBroadNames(fine), ", ") + " if granted."
		return []Item{perms, broad}
	}

	var missing, coveredBroadly, notes []string
	for _, name := range needed {
		p := graph.PermissionInfo(name)
		if hasRole(f.Roles, name) || anyRole(f.Roles, p.Also) != "" {
			continue
		}
		if b := anyRole(f.Roles, p.Broader); b != "" {
			if !hasRole(fine, b) {
				coveredBroadly = append(coveredBroadly, fmt.Sprintf("%s (only through %s)", name, b))
				if p.Note != "" {
					notes = append(notes, p.Note)
				}
			}
			continue
		}
		missing = append(missing, name)
	}
	// A granted fix permission is not a tick: it is a warning on the broad item below.
	fixGranted := hasRole(f.Roles, FixPermission)
	fixNote := "`tapbot doctor --fix` would also need " + FixPermission + ", which is not granted (the bot itself does not need it)."
	if fixGranted {
		fixNote = FixPermission + " is granted for `tapbot doctor --fix` (see below)."
	}
	on := featureNames(features)
	if len(missing) > 0 {
		perms.Status = Fail
		perms.Detail = "Missing: " + strings.Join(missing, ", ") + " (needed for " + on + "). Without them these calls fail: " + callsOf(missing, features) + ". " + fixNote
		perms.Fix = "Grant these Microsoft Graph application permissions to tapbot's app and give admin consent (Entra admin centre → App registrations → tapbot's app → API permissions): " + strings.Join(grantFor(missing, needed), ", ") + "."
	} else {
		perms.Status = OK
		perms.Detail = fmt.Sprintf("All %d permissions tapbot needs for %s are granted: %s. %s", len(grant), on, strings.Join(grant, ", "), fixNote)
	}
	if graph.On(features, graph.FeatureOnboarding) && !hasRole(f.Roles, "RoleManagement.ReadWrite.Directory") {
		perms.Detail += " If new hires are put in a role-assignable group, onboarding also needs RoleManagement.ReadWrite.Directory (better: use an ordinary group)."
	}

	var extra []string
	for _, o := range graph.OverBroad {
		if hasRole(f.Roles, o.Name) && !hasRole(fine, o.Name) {
			extra = append(extra, fmt.Sprintf("%s (can %s)", o.Name, o.Allows))
		}
	}
	switch {
	case len(extra) == 0 && len(coveredBroadly) == 0 && fixGranted:
		broad.Status = Warn
		broad.Detail = FixPermission + " is granted: it lets tapbot change every authentication-method policy and is only needed while you run `tapbot doctor --fix`."
		broad.Fix = "Remove " + FixPermission + " from tapbot's app once `tapbot doctor --fix` has run."
	case len(extra) == 0 && len(coveredBroadly) == 0:
		broad.Status = OK
		broad.Detail = "No permission broader than tapbot needs for " + on + "."
	default:
		broad.Status = Warn
		var parts []string
		if len(extra) > 0 {
			parts = append(parts, "Granted but broader than tapbot needs: "+strings.Join(extra, "; ")+".")
		}
		if len(coveredBroadly) > 0 {
			parts = append(parts, "Covered only by a broader permission: "+strings.Join(coveredBroadly, "; ")+".")
		}
		parts = append(parts, notes...)
		broad.Detail = strings.Join(parts, " ")
		broad.Fix = "Grant less: for " + on + " tapbot needs exactly " + strings.Join(grant, ", ") + ". Remove the broader permissions once the narrow ones are granted."
	}
	return []Item{perms, broad}
}

// grantFor names what to grant for missing: a missing permission another needed one
// covers is granted through that one.
func grantFor(missing, needed []string) []string {
	var out []string
	for _, m := range missing {
		g := m
		if c := graph.CoveredBy(m, needed); c != "" {
			g = c
		}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	return out
}

// callsOf names the client methods whose calls need one of perms.
func callsOf(perms []string, features []graph.Feature) string {
	var out []string
	for _, c := range graph.Calls {
		if !graph.On(features, c.Feature) || !slices.ContainsFunc(c.Permissions, func(p string) bool { return slices.Contains(perms, p) }) {
			continue
		}
		for _, m := range c.Methods {
			if !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
	}
	return strings.Join(out, ", ")
}

func featureNames(fs []graph.Feature) string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = string(f)
	}
	return strings.Join(out, ", ")
}

func overBroadNames(except []string) []string {
	var out []string
	for _, o := range graph.OverBroad {
		if !hasRole(except, o.Name) {
			out = append(out, o.Name)
		}
	}
	return out
}
