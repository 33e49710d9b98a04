// Package msgraph is tapbot's Microsoft Graph client, built on msgraph-sdk-go with the
// SDK's own middleware (retry honouring Retry-After, gzip request bodies, redirects).
// It speaks only in graph's domain types and typed errors: no SDK type leaves it (the
// one it takes is the azcore credential in Config).
//
// Every input that reaches a URL is validated before a request is made: a reference
// used as a path segment must be an object id (GUID) or a userPrincipalName; a string
// in a $filter is validated and quoted as an OData string literal (the dates Joiners
// filters on are written from time.Time). A Temporary Access Pass is a secret.String
// from the moment it is read; no log line, error or panic of this package carries it,
// and no request or response body is ever logged.
//
// # Permissions
//
// tapbot runs as an application (client credentials), so these are application
// permissions. Which call needs which, with Microsoft's page for each, is tapbot's
// permission table graph.Calls (graph/permissions.go); PERMISSIONS.md beside this
// file and README.md are generated from it, and `tapbot doctor` checks the granted
// set against it for the features configured. With UserAuthMethod-TAP.ReadWrite.All
// the app can create a pass for any user, administrators included: Entra's role
// limits apply to people, not to apps, so the checks in bot/tap are the only gate.
package msgraph
