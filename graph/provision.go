package graph

import (
	"errors"
	"time"

	"github.com/tapbot/tapbot/internal/secret"
)

// NewUser is an account to create (flow step 4). Password is the long random one
// nobody will ever type (internal/password): it goes into the creation request and
// nowhere else, and being a secret.String it prints, logs and marshals as
// "[redacted]".
type NewUser struct {
	GivenName         string
	Surname           string
	DisplayName       string // required
	MailNickname      string // Exchange alias; empty takes the UPN's local part
	UserPrincipalName string // required; its domain must be a verified domain of the tenant
	JobTitle          string
	Department        string
	OfficeLocation    string
	UsageLocation     string    // ISO 3166-1 alpha-2 country code, e.g. "US"; licences need it
	EmployeeHireDate  time.Time // zero: not set
	Password          secret.String
}

// Domain is a domain of the tenant. Only a verified domain can carry users' UPNs.
type Domain struct {
	ID         string // the domain name, e.g. contoso.com
	IsVerified bool
	IsDefault  bool
}

// SKU is a licence the tenant subscribes to (a subscribedSku).
type SKU struct {
	ID         string // skuId, the GUID assignLicense takes, e.g. 078d2b04-f1bd-4111-bbd4-b4b1b354cef4
	PartNumber string // skuPartNumber, e.g. AAD_PREMIUM
	Enabled    int    // prepaidUnits.enabled
	Consumed   int    // consumedUnits
}

// Free is how many more users the SKU can be assigned to. A tenant over its count
// (consumed above enabled, which Entra allows for a while) has none.
func (s SKU) Free() int { return max(s.Enabled-s.Consumed, 0) }

// Provisioning refusals the onboarding flow explains to people. Graph answers each
// with 400 Request_BadRequest and tells them apart only by message, so the client
// wraps the *Error it got with one of these: errors.Is matches the sentinel, and
// errors.As still finds the *Error (status 400, Graph's code and message).
var (
	// ErrLicenceUnavailable: the SKU has no free unit ("Subscription with SKU … does
	// not have any available licenses.").
	ErrLicenceUnavailable = errors.New("graph: no licence available")
	// ErrUsageLocationRequired: a licence needs the user's usageLocation first
	// ("License assignment cannot be done for user with invalid usage location.").
	ErrUsageLocationRequired = errors.New("graph: usage location required")
)
