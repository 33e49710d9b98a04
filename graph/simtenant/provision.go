package simtenant

import (
	"slices"
	"strings"
	"time"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/secret"
)

// Account provisioning (flow steps 4–5): the tenant's domains and subscribed SKUs,
// users created through POST /users with their password, usage location and other
// profile properties, licence assignments. The Contoso tenant gets its domains and
// SKUs on first use (see SeedProvisioning).

// Contoso's domains and SKUs (the SKU ids are Microsoft's, the same in every tenant).
const (
	ContosoInitialDomain = "contoso.onmicrosoft.com"

	SKUEntraIDP1 = "078d2b04-f1bd-4111-bbd4-b4b1b354cef4" // AAD_PREMIUM: 25 units, 10 assigned
	SKUM365E3    = "05e9a617-0261-4cee-bb44-138d3ef5d965" // SPE_E3: 10 units, all assigned
)

// UserDetails is a user as the provisioning endpoints see it: the directory's user
// and the profile properties POST /users and PATCH set. The password is left out; see
// PasswordOf.
type UserDetails struct {
	graph.User
	GivenName        string
	Surname          string
	MailNickname     string
	JobTitle         string
	Department       string
	OfficeLocation   string
	UsageLocation    string
	EmployeeHireDate time.Time
	// ForceChangePasswordNextSignIn is passwordProfile's flag as the user was created.
	ForceChangePasswordNextSignIn bool
}

// provState is a tenant's provisioning data, guarded by the tenant's mutex like the rest.
type provState struct {
	seeded   bool
	domains  []graph.Domain
	skus     []*graph.SKU
	profiles map[string]*profile // lower-case user id → profile
}

// profile holds what the directory's user record in tenant.go does not: every
// property a provisioning request can set, and the licences assigned.
type profile struct {
	givenName, surname, mailNickname     string
	jobTitle, department, officeLocation string
	usageLocation                        string
	hireDate                             time.Time
	password                             secret.String
	forceChange                          bool
	licenses                             []string // skuIds, in assignment order
}

// provLocked returns the tenant's provisioning state, creating it on first use (and
// seeding it, for the Contoso tenant). t.mu must be held.
func (t *Tenant) provLocked() *provState {
	if t.prov != nil {
		return t.prov
	}
	st := &provState{profiles: map[string]*profile{}}
	t.prov = st
	if t.id == ContosoTenantID {
		t.seedProvisioningLocked(st)
	}
	return st
}

// SeedProvisioning gives a tenant Contoso's domains (contoso.com, verified and the
// default; contoso.onmicrosoft.com, the verified initial domain) and SKUs (Entra ID P1
// with free units; Microsoft 365 E3 with none), and gives Contoso's members (the
// seeded users that exist in t, guests aside) usage location US and both licences.
// The Contoso tenant is seeded on first use without it; seeding twice is a no-op.
func SeedProvisioning(t *Tenant) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seedProvisioningLocked(t.provLocked())
}

func (t *Tenant) seedProvisioningLocked(st *provState) {
	if st.seeded {
		return
	}
	st.seeded = true
	t.addDomainLocked(st, graph.Domain{ID: ContosoDomain, IsVerified: true, IsDefault: true})
	t.addDomainLocked(st, graph.Domain{ID: ContosoInitialDomain, IsVerified: true})
	p1 := t.addSKULocked(st, graph.SKU{ID: SKUEntraIDP1, PartNumber: "AAD_PREMIUM", Enabled: 25})
	e3 := t.addSKULocked(st, graph.SKU{ID: SKUM365E3, PartNumber: "SPE_E3", Enabled: 10})
	for _, id := range []string{HanaID, MaxID, AlexID, GwenID, NinaID, DanID, PaulID, ErinID, ColinID, InesID} {
		u := t.userByIDLocked(id)
		if u == nil || u.IsGuest() {
			continue
		}
		p := t.profileLocked(st, u)
		p.usageLocation = "US"
		for _, s := range []*graph.SKU{p1, e3} {
			p.licenses = append(p.licenses, s.ID)
			s.Consumed++
		}
	}
}

// AddDomain adds a domain to the tenant. A default domain replaces the previous
// default. It panics on a duplicate.
func (t *Tenant) AddDomain(d graph.Domain) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.addDomainLocked(t.provLocked(), d)
}

func (t *Tenant) addDomainLocked(st *provState, d graph.Domain) {
	d.ID = strings.ToLower(d.ID)
	if d.ID == "" || slices.ContainsFunc(st.domains, func(o graph.Domain) bool { return o.ID == d.ID }) {
		panic("simtenant: AddDomain: empty or duplicate domain " + d.ID)
	}
	if d.IsDefault {
		for i := range st.domains {
			st.domains[i].IsDefault = false
		}
	}
	st.domains = append(st.domains, d)
}

// AddSKU adds a subscribed SKU. ID is its skuId (a GUID); Consumed counts units taken
// by users outside the fake, and grows as the fake assigns the SKU. It panics on a
// duplicate.
func (t *Tenant) AddSKU(s graph.SKU) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.addSKULocked(t.provLocked(), s)
}

func (t *Tenant) addSKULocked(st *provState, s graph.SKU) *graph.SKU {
	s.ID = strings.ToLower(s.ID)
	if !provIsGUID(s.ID) || st.skuLocked(s.ID) != nil {
		panic("simtenant: AddSKU: bad or duplicate skuId " + s.ID)
	}
	st.skus = append(st.skus, &s)
	return &s
}

func (st *provState) skuLocked(id string) *graph.SKU {
	for _, s := range st.skus {
		if strings.EqualFold(s.ID, id) {
			return s
		}
	}
	return nil
}

// verifiedLocked reports whether domain is a verified domain of the tenant.
func (st *provState) verifiedLocked(domain string) bool {
	return slices.ContainsFunc(st.domains, func(d graph.Domain) bool { return d.IsVerified && strings.EqualFold(d.ID, domain) })
}

// profileLocked returns a user's profile, creating it from what the user's JSON shows
// (the seeded users have none until a request changes one).
func (t *Tenant) profileLocked(st *provState, u *user) *profile {
	key := strings.ToLower(u.ID)
	if p, ok := st.profiles[key]; ok {
		return p
	}
	js := userJSON(u)
	str := func(k string) string { s, _ := js[k].(string); return s }
	p := &profile{givenName: str("givenName"), surname: str("surname"), mailNickname: str("mailNickname")}
	st.profiles[key] = p
	return p
}

// Domains lists the tenant's domains.
func (t *Tenant) Domains() []graph.Domain {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.provLocked().domains)
}

// SKUs lists the tenant's subscribed SKUs with their current consumption.
func (t *Tenant) SKUs() []graph.SKU {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []graph.SKU
	for _, s := range t.provLocked().skus {
		out = append(out, *s)
	}
	return out
}

// User returns the user with id or UPN ref and its profile properties.
func (t *Tenant) User(ref string) (UserDetails, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.resolveUserLocked(ref)
	if err != nil {
		return UserDetails{}, false
	}
	p := t.profileLocked(t.provLocked(), u)
	return UserDetails{
		User: u.User, GivenName: p.givenName, Surname: p.surname, MailNickname: p.mailNickname,
		JobTitle: p.jobTitle, Department: p.department, OfficeLocation: p.officeLocation,
		UsageLocation: p.usageLocation, EmployeeHireDate: p.hireDate, ForceChangePasswordNextSignIn: p.forceChange,
	}, true
}

// LicensesOf lists the skuIds assigned to the user with id or UPN ref.
func (t *Tenant) LicensesOf(ref string) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.resolveUserLocked(ref)
	if err != nil {
		return nil
	}
	return slices.Clone(t.profileLocked(t.provLocked(), u).licenses)
}

// ManagerOf returns the object id of the manager of the user with id or UPN ref.
func (t *Tenant) ManagerOf(ref string) (string, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.resolveUserLocked(ref)
	if err != nil || u.manager == "" {
		return "", false
	}
	return u.manager, true
}

// PasswordOf returns the password the user with id or UPN ref was created with
// through POST /users; seeded users have none. It is for tests that look for the
// value where it must not be.
func (t *Tenant) PasswordOf(ref string) (secret.String, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.resolveUserLocked(ref)
	if err != nil {
		return "", false
	}
	p := t.profileLocked(t.provLocked(), u)
	return p.password, !p.password.IsZero()
}

// provIsGUID reports whether s is a GUID in its 8-4-4-4-12 form.
func provIsGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}

// SetHireDate sets a user's employeeHireDate, as HR-driven provisioning would.
func (t *Tenant) SetHireDate(ref string, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, err := t.resolveUserLocked(ref)
	if err != nil {
		panic("simtenant: SetHireDate: no user " + ref)
	}
	t.profileLocked(t.provLocked(), u).hireDate = at.UTC()
}
