package msgraph

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/graph/simtenant"
)

const (
	tapbotCatalogApp = "3f2a9c1e-7b4d-4e8f-9a6b-2c1d0e9f8a7b"
	tapbotAppID      = "5b6c7d8e-9f0a-4b1c-8d2e-3f4a5b6c7d8e" // the bot's Entra app id
)

// tapbotInCatalog is tapbot as `tapbot manifest` publishes it: webApplicationInfo.id
// is the bot's app id, which self-installation needs.
var tapbotInCatalog = simtenant.CatalogApp{ID: tapbotCatalogApp, WebApplicationInfoID: tapbotAppID}

func TestContractRegisteredDevices(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()
	tenant := srv.Tenant()
	reg := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	laptop := tenant.AddDevice(simtenant.NinaID, graph.Device{DisplayName: "NINA-LAPTOP", TrustType: graph.TrustEntraJoined, Registered: reg})
	tenant.AddDevice(simtenant.NinaID, graph.Device{DisplayName: "Nina's iPhone", TrustType: graph.TrustRegistered, Registered: reg.Add(time.Hour)})
	tenant.AddDevice(simtenant.NinaID, graph.Device{DisplayName: "NINA-DESKTOP", TrustType: graph.TrustHybrid, Registered: reg.Add(2 * time.Hour)})

	// With User.Read.All but not Device.Read.All the devices come back with limited
	// information: listed, not described.
	tenant.SetAppRoles(slices.DeleteFunc(tenant.AppRoles(), func(r string) bool { return r == "Device.Read.All" })...)
	devs, err := c.RegisteredDevices(ctx, simtenant.NinaUPN)
	if err != nil || len(devs) != 3 || devs[0].ID != laptop.ID || devs[0].TrustType != "" || devs[0].DisplayName != "" {
		t.Errorf("RegisteredDevices without Device.Read.All = %+v, %v; want 3 listed, not described (no trust type or name), nil", devs, err)
	}
	srv.Reset()
	tenant.ResetAppRoles() // tapbot's grant: Device.Read.All too
	devs, err = c.RegisteredDevices(ctx, simtenant.NinaUPN)
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 3 || devs[0] != laptop || !devs[0].Joined() || devs[1].TrustType != graph.TrustRegistered ||
		devs[2].TrustType != graph.TrustHybrid || !devs[2].Registered.Equal(reg.Add(2*time.Hour)) {
		t.Errorf("RegisteredDevices = %+v, want the laptop (Entra joined), the iPhone (registered), the desktop (hybrid, registered 2h later)", devs)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || !strings.HasSuffix(reqs[0].Path, "/registeredDevices/graph.device") || reqs[0].Query.Get("$select") == "" {
		t.Errorf("requests %+v, want one GET of .../registeredDevices/graph.device with $select", reqs)
	}

	// Paging: every page is read.
	srv.Reset()
	tenant.PageSize = 1
	devs, err = c.RegisteredDevices(ctx, simtenant.NinaID)
	if err != nil || len(devs) != 3 || devs[2].DisplayName != "NINA-DESKTOP" {
		t.Errorf("RegisteredDevices over pages = %+v, %v; want 3 ending with NINA-DESKTOP, nil", devs, err)
	}
	if n := srv.RequestCount(); n != 3 {
		t.Errorf("%d round trips for three pages, want 3", n)
	}

	// Colin has no Authenticator, so no phone registered either.
	if devs, err := c.RegisteredDevices(ctx, simtenant.ColinID); err != nil || len(devs) != 0 {
		t.Errorf("RegisteredDevices(Colin) = %+v, %v; want none, nil", devs, err)
	}
	if _, err := c.RegisteredDevices(ctx, "nobody@contoso.com"); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("RegisteredDevices(nobody) = %v, want ErrNotFound", err)
	}
	srv.Reset()
	if _, err := c.RegisteredDevices(ctx, "not a user/../x"); !errors.Is(err, graph.ErrBadRequest) || srv.RequestCount() != 0 {
		t.Errorf("RegisteredDevices(bad ref) = %v after %d requests, want ErrBadRequest after none", err, srv.RequestCount())
	}
}

func TestContractInstallAppForUser(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()
	tenant := srv.Tenant()
	tenant.SetAppCatalog(tapbotInCatalog)

	inst, err := c.InstallAppForUser(ctx, simtenant.NinaUPN, tapbotCatalogApp)
	if err != nil {
		t.Fatal(err)
	}
	apps := tenant.InstalledApps(simtenant.NinaID)
	if len(apps) != 1 || inst.ID != apps[0].ID || apps[0].TeamsAppID != tapbotCatalogApp {
		t.Fatalf("installation %+v, tenant has %+v; want that one installation of %s", inst, apps, tapbotCatalogApp)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Method != http.MethodPost || reqs[0].Status != 201 ||
		reqs[1].Method != http.MethodGet || reqs[1].Query.Get("$filter") != "teamsApp/id eq '"+tapbotCatalogApp+"'" ||
		reqs[1].Query.Get("$expand") != "teamsApp" {
		t.Errorf("requests %+v, want the POST answered 201, then a GET filtered on teamsApp/id eq '%s' with $expand=teamsApp", reqs, tapbotCatalogApp)
	}

	// Idempotent: the second install meets 409 and returns the same installation.
	srv.Reset()
	again, err := c.InstallAppForUser(ctx, simtenant.NinaID, tapbotCatalogApp)
	if err != nil || again != inst {
		t.Errorf("second install %+v %v, want %+v", again, err, inst)
	}
	if reqs := srv.Requests(); len(reqs) != 2 || reqs[0].Status != 409 {
		t.Errorf("second install requests %+v, want 2, the first answered 409", reqs)
	}
	if n := len(tenant.InstalledApps(simtenant.NinaID)); n != 1 {
		t.Errorf("%d installations, want 1", n)
	}
}

func TestContractInstallAppRefusals(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()
	srv.Tenant().SetAppCatalog(tapbotInCatalog)

	if _, err := c.InstallAppForUser(ctx, "nobody@contoso.com", tapbotCatalogApp); !errors.Is(err, graph.ErrNotFound) {
		t.Errorf("InstallAppForUser(nobody) = %v, want ErrNotFound", err)
	}
	_, err := c.InstallAppForUser(ctx, simtenant.NinaID, "11111111-2222-4333-8444-555555555555")
	var ge *graph.Error
	if !errors.Is(err, graph.ErrNotFound) || !errors.As(err, &ge) || ge.Code != "NotFound" {
		t.Errorf("InstallAppForUser(unknown catalog app) = %v, want ErrNotFound with code NotFound", err)
	}

	srv.Reset()
	for _, bad := range []struct{ user, app string }{
		{simtenant.NinaID, "tapbot"},
		{simtenant.NinaID, ""},
		{"a/b", tapbotCatalogApp},
	} {
		if _, err := c.InstallAppForUser(ctx, bad.user, bad.app); !errors.Is(err, graph.ErrBadRequest) {
			t.Errorf("InstallAppForUser(%q, %q) = %v, want ErrBadRequest", bad.user, bad.app, err)
		}
	}
	if n := srv.RequestCount(); n != 0 {
		t.Errorf("%d requests for refused input, want 0", n)
	}
	if n := len(srv.Tenant().InstalledApps(simtenant.NinaID)); n != 0 {
		t.Errorf("%d installations, want 0", n)
	}
}

func TestContractTeamworkUnavailable(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()
	srv.Tenant().SetAppCatalog(tapbotInCatalog)

	srv.FailNext(10, 503, "0")
	if _, err := c.InstallAppForUser(ctx, simtenant.NinaID, tapbotCatalogApp); !errors.Is(err, graph.ErrUnavailable) {
		t.Errorf("InstallAppForUser under 503s = %v, want ErrUnavailable", err)
	}
	if n := len(srv.Tenant().InstalledApps(simtenant.NinaID)); n != 0 {
		t.Errorf("%d installations after 503s, want 0", n)
	}
	srv.Reset()
	srv.FailNext(10, 503, "0")
	if _, err := c.RegisteredDevices(ctx, simtenant.NinaID); !errors.Is(err, graph.ErrUnavailable) {
		t.Errorf("RegisteredDevices under 503s = %v, want ErrUnavailable", err)
	}

	// One 503 is retried by the SDK; the install then succeeds.
	srv.Reset()
	srv.FailNext(1, 503, "0")
	inst, err := c.InstallAppForUser(ctx, simtenant.NinaID, tapbotCatalogApp)
	if err != nil || inst.ID == "" {
		t.Errorf("InstallAppForUser after one 503 = %+v, %v; want an installation, nil", inst, err)
	}
}
