package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/bot/botauth"
	"github.com/tapbot/tapbot/bot/checklist"
	"github.com/tapbot/tapbot/bot/onboard"
	"github.com/tapbot/tapbot/bot/tap"
	"github.com/tapbot/tapbot/graph/simtenant"
	"github.com/tapbot/tapbot/internal/credential"
	"github.com/tapbot/tapbot/internal/secret"
	"github.com/tapbot/tapbot/internal/store"
)

// devAppID is the bot id of the committed .m365agentsplayground.yml (whose tenant and
// users are simtenant.Contoso's), so the Agents Playground talks to `tapbot dev` out of
// the box.
const devAppID = "8f0c2a1e-3b4d-4e5f-9a6b-7c8d9e0f1a2b"

// Config is everything tapbot reads at start. Environment variables are the source
// (12-factor); Bot Framework's own names are accepted as aliases.
type Config struct {
	Dev bool

	ListenAddr string
	AppID      string
	TenantID   string
	AppType    string // SingleTenant, UserAssignedMSI, MultiTenant

	Credential          credential.Kind
	AppPassword         secret.String
	CertificatePath     string
	CertificatePassword secret.String
	FederatedTokenFile  string
	AuthorityHost       string

	MetadataURL string
	Issuers     []string

	GraphURL       string
	HelpdeskGroups []string
	AuditorGroups  []string
	AdminGroups    []string
	Onboarding     []string
	// Onboarding requests (bot/onboard).
	ApproverGroups        []string
	ApproversConversation string
	HelpdeskConversation  string
	TeamsAppID            string // tapbot's id in the org's Teams app catalog
	ChecklistContent      checklist.Content
	RemindAfter           time.Duration
	StuckInterval         time.Duration
	OnboardGroupsAllowed  []string
	DefaultUsageLocation  string
	TimeZone              *time.Location
	JoinerGroups          []string
	JoinerLookahead       time.Duration
	StartDayTAPTo         string
	StartDayTAPAt         onboard.ClockTime
	StartDayTAPLifetime   time.Duration
	Protected             []string
	ScopeGroups           []string
	AllowedRoles          []string
	RequireReason         bool
	MaxTAPsPerHour        int
	// Second-person confirmation of passes for established accounts (#15).
	Verify               []store.ConfirmPath // empty: off
	VerifyOff            bool                // TAPBOT_TAP_VERIFY=off: doctor warns
	VerifyAfter          time.Duration
	VerifyTimeout        time.Duration
	SecurityConversation string

	// DBPath is the SQLite file; DatabaseURL, when set, selects PostgreSQL instead
	// (DBPath is then empty). The URL may carry a password, hence the type.
	DBPath       string
	DatabaseURL  secret.String
	DatabaseAuth string // password (the URL's, PGPASSWORD, ~/.pgpass) or entra

	LogLevel      string
	LogFormat     string
	MaxBodyBytes  int64
	ShutdownGrace time.Duration
}

// setting describes one environment variable, for lookup and for `tapbot help`.
type setting struct {
	names []string // first is tapbot's own name; the rest are accepted aliases
	help  string
}

var settings = []setting{
	{[]string{"TAPBOT_LISTEN_ADDR"}, "address to listen on (serve: :3978; dev: 127.0.0.1:3978, loopback only)"},
	{[]string{"TAPBOT_APP_ID", "MicrosoftAppId"}, "the Azure Bot's Microsoft App ID (client id)"},
	{[]string{"TAPBOT_TENANT_ID", "MicrosoftAppTenantId"}, "your Entra tenant id; activities from other tenants are refused"},
	{[]string{"TAPBOT_APP_TYPE", "MicrosoftAppType"}, "SingleTenant (default), UserAssignedMSI or MultiTenant"},
	{[]string{"TAPBOT_CREDENTIAL"}, "client-secret, client-certificate, managed-identity or workload-identity (default: derived from the settings present)"},
	{[]string{"TAPBOT_APP_PASSWORD", "MicrosoftAppPassword"}, "client secret of the app registration"},
	{[]string{"TAPBOT_CLIENT_CERTIFICATE"}, "path to a PEM or PKCS#12 file with certificate and private key"},
	{[]string{"TAPBOT_CLIENT_CERTIFICATE_PASSWORD"}, "password of that file, if any"},
	{[]string{"AZURE_FEDERATED_TOKEN_FILE"}, "federated token file (workload identity; set by the AKS webhook)"},
	{[]string{"TAPBOT_AUTHORITY_HOST", "AZURE_AUTHORITY_HOST"}, "Entra authority host (default https://login.microsoftonline.com/; sovereign clouds differ)"},
	{[]string{"TAPBOT_OPENID_METADATA_URL", "BotOpenIdMetadata"}, "Bot Framework OpenID metadata URL (default public cloud)"},
	{[]string{"TAPBOT_TOKEN_ISSUERS"}, "comma-separated accepted token issuers (default https://api.botframework.com)"},
	{[]string{"TAPBOT_GRAPH_URL"}, "Microsoft Graph base URL (default https://graph.microsoft.com/v1.0; sovereign clouds differ)"},
	{[]string{"TAPBOT_HELPDESK_GROUPS"}, "Entra group ids (comma-separated) whose members may use /tap, /revoke and /status"},
	{[]string{"TAPBOT_AUDITOR_GROUPS"}, "group ids whose members may read the audit log with /audit"},
	{[]string{"TAPBOT_ADMIN_GROUPS"}, "group ids whose members may run /doctor in Teams (default: none, /doctor off)"},
	{[]string{"TAPBOT_ONBOARDING_GROUPS"}, "group ids of new hires: the TAP and Authenticator policies must target them (tapbot doctor checks; --fix adds them)"},
	{[]string{"TAPBOT_APPROVER_GROUPS"}, "group ids whose members approve, reject and retry onboarding requests (with TAPBOT_APPROVERS_CONVERSATION; default: none, /onboard off)"},
	{[]string{"TAPBOT_APPROVERS_CONVERSATION"}, "conversation id of the Teams channel that gets the approval cards (install tapbot there first)"},
	{[]string{"TAPBOT_TEAMS_APP_ID"}, "tapbot's id in your Teams app catalog: lets /checklist install tapbot for a new hire so it can message them first (default: wait until they open it)"},
	{[]string{"TAPBOT_CHECKLIST_CONTENT"}, "JSON file with your company's checklist texts (default: the built-in ones; `tapbot checklist-content` prints them to start from)"},
	{[]string{"TAPBOT_CHECKLIST_STUCK_INTERVAL"}, "one \"I'm stuck\" card per new hire and step in the helpdesk channel for this long; later presses update it (default 30m)"},
	{[]string{"TAPBOT_CHECKLIST_REMIND_AFTER"}, "nudge a new hire whose checklist is unfinished after this long, and the manager after twice that (default 48h; off turns reminders off)"},
	{[]string{"TAPBOT_HELPDESK_CONVERSATION"}, "conversation id of the channel that gets \"New hire X starts today\" with Issue TAP on start dates (default: off)"},
	{[]string{"TAPBOT_ONBOARD_GROUPS_ALLOWED"}, "group ids the /onboard form offers (besides TAPBOT_ONBOARDING_GROUPS, which every new user joins)"},
	{[]string{"TAPBOT_DEFAULT_USAGE_LOCATION"}, "ISO 3166 country code the /onboard form suggests, such as US or DE"},
	{[]string{"TAPBOT_TIMEZONE"}, "IANA time zone of start dates and the 08:00 start-day card (default UTC)"},
	{[]string{"TAPBOT_JOINER_GROUPS"}, "group ids: users in them (or in TAPBOT_ONBOARDING_GROUPS) whose employeeHireDate (HR-driven provisioning) is near are taken on like /onboard hires (default: none, off)"},
	{[]string{"TAPBOT_JOINER_LOOKAHEAD"}, "how many days ahead joiners are found by employeeHireDate (default 7)"},
	{[]string{"TAPBOT_STARTDAY_TAP_TO"}, "helpdesk (default: the Issue TAP card in TAPBOT_HELPDESK_CONVERSATION) or manager (the pass itself, in the manager's 1:1 chat with tapbot)"},
	{[]string{"TAPBOT_STARTDAY_TAP_AT"}, "local time (TAPBOT_TIMEZONE) on the start day from which the manager's pass is valid (default 08:00)"},
	{[]string{"TAPBOT_STARTDAY_TAP_LIFETIME"}, "lifetime of the manager's start-day pass, like 8h (default: the TAP policy's default)"},
	{[]string{"TAPBOT_PROTECTED_GROUPS"}, "group ids whose members never get a TAP from tapbot (e.g. executives, break-glass accounts)"},
	{[]string{"TAPBOT_SCOPE_GROUPS"}, "group ids; when set, only their members can get a TAP (e.g. new hires, staff)"},
	{[]string{"TAPBOT_ALLOWED_ROLES"}, "directory role template ids that do not block a TAP (default: none; any role blocks)"},
	{[]string{"TAPBOT_TAP_REQUIRE_REASON"}, "true to require a reason or ticket with /tap (default false)"},
	{[]string{"TAPBOT_TAP_MAX_PER_HOUR"}, "TAPs one helpdesk member may create per hour (default 20)"},
	{[]string{"TAPBOT_TAP_VERIFY"}, "who confirms a pass for an established account, in order of preference: target (the user, in their 1:1 chat), manager, helpdesk (another member, in TAPBOT_HELPDESK_CONVERSATION); off issues on one person's word (default target,manager,helpdesk)"},
	{[]string{"TAPBOT_VERIFY_AFTER"}, "an account older than this, or with any sign-in method besides a password, is established (default 336h, 14 days)"},
	{[]string{"TAPBOT_VERIFY_TIMEOUT"}, "how long a confirmation question waits for its answer (default 15m)"},
	{[]string{"TAPBOT_SECURITY_CONVERSATION"}, "conversation id of the channel alerted when a confirmation is denied (\"this wasn't me\"): suspected social engineering (default: the log only)"},
	{[]string{"TAPBOT_DB_PATH"}, "SQLite database file (default $XDG_STATE_HOME/tapbot/tapbot.db or ~/.local/state/tapbot/tapbot.db)"},
	{[]string{"TAPBOT_DATABASE_URL"}, "PostgreSQL instead of SQLite, for several replicas: postgres://user@host:5432/tapbot?sslmode=verify-full"},
	{[]string{"TAPBOT_DATABASE_AUTH"}, "password (default: the URL's, or PGPASSWORD) or entra (a Microsoft Entra token from tapbot's own credential: Azure Database for PostgreSQL)"},
	{[]string{"TAPBOT_LOG_LEVEL"}, "debug, info (default), warn or error"},
	{[]string{"TAPBOT_LOG_FORMAT"}, "json (default for serve) or console (default for dev)"},
	{[]string{"TAPBOT_MAX_BODY_BYTES"}, "largest accepted request body (default 262144)"},
	{[]string{"TAPBOT_SHUTDOWN_GRACE"}, "time to finish in-flight work on SIGTERM (default 20s)"},
}

func lookup(env func(string) string, name string) string {
	for _, s := range settings {
		if s.names[0] != name {
			continue
		}
		for _, n := range s.names {
			if v := strings.TrimSpace(env(n)); v != "" {
				return v
			}
		}
	}
	return ""
}

var guid = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// loadConfig reads and validates the configuration. Every problem is reported at once,
// so an operator fixes them in one go rather than one restart each.
func loadConfig(dev bool, env func(string) string) (Config, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	get := func(name string) string { return lookup(env, name) }

	c := Config{
		Dev:                 dev,
		ListenAddr:          get("TAPBOT_LISTEN_ADDR"),
		AppID:               get("TAPBOT_APP_ID"),
		TenantID:            get("TAPBOT_TENANT_ID"),
		AppType:             get("TAPBOT_APP_TYPE"),
		Credential:          credential.Kind(get("TAPBOT_CREDENTIAL")),
		AppPassword:         secret.String(get("TAPBOT_APP_PASSWORD")),
		CertificatePath:     get("TAPBOT_CLIENT_CERTIFICATE"),
		CertificatePassword: secret.String(get("TAPBOT_CLIENT_CERTIFICATE_PASSWORD")),
		FederatedTokenFile:  get("AZURE_FEDERATED_TOKEN_FILE"),
		AuthorityHost:       get("TAPBOT_AUTHORITY_HOST"),
		MetadataURL:         get("TAPBOT_OPENID_METADATA_URL"),
		DBPath:              get("TAPBOT_DB_PATH"),
		LogLevel:            get("TAPBOT_LOG_LEVEL"),
		LogFormat:           get("TAPBOT_LOG_FORMAT"),
		MaxBodyBytes:        bot.DefaultMaxBodyBytes,
		ShutdownGrace:       20 * time.Second,
	}
	if v := get("TAPBOT_TOKEN_ISSUERS"); v != "" {
		for _, is := range strings.Split(v, ",") {
			if is = strings.TrimSpace(is); is != "" {
				c.Issuers = append(c.Issuers, is)
			}
		}
	}
	c.GraphURL = get("TAPBOT_GRAPH_URL")
	c.MaxTAPsPerHour = 20
	c.ApproversConversation = get("TAPBOT_APPROVERS_CONVERSATION")
	c.HelpdeskConversation = get("TAPBOT_HELPDESK_CONVERSATION")
	if c.TeamsAppID = get("TAPBOT_TEAMS_APP_ID"); c.TeamsAppID != "" && !guid.MatchString(c.TeamsAppID) {
		bad("TAPBOT_TEAMS_APP_ID=%q: want the app's catalog id, a GUID", c.TeamsAppID)
	}
	switch v := get("TAPBOT_CHECKLIST_REMIND_AFTER"); v {
	case "":
	case "off":
		c.RemindAfter = -1
	default:
		if d, err := time.ParseDuration(v); err != nil || d < time.Hour {
			bad("TAPBOT_CHECKLIST_REMIND_AFTER=%q: want a duration of at least 1h (e.g. 48h), or off", v)
		} else {
			c.RemindAfter = d
		}
	}
	c.parseStartDay(get, bad)
	if v := get("TAPBOT_CHECKLIST_STUCK_INTERVAL"); v != "" {
		if d, err := time.ParseDuration(v); err != nil || d < time.Minute || d > 7*24*time.Hour {
			bad("TAPBOT_CHECKLIST_STUCK_INTERVAL=%q: want a duration from 1m to 168h (e.g. 30m)", v)
		} else {
			c.StuckInterval = d
		}
	}
	c.ChecklistContent = checklist.DefaultContent()
	if p := get("TAPBOT_CHECKLIST_CONTENT"); p != "" {
		if content, err := loadChecklistContent(p); err != nil {
			bad("TAPBOT_CHECKLIST_CONTENT: %v", err)
		} else {
			c.ChecklistContent = content
		}
	}
	c.DefaultUsageLocation = strings.ToUpper(get("TAPBOT_DEFAULT_USAGE_LOCATION"))
	if v := c.DefaultUsageLocation; v != "" && !onboard.IsCountryCode(v) {
		bad("TAPBOT_DEFAULT_USAGE_LOCATION=%q: want a two-letter ISO 3166 country code such as US or DE", v)
	}
	c.TimeZone = time.UTC
	if v := get("TAPBOT_TIMEZONE"); v != "" {
		loc, err := time.LoadLocation(v)
		if err != nil {
			bad("TAPBOT_TIMEZONE=%q: want an IANA time zone such as Europe/Berlin", v)
		} else {
			c.TimeZone = loc
		}
	}
	for _, g := range []struct {
		name string
		dst  *[]string
	}{{"TAPBOT_HELPDESK_GROUPS", &c.HelpdeskGroups}, {"TAPBOT_AUDITOR_GROUPS", &c.AuditorGroups}, {"TAPBOT_PROTECTED_GROUPS", &c.Protected},
		{"TAPBOT_ADMIN_GROUPS", &c.AdminGroups}, {"TAPBOT_ONBOARDING_GROUPS", &c.Onboarding},
		{"TAPBOT_SCOPE_GROUPS", &c.ScopeGroups}, {"TAPBOT_ALLOWED_ROLES", &c.AllowedRoles},
		{"TAPBOT_APPROVER_GROUPS", &c.ApproverGroups}, {"TAPBOT_ONBOARD_GROUPS_ALLOWED", &c.OnboardGroupsAllowed},
		{"TAPBOT_JOINER_GROUPS", &c.JoinerGroups}} {
		ids, err := guidList(get(g.name))
		if err != nil {
			bad("%s: %v", g.name, err)
		}
		*g.dst = ids
	}
	switch v := strings.ToLower(get("TAPBOT_TAP_REQUIRE_REASON")); v {
	case "", "false", "0", "no":
	case "true", "1", "yes":
		c.RequireReason = true
	default:
		bad("TAPBOT_TAP_REQUIRE_REASON=%q: want true or false", v)
	}
	if v := get("TAPBOT_TAP_MAX_PER_HOUR"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			bad("TAPBOT_TAP_MAX_PER_HOUR=%q: want a number from 1 to 1000", v)
		} else {
			c.MaxTAPsPerHour = n
		}
	}
	c.loadVerify(get, bad)
	if v := get("TAPBOT_MAX_BODY_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 4096 || n > 16<<20 {
			bad("TAPBOT_MAX_BODY_BYTES=%q: want a byte count between 4096 and 16777216", v)
		} else {
			c.MaxBodyBytes = n
		}
	}
	if v := get("TAPBOT_SHUTDOWN_GRACE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > 10*time.Minute {
			bad("TAPBOT_SHUTDOWN_GRACE=%q: want a duration such as 20s (at most 10m)", v)
		} else {
			c.ShutdownGrace = d
		}
	}
	switch c.LogLevel {
	case "":
		c.LogLevel = "info"
	case "debug", "info", "warn", "error":
	default:
		bad("TAPBOT_LOG_LEVEL=%q: want debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "":
		c.LogFormat = map[bool]string{true: "console", false: "json"}[dev]
	case "json", "console":
	default:
		bad("TAPBOT_LOG_FORMAT=%q: want json or console", c.LogFormat)
	}
	c.loadDatabase(get, dev, bad)

	if dev {
		c.validateDev(env, bad)
	} else {
		c.validateServe(bad)
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("invalid configuration:\n  - %w", joinLines(errs))
	}
	return c, nil
}

// loadVerify reads who confirms passes for established accounts.
func (c *Config) loadVerify(get func(string) string, bad func(string, ...any)) {
	c.Verify = []store.ConfirmPath{store.PathTarget, store.PathManager, store.PathHelpdesk}
	if v := get("TAPBOT_TAP_VERIFY"); v != "" {
		paths, err := tap.ParseVerify(v)
		if err != nil {
			bad("TAPBOT_TAP_VERIFY=%q: %v", v, err)
		}
		c.Verify, c.VerifyOff = paths, len(paths) == 0
	}
	c.VerifyAfter, c.VerifyTimeout = 14*24*time.Hour, 15*time.Minute
	if v := get("TAPBOT_VERIFY_AFTER"); v != "" {
		if d, err := time.ParseDuration(v); err != nil || d < time.Hour {
			bad("TAPBOT_VERIFY_AFTER=%q: want a duration of at least 1h (e.g. 336h for 14 days)", v)
		} else {
			c.VerifyAfter = d
		}
	}
	if v := get("TAPBOT_VERIFY_TIMEOUT"); v != "" {
		if d, err := time.ParseDuration(v); err != nil || d < time.Minute || d > 24*time.Hour {
			bad("TAPBOT_VERIFY_TIMEOUT=%q: want a duration from 1m to 24h (e.g. 15m)", v)
		} else {
			c.VerifyTimeout = d
		}
	}
	c.SecurityConversation = get("TAPBOT_SECURITY_CONVERSATION")
}

// loadDatabase reads which store to use: PostgreSQL when TAPBOT_DATABASE_URL is
// set, else the SQLite file at TAPBOT_DB_PATH or its default. Messages never quote
// the URL: it may hold a password.
func (c *Config) loadDatabase(get func(string) string, dev bool, bad func(string, ...any)) {
	c.DatabaseURL = secret.String(get("TAPBOT_DATABASE_URL"))
	c.DatabaseAuth = strings.ToLower(get("TAPBOT_DATABASE_AUTH"))
	switch c.DatabaseAuth {
	case "":
		c.DatabaseAuth = "password"
	case "password", "entra":
	default:
		bad("TAPBOT_DATABASE_AUTH=%q: want password or entra", c.DatabaseAuth)
	}
	if c.DatabaseURL.IsZero() {
		if c.DatabaseAuth == "entra" {
			bad("TAPBOT_DATABASE_AUTH=entra needs TAPBOT_DATABASE_URL (Entra login is for PostgreSQL; SQLite is a local file)")
		}
		// Dev without TAPBOT_DB_PATH gets a fresh database per start (see serve):
		// the simulated tenant starts fresh too, and the two must agree.
		if c.DBPath == "" && !dev {
			p, err := store.DefaultPath()
			if err != nil {
				bad("TAPBOT_DB_PATH is not set and no default location is available: %v", err)
			}
			c.DBPath = p
		}
		return
	}
	if c.DBPath != "" {
		bad("TAPBOT_DB_PATH and TAPBOT_DATABASE_URL are both set: set TAPBOT_DB_PATH for SQLite or TAPBOT_DATABASE_URL for PostgreSQL, not both")
	}
	u, err := url.Parse(c.DatabaseURL.Reveal())
	switch {
	case err != nil:
		bad("TAPBOT_DATABASE_URL does not parse as a URL (the value is not shown: it may hold a password)")
	case u.Scheme != "postgres" && u.Scheme != "postgresql":
		bad("TAPBOT_DATABASE_URL: want a postgres:// or postgresql:// URL, got scheme %q", u.Scheme)
	case u.Host == "":
		bad("TAPBOT_DATABASE_URL: no host")
	}
	if c.DatabaseAuth == "entra" {
		if dev {
			bad("TAPBOT_DATABASE_AUTH=entra: dev mode has no Entra credential (it runs against the simulated tenant); use password")
		}
		if u != nil && (u.User == nil || u.User.Username() == "") {
			bad("TAPBOT_DATABASE_URL: with TAPBOT_DATABASE_AUTH=entra it needs the user name, the database role of tapbot's identity (postgres://tapbot-identity@host/tapbot)")
		}
		if u != nil && u.User != nil {
			if _, ok := u.User.Password(); ok {
				bad("TAPBOT_DATABASE_URL has a password, and TAPBOT_DATABASE_AUTH=entra replaces it with a token: remove it from the URL")
			}
		}
	}
}

func loadChecklistContent(path string) (checklist.Content, error) {
	f, err := os.Open(path)
	if err != nil {
		return checklist.Content{}, err
	}
	defer f.Close()
	return checklist.LoadContent(f)
}

// guidList parses comma-separated object ids.
func guidList(v string) ([]string, error) {
	var ids []string
	for _, id := range strings.Split(v, ",") {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if !guid.MatchString(id) {
			return nil, fmt.Errorf("%q is not an object id (GUID)", id)
		}
		ids = append(ids, strings.ToLower(id))
	}
	return ids, nil
}

func joinLines(errs []error) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return errors.New(strings.Join(msgs, "\n  - "))
}

// validateDev keeps local mode local: loopback only, and no real tenant or credential,
// because dev mode switches inbound authentication off.
func (c *Config) validateDev(env func(string) string, bad func(string, ...any)) {
	if c.ListenAddr == "" {
		c.ListenAddr = "127.0.0.1:3978"
	}
	// Every simulated account but Nina is older than 14 days, and the playground has
	// one signed-in person: with confirmation on, only /tap nina would issue. Set
	// TAPBOT_TAP_VERIFY to try it in the playground.
	if lookup(env, "TAPBOT_TAP_VERIFY") == "" {
		c.Verify = nil
	}
	if err := checkLoopbackAddr(c.ListenAddr); err != nil {
		bad("TAPBOT_LISTEN_ADDR=%q: dev mode has no inbound authentication and only listens on loopback: %v", c.ListenAddr, err)
	}
	for _, name := range []string{"TAPBOT_TENANT_ID", "TAPBOT_APP_PASSWORD", "TAPBOT_CLIENT_CERTIFICATE", "TAPBOT_CREDENTIAL", "TAPBOT_GRAPH_URL"} {
		if lookup(env, name) != "" {
			bad("%s is set: dev mode switches inbound authentication off and runs only against the simulated tenant; unset it, or use `tapbot serve` for a real tenant", name)
		}
	}
	c.TenantID = simtenant.ContosoTenantID
	if c.AppID == "" {
		c.AppID = devAppID
	}
	// The simulated Contoso tenant's groups, unless the developer names others.
	if len(c.HelpdeskGroups) == 0 {
		c.HelpdeskGroups = []string{simtenant.GroupHelpdesk}
	}
	// Hana from the playground is in Helpdesk, so the demo can show /audit and /doctor.
	if len(c.AuditorGroups) == 0 {
		c.AuditorGroups = []string{simtenant.GroupHelpdesk}
	}
	if len(c.AdminGroups) == 0 {
		c.AdminGroups = []string{simtenant.GroupHelpdesk}
	}
	if len(c.Onboarding) == 0 {
		c.Onboarding = []string{simtenant.GroupNewHires}
	}
	if len(c.Protected) == 0 {
		c.Protected = []string{simtenant.GroupProtected}
	}
	if len(c.ScopeGroups) == 0 {
		c.ScopeGroups = []string{simtenant.GroupNewHires, simtenant.GroupStaff}
	}
	// Onboarding in the playground: Alex approves in the team's Onboarding channel,
	// start-day cards go to its General channel.
	if len(c.ApproverGroups) == 0 {
		c.ApproverGroups = []string{simtenant.GroupApprovers}
	}
	if c.ApproversConversation == "" {
		c.ApproversConversation = "19:contoso-onboarding@thread.tacv2"
	}
	if c.HelpdeskConversation == "" {
		c.HelpdeskConversation = "19:contoso-it-helpdesk-general@thread.tacv2"
	}
	if len(c.OnboardGroupsAllowed) == 0 {
		c.OnboardGroupsAllowed = []string{simtenant.GroupStaff}
	}
	if c.DefaultUsageLocation == "" {
		c.DefaultUsageLocation = "US"
	}
}

func (c *Config) validateServe(bad func(string, ...any)) {
	if c.ListenAddr == "" {
		c.ListenAddr = ":3978"
	}
	if _, _, err := net.SplitHostPort(c.ListenAddr); err != nil {
		bad("TAPBOT_LISTEN_ADDR=%q: %v", c.ListenAddr, err)
	}
	if !guid.MatchString(c.AppID) {
		bad("TAPBOT_APP_ID (or MicrosoftAppId) must be the bot's app id, a GUID; got %q", c.AppID)
	}
	if !guid.MatchString(c.TenantID) {
		bad("TAPBOT_TENANT_ID (or MicrosoftAppTenantId) must be your Entra tenant id, a GUID; got %q", c.TenantID)
	}
	if c.MetadataURL == "" {
		c.MetadataURL = botauth.DefaultMetadataURL
	}
	if err := botauth.CheckEndpointURL(c.MetadataURL); err != nil {
		bad("TAPBOT_OPENID_METADATA_URL: %v", err)
	}
	if c.GraphURL == "" {
		c.GraphURL = "https://graph.microsoft.com/v1.0"
	}
	if err := botauth.CheckEndpointURL(c.GraphURL); err != nil {
		bad("TAPBOT_GRAPH_URL: %v", err)
	}
	if len(c.HelpdeskGroups) == 0 {
		bad("TAPBOT_HELPDESK_GROUPS is required: the Entra group(s) whose members may create Temporary Access Passes")
	}
	if c.AuthorityHost != "" {
		if err := botauth.CheckEndpointURL(c.AuthorityHost); err != nil {
			bad("TAPBOT_AUTHORITY_HOST: %v", err)
		}
	}

	switch c.AppType {
	case "", "SingleTenant", "MultiTenant", "UserAssignedMSI":
	default:
		bad("TAPBOT_APP_TYPE (or MicrosoftAppType)=%q: want SingleTenant, UserAssignedMSI or MultiTenant", c.AppType)
	}
	if c.AppType == "" {
		c.AppType = "SingleTenant"
	}
	if c.Credential == "" {
		c.Credential = c.deriveCredential()
	}
	switch c.Credential {
	case credential.ClientSecret:
		if c.AppPassword.IsZero() {
			bad("TAPBOT_APP_PASSWORD (or MicrosoftAppPassword) is required for the client-secret credential; or set TAPBOT_CLIENT_CERTIFICATE, or use a managed or workload identity")
		}
	case credential.ClientCertificate:
		if c.CertificatePath == "" {
			bad("TAPBOT_CLIENT_CERTIFICATE is required for the client-certificate credential")
		} else if _, err := os.Stat(c.CertificatePath); err != nil {
			bad("TAPBOT_CLIENT_CERTIFICATE: %v", err)
		}
	case credential.WorkloadIdentity:
		if c.FederatedTokenFile == "" {
			bad("AZURE_FEDERATED_TOKEN_FILE is required for the workload-identity credential")
		}
	case credential.ManagedIdentity:
	default:
		bad("TAPBOT_CREDENTIAL=%q: want one of %v", c.Credential, credential.Kinds)
	}
	if c.AppType == "MultiTenant" && (c.Credential == credential.ManagedIdentity || c.Credential == credential.WorkloadIdentity) {
		bad("MicrosoftAppType MultiTenant needs a client secret or certificate")
	}
}

// deriveCredential picks the credential the settings point at, most specific first.
func (c *Config) deriveCredential() credential.Kind {
	switch {
	case c.AppType == "UserAssignedMSI":
		return credential.ManagedIdentity
	case c.CertificatePath != "":
		return credential.ClientCertificate
	case c.AppPassword.IsZero() && c.FederatedTokenFile != "":
		return credential.WorkloadIdentity
	default:
		return credential.ClientSecret
	}
}

// tokenTenant is the tenant outbound Connector tokens come from. Multi-tenant bots
// (deprecated for new registrations, still running) use Bot Framework's own tenant.
func (c Config) tokenTenant() string {
	if c.AppType == "MultiTenant" {
		return "botframework.com"
	}
	return c.TenantID
}

func checkLoopbackAddr(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if !botauth.IsLoopbackHost(host) {
		return fmt.Errorf("%q is not a loopback address", host)
	}
	return nil
}

// parseStartDay reads the joiner and start-day pass settings.
func (c *Config) parseStartDay(get func(string) string, bad func(string, ...any)) {
	if v := get("TAPBOT_JOINER_LOOKAHEAD"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 60 {
			bad("TAPBOT_JOINER_LOOKAHEAD=%q: want a number of days from 1 to 60", v)
		}
		c.JoinerLookahead = time.Duration(n) * 24 * time.Hour
	}
	switch v := strings.ToLower(get("TAPBOT_STARTDAY_TAP_TO")); v {
	case "", onboard.StartDayTAPToHelpdesk, onboard.StartDayTAPToManager:
		c.StartDayTAPTo = v
	default:
		bad("TAPBOT_STARTDAY_TAP_TO=%q: want helpdesk or manager", v)
	}
	if v := get("TAPBOT_STARTDAY_TAP_AT"); v != "" {
		at, err := time.Parse("15:04", v)
		if err != nil {
			bad("TAPBOT_STARTDAY_TAP_AT=%q: want a time of day like 08:00", v)
		}
		c.StartDayTAPAt = onboard.At(at.Hour(), at.Minute())
	}
	if v := get("TAPBOT_STARTDAY_TAP_LIFETIME"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < tap.MinLifetime || d > tap.MaxLifetime {
			bad("TAPBOT_STARTDAY_TAP_LIFETIME=%q: want a duration from 10m to 720h, like 8h", v)
		}
		c.StartDayTAPLifetime = d
	}
}
