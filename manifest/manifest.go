// Package manifest builds tapbot's Microsoft Teams app package: a zip with
// manifest.json and the two icons, ready to upload to a tenant's app catalog.
package manifest

import (
	"archive/zip"
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// SchemaVersion is the Teams app manifest schema tapbot writes. 1.19 is generally
// available in every Teams client and cloud and has everything a bot-only app needs;
// newer versions add features tapbot does not use (agents, extensions) and are rolled
// out later in sovereign clouds.
const SchemaVersion = "1.19"

const schemaURL = "https://developer.microsoft.com/json-schemas/teams/v" + SchemaVersion + "/MicrosoftTeams.schema.json"

// Defaults for the fields a Config may leave empty.
const (
	DefaultVersion     = "1.0.0"
	DefaultName        = "tapbot"
	DefaultAccentColor = "#0F6CBD" // the background of color.png
	DefaultDeveloper   = "tapbot"
	DefaultWebsiteURL  = "https://github.com/tapbot/tapbot"
	DefaultPrivacyURL  = "https://github.com/tapbot/tapbot#security"
	DefaultTermsURL    = "https://github.com/tapbot/tapbot"
)

// Limits from the Teams manifest schema.
const (
	maxShortName     = 30
	maxDeveloperName = 32
	maxURL           = 2048
	maxValidDomains  = 16
	maxTitle         = 32
	maxDescription   = 128
	maxCommands      = 10
)

//go:embed color.png
var colorIcon []byte

//go:embed outline.png
var outlineIcon []byte

// Icon file names inside the package, as manifest.json refers to them.
const (
	ColorIcon   = "color.png"   // 192×192, full colour
	OutlineIcon = "outline.png" // 32×32, white on transparent
)

// Developer is the publisher shown in the Teams app store entry. Teams requires all
// four fields; the URLs must be https.
type Developer struct {
	Name       string
	WebsiteURL string
	PrivacyURL string
	TermsURL   string
}

// Config is what varies between deployments of tapbot.
type Config struct {
	AppID        string // the Azure Bot's Microsoft App ID (GUID); also the Teams app id
	Version      string // the app package version, MAJOR.MINOR.PATCH; default DefaultVersion
	Name         string // short name, at most 30 characters; default DefaultName
	Developer    Developer
	ValidDomains []string // host names (wildcards like *.contoso.com allowed), no scheme or path
	AccentColor  string   // #RRGGBB; default DefaultAccentColor
}

// Scope is where a bot command can be used, in the manifest's words.
type Scope string

// The scopes of the Teams manifest. Teams calls channels "team".
const (
	ScopePersonal  Scope = "personal"
	ScopeTeam      Scope = "team"
	ScopeGroupChat Scope = "groupChat"
)

var allScopes = []Scope{ScopePersonal, ScopeTeam, ScopeGroupChat}

// Command is one entry of the bot's command menu in Teams.
type Command struct {
	Name        string // the menu title: the bare command name, without '/'
	Usage       string // as /help shows it
	Description string
	Scopes      []Scope
}

// commands is the bot's command menu. It matches what the bot registers (bot/commands.go,
// bot/tap, bot/doctor, bot/onboard, bot/checklist); TestCommandsMatchBot keeps the two in step.
var commands = []Command{
	{"help", "/help", "List the commands you can use here.", allScopes},
	{"tap", "/tap user [lifetime] [once] [reason]", "Create a Temporary Access Pass (helpdesk). It is sent to you privately.", allScopes},
	{"revoke", "/revoke user", "Delete the user's Temporary Access Pass (helpdesk).", allScopes},
	{"status", "/status user", "Show the user's account, pass and sign-in methods (helpdesk).", allScopes},
	{"audit", "/audit [user] [since 7d] [action tap.revoke]", "Show recent TAP decisions (auditors). Sent to you privately.", allScopes},
	{"checklist", "/checklist user [nophone]", "Send a new hire the passwordless set-up checklist (helpdesk).", allScopes},
	{"doctor", "/doctor", "Check the tenant's set-up for tapbot (admins). Changes nothing.", []Scope{ScopePersonal}},
	{"onboard", "/onboard", "Request an account for a new hire (a form; approvers approve it).", []Scope{ScopePersonal}},
	{"requests", "/requests", "Your open onboarding requests, and for approvers the ones waiting for them.", []Scope{ScopePersonal}},
	{"joiners", "/joiners", "List the joiners an HR system created who start soon (helpdesk).", []Scope{ScopePersonal}},
}

// Commands returns the bot's command menu, in menu order.
func Commands() []Command {
	out := slices.Clone(commands)
	for i := range out {
		out[i].Scopes = slices.Clone(out[i].Scopes)
	}
	return out
}

const (
	shortDescription = "Temporary Access Passes, onboarding and a new-hire checklist, in Teams."
	fullDescription  = "tapbot lets your helpdesk create Microsoft Entra Temporary Access Passes from Teams " +
		"for new hires and people who lost their sign-in methods. A pass is only ever sent to the requester's " +
		"personal chat with the bot, is removed from the chat when it expires or is revoked, and every " +
		"decision is audited. Managers request accounts for new hires with a form (/onboard) that approvers " +
		"approve in their channel; tapbot then creates the account. On their first day the new hire gets a " +
		"checklist that walks them through passwordless sign-in, ticks steps off from what Entra shows, and " +
		"tells the helpdesk when they are stuck. Commands: /tap, /revoke, /status, /audit, /checklist, " +
		"/onboard, /requests, /joiners, /doctor and /help."
)

// The manifest.json document. Struct fields, not maps, so the key order is fixed.
type appManifest struct {
	Schema          string       `json:"$schema"`
	ManifestVersion string       `json:"manifestVersion"`
	Version         string       `json:"version"`
	ID              string       `json:"id"`
	Developer       developer    `json:"developer"`
	Name            localized    `json:"name"`
	Description     localized    `json:"description"`
	Icons           icons        `json:"icons"`
	AccentColor     string       `json:"accentColor"`
	Bots            []botSection `json:"bots"`
	ValidDomains    []string     `json:"validDomains"`
	// WebApplicationInfo ties the app to the bot's Entra app registration. tapbot
	// uses no Teams SSO, but Graph lets an app install itself for a user with
	// TeamsAppInstallation.ReadWriteSelfForUser.All only when the catalog app's
	// webApplicationInfo.id is the caller's app id: without it /checklist cannot
	// install tapbot for a new hire ("Proactively install your bot for users using
	// Microsoft Graph",
	// https://learn.microsoft.com/en-us/microsoftteams/platform/graph-api/proactive-bots-and-messages/graph-proactive-bots-and-messages).
	// The resource is the form Microsoft documents for a bot without a tab,
	// api://botid-{app id} ("Update app manifest for SSO",
	// https://learn.microsoft.com/en-us/microsoftteams/platform/bots/how-to/authentication/bot-sso-manifest).
	WebApplicationInfo webApplicationInfo `json:"webApplicationInfo"`
}

type webApplicationInfo struct {
	ID       string `json:"id"`
	Resource string `json:"resource"`
}

// WebApplicationResource is the webApplicationInfo.resource tapbot writes for a bot
// app id.
func WebApplicationResource(appID string) string {
	return "api://botid-" + strings.ToLower(appID)
}

type developer struct {
	Name          string `json:"name"`
	WebsiteURL    string `json:"websiteUrl"`
	PrivacyURL    string `json:"privacyUrl"`
	TermsOfUseURL string `json:"termsOfUseUrl"`
}

type localized struct {
	Short string `json:"short"`
	Full  string `json:"full"`
}

type icons struct {
	Color   string `json:"color"`
	Outline string `json:"outline"`
}

type botSection struct {
	BotID              string        `json:"botId"`
	Scopes             []Scope       `json:"scopes"`
	SupportsFiles      bool          `json:"supportsFiles"`
	IsNotificationOnly bool          `json:"isNotificationOnly"`
	CommandLists       []commandList `json:"commandLists"`
}

type commandList struct {
	Scopes   []Scope       `json:"scopes"`
	Commands []menuCommand `json:"commands"`
}

type menuCommand struct {
	Title       string `json:"title"`
	Description string `json:"description"`
}

// zipTime is every entry's modification time, so the same Config always gives the
// same bytes (reproducible packages, and no spurious diffs when re-generated).
var zipTime = time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC)

// Build validates c and returns the Teams app package (a zip with manifest.json,
// color.png and outline.png). Every problem with c is reported at once.
func Build(c Config) ([]byte, error) {
	doc, err := manifestJSON(c)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range []struct {
		name string
		data []byte
	}{{"manifest.json", doc}, {ColorIcon, colorIcon}, {OutlineIcon, outlineIcon}} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: zipTime})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// manifestJSON validates c and returns manifest.json.
func manifestJSON(c Config) ([]byte, error) {
	c = withDefaults(c)
	if err := validate(c); err != nil {
		return nil, err
	}
	m := appManifest{
		Schema:          schemaURL,
		ManifestVersion: SchemaVersion,
		Version:         c.Version,
		// The bot's id doubles as the app id (Teams allows it): it is stable per
		// deployment, so uploading a new version updates the installed app instead of
		// adding a second one.
		ID: strings.ToLower(c.AppID),
		Developer: developer{Name: c.Developer.Name, WebsiteURL: c.Developer.WebsiteURL,
			PrivacyURL: c.Developer.PrivacyURL, TermsOfUseURL: c.Developer.TermsURL},
		Name:        localized{Short: c.Name, Full: c.Name},
		Description: localized{Short: shortDescription, Full: fullDescription},
		Icons:       icons{Color: ColorIcon, Outline: OutlineIcon},
		AccentColor: c.AccentColor,
		Bots: []botSection{{
			BotID:        strings.ToLower(c.AppID),
			Scopes:       allScopes,
			CommandLists: commandLists(),
		}},
		ValidDomains: slices.Clone(c.ValidDomains),
		WebApplicationInfo: webApplicationInfo{
			ID:       strings.ToLower(c.AppID),
			Resource: WebApplicationResource(c.AppID),
		},
	}
	if m.ValidDomains == nil {
		m.ValidDomains = []string{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// commandLists is the command menu per scope: Teams wants one list for each scope.
func commandLists() []commandList {
	var lists []commandList
	for _, s := range allScopes {
		var cmds []menuCommand
		for _, c := range commands {
			if slices.Contains(c.Scopes, s) {
				cmds = append(cmds, menuCommand{Title: c.Name, Description: c.Description})
			}
		}
		if len(cmds) > 0 {
			lists = append(lists, commandList{Scopes: []Scope{s}, Commands: cmds})
		}
	}
	return lists
}

func withDefaults(c Config) Config {
	def := func(v *string, d string) {
		if *v = strings.TrimSpace(*v); *v == "" {
			*v = d
		}
	}
	def(&c.AppID, "")
	def(&c.Version, DefaultVersion)
	def(&c.Name, DefaultName)
	def(&c.AccentColor, DefaultAccentColor)
	def(&c.Developer.Name, DefaultDeveloper)
	def(&c.Developer.WebsiteURL, DefaultWebsiteURL)
	def(&c.Developer.PrivacyURL, DefaultPrivacyURL)
	def(&c.Developer.TermsURL, DefaultTermsURL)
	domains := make([]string, 0, len(c.ValidDomains))
	for _, d := range c.ValidDomains {
		domains = append(domains, strings.ToLower(strings.TrimSpace(d)))
	}
	c.ValidDomains = domains
	return c
}

var (
	guidRE   = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	semverRE = regexp.MustCompile(`^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)
	colorRE  = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)
	// A host name, optionally with one leading wildcard label; at least two labels
	// after the wildcard, so "*.com" is refused as Teams does.
	domainRE = regexp.MustCompile(`^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
)

// validate reports every problem with c (after defaults) at once.
func validate(c Config) error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	switch {
	case c.AppID == "":
		bad("app id: required (the Azure Bot's Microsoft App ID)")
	case !guidRE.MatchString(c.AppID):
		bad("app id %q: not a GUID", c.AppID)
	}
	if !semverRE.MatchString(c.Version) {
		bad("version %q: want MAJOR.MINOR.PATCH, e.g. 1.0.0", c.Version)
	}
	if n := utf8.RuneCountInString(c.Name); n > maxShortName {
		bad("name %q: %d characters, at most %d", c.Name, n, maxShortName)
	}
	if hasControl(c.Name) {
		bad("name %q: contains control characters", c.Name)
	}
	if n := utf8.RuneCountInString(c.Developer.Name); n > maxDeveloperName {
		bad("developer name %q: %d characters, at most %d", c.Developer.Name, n, maxDeveloperName)
	}
	for _, u := range []struct{ what, v string }{
		{"website URL", c.Developer.WebsiteURL}, {"privacy URL", c.Developer.PrivacyURL}, {"terms of use URL", c.Developer.TermsURL},
	} {
		if err := checkHTTPS(u.v); err != nil {
			bad("%s %q: %v", u.what, u.v, err)
		}
	}
	if !colorRE.MatchString(c.AccentColor) {
		bad("accent color %q: want #RRGGBB", c.AccentColor)
	}
	if len(c.ValidDomains) > maxValidDomains {
		bad("valid domains: %d, at most %d", len(c.ValidDomains), maxValidDomains)
	}
	seen := map[string]bool{}
	for _, d := range c.ValidDomains {
		switch {
		case len(d) > 253 || !domainRE.MatchString(d):
			bad("valid domain %q: want a host name such as bot.contoso.com or *.contoso.com (no scheme, port or path)", d)
		case seen[d]:
			bad("valid domain %q: listed twice", d)
		}
		seen[d] = true
	}
	return errors.Join(errs...)
}

func checkHTTPS(s string) error {
	if len(s) > maxURL {
		return fmt.Errorf("longer than %d characters", maxURL)
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a URL")
	}
	if u.Scheme != "https" || u.Host == "" || u.User != nil {
		return errors.New("want an https URL such as https://contoso.com/privacy")
	}
	return nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
