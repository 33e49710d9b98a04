package msgraph

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/graph/simtenant"
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
	inst, err := c.InstallAppForUser(ctx, simtenant.NinaUPN, catalogID)
	if err != nil || inst.ID == "" {
		t.Fatalf("InstallAppForUser = %+v, %v; want an installation id, nil", inst, err)
	}

	// The package as tapbot wrote it before: no webApplicationInfo.
	old, err := tenant.PublishApp([]byte(`{"id":"` + tapbotAppID + `","bots":[{"botId":"` + tapbotAppID + `"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.InstallAppForUser(ctx, simtenant.MaxID, old); !errors.Is(err, graph.ErrForbidden) {
		t.Errorf("InstallAppForUser without webApplicationInfo = %v, want ErrForbidden (403)", err)
	}
}

// Graph v1.0 answers an Authenticator registered for MFA push only with a null
// createdDateTime: the client reports it as MFAOnly, a phone sign-in registration not.
func TestContractAuthenticatorMFAOnly(t *testing.T) {
	srv, c, _ := contoso(t)
	tenant := srv.Tenant()
	tenant.AddMethod(simtenant.NinaID, graph.Method{Type: "microsoftAuthenticator", DisplayName: "iPhone", MFAOnly: true})
	ms, err := c.Methods(context.Background(), simtenant.NinaID)
	if err != nil || len(ms) != 1 || !ms[0].MFAOnly || !ms[0].Created.IsZero() || ms[0].DisplayName != "iPhone" {
		t.Fatalf("Methods = %+v, %v; want iPhone alone, MFAOnly with no creation time, nil", ms, err)
	}
	tenant.AddMethod(simtenant.NinaID, graph.Method{Type: "microsoftAuthenticator", DisplayName: "Pixel"})
	ms, err = c.Methods(context.Background(), simtenant.NinaID)
	if err != nil || len(ms) != 2 || ms[1].MFAOnly || ms[1].Created.IsZero() {
		t.Fatalf("Methods = %+v, %v; want Pixel second, not MFAOnly, with a creation time, nil", ms, err)
	}
}

// Right after POST /users the new account can be "not found" for a few requests
// (replication): the provisioning calls retry such 404s with backoff, bounded, and
// only for a user this client just created. No real sleeps: the waits are recorded.
func TestContractProvisioningRetriesReplicationLag(t *testing.T) {
	tests := []struct {
		name    string
		lag     int
		wantErr bool
		waits   int
	}{
		{"no lag", 0, false, 0},
		{"two 404s", 2, false, 2},
		{"longer than the retries", 99, true, len(replicationBackoff)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, c, _ := contoso(t)
			ctx := context.Background()
			var waits []time.Duration
			c.repl.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
			srv.Tenant().SetReplicationLag(tt.lag)
			u, err := c.CreateUser(ctx, newHire(t, "lag.test@contoso.com"))
			if err != nil {
				t.Fatal(err)
			}
			err = c.SetUsageLocation(ctx, u.ID, "FR")
			if (err != nil) != tt.wantErr || tt.wantErr && !errors.Is(err, graph.ErrNotFound) {
				t.Fatalf("SetUsageLocation = %v, want an error %v (ErrNotFound)", err, tt.wantErr)
			}
			if len(waits) != tt.waits || tt.waits > 0 && waits[0] != replicationBackoff[0] {
				t.Errorf("waits %v, want %d starting at %v", waits, tt.waits, replicationBackoff[0])
			}
			if tt.wantErr {
				return
			}
			// The other steps of provisioning get through too.
			for _, step := range []func() error{
				func() error { return c.SetManager(ctx, u.ID, simtenant.MaxID) },
				func() error { return c.AddGroupMember(ctx, simtenant.GroupNewHires, u.ID) },
				func() error { return c.AssignLicense(ctx, u.ID, simtenant.SKUEntraIDP1) },
			} {
				if err := step(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// A 404 about a user this client did not just create is not retried.
func TestNotFoundOfAnOldUserIsNotRetried(t *testing.T) {
	_, c, _ := contoso(t)
	slept := false
	c.repl.sleep = func(context.Context, time.Duration) error { slept = true; return nil }
	if err := c.SetUsageLocation(context.Background(), "nobody@contoso.com", "FR"); !errors.Is(err, graph.ErrNotFound) || slept {
		t.Fatalf("SetUsageLocation(nobody) = %v, slept %v; want ErrNotFound without a wait", err, slept)
	}
}
