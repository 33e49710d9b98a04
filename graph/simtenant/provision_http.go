package simtenant

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/secret"
)

// The provisioning endpoints: POST /users, PATCH and GET /users/{ref},
// POST /users/{ref}/assignLicense, PUT|DELETE /users/{ref}/manager/$ref,
// POST /groups/{id}/members/$ref, GET /domains[/{id}], GET /subscribedSkus[/{id}].
//
// Error codes and messages are Graph's where its documentation, Microsoft's Q&A
// answers or widely used clients show them (all Request_BadRequest, told apart only
// by message):
//   - UPN taken: "Another object with the same value for property userPrincipalName
//     already exists." (proxyAddresses instead when the UPN is another user's address)
//   - UPN outside the verified domains: "The domain portion of the userPrincipalName
//     property is invalid. You must use one of the verified domain names in your
//     organization."
//   - weak password: "The specified password does not comply with password complexity
//     requirements. Please provide a different password."
//   - licence without usage location: "License assignment cannot be done for user with
//     invalid usage location."
//   - no free unit: "Subscription with SKU {skuId} does not have any available
//     licenses."
//   - SKU not subscribed: "License {skuId} does not correspond to a valid company
//     License."
//   - member already in the group: "One or more added object references already exist
//     for the following modified properties: 'members'."
//
// Messages marked "assumed" below are plausible wordings Microsoft does not document.

// Messages of the provisioning errors.
const (
	msgRequired        = "Property value is required but is empty or missing." // as the directory answered AAD Graph; assumed for v1.0
	msgUPNTaken        = "Another object with the same value for property userPrincipalName already exists."
	msgProxyTaken      = "Another object with the same value for property proxyAddresses already exists."
	msgDomainInvalid   = "The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization."
	msgPasswordWeak    = "The specified password does not comply with password complexity requirements. Please provide a different password."
	msgUsageLocation   = "License assignment cannot be done for user with invalid usage location."
	msgAlreadyMember   = "One or more added object references already exist for the following modified properties: 'members'."
	msgInvalidRefURL   = "Invalid URL format specified in payload."
	msgInvalidProperty = "Invalid value specified for property '%s' of resource 'User'."
)

// entraPasswordSymbols are the symbols Entra allows in a password, besides letters,
// digits and the blank ("Password policies and account restrictions in Microsoft
// Entra ID").
const entraPasswordSymbols = "@#$%^&*-_!+=[]{}|\\:',.?/`~\"();<>"

// routeProvisioning answers the provisioning requests and reports whether c was one;
// the router calls it first and routes everything else as before.
func (s *Server) routeProvisioning(c *call) (reply, bool) {
	segs := c.segs
	n := len(segs)
	at := func(i int, name string) bool { return n > i && strings.EqualFold(segs[i], name) }
	only := func(method string, h func() reply) (reply, bool) {
		if c.method != method {
			return fail(errMethod()), true
		}
		return h(), true
	}
	switch {
	case at(0, "domains") && n <= 2:
		return only(http.MethodGet, func() reply { return s.getDomains(c, segs[1:]) })
	case at(0, "subscribedSkus") && n <= 2:
		return only(http.MethodGet, func() reply { return s.getSKUs(c, segs[1:]) })
	case at(0, "users") && n == 1 && c.method == http.MethodPost:
		return s.createUser(c), true
	case at(0, "users") && n == 2:
		switch c.method {
		case http.MethodPatch:
			return s.patchUser(c, segs[1]), true
		case http.MethodGet:
			return s.getUserWithProfile(c, segs[1]), true
		}
	case at(0, "users") && n == 3 && at(2, "assignLicense"):
		return only(http.MethodPost, func() reply { return s.assignLicense(c, segs[1]) })
	case at(0, "users") && n == 4 && at(2, "manager") && at(3, "$ref"):
		switch c.method {
		case http.MethodPut:
			return s.putManager(c, segs[1]), true
		case http.MethodDelete:
			return s.deleteManager(segs[1]), true
		}
		return fail(errMethod()), true
	case at(0, "groups") && n == 4 && at(2, "members") && at(3, "$ref"):
		return only(http.MethodPost, func() reply { return s.addMemberRef(c, segs[1]) })
	}
	return reply{}, false
}

// --- domains and SKUs ---

var domainProps = []string{
	"id", "authenticationType", "availabilityStatus", "isAdminManaged", "isDefault", "isInitial",
	"isRoot", "isVerified", "passwordNotificationWindowInDays", "passwordValidityPeriodInDays",
	"supportedServices", "state",
}

func domainJSON(d graph.Domain, initial bool) map[string]any {
	services := []string{}
	if d.IsVerified {
		services = []string{"Email", "OfficeCommunicationsOnline"}
	}
	return map[string]any{
		"id": d.ID, "authenticationType": "Managed", "availabilityStatus": nil, "isAdminManaged": true,
		"isDefault": d.IsDefault, "isInitial": initial, "isRoot": true, "isVerified": d.IsVerified,
		"passwordNotificationWindowInDays": 14, "passwordValidityPeriodInDays": 2147483647,
		"supportedServices": services, "state": nil,
	}
}

func (s *Server) getDomains(c *call, rest []string) reply {
	sel, err := selectParam(c.query, domainProps, "microsoft.graph.domain")
	if err != nil {
		return fail(err)
	}
	t := s.tenant
	t.mu.Lock()
	st := t.provLocked()
	var items []map[string]any
	initialSeen := false
	for _, d := range st.domains {
		// The first *.onmicrosoft.com domain is the one the tenant was created with.
		initial := !initialSeen && strings.HasSuffix(d.ID, ".onmicrosoft.com")
		initialSeen = initialSeen || initial
		if len(rest) == 1 && !strings.EqualFold(rest[0], d.ID) {
			continue
		}
		obj := domainJSON(d, initial)
		if sel != nil {
			obj = project(obj, sel)
		}
		items = append(items, obj)
	}
	t.mu.Unlock()
	if len(rest) == 1 {
		if len(items) == 0 {
			return fail(errNotFound(rest[0]))
		}
		items[0]["@odata.context"] = c.context("domains" + selectContext(sel) + "/$entity")
		return ok(items[0])
	}
	if items == nil {
		items = []map[string]any{}
	}
	// Tenants have a handful of domains; Graph answers them in one page.
	return ok(map[string]any{"@odata.context": c.context("domains" + selectContext(sel)), "value": items})
}

func (s *Server) getSKUs(c *call, rest []string) reply {
	t := s.tenant
	t.mu.Lock()
	st := t.provLocked()
	var account any // the billing account's name; the fake knows Contoso's
	if t.id == ContosoTenantID {
		account = "Contoso"
	}
	var items []map[string]any
	for _, k := range st.skus {
		id := t.id + "_" + k.ID // a subscribedSku's id is the tenant id and skuId joined
		if len(rest) == 1 && !strings.EqualFold(rest[0], id) {
			continue
		}
		items = append(items, map[string]any{
			"accountId": t.id, "accountName": account, "appliesTo": "User", "capabilityStatus": "Enabled",
			"consumedUnits": k.Consumed, "id": id,
			"prepaidUnits":    map[string]any{"enabled": k.Enabled, "lockedOut": 0, "suspended": 0, "warning": 0},
			"servicePlans":    []any{},
			"skuId":           k.ID,
			"skuPartNumber":   k.PartNumber,
			"subscriptionIds": []string{},
		})
	}
	t.mu.Unlock()
	if len(rest) == 1 {
		if len(items) == 0 {
			return fail(errNotFound(rest[0]))
		}
		items[0]["@odata.context"] = c.context("subscribedSkus/$entity")
		return ok(items[0])
	}
	if items == nil {
		items = []map[string]any{}
	}
	// Not paged: Graph answers a tenant's subscriptions at once.
	return ok(map[string]any{"@odata.context": c.context("subscribedSkus"), "value": items})
}

// --- users ---

// profileJSON writes a profile over a user's JSON, for the properties obj has (so a
// $select is respected).
func profileJSON(p *profile, obj map[string]any) {
	null := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	var hire any
	if !p.hireDate.IsZero() {
		hire = graphTime(p.hireDate)
	}
	for k, v := range map[string]any{
		"givenName": null(p.givenName), "surname": null(p.surname), "mailNickname": null(p.mailNickname),
		"jobTitle": null(p.jobTitle), "department": null(p.department), "officeLocation": null(p.officeLocation),
		"usageLocation": null(p.usageLocation), "employeeHireDate": hire,
	} {
		if _, has := obj[k]; has {
			obj[k] = v
		}
	}
}

// getUserWithProfile is GET /users/{ref} (users.go) with the profile properties the
// provisioning endpoints set.
func (s *Server) getUserWithProfile(c *call, ref string) reply {
	rep := s.getUser(c, ref)
	obj, isObj := rep.body.(map[string]any)
	if rep.err != nil || !isObj {
		return rep
	}
	t := s.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	if u, err := t.resolveUserLocked(ref); err == nil {
		profileJSON(t.profileLocked(t.provLocked(), u), obj)
	}
	return rep
}

// createUserBody is a POST /users body; nil fields were not sent.
type createUserBody struct {
	AccountEnabled    *bool   `json:"accountEnabled"`
	DisplayName       *string `json:"displayName"`
	MailNickname      *string `json:"mailNickname"`
	UserPrincipalName *string `json:"userPrincipalName"`
	GivenName         *string `json:"givenName"`
	Surname           *string `json:"surname"`
	JobTitle          *string `json:"jobTitle"`
	Department        *string `json:"department"`
	OfficeLocation    *string `json:"officeLocation"`
	UsageLocation     *string `json:"usageLocation"`
	EmployeeHireDate  *string `json:"employeeHireDate"`
	PasswordProfile   *struct {
		Password                      *string `json:"password"`
		ForceChangePasswordNextSignIn *bool   `json:"forceChangePasswordNextSignIn"`
	} `json:"passwordProfile"`
}

func (s *Server) createUser(c *call) reply {
	var in createUserBody
	if err := decodeJSON(c.body, &in); err != nil {
		return fail(err)
	}
	str := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	if in.AccountEnabled == nil || str(in.DisplayName) == "" || str(in.MailNickname) == "" ||
		str(in.UserPrincipalName) == "" || in.PasswordProfile == nil || str(in.PasswordProfile.Password) == "" {
		return fail(gerr(http.StatusBadRequest, "Request_BadRequest", msgRequired))
	}
	upn := *in.UserPrincipalName
	if !provValidUPN(upn) {
		return fail(gerr(http.StatusBadRequest, "Request_BadRequest", msgInvalidProperty, "userPrincipalName")) // assumed wording
	}
	if !provValidNickname(*in.MailNickname) {
		return fail(gerr(http.StatusBadRequest, "Request_BadRequest", msgInvalidProperty, "mailNickname"))
	}
	usage := str(in.UsageLocation)
	if usage != "" && !provValidCountry(usage) {
		return fail(gerr(http.StatusBadRequest, "Request_BadRequest", msgInvalidProperty, "usageLocation")) // assumed wording
	}
	var hire time.Time
	if in.EmployeeHireDate != nil {
		h, err := time.Parse(time.RFC3339Nano, *in.EmployeeHireDate)
		if err != nil {
			return fail(errBody("property 'employeeHireDate' is not a DateTimeOffset"))
		}
		hire = h.UTC()
	}
	if !entraPasswordOK(*in.PasswordProfile.Password) {
		return fail(gerr(http.StatusBadRequest, "Request_BadRequest", msgPasswordWeak))
	}

	t := s.tenant
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.provLocked()
	_, domain, _ := strings.Cut(upn, "@")
	if !st.verifiedLocked(domain) {
		return fail(gerr(http.StatusBadRequest, "Request_BadRequest", msgDomainInvalid))
	}
	for _, o := range t.users {
		switch {
		case strings.EqualFold(o.UserPrincipalName, upn):
			return fail(gerr(http.StatusBadRequest, "Request_BadRequest", msgUPNTaken))
		case strings.EqualFold(o.Mail, upn):
			// A user's UPN becomes one of its proxy addresses, unique in the directory.
			return fail(gerr(http.StatusBadRequest, "Request_BadRequest", msgProxyTaken))
		}
	}
	u := &user{User: graph.User{
		ID: newGUID(), UserPrincipalName: upn, DisplayName: *in.DisplayName,
		UserType: "Member", AccountEnabled: *in.AccountEnabled, CreatedDateTime: t.now(),
		// mail stays null: the fake has no Exchange to give the account a mailbox.
	}}
	t.users = append(t.users, u)
	t.replicatingLocked(u.ID)
	st.profiles[strings.ToLower(u.ID)] = &profile{
		givenName: str(in.GivenName), surname: str(in.Surname), mailNickname: *in.MailNickname,
		jobTitle: str(in.JobTitle), department: str(in.Department), officeLocation: str(in.OfficeLocation),
		usageLocation: strings.ToUpper(usage), hireDate: hire,
		password:    secret.String(*in.PasswordProfile.Password),
		forceChange: in.PasswordProfile.ForceChangePasswordNextSignIn != nil && *in.PasswordProfile.ForceChangePasswordNextSignIn,
	}
	// Graph answers the new user with the default property set.
	v := userValue(u, nil)
	profileJSON(st.profiles[strings.ToLower(u.ID)], v)
	v["@odata.context"] = c.context("users/$entity")
	return created(v)
}

// patchable are the user properties PATCH /users/{ref} changes here; other
// properties of a user are Graph's but not this fake's.
var patchable = []string{
	"accountEnabled", "department", "displayName", "employeeHireDate", "givenName", "jobTitle",
	"mailNickname", "officeLocation", "surname", "usageLocation",
}

func (s *Server) patchUser(c *call, ref string) reply {
	var in map[string]json.RawMessage
	if err := decodeJSON(c.body, &in); err != nil {
		return fail(err)
	}
	// Check everything first: a refused PATCH changes nothing.
	strs := map[string]*string{}
	var enabled *bool
	var hire *time.Time
	for k, raw := range in {
		if strings.HasPrefix(k, "@odata.") {
			continue
		}
		if !slices.Contains(patchable, k) {
			if slices.Contains(userProps, k) {
				return fail(gerr(http.StatusNotImplemented, "NotImplemented", "simtenant does not update property '%s'.", k))
			}
			return fail(gerr(http.StatusBadRequest, "Request_BadRequest",
				"Property '%s' does not exist as a declared property or extension property.", k)) // assumed wording
		}
		switch k {
		case "accountEnabled":
			var b bool
			if json.Unmarshal(raw, &b) != nil {
				return fail(errBody("property 'accountEnabled' has the wrong type"))
			}
			enabled = &b
		case "employeeHireDate":
			var v *string
			if json.Unmarshal(raw, &v) != nil {
				return fail(errBody("property 'employeeHireDate' has the wrong type"))
			}
			h := time.Time{}
			if v != nil {
				p, err := time.Parse(time.RFC3339Nano, *v)
				if err != nil {
					return fail(errBody("property 'employeeHireDate' is not a DateTimeOffset"))
				}
				h = p.UTC()
			}
			hire = &h
		default:
			var v *string
			if json.Unmarshal(raw, &v) != nil {
				return fail(errBody("property '" + k + "' has the wrong type"))
			}
			val := ""
			if v != nil {
				val = *v
			}
			switch {
			case k == "usageLocation" && val != "" && !provValidCountry(val):
				return fail(gerr(http.StatusBadRequest, "Request_BadRequest", msgInvalidProperty, k)) // assumed wording
			case k == "mailNickname" && !provValidNickname(val), k == "displayName" && val == "":
				return fail(gerr(http.StatusBadRequest, "Request_BadRequest", msgInvalidProperty, k))
			}
			strs[k] = &val
		}
	}

	return s.withUser(ref, func(t *Tenant, u *user) reply {
		p := t.profileLocked(t.provLocked(), u)
		if enabled != nil {
			u.AccountEnabled = *enabled
		}
		if hire != nil {
			p.hireDate = *hire
		}
		for k, v := range strs {
			switch k {
			case "displayName":
				u.DisplayName = *v
			case "usageLocation":
				p.usageLocation = strings.ToUpper(*v)
			case "givenName":
				p.givenName = *v
			case "surname":
				p.surname = *v
			case "mailNickname":
				p.mailNickname = *v
			case "jobTitle":
				p.jobTitle = *v
			case "department":
				p.department = *v
			case "officeLocation":
				p.officeLocation = *v
			}
		}
		return noContent()
	})
}

// --- licences ---

type assignLicenseBody struct {
	AddLicenses []struct {
		SkuID         *string  `json:"skuId"`
		DisabledPlans []string `json:"disabledPlans"`
	} `json:"addLicenses"`
	RemoveLicenses []string `json:"removeLicenses"`
}

func (s *Server) assignLicense(c *call, ref string) reply {
	var in assignLicenseBody
	if err := decodeJSON(c.body, &in); err != nil {
		return fail(err)
	}
	// Both parameters are required; an empty collection is how to say "none".
	if in.AddLicenses == nil || in.RemoveLicenses == nil {
		return fail(gerr(http.StatusBadRequest, "Request_BadRequest", msgRequired)) // assumed wording
	}
	var add []string
	for _, l := range in.AddLicenses {
		if l.SkuID == nil || !provIsGUID(*l.SkuID) {
			// OData's answer for a value that does not parse as Edm.Guid.
			return fail(gerr(http.StatusBadRequest, "BadRequest", "Cannot convert a primitive value to the expected type 'Edm.Guid'. See the inner exception for more details."))
		}
		add = append(add, strings.ToLower(*l.SkuID))
	}
	for _, id := range in.RemoveLicenses {
		if !provIsGUID(id) {
			return fail(gerr(http.StatusBadRequest, "BadRequest", "Cannot convert a primitive value to the expected type 'Edm.Guid'. See the inner exception for more details."))
		}
	}

	return s.withUser(ref, func(t *Tenant, u *user) reply {
		st := t.provLocked()
		p := t.profileLocked(st, u)
		if len(add) > 0 && p.usageLocation == "" {
			return fail(gerr(http.StatusBadRequest, "Request_BadRequest", msgUsageLocation))
		}
		for _, id := range append(slices.Clone(add), in.RemoveLicenses...) {
			if st.skuLocked(id) == nil {
				return fail(gerr(http.StatusBadRequest, "Request_BadRequest", "License %s does not correspond to a valid company License.", id))
			}
		}
		for _, id := range in.RemoveLicenses {
			if !slices.ContainsFunc(p.licenses, func(l string) bool { return strings.EqualFold(l, id) }) {
				return fail(gerr(http.StatusBadRequest, "Request_BadRequest", "User does not have a corresponding license.")) // assumed wording
			}
		}
		var taking []*graph.SKU
		for _, id := range add {
			if slices.Contains(p.licenses, id) {
				continue // assigning a licence the user has changes nothing and takes no unit
			}
			k := st.skuLocked(id)
			if k.Consumed >= k.Enabled {
				return fail(gerr(http.StatusBadRequest, "Request_BadRequest", "Subscription with SKU %s does not have any available licenses.", k.ID))
			}
			taking = append(taking, k)
		}
		for _, id := range in.RemoveLicenses {
			p.licenses = slices.DeleteFunc(p.licenses, func(l string) bool { return strings.EqualFold(l, id) })
			st.skuLocked(id).Consumed--
		}
		for _, k := range taking {
			p.licenses = append(p.licenses, k.ID)
			k.Consumed++
		}
		v := userValue(u, nil)
		profileJSON(p, v)
		v["@odata.context"] = c.context("users/$entity")
		return ok(v)
	})
}

// --- references ---

// refTarget reads the object id out of a reference body's @odata.id, e.g.
// https://graph.microsoft.com/v1.0/directoryObjects/{id} (or .../users/{id}).
func refTarget(body []byte) (string, *graph.Error) {
	var in struct {
		ID *string `json:"@odata.id"`
	}
	if err := decodeJSON(body, &in); err != nil {
		return "", err
	}
	if in.ID == nil {
		return "", gerr(http.StatusBadRequest, "Request_BadRequest", msgRequired) // assumed wording
	}
	u, err := url.Parse(*in.ID)
	if err != nil || !u.IsAbs() {
		return "", gerr(http.StatusBadRequest, "Request_BadRequest", msgInvalidRefURL)
	}
	segs := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	if len(segs) < 2 {
		return "", gerr(http.StatusBadRequest, "Request_BadRequest", msgInvalidRefURL)
	}
	kind, id := strings.ToLower(segs[len(segs)-2]), segs[len(segs)-1]
	if kind != "directoryobjects" && kind != "users" && kind != "groups" || !provIsGUID(id) {
		return "", gerr(http.StatusBadRequest, "Request_BadRequest", msgInvalidRefURL)
	}
	return id, nil
}

func (s *Server) putManager(c *call, ref string) reply {
	managerID, rerr := refTarget(c.body)
	if rerr != nil {
		return fail(rerr)
	}
	return s.withUser(ref, func(t *Tenant, u *user) reply {
		m := t.userByIDLocked(managerID)
		if m == nil {
			return fail(errNotFound(managerID))
		}
		if m == u {
			return fail(gerr(http.StatusBadRequest, "Request_BadRequest", "A user cannot be their own manager.")) // assumed wording
		}
		u.manager = m.ID
		return noContent()
	})
}

func (s *Server) deleteManager(ref string) reply {
	return s.withUser(ref, func(_ *Tenant, u *user) reply {
		if u.manager == "" {
			return fail(errNotFound("manager"))
		}
		u.manager = ""
		return noContent()
	})
}

func (s *Server) addMemberRef(c *call, groupID string) reply {
	t := s.tenant
	t.mu.Lock()
	g := t.groupLocked(groupID)
	t.mu.Unlock()
	if g == nil {
		return fail(errNotFound(groupID))
	}
	memberID, rerr := refTarget(c.body)
	if rerr != nil {
		return fail(rerr)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var id string
	if u := t.userByIDLocked(memberID); u != nil {
		if t.lag[u.ID] > 0 { // created moments ago: SetReplicationLag
			t.lag[u.ID]--
			return fail(errNotFound(memberID))
		}
		id = u.ID
	} else if m := t.groupLocked(memberID); m != nil && m != g {
		id = m.id
	} else {
		return fail(errNotFound(memberID))
	}
	// "To add members to a role-assignable group, the app must also be assigned the
	// RoleManagement.ReadWrite.Directory permission"
	// (https://learn.microsoft.com/en-us/graph/api/group-post-members).
	if g.roleAssignable && !c.holds("RoleManagement.ReadWrite.Directory") {
		return fail(errDenied())
	}
	if slices.ContainsFunc(g.members, func(m string) bool { return strings.EqualFold(m, id) }) {
		return fail(gerr(http.StatusBadRequest, "Request_BadRequest", msgAlreadyMember))
	}
	g.members = append(g.members, id)
	return noContent()
}

// --- validation ---

// provValidUPN checks Entra's userPrincipalName rules: letters, digits and
// ' . - _ ! # ^ ~ before the @ (at most 64, no "." just before it), a domain after
// it, 113 characters in all.
func provValidUPN(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || len(s) > 113 || len(local) > 64 || strings.HasSuffix(local, ".") || strings.Contains(domain, "@") {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !provAlnum(c) && !strings.ContainsRune("'.-_!#^~", rune(c)) {
			return false
		}
	}
	for i := 0; i < len(domain); i++ {
		if !provAlnum(domain[i]) && domain[i] != '.' && domain[i] != '-' {
			return false
		}
	}
	return true
}

// provValidNickname checks a mailNickname: 1 to 64 printable ASCII characters, none of
// @ ( ) \ [ ] " ; : < > , or blank (the user resource's documented exclusions).
func provValidNickname(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' || strings.IndexByte(`@()\[]";:<>,`, s[i]) >= 0 {
			return false
		}
	}
	return true
}

// provValidCountry checks an ISO 3166-1 alpha-2 shape: two ASCII letters.
func provValidCountry(s string) bool {
	return len(s) == 2 && provLetter(s[0]) && provLetter(s[1])
}

func provLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }
func provAlnum(c byte) bool  { return provLetter(c) || '0' <= c && c <= '9' }

// entraPasswordOK applies Entra's password rules: 8 to 256 characters, only letters,
// digits, the allowed symbols and blank, and three of lowercase, uppercase, digit,
// symbol.
func entraPasswordOK(pw string) bool {
	if n := utf8.RuneCountInString(pw); n < 8 || n > 256 {
		return false
	}
	var lower, upper, digit, symbol bool
	for _, r := range pw {
		switch {
		case 'a' <= r && r <= 'z':
			lower = true
		case 'A' <= r && r <= 'Z':
			upper = true
		case '0' <= r && r <= '9':
			digit = true
		case r < utf8.RuneSelf && strings.ContainsRune(entraPasswordSymbols, r):
			symbol = true
		case r == ' ':
		default:
			return false
		}
	}
	kinds := 0
	for _, b := range []bool{lower, upper, digit, symbol} {
		if b {
			kinds++
		}
	}
	return kinds >= 3
}
