package doctor

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/store"
)

var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// Where an administrator changes the authentication-methods policies by hand.
const policiesPortal = "Entra admin centre → Protection → Authentication methods → Policies"

// Recommended TAP lifetimes: long enough for a new hire to register Authenticator and
// get through Autopilot, short enough for a credential read out on a call.
const (
	recommendedLifetime = time.Hour
	shortestSensible    = 30 * time.Minute
	longestSensible     = 8 * time.Hour
)

func checkRegistration(cfg Config) Item {
	it := Item{ID: "registration", Title: "Bot registration"}
	var bad []string
	if !guid.MatchString(cfg.AppID) {
		bad = append(bad, "the app id (TAPBOT_APP_ID or MicrosoftAppId) is "+describeValue(cfg.AppID))
	}
	if !guid.MatchString(cfg.TenantID) {
		bad = append(bad, "the tenant id (TAPBOT_TENANT_ID or MicrosoftAppTenantId) is "+describeValue(cfg.TenantID))
	}
	if len(bad) > 0 {
		it.Status = Fail
		it.Detail = upper(strings.Join(bad, "; ")) + "."
		it.Fix = "Set them to the Azure Bot's Microsoft App ID and your Entra tenant id (both GUIDs, shown on the app registration's Overview page)."
		return it
	}
	it.Status = OK
	it.Detail = fmt.Sprintf("App id %s in tenant %s.", cfg.AppID, cfg.TenantID)
	return it
}

func describeValue(v string) string {
	if v == "" {
		return "not set"
	}
	return fmt.Sprintf("%q, not a GUID", v)
}

// names shows group ids by their display names where Gather found them.
func names(f Facts, ids []string) string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = name(f, id)
	}
	return strings.Join(out, ", ")
}

func name(f Facts, id string) string {
	if id == graph.AllUsers {
		return "all users"
	}
	if g, ok := f.Groups[strings.ToLower(id)]; ok && g.Err == nil && g.Group.DisplayName != "" {
		return g.Group.DisplayName
	}
	return id
}

// groupExists reports whether Gather read the group; groups it did not try (not in the
// configuration) count as existing.
func groupExists(f Facts, id string) bool {
	g, ok := f.Groups[strings.ToLower(id)]
	return !ok || g.Err == nil
}

// tapGroups are the groups whose members tapbot must be able to give a pass: the new
// hires and, when /tap is limited to scope groups, those.
func tapGroups(cfg Config) []string {
	return union(cfg.OnboardingGroups, cfg.ScopeGroups)
}

// authenticatorGroups are the groups who must be able to use phone sign-in: the new
// hires, or the scope groups when no onboarding group is configured.
func authenticatorGroups(cfg Config) ([]string, string) {
	if len(cfg.OnboardingGroups) > 0 {
		return cfg.OnboardingGroups, "TAPBOT_ONBOARDING_GROUPS"
	}
	return cfg.ScopeGroups, "TAPBOT_SCOPE_GROUPS"
}

func union(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, id := range l {
			if !containsID(out, id) {
				out = append(out, id)
			}
		}
	}
	return out
}

func checkTAP(f Facts, cfg Config) []Item {
	enabled := checkMethodEnabled("tap.enabled", "Temporary Access Pass", f.TAPErr, f.TAP.Enabled,
		"The Temporary Access Pass method is disabled in the tenant's authentication-methods policy: nobody can be given a pass, by tapbot or anyone.",
		Change{ID: ChangeTAPEnable, Description: "Enable the Temporary Access Pass method."})
	if f.TAPErr != nil {
		return []Item{enabled}
	}
	return []Item{enabled, checkTAPTargets(f, cfg), checkTAPLifetimes(f.TAP)}
}

// checkMethodEnabled is the item on whether an authentication method is enabled in
// the tenant's policy. title is the method's name in the admin centre; readErr is
// why its policy could not be read; disabled says what is lost when it is off, and
// enable is the change that fixes that.
func checkMethodEnabled(id, title string, readErr error, enabled bool, disabled string, enable Change) Item {
	it := Item{ID: id, Title: title}
	switch {
	case readErr != nil:
		it.Status, it.Detail = explain(readErr, "the "+title+" policy", "Policy.Read.AuthenticationMethod")
		it.Fix = "Grant Policy.Read.AuthenticationMethod to tapbot's app if it is missing, then run the check again."
	case enabled:
		it.Status, it.Detail = OK, "The method is enabled."
	default:
		it.Status, it.Detail = Fail, disabled
		it.Fix = "Enable it (" + policiesPortal + " → " + title + "), or run `tapbot doctor --fix` on the server."
		it.Fixable, it.change = true, &enable
	}
	return it
}

func checkTAPTargets(f Facts, cfg Config) Item {
	it := Item{ID: "tap.targets", Title: "TAP policy targets"}
	p := f.TAP
	want := tapGroups(cfg)
	excluded := intersect(want, p.ExcludeTargets)
	var missing []string
	if !containsID(p.IncludeTargets, graph.AllUsers) {
		for _, g := range want {
			if !containsID(p.IncludeTargets, g) {
				missing = append(missing, g)
			}
		}
	}
	switch {
	case len(want) == 0 && containsID(p.IncludeTargets, graph.AllUsers):
		it.Status, it.Detail = OK, "The policy targets all users."
		return it
	case len(want) == 0:
		it.Status = Warn
		it.Detail = "The policy targets " + orNone(names(f, p.IncludeTargets)) + ", and no onboarding or scope group is configured, so whether new hires are covered cannot be checked."
		it.Fix = "Set TAPBOT_ONBOARDING_GROUPS to the group(s) new hires are put in."
		return it
	case len(missing) == 0 && len(excluded) == 0:
		it.Status = OK
		if containsID(p.IncludeTargets, graph.AllUsers) {
			it.Detail = "The policy targets all users."
		} else {
			it.Detail = "The policy targets " + names(f, want) + "."
		}
		return it
	}
	it.Status = Fail
	var details, fixes []string
	if len(missing) > 0 {
		details = append(details, names(f, missing)+" "+isAre(len(missing))+" not among the policy's targets, so "+theirMembers(len(missing))+" cannot be given a pass (Graph refuses it). A group nested in a targeted group is covered through it; then this can be ignored.")
	}
	if len(excluded) > 0 {
		details = append(details, names(f, excluded)+" "+isAre(len(excluded))+" excluded from the policy.")
		fixes = append(fixes, "Remove "+names(f, excluded)+" from the policy's excluded groups ("+policiesPortal+" → Temporary Access Pass) if new hires are in "+itThem(len(excluded))+".")
	}
	fixable := existing(f, missing)
	if len(missing) > 0 {
		fix := "Add " + names(f, missing) + " to the policy's targets (" + policiesPortal + " → Temporary Access Pass → Enable and target)"
		if len(fixable) > 0 {
			fix += ", or run `tapbot doctor --fix` on the server"
			it.Fixable = true
			it.change = &Change{ID: ChangeTAPTargets, Groups: fixable,
				Description: "Add " + names(f, fixable) + " to the Temporary Access Pass policy's targets."}
		}
		fixes = append([]string{fix + "."}, fixes...)
	}
	if len(fixable) < len(missing) {
		details = append(details, "Groups that do not exist cannot be added: see the group checks.")
	}
	it.Detail = strings.Join(details, " ")
	it.Fix = strings.Join(fixes, " ")
	return it
}

func checkTAPLifetimes(p graph.TAPPolicy) Item {
	it := Item{ID: "tap.lifetime", Title: "TAP lifetimes"}
	once := "Passes can be used several times until they expire, which lets a new hire sign in on the phone and then on the laptop with one pass."
	if p.UsableOnce {
		once = "The policy makes every pass one-time use: a new hire who needs it twice (phone, then laptop, or after an Autopilot reboot) needs a second pass from the helpdesk."
	}
	facts := fmt.Sprintf("Default %s, allowed %s to %s. %s", duration(p.DefaultLifetime), duration(p.MinLifetime), duration(p.MaxLifetime), once)
	switch {
	case p.DefaultLifetime < p.MinLifetime || p.DefaultLifetime > p.MaxLifetime:
		it.Status = Warn
		it.Detail = "The default lifetime is outside the allowed range. " + facts
	case p.DefaultLifetime > longestSensible:
		it.Status = Warn
		it.Detail = "The default lifetime is long for a credential that is read out on a call. " + facts
	case p.DefaultLifetime < shortestSensible:
		it.Status = Warn
		it.Detail = "The default lifetime may run out before a new hire has registered Authenticator and set up the laptop. " + facts
	default:
		it.Status = OK
		it.Detail = facts
		return it
	}
	it.Fix = "Set the default lifetime to " + duration(recommendedLifetime) + " (" + policiesPortal + " → Temporary Access Pass → Configure); the helpdesk can still ask for another lifetime with /tap."
	return it
}

func checkAuthenticator(f Facts, cfg Config) []Item {
	enabled := checkMethodEnabled("authenticator.enabled", "Microsoft Authenticator", f.AuthenticatorErr, f.Authenticator.Enabled,
		"Microsoft Authenticator is disabled: new hires cannot register the app, so there is no phone sign-in and no passwordless start.",
		Change{ID: ChangeAuthenticatorEnable, Description: "Enable Microsoft Authenticator."})
	if f.AuthenticatorErr != nil {
		return []Item{enabled}
	}
	return []Item{enabled, checkAuthenticatorTargets(f, cfg)}
}

// pushOnlyWhy is docs/flow.md's pitfall, in an administrator's words.
const pushOnlyWhy = "Push alone makes Authenticator a second factor only: phone sign-in is off, and Windows setup (Autopilot) keeps asking the new hire for a password nobody knows."

func checkAuthenticatorTargets(f Facts, cfg Config) Item {
	it := Item{ID: "authenticator.targets", Title: "Authenticator phone sign-in"}
	p := f.Authenticator
	want, setting := authenticatorGroups(cfg)
	if len(want) == 0 {
		if passwordlessFor(p.Targets, graph.AllUsers) {
			it.Status, it.Detail = OK, "All users can use Authenticator with phone sign-in (mode "+modeOf(p.Targets, graph.AllUsers)+")."
			return it
		}
		it.Status = Warn
		it.Detail = "The policy targets " + orNone(targetList(f, p.Targets)) + ", and no onboarding group is configured, so whether new hires can use phone sign-in cannot be checked."
		it.Fix = "Set TAPBOT_ONBOARDING_GROUPS to the group(s) new hires are put in."
		return it
	}
	excluded := intersect(want, p.Exclude)
	var untargeted, pushOnly, unknown []string
	for _, g := range want {
		switch {
		case passwordlessFor(p.Targets, g):
		case hasUnknownMode(p.Targets, g):
			unknown = append(unknown, g)
		case targeted(p.Targets, g):
			pushOnly = append(pushOnly, g)
		default:
			untargeted = append(untargeted, g)
		}
	}
	if len(untargeted)+len(pushOnly)+len(unknown)+len(excluded) == 0 {
		it.Status = OK
		if passwordlessFor(p.Targets, graph.AllUsers) {
			it.Detail = "All users can use Authenticator with phone sign-in (mode " + modeOf(p.Targets, graph.AllUsers) + ")."
		} else {
			it.Detail = names(f, want) + " can use Authenticator with phone sign-in."
		}
		return it
	}
	var details, fixes []string
	if len(untargeted) > 0 {
		details = append(details, names(f, untargeted)+" "+isAre(len(untargeted))+" not among the Authenticator policy's targets ("+setting+").")
	}
	if len(pushOnly) > 0 {
		details = append(details, names(f, pushOnly)+" "+isAre(len(pushOnly))+" covered in authentication mode push only. "+pushOnlyWhy)
	}
	if len(excluded) > 0 {
		details = append(details, names(f, excluded)+" "+isAre(len(excluded))+" excluded from the Authenticator policy.")
		fixes = append(fixes, "Remove "+names(f, excluded)+" from the policy's excluded groups if new hires are in "+itThem(len(excluded))+".")
	}
	it.Status = Fail
	if len(unknown) > 0 {
		details = append(details, names(f, unknown)+" "+isAre(len(unknown))+" targeted in an authentication mode tapbot does not know; check it allows phone sign-in.")
		fixes = append(fixes, "Check the authentication mode of "+names(f, unknown)+" ("+policiesPortal+" → Microsoft Authenticator): Any or Passwordless allow phone sign-in.")
		if len(untargeted)+len(pushOnly)+len(excluded) == 0 {
			it.Status = Warn
		}
	}
	fixGroups := existing(f, append(append([]string(nil), untargeted...), pushOnly...))
	if len(untargeted)+len(pushOnly) > 0 {
		fix := "Target " + names(f, append(append([]string(nil), untargeted...), pushOnly...)) + " with authentication mode Any (" + policiesPortal + " → Microsoft Authenticator → Enable and target)"
		if len(fixGroups) > 0 {
			fix += ", or run `tapbot doctor --fix` on the server"
			it.Fixable = true
			it.change = &Change{ID: ChangeAuthenticatorTargets, Groups: fixGroups,
				Description: "Target " + names(f, fixGroups) + " in the Microsoft Authenticator policy with authentication mode any (push and phone sign-in)."}
		}
		fixes = append([]string{fix + "."}, fixes...)
	}
	it.Detail = strings.Join(details, " ")
	it.Fix = strings.Join(fixes, " ")
	return it
}

func targeted(ts []graph.AuthenticatorTarget, g string) bool {
	for _, t := range ts {
		if t.ID == graph.AllUsers || strings.EqualFold(t.ID, g) {
			return true
		}
	}
	return false
}

func hasUnknownMode(ts []graph.AuthenticatorTarget, g string) bool {
	for _, t := range ts {
		if (t.ID == graph.AllUsers || strings.EqualFold(t.ID, g)) && t.Mode != graph.AuthenticatorPush && !t.Passwordless() {
			return true
		}
	}
	return false
}

func modeOf(ts []graph.AuthenticatorTarget, id string) string {
	for _, t := range ts {
		if strings.EqualFold(t.ID, id) {
			return t.Mode
		}
	}
	return ""
}

func targetList(f Facts, ts []graph.AuthenticatorTarget) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = name(f, t.ID) + " (mode " + t.Mode + ")"
	}
	return strings.Join(parts, ", ")
}

// groupKind is one configuration setting that names groups.
type groupKind struct {
	id, title, setting string
	ids                []string
	required           bool
	unset              string // what an empty setting means
}

func groupKinds(cfg Config) []groupKind {
	return []groupKind{
		{"groups.helpdesk", "Helpdesk groups", "TAPBOT_HELPDESK_GROUPS", cfg.HelpdeskGroups, true, "nobody may use /tap, /revoke or /status"},
		{"groups.onboarding", "Onboarding groups", "TAPBOT_ONBOARDING_GROUPS", cfg.OnboardingGroups, false, "the scope groups stand for the new hires in the policy checks"},
		{"groups.scope", "Scope groups", "TAPBOT_SCOPE_GROUPS", cfg.ScopeGroups, false, "any member who passes the other checks can be given a pass"},
		{"groups.protected", "Protected groups", "TAPBOT_PROTECTED_GROUPS", cfg.ProtectedGroups, false, "only role holders, guests and disabled accounts are refused a pass"},
		{"groups.auditor", "Auditor groups", "TAPBOT_AUDITOR_GROUPS", cfg.AuditorGroups, false, "/audit is off; `tapbot audit` on the server still works"},
		{"groups.admin", "Admin groups", "TAPBOT_ADMIN_GROUPS", cfg.AdminGroups, false, "/doctor is off in Teams; `tapbot doctor` on the server still works"},
		{"groups.approvers", "Approver groups", "TAPBOT_APPROVER_GROUPS", cfg.ApproverGroups, false, "onboarding (/onboard) is off"},
	}
}

// checkApproversConversation: approval cards can only be posted to a conversation
// whose reference tapbot stored, and a request whose card cannot be posted waits.
func checkApproversConversation(f Facts, cfg Config) Item {
	it := Item{ID: "conversation.approvers", Title: "Approvers' conversation"}
	switch {
	case cfg.ApproversConversation == "":
		it.Status, it.Detail = Fail, "TAPBOT_APPROVER_GROUPS is set but TAPBOT_APPROVERS_CONVERSATION is not: approval cards have nowhere to go."
		it.Fix = "Set TAPBOT_APPROVERS_CONVERSATION to the id of the approvers' Teams channel."
	case f.ApproversRef == nil:
		it.Status, it.Detail = OK, "tapbot knows the conversation "+cfg.ApproversConversation+" and can post approval cards there."
	case errors.Is(f.ApproversRef, ErrNotChecked):
		it.Status, it.Detail = Warn, "Not checked here: there is no tapbot database to read the conversation from."
		it.Fix = "Run /doctor in Teams: it reads the server's own database."
	case errors.Is(f.ApproversRef, store.ErrNotFound):
		it.Status, it.Detail = Fail, "tapbot has no reference to "+cfg.ApproversConversation+": it cannot post approval cards there, so onboarding requests wait."
		it.Fix = "Add tapbot to the approvers' team and @mention it once in that channel (for example \"@tapbot help\"), so that it stores the conversation."
	default:
		it.Status, it.Detail = Warn, "Could not read tapbot's database: "+f.ApproversRef.Error()
	}
	return it
}

func checkGroups(f Facts, cfg Config) []Item {
	var items []Item
	for _, k := range groupKinds(cfg) {
		it := Item{ID: k.id, Title: k.title}
		if len(k.ids) == 0 {
			it.Status, it.Detail = OK, "Not set ("+k.setting+"): "+k.unset+"."
			if k.required {
				it.Status = Fail
				it.Fix = "Set " + k.setting + " to the object id(s) of the Entra group(s) whose members may create passes."
			}
			items = append(items, it)
			continue
		}
		var found, notFound, unreadable []string
		status := OK
		var problem string
		for _, id := range k.ids {
			g := f.Groups[strings.ToLower(id)]
			switch {
			case g.Err == nil:
				found = append(found, fmt.Sprintf("%s (%s)", orID(g.Group.DisplayName, id), id))
			case errors.Is(g.Err, graph.ErrNotFound):
				notFound = append(notFound, id)
			default:
				unreadable = append(unreadable, id)
				s, d := explain(g.Err, "group "+id, "GroupMember.Read.All")
				if s == Fail || status == OK {
					status, problem = s, d
				}
			}
		}
		var parts []string
		if len(found) > 0 {
			parts = append(parts, "Found: "+strings.Join(found, ", ")+".")
		}
		if len(notFound) > 0 {
			status = Fail
			parts = append(parts, "No group in the tenant has the id "+strings.Join(notFound, ", ")+".")
			it.Fix = "Correct " + k.setting + ": use the group's Object ID (Entra admin centre → Groups → the group → Overview)."
		}
		if len(unreadable) > 0 {
			parts = append(parts, problem)
			if it.Fix == "" {
				it.Fix = "Grant GroupMember.Read.All to tapbot's app if it is missing, then run the check again."
			}
		}
		it.Status = status
		it.Detail = strings.Join(parts, " ")
		items = append(items, it)
	}
	return items
}

// existing keeps the groups Gather found (or did not try).
func existing(f Facts, ids []string) []string {
	var out []string
	for _, id := range ids {
		if groupExists(f, id) {
			out = append(out, id)
		}
	}
	return out
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if containsID(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func orID(name, id string) string {
	if name == "" {
		return id
	}
	return name
}

func orNone(s string) string {
	if s == "" {
		return "nobody"
	}
	return s
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

func theirMembers(n int) string {
	if n == 1 {
		return "its members"
	}
	return "their members"
}

func itThem(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// duration writes a lifetime as people say it: 1 h, 90 min, 2 days.
func duration(d time.Duration) string {
	switch {
	case d == 0:
		return "unset"
	case d%(24*time.Hour) == 0:
		n := int(d / (24 * time.Hour))
		if n == 1 {
			return "1 day"
		}
		return fmt.Sprintf("%d days", n)
	case d%time.Hour == 0:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	default:
		return fmt.Sprintf("%d min", int(d/time.Minute))
	}
}
