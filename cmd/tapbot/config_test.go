package main

import (
	"fmt"
	"os"
	"time"

	"github.com/tapbot/tapbot/graph/simtenant"
	"strings"
	"testing"

	"github.com/tapbot/tapbot/internal/credential"
)

const (
	appID  = "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"
	tenant = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
)

const helpdeskGroup = "9e8d7c6b-5a49-4382-9170-6f5e4d3c2b1a"

// serveEnv is envOf plus the settings every serve configuration needs.
func serveEnv(kv ...string) func(string) string {
	return envOf(append([]string{"MicrosoftAppId", appID, "MicrosoftAppTenantId", tenant, "TAPBOT_HELPDESK_GROUPS", helpdeskGroup}, kv...)...)
}

func envOf(kv ...string) func(string) string {
	m := map[string]string{"TAPBOT_DB_PATH": "/tmp/tapbot-test.db"}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

func TestServeConfig(t *testing.T) {
	tests := []struct {
		name     string
		env      func(string) string
		wantErr  []string // substrings that must all appear
		wantCred credential.Kind
	}{
		{name: "bot framework names", env: serveEnv("MicrosoftAppPassword", "pw"),
			wantCred: credential.ClientSecret},
		{name: "tapbot names win over aliases", env: serveEnv("TAPBOT_APP_ID", appID, "MicrosoftAppId", "not-a-guid", "TAPBOT_APP_PASSWORD", "pw"),
			wantCred: credential.ClientSecret},
		{name: "managed identity", env: serveEnv("MicrosoftAppType", "UserAssignedMSI"),
			wantCred: credential.ManagedIdentity},
		{name: "workload identity from the webhook's file", env: serveEnv("AZURE_FEDERATED_TOKEN_FILE", "/var/run/token"),
			wantCred: credential.WorkloadIdentity},
		{name: "everything missing is listed at once", env: envOf(),
			wantErr: []string{"TAPBOT_APP_ID", "TAPBOT_TENANT_ID", "TAPBOT_APP_PASSWORD", "TAPBOT_HELPDESK_GROUPS"}},
		{name: "group lists must be object ids", env: serveEnv("MicrosoftAppPassword", "pw", "TAPBOT_PROTECTED_GROUPS", "executives", "TAPBOT_TAP_MAX_PER_HOUR", "0"),
			wantErr: []string{"TAPBOT_PROTECTED_GROUPS", "not an object id", "TAPBOT_TAP_MAX_PER_HOUR"}},
		{name: "bad values", env: serveEnv("MicrosoftAppPassword", "pw",
			"TAPBOT_LOG_LEVEL", "loud", "TAPBOT_MAX_BODY_BYTES", "12", "MicrosoftAppType", "Weird", "TAPBOT_SHUTDOWN_GRACE", "forever",
			"TAPBOT_CHECKLIST_STUCK_INTERVAL", "5s"),
			wantErr: []string{"TAPBOT_LOG_LEVEL", "TAPBOT_MAX_BODY_BYTES", "TAPBOT_APP_TYPE", "TAPBOT_SHUTDOWN_GRACE", "TAPBOT_CHECKLIST_STUCK_INTERVAL"}},
		{name: "cleartext metadata refused", env: serveEnv("MicrosoftAppPassword", "pw",
			"TAPBOT_OPENID_METADATA_URL", "http://login.example.com/meta"), wantErr: []string{"must use https"}},
		{name: "missing certificate file", env: serveEnv("TAPBOT_CLIENT_CERTIFICATE", "/nonexistent.pem"),
			wantErr: []string{"TAPBOT_CLIENT_CERTIFICATE", "no such file"}},
		{name: "bad checklist content and app id", env: serveEnv("MicrosoftAppPassword", "pw", "TAPBOT_CHECKLIST_CONTENT", "/nonexistent.json", "TAPBOT_TEAMS_APP_ID", "tapbot"),
			wantErr: []string{"TAPBOT_CHECKLIST_CONTENT", "TAPBOT_TEAMS_APP_ID"}},
		{name: "unknown credential", env: serveEnv("TAPBOT_CREDENTIAL", "password-in-a-file"),
			wantErr: []string{"TAPBOT_CREDENTIAL"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(false, tt.env)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				if c.AppID != appID || c.TenantID != tenant || c.Credential != tt.wantCred || c.ListenAddr != ":3978" || c.LogFormat != "json" {
					t.Fatalf("loadConfig = %+v, want app %s, tenant %s, credential %v, listen :3978, json logs", c, appID, tenant, tt.wantCred)
				}
				return
			}
			if err == nil {
				t.Fatal("invalid configuration accepted")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("loadConfig error:\n%v\nwant it to mention %q", err, w)
				}
			}
		})
	}
}

func TestSecretsStayOutOfErrorsAndPrints(t *testing.T) {
	const pw = "Sup3r-S3cret-Value"
	c, err := loadConfig(false, serveEnv("MicrosoftAppPassword", pw))
	if err != nil {
		t.Fatal(err)
	}
	if printed := sprint(c); strings.Contains(printed, pw) || !strings.Contains(printed, "[redacted]") {
		t.Fatalf("config prints as %s, want the client secret shown as [redacted]", printed)
	}
	if c.AppPassword.Reveal() != pw {
		t.Fatal("secret lost")
	}
	_, err = loadConfig(false, envOf("MicrosoftAppId", "nope", "MicrosoftAppPassword", pw))
	if err == nil || strings.Contains(err.Error(), pw) {
		t.Fatalf("loadConfig error %v, want an error that does not contain the secret", err)
	}
}

func TestDevConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     func(string) string
		wantErr string
	}{
		{"defaults", envOf(), ""},
		{"localhost", envOf("TAPBOT_LISTEN_ADDR", "localhost:4000"), ""},
		{"ipv6 loopback", envOf("TAPBOT_LISTEN_ADDR", "[::1]:4000"), ""},
		{"all interfaces refused", envOf("TAPBOT_LISTEN_ADDR", ":3978"), "loopback"},
		{"public address refused", envOf("TAPBOT_LISTEN_ADDR", "0.0.0.0:3978"), "loopback"},
		{"real tenant refused", envOf("MicrosoftAppTenantId", tenant), "TAPBOT_TENANT_ID is set"},
		{"real secret refused", envOf("MicrosoftAppPassword", "pw"), "TAPBOT_APP_PASSWORD is set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(true, tt.env)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if c.TenantID != simtenant.ContosoTenantID || len(c.HelpdeskGroups) != 1 || c.AppID != devAppID || c.LogFormat != "console" {
					t.Fatalf("dev config %+v, want the Contoso tenant, one helpdesk group, the dev app id, console logs", c)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("want error %q, got %v", tt.wantErr, err)
			}
		})
	}
}

// Dev without TAPBOT_DB_PATH gets no default path: serve makes a fresh database per
// start, as the simulated tenant is fresh per start. serve keeps the XDG default.
func TestDevDatabaseIsFreshByDefault(t *testing.T) {
	noDB := func(k string) string {
		if k == "HOME" {
			return "/home/someone"
		}
		return ""
	}
	c, err := loadConfig(true, noDB)
	if err != nil || c.DBPath != "" {
		t.Fatalf("dev DBPath %q (%v), want none", c.DBPath, err)
	}
}

func TestMultiTenantTokensComeFromBotFrameworkTenant(t *testing.T) {
	c, err := loadConfig(false, serveEnv("MicrosoftAppPassword", "pw", "MicrosoftAppType", "MultiTenant"))
	if err != nil {
		t.Fatal(err)
	}
	if c.tokenTenant() != "botframework.com" || c.TenantID != tenant {
		t.Fatalf("multi-tenant: token tenant %q, activity tenant %q, want %q and %q", c.tokenTenant(), c.TenantID, "botframework.com", tenant)
	}
}

// The README's configuration table is the operator's reference: it must name every
// variable tapbot reads, with the same aliases.
func TestReadmeDocumentsEverySetting(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range settings {
		row := "`" + s.names[0] + "`"
		if len(s.names) > 1 {
			row += " (`" + s.names[1] + "`)"
		}
		if !strings.Contains(string(readme), "| "+row+" |") {
			t.Errorf("README configuration table has no row %s, want one for every setting", row)
		}
	}
}

func TestVerifySettings(t *testing.T) {
	load := func(env map[string]string) (Config, error) {
		return loadConfig(true, func(k string) string { return env[k] })
	}
	c, err := load(map[string]string{})
	if err != nil || len(c.Verify) != 0 || c.VerifyOff {
		t.Errorf("dev default: %v %v %v; want off without a doctor warning", c.Verify, c.VerifyOff, err)
	}
	c, err = load(map[string]string{"TAPBOT_TAP_VERIFY": "manager,helpdesk", "TAPBOT_VERIFY_AFTER": "72h", "TAPBOT_VERIFY_TIMEOUT": "5m"})
	if err != nil || fmt.Sprint(c.Verify) != "[manager helpdesk]" || c.VerifyAfter != 72*time.Hour || c.VerifyTimeout != 5*time.Minute {
		t.Errorf("set: Verify %v, VerifyAfter %v, VerifyTimeout %v, err %v; want [manager helpdesk], 72h, 5m, nil", c.Verify, c.VerifyAfter, c.VerifyTimeout, err)
	}
	if c, err = load(map[string]string{"TAPBOT_TAP_VERIFY": "off"}); err != nil || !c.VerifyOff {
		t.Errorf("off: VerifyOff %v, err %v; want true, nil", c.VerifyOff, err)
	}
	for k, v := range map[string]string{"TAPBOT_TAP_VERIFY": "friend", "TAPBOT_VERIFY_AFTER": "5m", "TAPBOT_VERIFY_TIMEOUT": "30s"} {
		if _, err := load(map[string]string{k: v}); err == nil || !strings.Contains(err.Error(), k) {
			t.Errorf("%s=%s: %v, want an error naming it", k, v, err)
		}
	}
}

// Midnight is a time of day like any other: TAPBOT_STARTDAY_TAP_AT=00:00 must not be
// taken for "unset" and turned into the 08:00 default.
func TestStartDayTAPAtMidnight(t *testing.T) {
	tests := []struct {
		name, at  string
		set       bool
		hour, min int
		wantErr   bool
	}{
		{name: "unset: the flow's default applies", at: ""},
		{name: "midnight", at: "00:00", set: true},
		{name: "half past midnight", at: "00:30", set: true, min: 30},
		{name: "evening", at: "18:45", set: true, hour: 18, min: 45},
		{name: "not a time", at: "24:00", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := []string{"MicrosoftAppPassword", "pw"}
			if tt.at != "" {
				env = append(env, "TAPBOT_STARTDAY_TAP_AT", tt.at)
			}
			c, err := loadConfig(false, serveEnv(env...))
			if tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), "TAPBOT_STARTDAY_TAP_AT") {
					t.Fatalf("error %v, want one naming TAPBOT_STARTDAY_TAP_AT", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := c.StartDayTAPAt
			if got.IsSet() != tt.set || got.Hour != tt.hour || got.Minute != tt.min {
				t.Fatalf("StartDayTAPAt = %+v (set %v), want %02d:%02d set %v", got, got.IsSet(), tt.hour, tt.min, tt.set)
			}
		})
	}
}
