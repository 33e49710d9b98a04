package doctor

import (
	"fmt"
	"slices"
	"strings"
)

// Permission is a Microsoft Graph application permission tapbot needs
// (graph/msgraph/PERMISSIONS.md).
type Permission struct {
	Name string
	// Also lists permissions that grant it and nothing tapbot would rather not have:
	// having one of them is as good as having Name.
	Also []string
	// Broader lists permissions that grant it and much more: they work, and the
	// least-privilege check asks for Name instead.
	Broader []string
}

// Required is what tapbot needs to run, the set PERMISSIONS.md tells admins to grant.
var Required = []Permission{
	{Name: "User.Read.All", Broader: []string{"User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}},
	{Name: "GroupMember.Read.All", Broader: []string{"GroupMember.ReadWrite.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}},
	{Name: "RoleManagement.Read.Directory", Broader: []string{"RoleManagement.ReadWrite.Directory", "Directory.Read.All", "Directory.ReadWrite.All"}},
	// PIM for Groups eligibility (roles reachable by activating group membership).
	{Name: "PrivilegedEligibilitySchedule.Read.AzureADGroup", Broader: []string{"PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup"}},
	{Name: "Policy.Read.AuthenticationMethod", Also: []string{FixPermission}, Broader: []string{"Policy.Read.All"}},
	{Name: "UserAuthMethod-TAP.ReadWrite.All", Broader: []string{"UserAuthenticationMethod.ReadWrite.All"}},
	{Name: "UserAuthenticationMethod.Read.All", Broader: []string{"UserAuthenticationMethod.ReadWrite.All"}},
}

// FixPermission is what `tapbot doctor --fix` needs on top of Required to change the
// authentication-methods policies. The bot itself never uses it.
const FixPermission = "Policy.ReadWrite.AuthenticationMethod"

// OverBroad are permissions people grant out of habit that give tapbot far more than
// it uses, with what each allows.
var OverBroad = []struct{ Name, Allows string }{
	{"UserAuthenticationMethod.ReadWrite.All", "change or delete every sign-in method of every user"},
	{"Directory.ReadWrite.All", "change almost anything in the directory"},
	{"Directory.Read.All", "read the whole directory"},
	{"Policy.Read.All", "read every policy of the tenant, Conditional Access included"},
}

// RequiredNames lists the names of Required, in order.
func RequiredNames() []string {
	out := make([]string, len(Required))
	for i, p := range Required {
		out[i] = p.Name
	}
	return out
}

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

// checkPermissions compares the token's roles with Required and OverBroad.
func checkPermissions(f Facts) []Item {
	perms := Item{ID: "permissions", Title: "Graph permissions"}
	broad := Item{ID: "permissions.least-privilege", Title: "Least privilege"}
	if f.RolesErr != nil {
		perms.Status = Warn
		perms.Detail = "The permissions in tapbot's Microsoft Graph token could not be read (" + short(f.RolesErr) + "), so they were not checked."
		perms.Fix = "Check them in the Entra admin centre: App registrations → tapbot's app → API permissions. Grant, with admin consent, these Microsoft Graph application permissions: " + strings.Join(RequiredNames(), ", ") + "."
		broad.Status = Warn
		broad.Detail = "Not checked: the token's permissions could not be read."
		broad.Fix = "In API permissions, remove any of " + strings.Join(overBroadNames(), ", ") + " if granted."
		return []Item{perms, broad}
	}

	var missing, coveredBroadly []string
	for _, p := range Required {
		if hasRole(f.Roles, p.Name) || anyRole(f.Roles, p.Also) != "" {
			continue
		}
		if b := anyRole(f.Roles, p.Broader); b != "" {
			coveredBroadly = append(coveredBroadly, fmt.Sprintf("%s (only through %s)", p.Name, b))
			continue
		}
		missing = append(missing, p.Name)
	}
	fixNote := FixPermission + " is granted: it lets tapbot change every authentication-method policy and is only needed while you run `tapbot doctor --fix`; consider removing it afterwards."
	if !hasRole(f.Roles, FixPermission) {
		fixNote = "`tapbot doctor --fix` would also need " + FixPermission + ", which is not granted (the bot itself does not need it)."
	}
	if len(missing) > 0 {
		perms.Status = Fail
		perms.Detail = "Missing: " + strings.Join(missing, ", ") + ". Without them tapbot fails or refuses every pass. " + fixNote
		perms.Fix = "Grant these Microsoft Graph application permissions to tapbot's app and give admin consent (Entra admin centre → App registrations → tapbot's app → API permissions): " + strings.Join(missing, ", ") + "."
	} else {
		perms.Status = OK
		perms.Detail = fmt.Sprintf("All %d permissions tapbot needs are granted. %s", len(Required), fixNote)
	}

	var extra []string
	for _, o := range OverBroad {
		if hasRole(f.Roles, o.Name) {
			extra = append(extra, fmt.Sprintf("%s (can %s)", o.Name, o.Allows))
		}
	}
	switch {
	case len(extra) == 0 && len(coveredBroadly) == 0:
		broad.Status = OK
		broad.Detail = "No permission broader than tapbot needs."
	default:
		broad.Status = Warn
		var parts []string
		if len(extra) > 0 {
			parts = append(parts, "Granted but broader than tapbot needs: "+strings.Join(extra, "; ")+".")
		}
		if len(coveredBroadly) > 0 {
			parts = append(parts, "Covered only by a broader permission: "+strings.Join(coveredBroadly, "; ")+".")
		}
		broad.Detail = strings.Join(parts, " ")
		broad.Fix = "Grant less: tapbot needs exactly " + strings.Join(RequiredNames(), ", ") + ". Remove the broader permissions once the narrow ones are granted."
	}
	return []Item{perms, broad}
}

func overBroadNames() []string {
	out := make([]string, len(OverBroad))
	for i, o := range OverBroad {
		out[i] = o.Name
	}
	return out
}
