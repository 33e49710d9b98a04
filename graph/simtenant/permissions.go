package simtenant

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/tapbot/tapbot/graph"
)

// Application permissions. Graph authorises an app-only call by the roles claim of
// its access token: each operation's page lists the permissions that allow it
// (least privileged and higher privileged alike), and a call whose token holds none
// of them gets 403 Authorization_RequestDenied, "Insufficient privileges to complete
// the operation." (https://learn.microsoft.com/en-us/graph/permissions-overview,
// https://learn.microsoft.com/en-us/graph/errors). The fake enforces the lists below,
// each taken from the operation's v1.0 page named beside it, for every request and
// every $batch item.
//
// The granted set comes from the token when it is JWT-shaped with a roles claim (as
// Entra issues app-only tokens; the signature is not checked, the fake trusts its
// callers), otherwise from the tenant: SetAppRoles, by default everything tapbot's
// permission table names (graph.Calls), so tests that do not care keep working.

// Permission sets, named by what they allow.
var (
	permUserRead   = []string{"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permUserWrite  = []string{"User.ReadWrite.All", "Directory.ReadWrite.All"}
	permGroupRead  = []string{"GroupMember.Read.All", "GroupMember.ReadWrite.All", "Group.Read.All", "Group.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permGroupWrite = []string{"GroupMember.ReadWrite.All", "Group.ReadWrite.All", "Directory.ReadWrite.All"}
	permRoleRead   = []string{"RoleManagement.Read.Directory", "RoleManagement.ReadWrite.Directory", "RoleManagement.Read.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permTAPRead    = []string{"UserAuthMethod-TAP.Read.All", "UserAuthMethod-TAP.ReadWrite.All", "UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"}
	permTAPWrite   = []string{"UserAuthMethod-TAP.ReadWrite.All", "UserAuthenticationMethod.ReadWrite.All"}
	permDevice     = []string{"Device.Read.All", "Device.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
	permTeamsRead  = []string{"TeamsAppInstallation.ReadForUser.All", "TeamsAppInstallation.ReadWriteSelfForUser.All", "TeamsAppInstallation.ReadWriteForUser.All",
		"TeamsAppInstallation.ReadWriteAndConsentSelfForUser.All", "TeamsAppInstallation.ReadWriteAndConsentForUser.All", "TeamsAppInstallation.ReadWriteSelectedForUser.All"}
	// permTeamsInstallAny may install any catalog app; the Self permissions only the
	// caller's own (see installApp).
	permTeamsInstallAny = []string{"TeamsAppInstallation.ReadWriteForUser.All", "TeamsAppInstallation.ReadWriteAndConsentForUser.All"}
	permTeamsInstall    = append([]string{"TeamsAppInstallation.ReadWriteSelfForUser.All", "TeamsAppInstallation.ReadWriteAndConsentSelfForUser.All"}, permTeamsInstallAny...)
)

// permRule is the permissions one kind of request needs: one of each set in allOf.
type permRule struct {
	method  string
	pattern []string // path segments after /v1.0, lower case, "*" any one segment; a prefix
	exact   bool     // the pattern must match the whole path
	allOf   [][]string
}

func rule(method, pattern string, exact bool, allOf ...[]string) permRule {
	return permRule{method, splitPattern(pattern), exact, allOf}
}

// permRules, first match wins.
var permRules = []permRule{
	// https://learn.microsoft.com/en-us/graph/api/intune-onboarding-deviceenrollmentconfiguration-list (v1.0)
	rule("GET", "deviceManagement/deviceEnrollmentConfigurations", false, []string{"DeviceManagementServiceConfig.Read.All", "DeviceManagementServiceConfig.ReadWrite.All",
		"DeviceManagementConfiguration.Read.All", "DeviceManagementConfiguration.ReadWrite.All"}),
	// https://learn.microsoft.com/en-us/graph/api/intune-enrollment-windowsautopilotdeploymentprofile-list?view=graph-rest-beta
	// (beta only; its list page names the DeviceManagementServiceConfig pair alone)
	rule("GET", "deviceManagement/windowsAutopilotDeploymentProfiles", false, []string{"DeviceManagementServiceConfig.Read.All", "DeviceManagementServiceConfig.ReadWrite.All"}),
	// https://learn.microsoft.com/en-us/graph/api/userteamwork-list-installedapps
	rule("GET", "users/*/teamwork/installedApps", true, permTeamsRead),
	// https://learn.microsoft.com/en-us/graph/api/userteamwork-post-installedapps
	rule("POST", "users/*/teamwork/installedApps", true, permTeamsInstall),
	// https://learn.microsoft.com/en-us/graph/api/user-list-registereddevices (the
	// permissions include lists User.Read.All for applications), user-list-owneddevices
	rule("GET", "users/*/registeredDevices", false, permUserRead),
	rule("GET", "users/*/ownedDevices", false, permUserRead),
	// https://learn.microsoft.com/en-us/graph/api/authentication-list-temporaryaccesspassmethods
	rule("GET", "users/*/authentication/temporaryAccessPassMethods", false, permTAPRead),
	// https://learn.microsoft.com/en-us/graph/api/authentication-post-temporaryaccesspassmethods,
	// temporaryaccesspassauthenticationmethod-delete
	rule("POST", "users/*/authentication/temporaryAccessPassMethods", true, permTAPWrite),
	rule("DELETE", "users/*/authentication/temporaryAccessPassMethods", false, permTAPWrite),
	// https://learn.microsoft.com/en-us/graph/api/authentication-list-methods and the
	// per-type lists
	rule("GET", "users/*/authentication", false, []string{"UserAuthenticationMethod.Read.All", "UserAuthenticationMethod.ReadWrite.All"}),
	// https://learn.microsoft.com/en-us/graph/api/directoryobject-checkmembergroups: a
	// user and a group permission together
	rule("POST", "users/*/checkMemberGroups", true, permUserRead, permGroupRead),
	// https://learn.microsoft.com/en-us/graph/api/user-list-transitivememberof
	rule("GET", "users/*/transitiveMemberOf", false, append(slices.Clone(permUserRead), "Group.Read.All", "GroupMember.Read.All")),
	// https://learn.microsoft.com/en-us/graph/api/user-post-manager, user-delete-manager
	rule("PUT", "users/*/manager/$ref", true, permUserWrite),
	rule("DELETE", "users/*/manager/$ref", true, permUserWrite),
	// https://learn.microsoft.com/en-us/graph/api/user-list-manager
	rule("GET", "users/*/manager", true, permUserRead),
	// https://learn.microsoft.com/en-us/graph/api/user-assignlicense
	rule("POST", "users/*/assignLicense", true, []string{"LicenseAssignment.ReadWrite.All", "User.ReadWrite.All", "Directory.ReadWrite.All"}),
	// https://learn.microsoft.com/en-us/graph/api/user-update
	rule("PATCH", "users/*", true, permUserWrite),
	// https://learn.microsoft.com/en-us/graph/api/user-get, user-list
	rule("GET", "users/*", true, permUserRead),
	rule("GET", "users", true, permUserRead),
	// https://learn.microsoft.com/en-us/graph/api/user-post-users
	rule("POST", "users", true, permUserWrite),
	// https://learn.microsoft.com/en-us/graph/api/group-post-members (role-assignable
	// groups also need RoleManagement.ReadWrite.Directory: addMemberRef)
	rule("POST", "groups/*/members/$ref", true, permGroupWrite),
	// https://learn.microsoft.com/en-us/graph/api/group-get
	rule("GET", "groups/*", true, permGroupRead),
	// https://learn.microsoft.com/en-us/graph/api/domain-list, domain-get
	rule("GET", "domains", false, []string{"Domain.Read.All", "Domain.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}),
	// https://learn.microsoft.com/en-us/graph/api/subscribedsku-list
	rule("GET", "subscribedSkus", false, []string{"LicenseAssignment.Read.All", "Organization.Read.All", "Organization.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}),
	// https://learn.microsoft.com/en-us/graph/api/temporaryaccesspassauthenticationmethodconfiguration-get, -update
	// (and the microsoftAuthenticator twins)
	rule("GET", "policies/authenticationMethodsPolicy", false, []string{"Policy.Read.AuthenticationMethod", "Policy.ReadWrite.AuthenticationMethod", "Policy.Read.All"}),
	rule("PATCH", "policies/authenticationMethodsPolicy", false, []string{"Policy.ReadWrite.AuthenticationMethod"}),
	// https://learn.microsoft.com/en-us/graph/api/rbacapplication-list-roleassignments,
	// rbacapplication-list-roleeligibilityscheduleinstances
	rule("GET", "roleManagement/directory", false, permRoleRead),
	// https://learn.microsoft.com/en-us/graph/api/privilegedaccessgroup-list-eligibilityscheduleinstances
	rule("GET", "identityGovernance/privilegedAccess/group", false, []string{"PrivilegedEligibilitySchedule.Read.AzureADGroup", "PrivilegedEligibilitySchedule.ReadWrite.AzureADGroup", "PrivilegedAccess.Read.AzureADGroup", "PrivilegedAccess.ReadWrite.AzureADGroup"}),
}

// errDenied is Graph's answer to a call the app's permissions do not cover.
func errDenied() *graph.Error {
	return gerr(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
}

// authorize checks c's permissions against permRules.
func authorize(c *call) *graph.Error {
	for _, r := range permRules {
		if r.method != c.method || !matchPattern(r.pattern, c.segs) || r.exact && len(r.pattern) != len(c.segs) {
			continue
		}
		for _, set := range r.allOf {
			if !c.holds(set...) {
				return errDenied()
			}
		}
		return nil
	}
	return nil
}

// holds reports whether the caller's token grants any of perms.
func (c *call) holds(perms ...string) bool {
	return slices.ContainsFunc(c.roles, func(r string) bool {
		return slices.ContainsFunc(perms, func(p string) bool { return strings.EqualFold(p, r) })
	})
}

// visible is obj as the caller may read it: whole when its token holds one of perms,
// else with limited information.
func (c *call) visible(obj map[string]any, perms ...string) map[string]any {
	if c.holds(perms...) {
		return obj
	}
	return limitedInfo(obj)
}

// limitedInfo is a directory object as Graph answers it when the app may list the
// relationship but not read the object's type: @odata.type and id, every other
// property null ("Limited information returned for inaccessible member objects",
// https://learn.microsoft.com/en-us/graph/permissions-overview#limited-information-returned-for-inaccessible-member-objects).
func limitedInfo(obj map[string]any) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		switch k {
		case "@odata.type", "id":
			out[k] = v
		default:
			out[k] = nil
		}
	}
	return out
}

// tokenIdentity reads the roles and the app id (appid, or azp) from a JWT-shaped
// token; ok is false for an opaque token or one without a roles claim.
func tokenIdentity(token string) (roles []string, appID string, ok bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, "", false
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return nil, "", false
	}
	var claims struct {
		Roles *[]string `json:"roles"`
		AppID string    `json:"appid"`
		AZP   string    `json:"azp"`
	}
	if json.Unmarshal(payload, &claims) != nil || claims.Roles == nil {
		return nil, "", false
	}
	if claims.AppID == "" {
		claims.AppID = claims.AZP
	}
	return *claims.Roles, claims.AppID, true
}

// SetAppRoles sets the application permissions the tenant has granted the calling
// app, used for tokens that carry no roles claim. With no arguments the app has
// none; ResetAppRoles restores the default.
func (t *Tenant) SetAppRoles(roles ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.appRoles = append([]string{}, roles...)
}

// ResetAppRoles grants the default again: every permission tapbot's table names.
func (t *Tenant) ResetAppRoles() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.appRoles = nil
}

// AppRoles is the application permissions the tenant grants the calling app.
func (t *Tenant) AppRoles() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.appRolesLocked()
}

func (t *Tenant) appRolesLocked() []string {
	if t.appRoles == nil {
		return graph.Needed(graph.AllFeatures()...)
	}
	return slices.Clone(t.appRoles)
}

// SetAppID sets the calling app's id (its Entra application id) for tokens that carry
// none: the id self-installation of a Teams app is checked against.
func (t *Tenant) SetAppID(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.appID = id
}

// AppID is the calling app's id for tokens that carry none.
func (t *Tenant) AppID() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.appID
}
