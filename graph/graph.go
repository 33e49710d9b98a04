// Package graph is tapbot's vocabulary for Microsoft Graph: the users, roles, policies
// and authentication methods the flows decide on, the devices, Teams apps and new
// accounts they read and create, and the typed errors they explain. It also holds the
// one table of the requests tapbot makes and the permission each needs
// (permissions.go: Calls, Features, Needed), from which PERMISSIONS.md, the README and
// `tapbot doctor` are made. It has no SDK imports, so the bot and its tests stay
// light; the msgraph-sdk-go client lives in graph/msgraph and the simulated tenant in
// graph/simtenant.
package graph

import (
	"errors"
	"fmt"
	"time"

	"github.com/tapbot/tapbot/internal/secret"
)

// User is an Entra user as the flows see it.
type User struct {
	ID                string
	UserPrincipalName string
	Mail              string
	DisplayName       string
	UserType          string // "Member" or "Guest"
	AccountEnabled    bool
	CreatedDateTime   time.Time
}

// IsGuest reports whether the user is a B2B guest.
func (u User) IsGuest() bool { return u.UserType == "Guest" }

// Role is a directory role a user holds or can get: an active or PIM-eligible
// assignment to the user, to a role-assignable group the user is in, or to a group
// the user may join (or own) through PIM for Groups.
type Role struct {
	ID             string // roleDefinition id
	RoleTemplateID string // stable across tenants, e.g. 62e90394-69f5-4237-9190-012177145e10 (Global Administrator)
	DisplayName    string
	BuiltIn        bool
	Eligible       bool   // the user must activate something (PIM) to use it
	Scope          string // directoryScopeId: "/" for the whole tenant, "/administrativeUnits/{id}" for an administrative unit
	Via            string // id of the group that holds the role; "" when assigned to the user
	ViaName        string // that group's display name, when known
	ViaPIM         bool   // Via is a group the user is only eligible to join or own (PIM for Groups)
}

// TenantWide is the directory scope of a role that applies to the whole tenant.
const TenantWide = "/"

// AllUsers is the includeTargets id Entra uses for "all users".
const AllUsers = "all_users"

// TAPPolicy is the tenant's Temporary Access Pass authentication-method configuration.
type TAPPolicy struct {
	Enabled         bool
	DefaultLifetime time.Duration
	MinLifetime     time.Duration
	MaxLifetime     time.Duration
	UsableOnce      bool // the policy forces one-time use
	DefaultLength   int
	IncludeTargets  []string // group ids, or AllUsers
	ExcludeTargets  []string
}

// TAP is a Temporary Access Pass method of a user. Value is set only in the answer to
// its creation: Graph never returns it again.
type TAP struct {
	ID              string
	Value           secret.String
	Created         time.Time
	Start           time.Time
	Lifetime        time.Duration
	UsableOnce      bool
	Usable          bool
	UsabilityReason string // EnabledByPolicy, DisabledByPolicy, Expired, NotYetValid, OneTimeUsed
}

// Expires is when the TAP stops working.
func (t TAP) Expires() time.Time {
	start := t.Start
	if start.IsZero() {
		start = t.Created
	}
	return start.Add(t.Lifetime)
}

// TAPRequest asks for a new TAP. Zero fields take the policy's defaults.
type TAPRequest struct {
	Start      time.Time
	Lifetime   time.Duration
	UsableOnce bool
}

// Method is a registered authentication method of a user.
type Method struct {
	Type        string // short @odata.type: microsoftAuthenticator, windowsHelloForBusiness, fido2, phone, password, temporaryAccessPass, email, softwareOath
	ID          string
	DisplayName string
	Created     time.Time
	// MFAOnly marks a Microsoft Authenticator registered for push approvals (MFA) only,
	// not for passwordless phone sign-in: Graph answers its createdDateTime (and
	// device) null ("microsoftAuthenticatorAuthenticationMethod resource type",
	// https://learn.microsoft.com/en-us/graph/api/resources/microsoftauthenticatorauthenticationmethod).
	// Created is then zero.
	MFAOnly bool
}

// Sentinel errors the flows branch on. *Error matches them with errors.Is.
var (
	ErrNotFound     = errors.New("graph: not found")
	ErrForbidden    = errors.New("graph: insufficient privileges")
	ErrThrottled    = errors.New("graph: throttled")
	ErrUnavailable  = errors.New("graph: service unavailable")
	ErrBadRequest   = errors.New("graph: bad request")
	ErrConflict     = errors.New("graph: conflict")
	ErrUnauthorized = errors.New("graph: unauthorized")
)

// Error is a Graph error answer. Message is Graph's text: useful in logs, never shown
// to users as is (it can name objects).
type Error struct {
	Status    int
	Code      string // e.g. Request_ResourceNotFound, Authorization_RequestDenied
	Message   string
	RequestID string
}

func (e *Error) Error() string {
	return fmt.Sprintf("graph: %d %s: %s (request-id %s)", e.Status, e.Code, e.Message, e.RequestID)
}

// Is maps the HTTP status to the sentinels.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == 404
	case ErrForbidden:
		return e.Status == 403
	case ErrUnauthorized:
		return e.Status == 401
	case ErrThrottled:
		return e.Status == 429
	case ErrUnavailable:
		return e.Status == 503 || e.Status == 502 || e.Status == 504
	case ErrBadRequest:
		return e.Status == 400
	case ErrConflict:
		return e.Status == 409
	}
	return false
}

// Target is what /tap decides on about the person a TAP is for. The client fetches it
// in two $batch round trips (a third only for PIM for Groups eligibility).
type Target struct {
	User  User
	Roles []Role // every directory role, active or eligible, built-in or custom, at any scope
	// RolesUnknown, when set, says in plain words why Roles may be incomplete: a role
	// query failed, or Graph answered with limited information. Nothing may be
	// concluded from Roles then.
	RolesUnknown string
	MemberOf     []string // which of the asked group ids the user belongs to (transitively)
	TAPs         []TAP    // existing TAP methods (never with a value)
	Methods      []Method // every registered authentication method, password included
}

// Microsoft Authenticator authentication modes (authenticationMode of an
// includeTargets entry of the Authenticator policy).
const (
	// AuthenticatorAny allows push notifications (MFA) and phone sign-in (passwordless).
	AuthenticatorAny = "any"
	// AuthenticatorPush allows push notifications only: Authenticator works as a second
	// factor, and phone sign-in, which passwordless onboarding relies on, does not.
	AuthenticatorPush = "push"
	// AuthenticatorDeviceBasedPush allows phone sign-in only (passwordless).
	AuthenticatorDeviceBasedPush = "deviceBasedPush"
)

// AuthenticatorPolicy is the tenant's Microsoft Authenticator authentication-method
// configuration, as far as tapbot checks it.
type AuthenticatorPolicy struct {
	Enabled bool
	Targets []AuthenticatorTarget // includeTargets
	Exclude []string              // excludeTargets: group ids; read only for tapbot
}

// AuthenticatorTarget is one includeTargets entry of the Authenticator policy.
type AuthenticatorTarget struct {
	ID   string // group id, or AllUsers
	Mode string // AuthenticatorAny, AuthenticatorPush or AuthenticatorDeviceBasedPush
	// RegistrationRequired is Graph's isRegistrationRequired. tapbot never changes it,
	// but carries it so that an update, which replaces every target, keeps it.
	RegistrationRequired bool
}

// Passwordless reports whether the target's mode allows phone sign-in.
func (t AuthenticatorTarget) Passwordless() bool {
	return t.Mode == AuthenticatorAny || t.Mode == AuthenticatorDeviceBasedPush
}

// Group is an Entra group as tapbot's configuration refers to it.
type Group struct {
	ID          string
	DisplayName string
}

// Joiner is a user whose employeeHireDate (set by HR-driven provisioning, or by
// /onboard) says they start soon.
type Joiner struct {
	User
	HireDate time.Time
}
