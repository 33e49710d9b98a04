package simtenant

import (
	"strings"
	"testing"
	"time"

	"github.com/tapbot/tapbot/graph"
)

const (
	testCatalogApp = "0c4e1f7a-2b3d-4e5f-8a9b-1c2d3e4f5a6b"
	testBotApp     = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a" // the calling app (harness tokens are opaque)
)

func bindBody(appID string) map[string]any {
	return map[string]any{"teamsApp@odata.bind": "https://graph.microsoft.com/v1.0/appCatalogs/teamsApps/" + appID}
}

func TestRegisteredDevices(t *testing.T) {
	h := newHarness(t)
	reg := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	laptop := h.tenant.AddDevice(NinaID, graph.Device{DisplayName: "NINA-LAPTOP", TrustType: graph.TrustEntraJoined, Registered: reg})
	h.tenant.AddDevice(NinaID, graph.Device{DisplayName: "Nina's iPhone", TrustType: graph.TrustRegistered})

	// User.Read.All without Device.Read.All lists the devices with limited information.
	h.tenant.SetAppRoles(without("Device.Read.All")...)
	limited := h.do("GET", "/users/"+NinaUPN+"/registeredDevices", nil).want(t, 200, "").values()
	if len(limited) != 2 || limited[0]["id"] != laptop.ID || limited[0]["@odata.type"] != "#microsoft.graph.device" ||
		limited[0]["trustType"] != nil || limited[0]["displayName"] != nil {
		t.Errorf("devices without Device.Read.All: %v, want 2 with limited information (id and @odata.type, the rest null)", limited)
	}
	h.tenant.ResetAppRoles() // tapbot's grant: Device.Read.All too
	r := h.do("GET", "/users/"+NinaUPN+"/registeredDevices", nil).want(t, 200, "")
	if r.body["@odata.context"] != h.srv.URL()+"/v1.0/$metadata#directoryObjects" {
		t.Errorf("context %v, want .../$metadata#directoryObjects", r.body["@odata.context"])
	}
	ds := r.values()
	if len(ds) != 2 || ds[0]["id"] != laptop.ID || ds[0]["@odata.type"] != "#microsoft.graph.device" ||
		ds[0]["trustType"] != "AzureAd" || ds[0]["displayName"] != "NINA-LAPTOP" ||
		ds[0]["registrationDateTime"] != "2025-06-01T09:00:00Z" || ds[0]["approximateLastSignInDateTime"] == nil ||
		ds[1]["trustType"] != "Workplace" || ds[1]["registrationDateTime"] != "2025-06-02T08:30:00Z" {
		t.Errorf("devices %v, want NINA-LAPTOP (AzureAd, registered 2025-06-01T09:00:00Z, a last sign-in) then a Workplace device registered now", ds)
	}
	for _, cast := range []string{"microsoft.graph.device", "graph.device"} {
		r = h.do("GET", "/users/"+NinaID+"/ownedDevices/"+cast, nil).want(t, 200, "")
		if len(r.values()) != 2 || !strings.HasSuffix(r.body["@odata.context"].(string), "#devices") {
			t.Errorf("cast %s: %v, want 2 devices with context #devices", cast, r.body)
		}
	}
	if n := len(h.do("GET", "/users/"+NinaID+"/registeredDevices/microsoft.graph.endpoint", nil).want(t, 200, "").values()); n != 0 {
		t.Errorf("endpoint cast has %d items, want 0", n)
	}
	if n := len(h.do("GET", "/users/"+ColinID+"/registeredDevices", nil).want(t, 200, "").values()); n != 0 {
		t.Errorf("Colin has %d devices, want 0", n)
	}

	h.tenant.PageSize = 1
	r = h.do("GET", "/users/"+NinaID+"/registeredDevices/microsoft.graph.device", nil).want(t, 200, "")
	next, _ := r.body["@odata.nextLink"].(string)
	if len(r.values()) != 1 || next == "" {
		t.Fatalf("first page %v, want 1 device and a nextLink", r.body)
	}
	r = h.doWith("GET", next, nil, map[string][]string{"Authorization": {"Bearer x"}}).want(t, 200, "")
	if v := r.values(); len(v) != 1 || v[0]["displayName"] != "Nina's iPhone" || r.body["@odata.nextLink"] != nil {
		t.Errorf("second page %v, want Nina's iPhone alone and no nextLink", r.body)
	}

	h.do("GET", "/users/nobody@contoso.com/registeredDevices", nil).want(t, 404, "Request_ResourceNotFound")
	h.do("DELETE", "/users/"+NinaID+"/registeredDevices", nil).want(t, 405, "Request_BadRequest")
}

// Registering Authenticator for passwordless phone sign-in registers the phone in
// Entra (the method's device relationship): the user's devices then hold it, Entra
// registered (Workplace), named as the method and registered when it was. An MFA-only
// registration (device null) and other methods register nothing.
func TestPhoneSignInRegistersThePhone(t *testing.T) {
	h := newHarness(t)
	devices := func(userID string) []map[string]any {
		t.Helper()
		return h.do("GET", "/users/"+userID+"/registeredDevices/microsoft.graph.device", nil).want(t, 200, "").values()
	}
	h.tenant.AddMethod(NinaID, graph.Method{Type: "microsoftAuthenticator", DisplayName: "iPhone 16", MFAOnly: true})
	h.tenant.AddMethod(NinaID, graph.Method{Type: "fido2", DisplayName: "YubiKey"})
	h.tenant.AddMethod(NinaID, graph.Method{Type: "windowsHelloForBusiness", DisplayName: "NINA-LAPTOP"})
	if ds := devices(NinaID); len(ds) != 0 {
		t.Errorf("devices after MFA-only Authenticator, FIDO2 and Windows Hello: %v, want none", ds)
	}

	h.tenant.AddMethod(NinaID, graph.Method{Type: "microsoftAuthenticator", DisplayName: "iPhone 16"})
	ds := devices(NinaID)
	if len(ds) != 1 || ds[0]["displayName"] != "iPhone 16" || ds[0]["trustType"] != graph.TrustRegistered ||
		ds[0]["registrationDateTime"] != "2025-06-02T08:30:00Z" {
		t.Errorf("devices after phone sign-in: %v, want iPhone 16 alone, trustType Workplace, registered now (2025-06-02T08:30:00Z)", ds)
	}
	// The seed's Authenticators are phone sign-in registrations: Max's phone is his device.
	if ds := devices(MaxID); len(ds) != 1 || ds[0]["displayName"] != "iPhone 15" || ds[0]["trustType"] != graph.TrustRegistered {
		t.Errorf("Max's devices %v, want his iPhone 15 alone, trustType Workplace", ds)
	}
}

func TestInstallAppForUser(t *testing.T) {
	h := newHarness(t)
	h.tenant.SetAppCatalog(CatalogApp{ID: strings.ToUpper(testCatalogApp), WebApplicationInfoID: testBotApp})
	path := "/users/" + NinaUPN + "/teamwork/installedApps"

	r := h.do("POST", path, bindBody(testCatalogApp)).want(t, 201, "")
	if len(r.raw) != 0 {
		t.Errorf("install answered body %s, want none", r.raw)
	}
	apps := h.tenant.InstalledApps(NinaID)
	if len(apps) != 1 || apps[0].TeamsAppID != testCatalogApp || apps[0].ID == "" {
		t.Fatalf("installed %+v, want %s alone with an id", apps, testCatalogApp)
	}
	h.do("POST", path, bindBody(testCatalogApp)).want(t, 409, "Conflict")
	if n := len(h.tenant.InstalledApps(NinaID)); n != 1 {
		t.Errorf("%d installations after the duplicate, want 1", n)
	}

	r = h.do("GET", path+"?$expand=teamsApp&$filter="+q("teamsApp/id eq '"+testCatalogApp+"'"), nil).want(t, 200, "")
	v := r.values()
	if len(v) != 1 || v[0]["id"] != apps[0].ID {
		t.Fatalf("filtered list %v, want the installation %s alone", r.body, apps[0].ID)
	}
	if app, _ := v[0]["teamsApp"].(map[string]any); app["id"] != testCatalogApp {
		t.Errorf("expanded installation %v, want teamsApp id %s", v[0], testCatalogApp)
	}
	if v := h.do("GET", path, nil).want(t, 200, "").values(); len(v) != 1 || v[0]["teamsApp"] != nil {
		t.Errorf("unexpanded list %v, want 1 without teamsApp", v)
	}
	if v := h.do("GET", path+"?$filter="+q("teamsApp/id eq 'other'"), nil).want(t, 200, "").values(); len(v) != 0 {
		t.Errorf("filter on another app %v, want none", v)
	}
	h.do("GET", path+"?$filter="+q("id eq 'x'"), nil).want(t, 400, "BadRequest")
}

func TestInstallAppRefusals(t *testing.T) {
	h := newHarness(t)
	h.tenant.SetAppCatalog(CatalogApp{ID: testCatalogApp, WebApplicationInfoID: testBotApp})
	path := "/users/" + NinaID + "/teamwork/installedApps"
	h.do("POST", path, bindBody("11111111-2222-4333-8444-555555555555")).want(t, 404, "NotFound")
	h.do("POST", "/users/nobody@contoso.com/teamwork/installedApps", bindBody(testCatalogApp)).want(t, 404, "Request_ResourceNotFound")
	h.do("POST", path, map[string]any{}).want(t, 400, "BadRequest")
	h.do("POST", path, map[string]any{"teamsApp@odata.bind": "teamsApps/" + testCatalogApp}).want(t, 400, "BadRequest")
	h.do("POST", path, map[string]any{"teamsApp@odata.bind": "https://graph.microsoft.com/v1.0/users/" + testCatalogApp}).want(t, 400, "BadRequest")
	h.do("POST", path, "{not json").want(t, 400, "BadRequest")
	h.do("PUT", path, bindBody(testCatalogApp)).want(t, 405, "Request_BadRequest")
	if n := len(h.tenant.InstalledApps(NinaID)); n != 0 {
		t.Errorf("%d installations after refusals, want 0", n)
	}
	if h.tenant.InstalledApps("00000000-0000-4000-8000-000000000000") != nil {
		t.Error("installations of an unknown user")
	}
	// An app the catalog no longer has can no longer be installed.
	h.tenant.SetAppCatalog()
	h.do("POST", path, bindBody(testCatalogApp)).want(t, 404, "NotFound")
}

func TestTeamworkStateIsPerTenant(t *testing.T) {
	a, b := Contoso(), Contoso()
	a.SetAppCatalog(CatalogApp{ID: testCatalogApp})
	a.AddDevice(NinaID, graph.Device{DisplayName: "A"})
	b.mu.Lock()
	st := b.teamworkLocked()
	b.mu.Unlock()
	// b's seed registers its users' phones (their Authenticators); a's device is not among them.
	if len(st.catalog) != 0 || len(st.devices[NinaID]) != 0 {
		t.Errorf("tenant b's teamwork state %+v, want no catalog and no device of Nina's (they are a's)", st)
	}
}

func TestAddDeviceUnknownUserPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	Contoso().AddDevice("00000000-0000-4000-8000-000000000000", graph.Device{})
}
