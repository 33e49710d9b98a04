package graph

import (
	"fmt"
	"slices"
	"strings"
)

//go:generate go run ../cmd/tapbot permissions -write ..

// Feature is a part of tapbot that configuration switches on. Each needs its own
// Microsoft Graph application permissions (Calls).
type Feature string

// tapbot's features, in the order the documents list them.
const (
	// FeatureTAP is /tap, /revoke and /status: always on.
	FeatureTAP Feature = "tap"
	// FeatureChecklist is the set-up checklist's evidence (methods and devices): always on.
	FeatureChecklist Feature = "checklist"
	// FeatureDoctor is `tapbot doctor`, /doctor and `tapbot doctor --probe`: always on.
	FeatureDoctor Feature = "doctor"
	// FeatureOnboarding is /onboard: on when approver groups are configured
	// (TAPBOT_APPROVER_GROUPS).
	FeatureOnboarding Feature = "onboarding"
	// FeatureRoleAssignableGroups is onboarding into a role-assignable group: only
	// when a group new hires are put in is role-assignable. Never required by doctor
	// (it cannot tell), never flagged when onboarding is on.
	FeatureRoleAssignableGroups Feature = "onboarding-role-assignable"
	// FeatureChecklistInstall installs tapbot for a new hire so it can message them
	// first: on when TAPBOT_TEAMS_APP_ID is set.
	FeatureChecklistInstall Feature = "checklist-install"
	// FeatureDoctorFix is `tapbot doctor --fix`: grant it while fixing only.
	FeatureDoctorFix Feature = "doctor-fix"
	// FeatureJoiners takes on users HR-driven provisioning created, by their
	// employeeHireDate: on when TAPBOT_JOINER_GROUPS is set.
	FeatureJoiners Feature = "joiners"
	// FeatureDevices is doctor's device side (Intune: Windows Hello for Business
	// enrollment, Autopilot profiles): optional, on when its permission is granted.
	FeatureDevices Feature = "devices"
)

// Features lists every feature, in document order.
var Features = []Feature{FeatureTAP, FeatureChecklist, FeatureDoctor, FeatureOnboarding,
	FeatureRoleAssignableGroups, FeatureChecklistInstall, FeatureDoctorFix, FeatureJoiners, FeatureDevices}

// featureText describes each feature and what switches it on, for the documents.
var featureText = map[Feature]string{
	FeatureTAP:                  "Temporary Access Passes (`/tap`, `/revoke`, `/status`) — always",
	FeatureChecklist:            "Set-up checklist evidence (`/checklist`, `/status`) — always",
	FeatureDoctor:               "Tenant check (`tapbot doctor`, `/doctor`, `--probe`) — always",
	FeatureOnboarding:           "Onboarding (`/onboard`) — when `TAPBOT_APPROVER_GROUPS` is set",
	FeatureRoleAssignableGroups: "Onboarding into a role-assignable group — only if a group new hires are added to is role-assignable",
	FeatureChecklistInstall:     "Installing tapbot for a new hire — when `TAPBOT_TEAMS_APP_ID` is set",
	FeatureDoctorFix:            "`tapbot doctor --fix` — only while you run it; remove it afterwards",
	FeatureJoiners:              "Joiners from `employeeHireDate` (HR-driven provisioning) — when `TAPBOT_JOINER_GROUPS` is set",
	FeatureDevices:              "Device checks in `tapbot doctor` and `/doctor` (Intune: Windows Hello for Business enrollment, Autopilot profiles) — optional: without it doctor skips them and says why",
}

// Call is one Graph request tapbot makes, with the least privileged application
// permission(s) Microsoft documents for it on the page Doc.
type Call struct {
	Feature Feature
	Methods []string // the graph/msgraph client methods that make it
	Request string   // method and path, as the documents show it
	// Permissions are all needed together (checkMemberGroups needs a user and a group
	// permission); each is the least privileged one the page lists for applications.
	Permissions []string
	Doc         string // Microsoft's v1.0 page for the call
	Why         string
	// Read marks a request `tapbot doctor --probe` may make: it changes nothing.
	Read bool
}

// Permission describes one application permission: what else grants what it grants.
type Permission struct {
	Name string
	// Also are permissions that include this one and nothing tapbot would rather
	// not have: holding one of them is as good as holding Name.
	Also []string
	// Broader are permissions Microsoft lists as higher privileged for the calls that
	// need Name: they work, but grant much more unless tapbot needs them anyway.
	Broader []string
	// Note is said to an administrator who holds a Broader one instead of Name.
	Note string
}

// Calls is tapbot's permission table: every Graph request it makes.
var Calls = []Call{
	{FeatureTAP, []string{"User", "UserByMail"}, "`GET /users/{id | upn}?$select=…`, `GET /users?$filter=mail eq '…'`",
		[]string{"User.Read.All"}, "https://learn.microsoft.com/en-us/graph/api/user-get",
		"`userType` and `accountEnabled` (guest and disabled checks) are outside the basic profile.", true},
	{FeatureTAP, []string{"Manager"}, "`GET /users/{id}/manager`",
		[]string{"User.Read.All"}, "https://learn.microsoft.com/en-us/graph/api/user-list-manager",
		"Who may confirm a pass for an established account when the account itself can't (TAPBOT_TAP_VERIFY).", true},
	{FeatureTAP, []string{"CheckMemberGroups"}, "`POST /users/{id}/checkMemberGroups`",
		[]string{"User.Read.All", "GroupMember.Read.All"}, "https://learn.microsoft.com/en-us/graph/api/directoryobject-checkmembergroups",
		"Helpdesk, admin, protected, scope and policy-target groups, transitively. A user and a group permission together.", true},
	{FeatureTAP, []string{"Target"}, "`GET /users/{id}/transitiveMemberOf?$select=id,displayName,isAssignableToRole` (in the first `$batch`)",
		[]string{"User.Read.All", "GroupMember.Read.All"}, "https://learn.microsoft.com/en-us/graph/api/user-list-transitivememberof",
		"The groups whose roles are read too. Without a group permission groups come back with limited information (no `isAssignableToRole`) and the pass is refused.", true},
	{FeatureTAP, []string{"Target"}, "`GET /roleManagement/directory/roleAssignments?$filter=principalId in (…)&$expand=roleDefinition`",
		[]string{"RoleManagement.Read.Directory"}, "https://learn.microsoft.com/en-us/graph/api/rbacapplication-list-roleassignments",
		"Active roles of the user and of its role-assignable groups, any scope, built-in or custom.", true},
	{FeatureTAP, []string{"Target"}, "`GET /roleManagement/directory/roleEligibilityScheduleInstances?$filter=principalId eq '…'`",
		[]string{"RoleManagement.Read.Directory"}, "https://learn.microsoft.com/en-us/graph/api/rbacapplication-list-roleeligibilityscheduleinstances",
		"PIM-eligible roles. Without Entra ID P2 Graph answers `400 AadPremiumLicenseRequired`, read as \"no eligibility\".", true},
	{FeatureTAP, []string{"Target"}, "`GET /identityGovernance/privilegedAccess/group/eligibilityScheduleInstances?$filter=principalId eq '…'`",
		[]string{"PrivilegedEligibilitySchedule.Read.AzureADGroup"}, "https://learn.microsoft.com/en-us/graph/api/privilegedaccessgroup-list-eligibilityscheduleinstances",
		"Groups the user may join through PIM for Groups; their roles block the pass too.", true},
	{FeatureTAP, []string{"TAPPolicy"}, "`GET /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass`",
		[]string{"Policy.Read.AuthenticationMethod"}, "https://learn.microsoft.com/en-us/graph/api/temporaryaccesspassauthenticationmethodconfiguration-get",
		"State, lifetimes, one-time use and targets of the tenant's TAP policy.", true},
	{FeatureTAP, []string{"TAPs", "Target"}, "`GET /users/{id}/authentication/temporaryAccessPassMethods`",
		[]string{"UserAuthMethod-TAP.Read.All"}, "https://learn.microsoft.com/en-us/graph/api/authentication-list-temporaryaccesspassmethods",
		"An existing pass (never its value) before replacing it.", true},
	{FeatureTAP, []string{"CreateTAP"}, "`POST /users/{id}/authentication/temporaryAccessPassMethods`",
		[]string{"UserAuthMethod-TAP.ReadWrite.All"}, "https://learn.microsoft.com/en-us/graph/api/authentication-post-temporaryaccesspassmethods",
		"Creates the pass.", false},
	{FeatureTAP, []string{"DeleteTAP"}, "`DELETE /users/{id}/authentication/temporaryAccessPassMethods/{methodId}`",
		[]string{"UserAuthMethod-TAP.ReadWrite.All"}, "https://learn.microsoft.com/en-us/graph/api/temporaryaccesspassauthenticationmethod-delete",
		"Revocation and clean-up.", false},
	{FeatureChecklist, []string{"Methods", "Target"}, "`GET /users/{id}/authentication/methods` (also in /tap's first `$batch`)",
		[]string{"UserAuthenticationMethod.Read.All"}, "https://learn.microsoft.com/en-us/graph/api/authentication-list-methods",
		"Which methods the user registered; an Authenticator with `createdDateTime` null is registered for MFA push only, not phone sign-in.", true},
	{FeatureChecklist, []string{"RegisteredDevices"}, "`GET /users/{id}/registeredDevices/microsoft.graph.device`",
		[]string{"User.Read.All", "Device.Read.All"}, "https://learn.microsoft.com/en-us/graph/api/user-list-registereddevices",
		"The laptop step: a device the hire joined (`trustType` `AzureAd`, Entra joined, or `ServerAd`, hybrid joined). The phone registered for phone sign-in is in the list too (`Workplace`), so the join type matters: without `Device.Read.All` devices come back with limited information (id only) and the laptop step waits for Windows Hello.", true},
	{FeatureDoctor, []string{"AuthenticatorPolicy"}, "`GET /policies/authenticationMethodsPolicy/authenticationMethodConfigurations/MicrosoftAuthenticator`",
		[]string{"Policy.Read.AuthenticationMethod"}, "https://learn.microsoft.com/en-us/graph/api/microsoftauthenticatorauthenticationmethodconfiguration-get",
		"Authenticator enabled for new hires in a mode that allows phone sign-in.", true},
	{FeatureDoctor, []string{"Group"}, "`GET /groups/{id}?$select=id,displayName`",
		[]string{"GroupMember.Read.All"}, "https://learn.microsoft.com/en-us/graph/api/group-get",
		"The configured groups exist.", true},
	{FeatureOnboarding, []string{"UPNAvailable"}, "`GET /users/{upn}`, `GET /users?$filter=mail eq '…'`",
		[]string{"User.Read.All"}, "https://learn.microsoft.com/en-us/graph/api/user-list",
		"The new hire's UPN is free.", true},
	{FeatureOnboarding, []string{"Domains"}, "`GET /domains`",
		[]string{"Domain.Read.All"}, "https://learn.microsoft.com/en-us/graph/api/domain-list",
		"The verified domains a new UPN may use.", true},
	{FeatureOnboarding, []string{"SubscribedSKUs"}, "`GET /subscribedSkus`",
		[]string{"LicenseAssignment.Read.All"}, "https://learn.microsoft.com/en-us/graph/api/subscribedsku-list",
		"Licences with free units.", true},
	{FeatureOnboarding, []string{"CreateUser"}, "`POST /users`",
		[]string{"User.ReadWrite.All"}, "https://learn.microsoft.com/en-us/graph/api/user-post-users",
		"The new hire's account, with a random password nobody keeps. The next calls retry a 404 briefly (directory replication).", false},
	{FeatureOnboarding, []string{"SetUsageLocation"}, "`PATCH /users/{id}`",
		[]string{"User.ReadWrite.All"}, "https://learn.microsoft.com/en-us/graph/api/user-update",
		"The usage location a licence needs.", false},
	{FeatureOnboarding, []string{"AssignLicense"}, "`POST /users/{id}/assignLicense`",
		[]string{"LicenseAssignment.ReadWrite.All"}, "https://learn.microsoft.com/en-us/graph/api/user-assignlicense",
		"The licence. `User.ReadWrite.All`, which onboarding needs anyway, is listed as higher privileged and covers it.", false},
	{FeatureOnboarding, []string{"SetManager"}, "`PUT /users/{id}/manager/$ref`",
		[]string{"User.ReadWrite.All"}, "https://learn.microsoft.com/en-us/graph/api/user-post-manager",
		"The new hire's manager.", false},
	{FeatureOnboarding, []string{"AddGroupMember"}, "`POST /groups/{id}/members/$ref`",
		[]string{"GroupMember.ReadWrite.All"}, "https://learn.microsoft.com/en-us/graph/api/group-post-members",
		"The onboarding groups (the TAP and Authenticator policies target them).", false},
	{FeatureRoleAssignableGroups, []string{"AddGroupMember"}, "`POST /groups/{id}/members/$ref` (role-assignable group)",
		[]string{"GroupMember.ReadWrite.All", "RoleManagement.ReadWrite.Directory"}, "https://learn.microsoft.com/en-us/graph/api/group-post-members",
		"Adding members to a role-assignable group also needs `RoleManagement.ReadWrite.Directory`. Avoid it: put new hires in ordinary groups.", false},
	{FeatureChecklistInstall, []string{"InstallAppForUser"}, "`POST /users/{id}/teamwork/installedApps`",
		[]string{"TeamsAppInstallation.ReadWriteSelfForUser.All"}, "https://learn.microsoft.com/en-us/graph/api/userteamwork-post-installedapps",
		"Installs tapbot (itself only) for a new hire. Works only when the app's manifest has `webApplicationInfo.id` = the bot's app id (`tapbot manifest` writes it).", false},
	{FeatureChecklistInstall, []string{"InstallAppForUser"}, "`GET /users/{id}/teamwork/installedApps?$expand=teamsApp&$filter=teamsApp/id eq '…'`",
		[]string{"TeamsAppInstallation.ReadForUser.All"}, "https://learn.microsoft.com/en-us/graph/api/userteamwork-list-installedapps",
		"The installation after the install (or after 409: already installed).", true},
	{FeatureDoctorFix, []string{"UpdateTAPPolicy", "UpdateAuthenticatorPolicy"}, "`PATCH …/authenticationMethodConfigurations/{TemporaryAccessPass | MicrosoftAuthenticator}`",
		[]string{"Policy.ReadWrite.AuthenticationMethod"}, "https://learn.microsoft.com/en-us/graph/api/temporaryaccesspassauthenticationmethodconfiguration-update",
		"`tapbot doctor --fix` only. It can change every authentication-method policy.", false},
	{FeatureJoiners, []string{"Joiners"}, "`GET /users?$filter=employeeHireDate ge … and employeeHireDate le …&$count=true` with `ConsistencyLevel: eventual`",
		[]string{"User.Read.All"}, "https://learn.microsoft.com/en-us/graph/api/user-list",
		"Users who start within `TAPBOT_JOINER_LOOKAHEAD`. `employeeHireDate` filters only in advanced queries (https://learn.microsoft.com/en-us/graph/aad-advanced-queries).", true},
	{FeatureJoiners, []string{"CheckMemberGroups"}, "`POST /users/{id}/checkMemberGroups`",
		[]string{"User.Read.All", "GroupMember.Read.All"}, "https://learn.microsoft.com/en-us/graph/api/directoryobject-checkmembergroups",
		"Only joiners in `TAPBOT_ONBOARDING_GROUPS` or `TAPBOT_JOINER_GROUPS` are taken on.", true},
	{FeatureJoiners, []string{"Manager"}, "`GET /users/{id}/manager`",
		[]string{"User.Read.All"}, "https://learn.microsoft.com/en-us/graph/api/user-list-manager",
		"The joiner's manager: the checklist copy, reminders and, with `TAPBOT_STARTDAY_TAP_TO=manager`, the start-day pass.", true},
	{FeatureDevices, []string{"WHfBEnrollments"}, "`GET /deviceManagement/deviceEnrollmentConfigurations`",
		[]string{"DeviceManagementServiceConfig.Read.All"}, "https://learn.microsoft.com/en-us/graph/api/intune-onboarding-deviceenrollmentconfiguration-list",
		"Windows Hello for Business enabled in Intune's enrollment configuration (`deviceEnrollmentWindowsHelloForBusinessConfiguration`, `state`). v1.0; `DeviceManagementConfiguration.Read.All` also works. Needs an Intune licence.", true},
	{FeatureDevices, []string{"AutopilotProfiles"}, "`GET /beta/deviceManagement/windowsAutopilotDeploymentProfiles?$expand=assignments` (**beta only**)",
		[]string{"DeviceManagementServiceConfig.Read.All"}, "https://learn.microsoft.com/en-us/graph/api/intune-enrollment-windowsautopilotdeploymentprofile-list?view=graph-rest-beta",
		"An Autopilot deployment profile exists and is assigned. Graph has no v1.0 endpoint for it: this one call goes to beta, which Microsoft may change; doctor reads a failure as \"not checked\".", true},
}

// Permissions describes every permission Calls names.
var Permissions = map[string]Permission{
	"User.Read.All":                                   {Broader: []string{"User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}},
	"GroupMember.Read.All":                            {Broader: []string{"GroupMember.ReadWrite.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}},
	"RoleManagement.Read.Directory":                   {Broader: []string{"RoleManagement.ReadWrite.Directory", "Directory.Read.All", "Directory.ReadWrite.All"}},
	"PrivilegedEligibilitySchedule.Read.AzureADGroup": {Broader: []string{"PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup"}},
	"Policy.Read.AuthenticationMethod":                {Also: []string{"Policy.ReadWrite.AuthenticationMethod"}, Broader: []string{"Policy.Read.All"}},
	"UserAuthMethod-TAP.Read.All":                     {Also: []string{"UserAuthMethod-TAP.ReadWrite.All", "UserAuthenticationMethod.Read.All"}, Broader: []string{"UserAuthenticationMethod.ReadWrite.All"}},
	"UserAuthMethod-TAP.ReadWrite.All": {Broader: []string{"UserAuthenticationMethod.ReadWrite.All"},
		Note: "UserAuthenticationMethod.ReadWrite.All works (some Microsoft pages still list only it for creating and deleting a pass), but it can change or delete every sign-in method of every user. UserAuthMethod-TAP.ReadWrite.All is generally available and manages passes only: grant it, then remove the broad one."},
	"UserAuthenticationMethod.Read.All":             {Broader: []string{"UserAuthenticationMethod.ReadWrite.All"}},
	"Device.Read.All":                               {Broader: []string{"Device.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}},
	"User.ReadWrite.All":                            {Broader: []string{"Directory.ReadWrite.All"}},
	"Domain.Read.All":                               {Broader: []string{"Domain.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}},
	"LicenseAssignment.Read.All":                    {Broader: []string{"Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}},
	"LicenseAssignment.ReadWrite.All":               {Broader: []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}},
	"GroupMember.ReadWrite.All":                     {Broader: []string{"Group.ReadWrite.All", "Directory.ReadWrite.All"}},
	"RoleManagement.ReadWrite.Directory":            {},
	"TeamsAppInstallation.ReadWriteSelfForUser.All": {Broader: []string{"TeamsAppInstallation.ReadWriteForUser.All", "TeamsAppInstallation.ReadWriteAndConsentSelfForUser.All", "TeamsAppInstallation.ReadWriteAndConsentForUser.All"}},
	"TeamsAppInstallation.ReadForUser.All":          {Also: []string{"TeamsAppInstallation.ReadWriteSelfForUser.All"}, Broader: []string{"TeamsAppInstallation.ReadWriteForUser.All"}},
	"Policy.ReadWrite.AuthenticationMethod":         {},
	// The enrollment configurations also accept DeviceManagementConfiguration.Read.All;
	// the Autopilot profile list (beta) does not: it is not an alternative.
	"DeviceManagementServiceConfig.Read.All": {Also: []string{"DeviceManagementServiceConfig.ReadWrite.All"}},
}

// OverBroad are permissions people grant out of habit that give tapbot far more than
// it uses, with what each allows. Doctor flags them unless a configured feature needs
// them.
var OverBroad = []struct{ Name, Allows string }{
	{"UserAuthenticationMethod.ReadWrite.All", "change or delete every sign-in method of every user"},
	{"Directory.ReadWrite.All", "change almost anything in the directory"},
	{"Directory.Read.All", "read the whole directory"},
	{"Policy.Read.All", "read every policy of the tenant, Conditional Access included"},
}

// PermissionInfo describes a permission by name (Name set even when it is unknown).
func PermissionInfo(name string) Permission {
	for k, p := range Permissions {
		if strings.EqualFold(k, name) {
			p.Name = k
			return p
		}
	}
	return Permission{Name: name}
}

// On reports whether features contains f.
func On(features []Feature, f Feature) bool { return slices.Contains(features, f) }

// Needed lists, without repeats and in table order, every permission the calls of
// features need.
func Needed(features ...Feature) []string {
	var out []string
	for _, c := range Calls {
		if !On(features, c.Feature) {
			continue
		}
		for _, p := range c.Permissions {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// CoveredBy returns the needed permission (other than name) that grants what name
// grants, or "". An administrator need not grant name then.
func CoveredBy(name string, needed []string) string {
	p := PermissionInfo(name)
	for _, other := range append(slices.Clone(p.Also), p.Broader...) {
		if !strings.EqualFold(other, name) && slices.ContainsFunc(needed, func(n string) bool { return strings.EqualFold(n, other) }) {
			return other
		}
	}
	return ""
}

// Grant is the set an administrator grants for features: Needed without the
// permissions another needed one covers.
func Grant(features ...Feature) []string {
	needed := Needed(features...)
	var out []string
	for _, n := range needed {
		if CoveredBy(n, needed) == "" {
			out = append(out, n)
		}
	}
	return out
}

// AllFeatures is every feature: what a tenant that uses all of tapbot grants.
func AllFeatures() []Feature { return slices.Clone(Features) }

// Fixes names what fixes a call that Graph refused with 403: its permissions.
func (c Call) Fixes() string {
	return strings.Join(c.Permissions, " and ")
}

// The markers around generated text in README.md and graph/msgraph/PERMISSIONS.md.
const (
	GeneratedBegin = "<!-- BEGIN GENERATED by `tapbot permissions -write`: edit graph/permissions.go -->"
	GeneratedEnd   = "<!-- END GENERATED -->"
)

// PermissionsMarkdown is the generated part of graph/msgraph/PERMISSIONS.md: the
// table of calls and the set to grant per feature.
func PermissionsMarkdown() string {
	var b strings.Builder
	b.WriteString("| Feature | Client method | Graph request | Application permission (least privileged) | Microsoft's page | Why |\n|---|---|---|---|---|---|\n")
	for _, c := range Calls {
		perms := make([]string, len(c.Permissions))
		for i, p := range c.Permissions {
			perms[i] = "`" + p + "`"
		}
		methods := make([]string, len(c.Methods))
		for i, m := range c.Methods {
			methods[i] = "`" + m + "`"
		}
		page := c.Doc[strings.LastIndex(c.Doc, "/")+1:]
		fmt.Fprintf(&b, "| %s | %s | %s | %s | [%s](%s) | %s |\n", c.Feature, strings.Join(methods, ", "),
			strings.ReplaceAll(c.Request, "|", "\\|"), strings.Join(perms, " and "), page, c.Doc, c.Why)
	}
	b.WriteString("\n### The set to grant, by feature\n\n")
	b.WriteString(grantList())
	return b.String()
}

// ReadmeMarkdown is the generated part of README.md's permission section.
func ReadmeMarkdown() string { return grantList() }

func grantList() string {
	var b strings.Builder
	var so []Feature
	for _, f := range Features {
		so = append(so, f)
		var added, covered []string
		prev := Grant(so[:len(so)-1]...)
		needed := Needed(so...)
		for _, n := range Needed(f) {
			switch {
			case slices.Contains(prev, n):
			case CoveredBy(n, needed) != "":
				covered = append(covered, fmt.Sprintf("`%s` (covered by `%s`)", n, CoveredBy(n, needed)))
			default:
				added = append(added, "`"+n+"`")
			}
		}
		line := "nothing more"
		if len(added) > 0 {
			line = strings.Join(added, ", ")
		}
		if len(covered) > 0 {
			line += "; not needed separately: " + strings.Join(covered, ", ")
		}
		fmt.Fprintf(&b, "- **%s**: %s.\n", featureText[f], line)
	}
	var broad []string
	for _, o := range OverBroad {
		broad = append(broad, "`"+o.Name+"`")
	}
	fmt.Fprintf(&b, "\nDo **not** grant %s: each would work for some calls and reads or changes far more than tapbot uses. `tapbot doctor` checks the granted set against the features you configured.\n", strings.Join(broad, ", "))
	return b.String()
}

// ReplaceGenerated puts block between the markers in doc. It fails when doc has no
// markers.
func ReplaceGenerated(doc, block string) (string, error) {
	i := strings.Index(doc, GeneratedBegin)
	j := strings.Index(doc, GeneratedEnd)
	if i < 0 || j < i {
		return "", fmt.Errorf("graph: the generated-text markers are missing")
	}
	return doc[:i+len(GeneratedBegin)] + "\n" + block + doc[j:], nil
}
