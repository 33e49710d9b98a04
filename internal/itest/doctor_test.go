package itest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	botdoctor "github.com/tapbot/tapbot/bot/doctor"
	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/graph/msgraph"
	"github.com/tapbot/tapbot/graph/simtenant"
	"github.com/tapbot/tapbot/internal/doctor"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// rolesToken is an app-only Graph token as Entra shapes it (a JWT; unsigned here)
// carrying the application permissions tapbot needs (all of them, or without).
type rolesToken struct{ without []string }

func (r rolesToken) token() string {
	roles := slices.DeleteFunc(doctor.AllRoles(), func(p string) bool { return slices.Contains(r.without, p) })
	payload, _ := json.Marshal(map[string]any{"aud": "https://graph.microsoft.com", "tid": simtenant.ContosoTenantID,
		"roles": roles})
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc(payload) + "."
}

func (r rolesToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: r.token(), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// newDoctorEnv is the harness's environment with /doctor registered too, for the
// members of Authentication admins (Ines), on a Graph client whose token carries
// roles. The flow is registered before the first activity is posted.
func newDoctorEnv(t *testing.T, token ...rolesToken) *env {
	t.Helper()
	e := newEnv(t)
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(e.logs), zap.DebugLevel))
	cred := rolesToken{}
	if len(token) > 0 {
		cred = token[0]
	}
	gc, err := msgraph.New(msgraph.Config{Credential: cred, BaseURL: e.graph.URL() + "/v1.0", HTTPClient: e.graph.Client()}, log)
	if err != nil {
		t.Fatal(err)
	}
	botdoctor.New(botdoctor.Config{
		AdminGroups: []string{simtenant.GroupAuthAdmin},
		Check: doctor.Config{
			AppID: e.cloud.AppID(), TenantID: simtenant.ContosoTenantID,
			HelpdeskGroups: []string{simtenant.GroupHelpdesk}, AuditorGroups: []string{simtenant.GroupApprovers},
			ProtectedGroups: []string{simtenant.GroupProtected}, ScopeGroups: []string{simtenant.GroupNewHires, simtenant.GroupStaff},
			OnboardingGroups: []string{simtenant.GroupNewHires}, AdminGroups: []string{simtenant.GroupAuthAdmin},
		},
	}, gc, log).Register(e.handler)
	return e
}

func TestDoctorCardForAdmins(t *testing.T) {
	e := newDoctorEnv(t)
	calls := e.command("personal", simtenant.InesID, "/doctor")
	if len(calls) != 1 || calls[0].ConversationID != personalConv || calls[0].Method != http.MethodPost {
		t.Fatalf("calls %+v, want one card posted to the personal chat", calls)
	}
	card := decode(t, calls[0]).card()
	for _, want := range []string{"Tenant check", "17 checks passed.", "Graph permissions", "All 8 permissions", "New hires",
		"Authentication admins", "never changes it from Teams"} {
		if !strings.Contains(card, want) {
			t.Errorf("card: %s\nwant it to contain %q", card, want)
		}
	}
	if strings.Contains(card, "✗") || strings.Contains(card, "Action.") {
		t.Errorf("card on a healthy tenant: %s\nwant no problems (✗) and no actions", card)
	}
	if strings.Contains(e.logs.String(), strings.Split(rolesToken{}.token(), ".")[1]) {
		t.Error("the Graph token is in the log")
	}
}

func TestDoctorShowsProblemsAndChangesNothing(t *testing.T) {
	e := newDoctorEnv(t)
	p := e.tenant.TAPPolicy()
	p.Enabled = false
	e.tenant.SetTAPPolicy(p)
	e.tenant.SetAuthenticatorPolicy(simtenant.AuthenticatorPolicy{Enabled: true,
		IncludeTargets: []simtenant.AuthenticatorTarget{{ID: "all_users", Mode: "push"}}})
	e.graph.Reset()

	calls := e.command("personal", simtenant.InesID, "doctor")
	if len(calls) != 1 {
		t.Fatalf("calls %+v, want one card", calls)
	}
	card := decode(t, calls[0]).card()
	for _, want := range []string{"2 problems", "✗", "disabled", "push only", "phone sign-in is off", "run `tapbot doctor --fix` on the server"} {
		if !strings.Contains(card, want) {
			t.Errorf("card: %s\nwant it to contain %q", card, want)
		}
	}
	for _, r := range e.graph.Requests() {
		if r.Method != http.MethodGet && !(r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/checkMemberGroups")) {
			t.Errorf("/doctor sent %s %s, want only reads (GET, or POST checkMemberGroups)", r.Method, r.Path)
		}
	}
	if e.tenant.TAPPolicy().Enabled || e.tenant.AuthenticatorPolicy().IncludeTargets[0].Mode != "push" {
		t.Error("/doctor changed the tenant")
	}
}

func TestDoctorOnlyForAdminsInPersonalChat(t *testing.T) {
	e := newDoctorEnv(t)
	e.graph.Reset()
	calls := e.command("personal", simtenant.HanaID, "/doctor")
	if len(calls) != 1 || !strings.Contains(decode(t, calls[0]).Text, "Only members of the admin group") {
		t.Fatalf("/doctor from helpdesk, not admin: calls %+v, want one reply saying only members of the admin group may", calls)
	}
	for _, r := range e.graph.Requests() {
		if strings.Contains(r.Path, "/policies/") || strings.Contains(r.Path, "/groups/") {
			t.Errorf("a refused /doctor read %s, want no policy or group reads", r.Path)
		}
	}
	calls = e.command("channel", simtenant.InesID, "/doctor")
	if len(calls) != 1 || calls[0].ConversationID != channelConv || !strings.Contains(decode(t, calls[0]).Text, "can't be used in this channel") {
		t.Fatalf("/doctor in a channel: calls %+v, want one reply in the channel saying it can't be used there", calls)
	}
}

// /doctor shows the device side as `tapbot doctor` does: checked with the Intune
// permission (the healthy case above), skipped with the reason without it, and
// then Intune is not asked at all.
func TestDoctorCardWithoutIntunePermission(t *testing.T) {
	e := newDoctorEnv(t, rolesToken{without: []string{"DeviceManagementServiceConfig.Read.All"}})
	card := decode(t, e.command("personal", simtenant.InesID, "/doctor")[0]).card()
	for _, want := range []string{"Device checks (Intune)", "Skipped", "DeviceManagementServiceConfig.Read.All", "EnableWebSignIn"} {
		if !strings.Contains(card, want) {
			t.Errorf("card: %s\nwant it to contain %q", card, want)
		}
	}
	for _, r := range e.graph.Requests() {
		if strings.Contains(r.Path, "deviceManagement") {
			t.Errorf("Intune asked without the permission: %s, want no deviceManagement requests", r.Path)
		}
	}
}

// A tenant whose Windows Hello for Business enrollment is off and whose only
// Autopilot profile is assigned to nobody: /doctor says both.
func TestDoctorCardDeviceProblems(t *testing.T) {
	e := newDoctorEnv(t)
	e.tenant.SetWHfBEnrollment(graph.EnablementDisabled)
	e.tenant.RemoveAutopilotProfiles()
	e.tenant.AddAutopilotProfile("p1", "Laptops")
	card := decode(t, e.command("personal", simtenant.InesID, "/doctor")[0]).card()
	for _, want := range []string{"Windows Hello for Business is disabled", "No deployment profile is assigned", "beta"} {
		if !strings.Contains(card, want) {
			t.Errorf("card: %s\nwant it to contain %q", card, want)
		}
	}
}
