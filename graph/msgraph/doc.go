// Package msgraph is tapbot's Microsoft Graph client, built on msgraph-sdk-go with the
// SDK's own middleware (retry honouring Retry-After, gzip request bodies, redirects).
// It speaks only in graph's domain types and typed errors: no SDK type leaves it.
//
// Every input that reaches a URL is validated before a request is made: references
// used as path segments must be an object id (GUID) or a userPrincipalName; values in
// a $filter are validated and quoted as OData string literals. A Temporary Access
// Pass is a secret.String from the moment it is read; no log line, error or panic of
// this package carries it, and no request or response body is ever logged.
//
// # Permissions
//
// tapbot runs as an application (client credentials), so these are application
// permissions, each the least privileged one Microsoft documents for the call (see
// PERMISSIONS.md beside this file for the reasoning and the alternatives):
//
//	User, UserByMail, FindUser   User.Read.All
//	CheckMemberGroups            User.Read.All + GroupMember.Read.All
//	Target                       User.Read.All + GroupMember.Read.All + RoleManagement.Read.Directory
//	                             + PrivilegedEligibilitySchedule.Read.AzureADGroup + UserAuthMethod-TAP.Read.All
//	TAPPolicy                    Policy.Read.AuthenticationMethod
//	TAPs                         UserAuthMethod-TAP.Read.All
//	CreateTAP, DeleteTAP         UserAuthMethod-TAP.ReadWrite.All
//	Methods                      UserAuthenticationMethod.Read.All
//
// The whole bot therefore needs User.Read.All, GroupMember.Read.All,
// RoleManagement.Read.Directory, PrivilegedEligibilitySchedule.Read.AzureADGroup,
// Policy.Read.AuthenticationMethod,
// UserAuthMethod-TAP.ReadWrite.All and UserAuthenticationMethod.Read.All. With
// UserAuthMethod-TAP.ReadWrite.All the app can create a pass for any user,
// administrators included: Entra's role limits apply to people, not to apps, so the
// checks in bot/tap are the only gate.
package msgraph
