package tap

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tapbot/tapbot/graph"
)

// Rules are the tenant-specific limits on who may get a TAP from tapbot, on top of
// Entra's own policy. tapbot holds an application permission that can create a TAP for
// anyone, administrators included, so these rules are the gate.
type Rules struct {
	// ProtectedGroups: members (transitive) never get a TAP from tapbot.
	ProtectedGroups []string
	// ScopeGroups: when set, only members (transitive) of one of them may get a TAP.
	ScopeGroups []string
	// AllowedRoles are role template ids harmless enough not to block a TAP (e.g.
	// Directory Readers). Any other active or eligible role blocks it.
	AllowedRoles []string
}

// Refusal explains why no TAP is issued: Code for audit and metrics, Message for the
// person who asked.
type Refusal struct {
	Code    string
	Message string
}

func (r *Refusal) Error() string { return "refused: " + r.Code }

func refuse(code, format string, args ...any) *Refusal {
	return &Refusal{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Grant is what a TAP may be created with once every check passed.
type Grant struct {
	Start    time.Time // zero: valid at once
	Lifetime time.Duration
	Once     bool
}

// groupsToCheck lists the group ids whose membership the checks need, so the caller
// can ask Graph for all of them in one request.
func groupsToCheck(rules Rules, p graph.TAPPolicy) []string {
	var ids []string
	add := func(list []string) {
		for _, id := range list {
			if id != graph.AllUsers && !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	add(rules.ProtectedGroups)
	add(rules.ScopeGroups)
	add(p.IncludeTargets)
	add(p.ExcludeTargets)
	return ids
}

// Check decides whether requesterID may get a TAP for target. It is a pure function:
// every refusal has a table test.
func Check(requesterID string, t graph.Target, p graph.TAPPolicy, req Request, rules Rules) (Grant, *Refusal) {
	u := t.User
	name := u.UserPrincipalName
	switch {
	case strings.EqualFold(u.ID, requesterID):
		return Grant{}, refuse("self", "You can't create a pass for yourself. Ask a colleague on the helpdesk.")
	case u.IsGuest():
		return Grant{}, refuse("guest", "%s is a guest account. Guests sign in with their home organisation and don't get passes here.", name)
	case !u.AccountEnabled:
		return Grant{}, refuse("disabled", "%s's account is disabled. If it should be in use, enable it first, then ask again.", name)
	}
	if r := roleRefusal(name, t, rules); r != nil {
		return Grant{}, r
	}
	if anyIn(t.MemberOf, rules.ProtectedGroups) {
		return Grant{}, refuse("protected_group", "%s is in a protected group. tapbot doesn't issue passes for protected accounts.", name)
	}
	if len(rules.ScopeGroups) > 0 && !anyIn(t.MemberOf, rules.ScopeGroups) {
		return Grant{}, refuse("out_of_scope", "%s is outside the people tapbot may issue passes for (the configured scope groups).", name)
	}
	if !p.Enabled {
		return Grant{}, refuse("policy_disabled", "Temporary Access Pass is turned off in this tenant's authentication methods policy. An admin must enable it (Entra admin center → Protection → Authentication methods → Temporary Access Pass).")
	}
	if anyIn(t.MemberOf, p.ExcludeTargets) {
		return Grant{}, refuse("policy_excluded", "%s is in a group the tenant's Temporary Access Pass policy excludes. An admin must change the policy's exclusions for a pass to work.", name)
	}
	if !slices.Contains(p.IncludeTargets, graph.AllUsers) && !anyIn(t.MemberOf, p.IncludeTargets) {
		return Grant{}, refuse("policy_not_targeted", "The tenant's Temporary Access Pass policy doesn't include %s. An admin must add a group %s is in (for example the new-hires group) to the policy's targets.", name, name)
	}

	g := Grant{Start: req.Start, Lifetime: req.Lifetime, Once: req.Once || p.UsableOnce}
	if g.Lifetime == 0 {
		g.Lifetime = p.DefaultLifetime
	}
	if (p.MinLifetime > 0 && g.Lifetime < p.MinLifetime) || (p.MaxLifetime > 0 && g.Lifetime > p.MaxLifetime) {
		return Grant{}, refuse("lifetime_out_of_range", "The tenant allows passes that live from %s to %s; you asked for %s.",
			FormatLifetime(p.MinLifetime), FormatLifetime(p.MaxLifetime), FormatLifetime(g.Lifetime))
	}
	return g, nil
}

// CheckTarget applies only Check's target protection (directory roles, protected
// groups, scope) for an action that creates no pass, such as a revocation: deleting an
// administrator's pass is no helpdesk task either. It calls Check with the other rules
// neutralised, so that the target rules live in one place: no requester is the
// target, the account counts as an enabled member, and the policy allows anyone.
func CheckTarget(t graph.Target, rules Rules) *Refusal {
	t.User.UserType, t.User.AccountEnabled = "Member", true
	_, r := Check("", t, graph.TAPPolicy{Enabled: true, IncludeTargets: []string{graph.AllUsers}}, Request{}, rules)
	return r
}

func anyIn(have, want []string) bool {
	for _, w := range want {
		if slices.ContainsFunc(have, func(h string) bool { return strings.EqualFold(h, w) }) {
			return true
		}
	}
	return false
}

// adminsElsewhere is where passes for administrators come from instead.
const adminsElsewhere = "Passes for administrators are issued by a Privileged Authentication Administrator in the Entra admin center, not by tapbot."

// roleRefusal refuses any role, active or eligible, built-in or custom, at any scope,
// whose template is not allowed; then any doubt about the roles (fail closed).
func roleRefusal(name string, t graph.Target, rules Rules) *Refusal {
	for _, r := range t.Roles {
		if r.RoleTemplateID != "" && slices.Contains(rules.AllowedRoles, r.RoleTemplateID) {
			continue
		}
		if r.Eligible {
			return refuse("eligible_role", "%s is eligible for %s%s and could activate it at any time. %s", name, roleName(r), howHeld(r), adminsElsewhere)
		}
		return refuse("privileged_role", "%s holds %s%s. %s", name, roleName(r), howHeld(r), adminsElsewhere)
	}
	if t.RolesUnknown != "" {
		return refuse("roles_unknown", "I couldn't find out which directory roles %s holds (%s), so I can't rule out that they are an administrator and won't issue a pass. Try again in a minute; if it keeps happening, an admin should run `tapbot doctor`.", name, t.RolesUnknown)
	}
	return nil
}

func roleName(r graph.Role) string {
	kind := "the directory role"
	if r.ID != "" && !r.BuiltIn {
		kind = "the custom directory role"
	}
	switch {
	case r.DisplayName != "":
		return kind + " " + r.DisplayName
	case r.RoleTemplateID != "":
		return kind + " " + r.RoleTemplateID
	}
	return "a directory role Graph did not name (" + r.ID + ")"
}

// howHeld says through what and where a role applies, so the helpdesk can explain it.
func howHeld(r graph.Role) string {
	var s string
	switch {
	case r.ViaPIM:
		s = " through the group " + groupName(r) + ", which they can join through PIM for Groups"
	case r.Via != "":
		s = " through the group " + groupName(r)
	}
	if r.Scope != "" && r.Scope != graph.TenantWide {
		s += " (scoped to an administrative unit: " + r.Scope + ")"
	}
	return s
}

func groupName(r graph.Role) string {
	if r.ViaName != "" {
		return r.ViaName
	}
	return r.Via
}

// Existing returns the TAP that a new one would replace: one that is usable now or
// will become usable.
func Existing(taps []graph.TAP, now time.Time) (graph.TAP, bool) {
	for _, t := range taps {
		if t.Expires().After(now) && t.UsabilityReason != "OneTimeUsed" {
			return t, true
		}
	}
	return graph.TAP{}, false
}
