package msgraph

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"testing"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/graph/graphtest"
	"github.com/tapbot/tapbot/manifest"
)

// manifestJSON is manifest.json from the package `tapbot manifest` writes.
func manifestJSON(t *testing.T, appID string) []byte {
	t.Helper()
	pkg, err := manifest.Build(manifest.Config{AppID: appID})
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(pkg), int64(len(pkg)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open("manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Self-installation with TeamsAppInstallation.ReadWriteSelfForUser.All works for the
// package `tapbot manifest` writes (webApplicationInfo.id = the bot's app id) and is
// refused with 403 for a package without it, as Graph refuses it.
func TestContractSelfInstallNeedsTheManifestsWebApplicationInfo(t *testing.T) {
	srv, c, _ := contoso(t)
	ctx := context.Background()
	tenant := srv.Tenant()
	tenant.SetAppRoles(graph.Grant(graph.FeatureTAP, graph.FeatureChecklist, graph.FeatureChecklistInstall)...)

	catalogID, err := tenant.PublishApp(manifestJSON(t, tapbotAppID))
	if err != nil {
		t.Fatal(err)
	}
	inst, err := c.InstallAppForUser(ctx, graphtest.NinaUPN, catalogID)
	if err != nil || inst.ID == "" {
		t.Fatalf("install: %+v %v", inst, err)
	}
	if chat, err := c.InstallationChat(ctx, graphtest.NinaUPN, inst.ID); err != nil || chat == "" {
		t.Fatalf("chat: %q %v", chat, err)
	}

	// The package as tapbot wrote it before: no webApplicationInfo.
	old, err := tenant.PublishApp([]byte(`{"id":"` + tapbotAppID + `","bots":[{"botId":"` + tapbotAppID + `"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.InstallAppForUser(ctx, graphtest.MaxID, old); !errors.Is(err, graph.ErrForbidden) {
		t.Errorf("install without webApplicationInfo: %v, want 403", err)
	}
}

// Graph v1.0 answers an Authenticator registered for MFA push only with a null
// createdDateTime: the client reports it as MFAOnly, a phone sign-in registration not.
func TestContractAuthenticatorMFAOnly(t *testing.T) {
	srv, c, _ := contoso(t)
	tenant := srv.Tenant()
	tenant.AddMethod(graphtest.NinaID, graph.Method{Type: "microsoftAuthenticator", DisplayName: "iPhone", MFAOnly: true})
	ms, err := c.Methods(context.Background(), graphtest.NinaID)
	if err != nil || len(ms) != 1 || !ms[0].MFAOnly || !ms[0].Created.IsZero() || ms[0].DisplayName != "iPhone" {
		t.Fatalf("MFA only: %+v %v", ms, err)
	}
	tenant.AddMethod(graphtest.NinaID, graph.Method{Type: "microsoftAuthenticator", DisplayName: "Pixel"})
	ms, err = c.Methods(context.Background(), graphtest.NinaID)
	if err != nil || len(ms) != 2 || ms[1].MFAOnly || ms[1].Created.IsZero() {
		t.Fatalf("phone sign-in: %+v %v", ms, err)
	}
}
