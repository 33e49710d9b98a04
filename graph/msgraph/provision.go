package msgraph

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"go.uber.org/zap"

	"github.com/tapbot/tapbot/graph"
)

// Account provisioning (flow steps 4–5). Application permissions, least privileged
// as Microsoft's v1.0 pages list them:
//
//	UPNAvailable          User.Read.All
//	Domains               Domain.Read.All
//	SubscribedSKUs        LicenseAssignment.Read.All (Organization.Read.All also works)
//	CreateUser            User.ReadWrite.All
//	SetUsageLocation      User.ReadWrite.All
//	AssignLicense         LicenseAssignment.ReadWrite.All
//	SetManager            User.ReadWrite.All
//	AddGroupMember        GroupMember.ReadWrite.All
//
// Graph refuses most provisioning mistakes with 400 Request_BadRequest and tells them
// apart only by an English message (app-only calls are not localised). The ones the
// flow branches on are wrapped with a sentinel: graph.ErrConflict for a UPN that is
// taken, graph.ErrLicenceUnavailable, graph.ErrUsageLocationRequired. errors.As still
// finds the *graph.Error with Graph's status, code and message.

// Limits of the user resource's string properties that provisioning validates.
const (
	maxDisplayName  = 256
	maxMailNickname = 64
)

// Graph's messages the client recognises (lower case; matched as substrings).
const (
	msgObjectConflict    = "another object with the same value for property"
	msgNoLicences        = "does not have any available licenses"
	msgNoUsageLocation   = "invalid usage location"
	msgAlreadyInGroup    = "one or more added object references already exist"
	detailObjectConflict = "ObjectConflict"
)

// UPNAvailable reports whether upn can be given to a new account: no user has it as
// userPrincipalName (GET /users/{upn}) nor as mail address (GET /users?$filter=mail eq
// '…'), since an account's UPN becomes one of its addresses. It is a courtesy check
// before CreateUser, which remains the authority (another request can take the name in
// between). Other proxy addresses (aliases) are not searched.
func (c *Client) UPNAvailable(ctx context.Context, upn string) (bool, error) {
	if !isUPN(upn) {
		return false, fmt.Errorf("graph: %s is not a user principal name: %w", shown(upn), graph.ErrBadRequest)
	}
	filter := "mail eq " + odataString(upn)
	top := int32(1)
	taken := false
	err := c.do(ctx, "check UPN", func(ctx context.Context) error {
		_, err := c.sdk.Users().ByUserId(upn).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{"id"}},
		})
		switch {
		case err == nil:
			taken = true
			return nil
		case statusOf(err) != 404:
			return err
		}
		res, err := c.sdk.Users().Get(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Filter: &filter, Select: []string{"id"}, Top: &top},
		})
		if err != nil {
			return err
		}
		taken = len(res.GetValue()) > 0
		return nil
	}, zap.String("upn", upn))
	return err == nil && !taken, err
}

// Domains lists the tenant's domains; new accounts' UPNs must use a verified one.
func (c *Client) Domains(ctx context.Context) ([]graph.Domain, error) {
	var out []graph.Domain
	err := c.do(ctx, "list domains", func(ctx context.Context) error {
		b := c.sdk.Domains()
		first, err := b.Get(ctx, nil)
		if err != nil {
			return err
		}
		all, err := collect(ctx, c, first, func(ctx context.Context, link string) (models.DomainCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		})
		if err != nil {
			return err
		}
		for _, d := range all {
			out = append(out, graph.Domain{ID: deref(d.GetId()), IsVerified: deref(d.GetIsVerified()), IsDefault: deref(d.GetIsDefault())})
		}
		return nil
	})
	return out, err
}

// SubscribedSKUs lists the licences the tenant subscribes to, with the units enabled
// (prepaidUnits.enabled) and assigned (consumedUnits); SKU.Free is the difference.
func (c *Client) SubscribedSKUs(ctx context.Context) ([]graph.SKU, error) {
	var out []graph.SKU
	err := c.do(ctx, "list subscribed SKUs", func(ctx context.Context) error {
		b := c.sdk.SubscribedSkus()
		first, err := b.Get(ctx, nil)
		if err != nil {
			return err
		}
		all, err := collect(ctx, c, first, func(ctx context.Context, link string) (models.SubscribedSkuCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		})
		if err != nil {
			return err
		}
		for _, s := range all {
			k := graph.SKU{PartNumber: deref(s.GetSkuPartNumber()), Consumed: int(deref(s.GetConsumedUnits()))}
			if id := s.GetSkuId(); id != nil {
				k.ID = id.String()
			}
			if p := s.GetPrepaidUnits(); p != nil {
				k.Enabled = int(deref(p.GetEnabled()))
			}
			out = append(out, k)
		}
		return nil
	})
	return out, err
}

// CreateUser creates an enabled member account with the given password and
// forceChangePasswordNextSignIn off: nobody will type the password, the new hire signs
// in with a Temporary Access Pass. The password goes into the request body only; no
// log line or error carries it. A UPN (or address) already taken is refused with an
// error matching graph.ErrConflict, although Graph answers 400.
//
// CreateUser is not idempotent. If Graph created the account but the answer was lost
// (the SDK then retries a 503 or 504), the retry reports the UPN as taken: on
// graph.ErrConflict, look the UPN up before concluding someone else has it.
//
// The user returned has what Graph's answer carries (its default properties) plus
// AccountEnabled and UserType from the request; CreatedDateTime is zero.
func (c *Client) CreateUser(ctx context.Context, nu graph.NewUser) (graph.User, error) {
	body, err := newUserBody(nu)
	if err != nil {
		return graph.User{}, err
	}
	upn := nu.UserPrincipalName
	var created models.Userable
	conflict := ""
	err = c.do(ctx, "create user", func(ctx context.Context) (err error) {
		created, err = c.sdk.Users().Post(ctx, body, nil)
		if err == nil && (created == nil || deref(created.GetId()) == "") {
			err = errors.New("answer carries no user")
		}
		conflict = conflictProperty(err)
		return err
	}, zap.String("upn", upn))
	if err != nil {
		if conflict != "" {
			return graph.User{}, fmt.Errorf("graph: %s is taken (%s): %w: %w", shown(upn), conflict, graph.ErrConflict, err)
		}
		return graph.User{}, err
	}
	u := mapUser(created)
	u.AccountEnabled = true
	if u.UserType == "" {
		u.UserType = "Member"
	}
	if u.UserPrincipalName == "" {
		u.UserPrincipalName = upn
	}
	c.repl.remember(u.ID, u.UserPrincipalName)
	c.log.Info("user created", zap.String("upn", upn), zap.String("user", u.ID))
	return u, nil
}

// newUserBody validates nu and builds the POST /users body.
func newUserBody(nu graph.NewUser) (models.Userable, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("graph: create user: "+format+": %w", append(args, graph.ErrBadRequest)...)
	}
	// "#EXT#" marks the names Entra generates for B2B guests; the members tapbot
	// creates never carry it.
	if !isUPN(nu.UserPrincipalName) || strings.Contains(strings.ToUpper(nu.UserPrincipalName), "#EXT#") {
		return nil, bad("%s is not a member's user principal name", shown(nu.UserPrincipalName))
	}
	if nu.DisplayName == "" || utf8.RuneCountInString(nu.DisplayName) > maxDisplayName {
		return nil, bad("display name must have 1 to %d characters", maxDisplayName)
	}
	nick := nu.MailNickname
	if nick == "" {
		nick, _, _ = strings.Cut(nu.UserPrincipalName, "@")
	}
	if !isMailNickname(nick) {
		return nil, bad("%s is not a mail nickname", shown(nick))
	}
	usage := ""
	if nu.UsageLocation != "" {
		var err error
		if usage, err = countryCode(nu.UsageLocation); err != nil {
			return nil, err
		}
	}
	for _, s := range []string{nu.DisplayName, nu.GivenName, nu.Surname, nu.JobTitle, nu.Department, nu.OfficeLocation} {
		if !utf8.ValidString(s) {
			return nil, bad("a property is not valid UTF-8")
		}
	}
	if nu.Password.IsZero() {
		return nil, bad("no password")
	}

	u := models.NewUser()
	enabled, force := true, false
	u.SetAccountEnabled(&enabled)
	u.SetDisplayName(&nu.DisplayName)
	u.SetMailNickname(&nick)
	u.SetUserPrincipalName(&nu.UserPrincipalName)
	optional := func(set func(*string), v string) {
		if v != "" {
			set(&v)
		}
	}
	optional(u.SetGivenName, nu.GivenName)
	optional(u.SetSurname, nu.Surname)
	optional(u.SetJobTitle, nu.JobTitle)
	optional(u.SetDepartment, nu.Department)
	optional(u.SetOfficeLocation, nu.OfficeLocation)
	optional(u.SetUsageLocation, usage)
	if !nu.EmployeeHireDate.IsZero() {
		hire := nu.EmployeeHireDate.UTC()
		u.SetEmployeeHireDate(&hire)
	}
	pp := models.NewPasswordProfile()
	pw := nu.Password.Reveal()
	pp.SetPassword(&pw)
	pp.SetForceChangePasswordNextSignIn(&force)
	u.SetPasswordProfile(pp)
	return u, nil
}

// SetUsageLocation sets the user's usageLocation, the ISO 3166-1 alpha-2 country
// code licences are checked against. It must be set before AssignLicense.
func (c *Client) SetUsageLocation(ctx context.Context, userID, country string) error {
	if err := checkRef(userID); err != nil {
		return err
	}
	cc, err := countryCode(country)
	if err != nil {
		return err
	}
	body := models.NewUser()
	body.SetUsageLocation(&cc)
	return c.afterCreate(ctx, userID, func() error {
		return c.do(ctx, "set usage location", func(ctx context.Context) error {
			_, err := c.sdk.Users().ByUserId(userID).Patch(ctx, body, nil)
			return err
		}, zap.String("user", userID), zap.String("usage_location", cc))
	})
}

// AssignLicense assigns the SKU (a skuId, see SubscribedSKUs) to the user, with all
// its service plans. Assigning a licence the user has is a no-op for Graph. No free
// unit is graph.ErrLicenceUnavailable; a user without usageLocation is
// graph.ErrUsageLocationRequired.
func (c *Client) AssignLicense(ctx context.Context, userID, skuID string) error {
	if err := checkRef(userID); err != nil {
		return err
	}
	if err := checkID("SKU", skuID); err != nil {
		return err
	}
	sku, err := uuid.Parse(skuID)
	if err != nil {
		return fmt.Errorf("graph: SKU %s: %w", shown(skuID), graph.ErrBadRequest)
	}
	lic := models.NewAssignedLicense()
	lic.SetSkuId(&sku)
	lic.SetDisabledPlans([]uuid.UUID{})
	body := users.NewItemAssignLicensePostRequestBody()
	body.SetAddLicenses([]models.AssignedLicenseable{lic})
	body.SetRemoveLicenses([]uuid.UUID{}) // required, even empty
	err = c.afterCreate(ctx, userID, func() error {
		return c.do(ctx, "assign licence", func(ctx context.Context) error {
			_, err := c.sdk.Users().ByUserId(userID).AssignLicense().Post(ctx, body, nil)
			return err
		}, zap.String("user", userID), zap.String("sku", skuID))
	})
	var ge *graph.Error
	if errors.As(err, &ge) && ge.Status == 400 {
		msg := strings.ToLower(ge.Message)
		switch {
		case strings.Contains(msg, msgNoLicences):
			return fmt.Errorf("%w: %w", graph.ErrLicenceUnavailable, err)
		case strings.Contains(msg, msgNoUsageLocation):
			return fmt.Errorf("%w: %w", graph.ErrUsageLocationRequired, err)
		}
	}
	return err
}

// SetManager makes managerID (an object id) the user's manager, replacing any other.
func (c *Client) SetManager(ctx context.Context, userID, managerID string) error {
	if err := checkRef(userID); err != nil {
		return err
	}
	if err := checkID("manager", managerID); err != nil {
		return err
	}
	if strings.EqualFold(userID, managerID) {
		return fmt.Errorf("graph: a user cannot be their own manager: %w", graph.ErrBadRequest)
	}
	ref := models.NewReferenceUpdate()
	target := c.base + "/users/" + managerID
	ref.SetOdataId(&target)
	return c.afterCreate(ctx, userID, func() error {
		return c.do(ctx, "set manager", func(ctx context.Context) error {
			return c.sdk.Users().ByUserId(userID).Manager().Ref().Put(ctx, ref, nil)
		}, zap.String("user", userID), zap.String("manager", managerID))
	})
}

// AddGroupMember adds the user (an object id) to the group. A user who is already a
// member is success: the call is idempotent, as retries and replays need.
func (c *Client) AddGroupMember(ctx context.Context, groupID, userID string) error {
	if err := checkID("group", groupID); err != nil {
		return err
	}
	if err := checkID("user", userID); err != nil {
		return err
	}
	ref := models.NewReferenceCreate()
	target := c.base + "/directoryObjects/" + userID
	ref.SetOdataId(&target)
	already := false
	// A user created moments ago can be "not found" as a member too.
	err := c.afterCreate(ctx, userID, func() error {
		return c.do(ctx, "add group member", func(ctx context.Context) error {
			err := c.sdk.Groups().ByGroupId(groupID).Members().Ref().Post(ctx, ref, nil)
			if statusOf(err) == 400 && strings.Contains(strings.ToLower(odataMessage(err)), msgAlreadyInGroup) {
				already = true
				return nil
			}
			return err
		}, zap.String("group", groupID), zap.String("user", userID))
	})
	if err == nil && already {
		c.log.Debug("already a group member", zap.String("group", groupID), zap.String("user", userID))
	}
	return err
}

// isMailNickname checks an Exchange alias as the user resource documents it: at most
// 64 characters, printable ASCII, none of @ ( ) \ [ ] " ; : < > , or blank.
func isMailNickname(s string) bool {
	if s == "" || len(s) > maxMailNickname {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' || strings.IndexByte(`@()\[]";:<>,`, s[i]) >= 0 {
			return false
		}
	}
	return true
}

// countryCode validates an ISO 3166-1 alpha-2 code's shape and upper-cases it.
func countryCode(s string) (string, error) {
	if len(s) != 2 || !isLetter(s[0]) || !isLetter(s[1]) {
		return "", fmt.Errorf("graph: %s is not a two-letter country code: %w", shown(s), graph.ErrBadRequest)
	}
	return strings.ToUpper(s), nil
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// statusOf is the HTTP status of an SDK error answer, 0 for other errors.
func statusOf(err error) int {
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) {
		return oe.ResponseStatusCode
	}
	var ae *abstractions.ApiError
	if errors.As(err, &ae) {
		return ae.ResponseStatusCode
	}
	return 0
}

// odataMessage is the message of an SDK error answer, "" if it has none.
func odataMessage(err error) string {
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) && oe.GetErrorEscaped() != nil {
		return deref(oe.GetErrorEscaped().GetMessage())
	}
	return ""
}

// conflictProperty names the property a uniqueness refusal is about
// (userPrincipalName, proxyAddresses, …), "" if err is not one. Graph says it in
// details (code ObjectConflict, target the property) and in the message.
func conflictProperty(err error) string {
	if statusOf(err) != 400 {
		return ""
	}
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) || oe.GetErrorEscaped() == nil {
		return ""
	}
	main := oe.GetErrorEscaped()
	for _, d := range main.GetDetails() {
		if deref(d.GetCode()) == detailObjectConflict {
			if t := deref(d.GetTarget()); t != "" {
				return t
			}
			return "unknown property"
		}
	}
	msg := deref(main.GetMessage())
	rest, found := strings.CutPrefix(strings.ToLower(msg), msgObjectConflict)
	if !found {
		return ""
	}
	// "…for property userPrincipalName already exists." – keep Graph's spelling.
	prop, _, _ := strings.Cut(strings.TrimSpace(msg[len(msg)-len(rest):]), " ")
	if prop == "" {
		return "unknown property"
	}
	return prop
}
