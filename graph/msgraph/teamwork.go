package msgraph

import (
	"context"
	"errors"
	"net/url"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"go.uber.org/zap"

	"github.com/tapbot/tapbot/graph"
)

// Devices and Teams apps in a user's personal scope: the checklist's "laptop joined"
// line and proactive first contact. Application permissions, from Microsoft's v1.0
// pages ("List registeredDevices", "Install app for user"):
//
//	RegisteredDevices   the page lists application permissions as "Not supported" (for
//	                    ownedDevices too). Graph users report that app-only calls work
//	                    with Directory.Read.All, or User.Read.All plus Device.Read.All
//	                    (without a device permission the devices come back with id and
//	                    @odata.type only); unverified: test in a tenant before relying
//	                    on it, and fall back to Intune's managedDevices otherwise.
//	InstallAppForUser   TeamsAppInstallation.ReadWriteSelfForUser.All ("Self": the
//	                    app may install only itself, so catalogAppID must be tapbot's
//	                    own catalog entry). The lookup after a conflict lists the
//	                    user's apps, which the same permission covers (assumed: the
//	                    list page was not checked).

// RegisteredDevices lists the devices registered to the user (GET
// /users/{ref}/registeredDevices/microsoft.graph.device, every page).
//
// registeredDevices rather than ownedDevices: for Entra-joined and registered devices
// the registered owner and the registered user are the same person at registration
// ("List registeredUsers"), so both lists hold the new hire's Autopilot laptop, but
// the registered users of a shared device can be changed later while its owner
// cannot, and registeredDevices is what "who uses this device" means. The cast keeps
// other directory objects out and gives typed devices.
func (c *Client) RegisteredDevices(ctx context.Context, userRef string) ([]graph.Device, error) {
	if err := checkRef(userRef); err != nil {
		return nil, err
	}
	var out []graph.Device
	err := c.do(ctx, "list registered devices", func(ctx context.Context) error {
		b := c.sdk.Users().ByUserId(userRef).RegisteredDevices().GraphDevice()
		first, err := b.Get(ctx, &users.ItemRegisteredDevicesGraphDeviceRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.ItemRegisteredDevicesGraphDeviceRequestBuilderGetQueryParameters{
				Select: []string{"id", "displayName", "trustType", "registrationDateTime"},
			},
		})
		if err != nil {
			return err
		}
		all, err := collect(ctx, c, first, func(ctx context.Context, link string) (models.DeviceCollectionResponseable, error) {
			return b.WithUrl(link).Get(ctx, nil)
		})
		if err != nil {
			return err
		}
		out = make([]graph.Device, 0, len(all))
		for _, d := range all {
			dev := graph.Device{ID: deref(d.GetId()), DisplayName: deref(d.GetDisplayName()), TrustType: deref(d.GetTrustType())}
			if t := d.GetRegistrationDateTime(); t != nil {
				dev.Registered = t.UTC()
			}
			out = append(out, dev)
		}
		return nil
	}, zap.String("user", userRef))
	return out, err
}

// InstallAppForUser installs the catalog app (its generated app-catalog id, not the
// manifest id) in the user's personal scope and returns the installation. Installing
// triggers a conversationUpdate to the app's bot. It is idempotent: when the app is
// already installed (Graph answers 409 Conflict) the existing installation is
// returned. Graph answers the install with 201 and no body, so the installation is
// looked up afterwards in either case.
func (c *Client) InstallAppForUser(ctx context.Context, userRef, catalogAppID string) (graph.AppInstallation, error) {
	if err := checkRef(userRef); err != nil {
		return graph.AppInstallation{}, err
	}
	if err := checkID("catalog app", catalogAppID); err != nil {
		return graph.AppInstallation{}, err
	}
	body := models.NewUserScopeTeamsAppInstallation()
	body.SetAdditionalData(map[string]any{
		"teamsApp@odata.bind": c.base + "/appCatalogs/teamsApps/" + url.PathEscape(catalogAppID),
	})
	var inst graph.AppInstallation
	already := false
	err := c.do(ctx, "install app for user", func(ctx context.Context) error {
		if _, err := c.sdk.Users().ByUserId(userRef).Teamwork().InstalledApps().Post(ctx, body, nil); err != nil {
			if statusOf(err) != 409 {
				return err
			}
			already = true
		}
		id, err := c.installation(ctx, userRef, catalogAppID)
		if err == nil && id == "" {
			err = errors.New("installed app not found after install")
		}
		inst.ID = id
		return err
	}, zap.String("user", userRef), zap.String("app", catalogAppID))
	if err != nil {
		return graph.AppInstallation{}, err
	}
	c.log.Info("app installed for user", zap.String("user", userRef), zap.String("app", catalogAppID),
		zap.String("installation", inst.ID), zap.Bool("already_installed", already))
	return inst, nil
}

// installation returns the id of the user's installation of the catalog app, ""
// when it is not installed: GET /users/{ref}/teamwork/installedApps, filtered by the
// app, every page. The caller retries (c.do).
func (c *Client) installation(ctx context.Context, userRef, catalogAppID string) (string, error) {
	b := c.sdk.Users().ByUserId(userRef).Teamwork().InstalledApps()
	filter := "teamsApp/id eq " + odataString(catalogAppID)
	first, err := b.Get(ctx, &users.ItemTeamworkInstalledAppsRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemTeamworkInstalledAppsRequestBuilderGetQueryParameters{
			Expand: []string{"teamsApp"},
			Filter: &filter,
		},
	})
	if err != nil {
		return "", err
	}
	all, err := collect(ctx, c, first, func(ctx context.Context, link string) (models.UserScopeTeamsAppInstallationCollectionResponseable, error) {
		return b.WithUrl(link).Get(ctx, nil)
	})
	if err != nil {
		return "", err
	}
	for _, in := range all {
		if id := deref(in.GetId()); id != "" {
			return id, nil
		}
	}
	return "", nil
}
