package simtenant

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tapbot/tapbot/graph"
)

// Devices and Teams apps in a user's personal scope (checklist and proactive first
// contact):
//
//	GET  /users/{ref}/registeredDevices[/microsoft.graph.device]   (and ownedDevices; graph.device too)
//	GET  /users/{ref}/teamwork/installedApps[?$expand=teamsApp&$filter=teamsApp/id eq '…']
//	POST /users/{ref}/teamwork/installedApps  {"teamsApp@odata.bind": ".../appCatalogs/teamsApps/{id}"}
//
// From Microsoft's v1.0 pages: the install answers 201 Created with no body ("Install
// app for user"); ownedDevices and registeredDevices answer directoryObject collections,
// devices carrying @odata.type #microsoft.graph.device.
// Assumed (Microsoft documents no body for them): installing an app the user already
// has is 409 Conflict (reported by Graph users for the team-scope twin of this call);
// an unknown catalog app is 404; the codes and messages of both; the installation id
// (base64 of "{userId}##{teamsAppId}", the shape of the documented examples).

// Messages of the teamwork errors (assumed wordings).
const (
	msgAppInstalled     = "App is already installed for the user."
	msgAppNotInCatalog  = "The app with id '%s' was not found in the app catalog."
	msgBindRequired     = "teamsApp@odata.bind is required."
	msgBindInvalid      = "Invalid value for teamsApp@odata.bind: '%s'."
	msgFilterNotAllowed = "Only filtering on teamsApp/id with 'eq' is supported."
	msgNotSelf          = "The app is not allowed to manage the Teams App '%s': its webApplicationInfo.id is not the calling app."
)

// InstalledApp is a Teams app installed in a user's personal scope, as Tenant.InstalledApps
// reports it.
type InstalledApp struct {
	ID         string // the installation's id
	TeamsAppID string // the catalog app's id
}

// teamworkState is a tenant's devices, app catalog and installations, guarded by the
// tenant's mutex.
type teamworkState struct {
	devices  map[string][]graph.Device // user id → devices, in registration order
	catalog  map[string]CatalogApp     // catalog app id (lower case) → the app
	installs map[string][]InstalledApp // user id → installations, in install order
}

// teamworkLocked returns the tenant's teamwork state, creating it on first use. t.mu
// must be held.
func (t *Tenant) teamworkLocked() *teamworkState {
	if t.teamwork != nil {
		return t.teamwork
	}
	t.teamwork = &teamworkState{
		catalog:  map[string]CatalogApp{},
		devices:  map[string][]graph.Device{},
		installs: map[string][]InstalledApp{},
	}
	return t.teamwork
}

// AddDevice registers a device to a user: it appears in the user's registeredDevices
// and ownedDevices, as an Entra-joined or registered device does for the user who
// joined or registered it. An empty ID gets a GUID, a zero Registered is now. It
// panics on an unknown user.
func (t *Tenant) AddDevice(userID string, d graph.Device) graph.Device {
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.userByIDLocked(userID)
	if u == nil {
		panic("simtenant: AddDevice: unknown user " + userID)
	}
	return t.addDeviceLocked(u.ID, d)
}

// addDeviceLocked is AddDevice for a known user id. t.mu must be held.
func (t *Tenant) addDeviceLocked(userID string, d graph.Device) graph.Device {
	if d.ID == "" {
		d.ID = newGUID()
	}
	if d.Registered.IsZero() {
		d.Registered = t.now()
	}
	st := t.teamworkLocked()
	st.devices[userID] = append(st.devices[userID], d)
	return d
}

// CatalogApp is a Teams app in the tenant's app catalog.
type CatalogApp struct {
	ID string // the generated catalog id Graph installs by
	// WebApplicationInfoID is the manifest's webApplicationInfo.id (empty: none). An
	// app holding only TeamsAppInstallation.ReadWriteSelfForUser.All may install a
	// catalog app only when this is its own app id.
	WebApplicationInfoID string
}

// SetAppCatalog makes apps the tenant's app catalog. Installing any other id
// answers 404.
func (t *Tenant) SetAppCatalog(apps ...CatalogApp) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.teamworkLocked()
	st.catalog = map[string]CatalogApp{}
	for _, a := range apps {
		st.catalog[strings.ToLower(a.ID)] = a
	}
}

// PublishApp adds a Teams app to the catalog from its manifest.json, as an admin
// uploading the package does, and returns its generated catalog id. It reads the
// manifest's webApplicationInfo.id (manifest schema: webApplicationInfo).
func (t *Tenant) PublishApp(manifestJSON []byte) (string, error) {
	var m struct {
		ID                 string `json:"id"`
		WebApplicationInfo *struct {
			ID string `json:"id"`
		} `json:"webApplicationInfo"`
	}
	if err := json.Unmarshal(manifestJSON, &m); err != nil {
		return "", err
	}
	app := CatalogApp{ID: newGUID()}
	if m.WebApplicationInfo != nil {
		app.WebApplicationInfoID = m.WebApplicationInfo.ID
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.teamworkLocked().catalog[strings.ToLower(app.ID)] = app
	return app.ID, nil
}

// InstalledApps lists the Teams apps installed in a user's personal scope.
func (t *Tenant) InstalledApps(userID string) []InstalledApp {
	t.mu.Lock()
	defer t.mu.Unlock()
	u := t.userByIDLocked(userID)
	if u == nil {
		return nil
	}
	return slices.Clone(t.teamworkLocked().installs[u.ID])
}

// routeTeamwork answers the device and personal-app requests and reports whether c
// was one; the router calls it before the users routes.
func (s *Server) routeTeamwork(c *call) (reply, bool) {
	segs := c.segs
	n := len(segs)
	if n < 3 || !strings.EqualFold(segs[0], "users") {
		return reply{}, false
	}
	at := func(i int, name string) bool { return n > i && strings.EqualFold(segs[i], name) }
	only := func(method string, h func() reply) (reply, bool) {
		if c.method != method {
			return fail(errMethod()), true
		}
		return h(), true
	}
	ref := segs[1]
	switch {
	case (at(2, "registeredDevices") || at(2, "ownedDevices")) && n <= 4:
		cast := ""
		if n == 4 {
			cast = segs[3]
			// msgraph-sdk-go writes the cast as graph.device; Graph takes both spellings.
			if !strings.EqualFold(cast, "microsoft.graph.device") && !strings.EqualFold(cast, "graph.device") {
				// Other casts (endpoint, appRoleAssignment) hold nothing here.
				return only(http.MethodGet, func() reply { return s.listDevices(c, ref, cast, true) })
			}
		}
		return only(http.MethodGet, func() reply { return s.listDevices(c, ref, cast, false) })
	case at(2, "teamwork") && n == 3:
		return fail(errSegment(segs[2])), true // the userTeamwork entity itself is not served
	case at(2, "teamwork") && at(3, "installedApps") && n == 4:
		switch c.method {
		case http.MethodGet:
			return s.listInstalledApps(c, ref), true
		case http.MethodPost:
			return s.installApp(c, ref), true
		}
		return fail(errMethod()), true
	}
	return reply{}, false
}

// --- devices ---

func deviceJSON(d graph.Device) map[string]any {
	os, version := "Windows", "10.0.26100.2605"
	if d.TrustType == graph.TrustRegistered {
		os, version = "iOS", "18.1"
	}
	return map[string]any{
		"@odata.type":                   "#microsoft.graph.device",
		"id":                            d.ID,
		"deletedDateTime":               nil,
		"accountEnabled":                true,
		"approximateLastSignInDateTime": graphTime(d.Registered),
		"deviceId":                      d.ID, // Entra's deviceId differs from the object id; the fake reuses it
		"displayName":                   d.DisplayName,
		"isCompliant":                   nil,
		"isManaged":                     d.TrustType != graph.TrustRegistered,
		"operatingSystem":               os,
		"operatingSystemVersion":        version,
		"profileType":                   "RegisteredDevice",
		"registrationDateTime":          graphTime(d.Registered),
		"trustType":                     d.TrustType,
	}
}

// listDevices answers a user's registeredDevices or ownedDevices, all devices or
// cast to microsoft.graph.device; other casts are empty.
func (s *Server) listDevices(c *call, ref, cast string, empty bool) reply {
	return s.withUser(ref, func(t *Tenant, u *user) reply {
		var items []map[string]any
		if !empty {
			for _, d := range t.teamworkLocked().devices[u.ID] {
				// User.Read.All lists the relationship; the devices' own properties need a
				// device permission, else limited information (permissions.go).
				items = append(items, c.visible(deviceJSON(d), permDevice...))
			}
		}
		context := "directoryObjects"
		if cast != "" {
			context = "devices"
		}
		return page(c, t.PageSize, context, items)
	})
}

// --- installed apps ---

func installationID(userID, appID string) string {
	return base64.StdEncoding.EncodeToString([]byte(userID + "##" + appID))
}

func installationJSON(c *call, in InstalledApp) map[string]any {
	v := map[string]any{"id": in.ID, "consentedPermissionSet": nil}
	if expandsTeamsApp(c) {
		v["teamsApp"] = map[string]any{
			"id": in.TeamsAppID, "externalId": nil, "displayName": "tapbot", "distributionMethod": "organization",
		}
	}
	return v
}

func expandsTeamsApp(c *call) bool {
	for _, e := range strings.Split(c.query.Get("$expand"), ",") {
		if strings.EqualFold(strings.TrimSpace(e), "teamsApp") {
			return true
		}
	}
	return false
}

// teamsAppFilter reads $filter=teamsApp/id eq '…', the one filter the fake serves.
func teamsAppFilter(c *call) (string, bool, *graph.Error) {
	if !c.query.Has("$filter") {
		return "", false, nil
	}
	f := strings.TrimSpace(c.query.Get("$filter"))
	lower := strings.ToLower(f)
	for _, prefix := range []string{"teamsapp/id eq ", "teamsapp/id eq"} {
		if strings.HasPrefix(lower, prefix) {
			lit := strings.TrimSpace(f[len(prefix):])
			if len(lit) >= 2 && lit[0] == '\'' && lit[len(lit)-1] == '\'' {
				return strings.ReplaceAll(lit[1:len(lit)-1], "''", "'"), true, nil
			}
		}
	}
	return "", false, gerr(http.StatusBadRequest, "BadRequest", msgFilterNotAllowed)
}

func (s *Server) listInstalledApps(c *call, ref string) reply {
	appID, filtered, ferr := teamsAppFilter(c)
	if ferr != nil {
		return fail(ferr)
	}
	return s.withUser(ref, func(t *Tenant, u *user) reply {
		var items []map[string]any
		for _, in := range t.teamworkLocked().installs[u.ID] {
			if filtered && !strings.EqualFold(in.TeamsAppID, appID) {
				continue
			}
			items = append(items, installationJSON(c, in))
		}
		return page(c, t.PageSize, "users('"+u.ID+"')/teamwork/installedApps", items)
	})
}

// bindTarget reads the catalog app id out of teamsApp@odata.bind, e.g.
// https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/{id}.
func bindTarget(body []byte) (string, *graph.Error) {
	var in struct {
		Bind *string `json:"teamsApp@odata.bind"`
	}
	if err := decodeJSON(body, &in); err != nil {
		return "", err
	}
	if in.Bind == nil || *in.Bind == "" {
		return "", gerr(http.StatusBadRequest, "BadRequest", msgBindRequired)
	}
	u, err := url.Parse(*in.Bind)
	segs := []string{}
	if err == nil && u.IsAbs() {
		segs = strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	}
	n := len(segs)
	if n < 3 || !strings.EqualFold(segs[n-3], "appCatalogs") || !strings.EqualFold(segs[n-2], "teamsApps") || segs[n-1] == "" {
		return "", gerr(http.StatusBadRequest, "BadRequest", msgBindInvalid, *in.Bind)
	}
	id, perr := url.PathUnescape(segs[n-1])
	if perr != nil {
		return "", gerr(http.StatusBadRequest, "BadRequest", msgBindInvalid, *in.Bind)
	}
	return id, nil
}

// installApp installs a catalog app for the user: 201 with no body, as documented.
func (s *Server) installApp(c *call, ref string) reply {
	appID, rerr := bindTarget(c.body)
	if rerr != nil {
		return fail(rerr)
	}
	return s.withUser(ref, func(t *Tenant, u *user) reply {
		st := t.teamworkLocked()
		app, known := st.catalog[strings.ToLower(appID)]
		if !known {
			return fail(gerr(http.StatusNotFound, "NotFound", msgAppNotInCatalog, appID))
		}
		// With a Self permission an app installs only itself: Graph requires the
		// manifest's webApplicationInfo.id to be the caller's app id ("Proactively install
		// your bot for users using Microsoft Graph", https://learn.microsoft.com/en-us/microsoftteams/platform/graph-api/proactive-bots-and-messages/graph-proactive-bots-and-messages)
		// and answers 403 otherwise (the wording is reported, not documented).
		if !c.holds(permTeamsInstallAny...) && (app.WebApplicationInfoID == "" || c.appID == "" || !strings.EqualFold(app.WebApplicationInfoID, c.appID)) {
			return fail(gerr(http.StatusForbidden, "Forbidden", msgNotSelf, appID))
		}
		for _, in := range st.installs[u.ID] {
			if strings.EqualFold(in.TeamsAppID, appID) {
				return fail(gerr(http.StatusConflict, "Conflict", msgAppInstalled))
			}
		}
		in := InstalledApp{ID: installationID(u.ID, strings.ToLower(appID)), TeamsAppID: strings.ToLower(appID)}
		st.installs[u.ID] = append(st.installs[u.ID], in)
		return created(nil)
	})
}
