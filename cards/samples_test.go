package cards

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tapbot/tapbot/manifest"
)

// sampleTAP is a realistic pass: Entra passes mix letters, digits and symbols, and
// '+' and '!' are the ones a markdown or URL encoder would mangle.
const sampleTAP = "Kq7+Lm!p3Zt$9wRx"

// samples returns every card tapbot sends, filled as the bot fills them, by file name.
func samples() map[string]Card {
	start := time.Date(2026, time.March, 2, 8, 30, 0, 0, time.UTC)
	expires := start.Add(8 * time.Hour)
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		panic(err)
	}
	newYork, err := time.LoadLocation("America/New_York")
	if err != nil {
		panic(err)
	}
	// /help lists the commands of the conversation's scope: the manifest's menu.
	help := func(scope manifest.Scope) []CommandHelp {
		var lines []CommandHelp
		for _, c := range manifest.Commands() {
			if slices.Contains(c.Scopes, scope) {
				lines = append(lines, CommandHelp{Usage: c.Usage, Description: c.Description})
			}
		}
		return lines
	}
	revoke := map[string]string{"userId": "5c8a2f6e-1d3b-4c7a-9e2f-0a1b2c3d4e5f", "methodId": "0b4c1f2a-7e6d-4a3b-8c9d-1e2f3a4b5c6d", "upn": "nina@contoso.com"}
	return map[string]Card{
		// The scope labels are bot/commands.go's.
		"help-personal":  Help("in this personal chat", help(manifest.ScopePersonal)),
		"help-groupchat": Help("in this group chat", help(manifest.ScopeGroupChat)),
		"help-channel":   Help("in this channel", help(manifest.ScopeTeam)),
		"tap": TAP(TAPView{UserDisplayName: "Nina Newhire", UserPrincipalName: "nina@contoso.com", Value: sampleTAP,
			Start: start, Expires: expires, Reason: "ticket 4711 *laptop* [shipped](https://evil.example) <at>Max</at>", RevokeData: revoke, Times: ReaderTimes(berlin, "de-DE")}),
		"tap-once": TAP(TAPView{UserPrincipalName: "gus.guest_contoso.net#EXT#@contoso.onmicrosoft.com", Value: "a!b+C1d2E3f4G5h6",
			Start: start, Expires: start.Add(90 * time.Minute), UsableOnce: true, RevokeData: revoke}),
		"tap-redacted": RedactedTAP("Nina Newhire", "nina@contoso.com", expires, "it expired", ViewerTimes()),
		"tap-revoked":  RedactedTAP("", "nina@contoso.com", time.Time{}, "it was revoked", ViewerTimes()),
		"confirm-replace": ConfirmReplace("Nina Newhire", "nina@contoso.com", expires, map[string]any{
			"user": "nina@contoso.com", "lifetimeMinutes": 480, "once": false, "reason": "ticket 4711", "nonce": "req-8c1f"},
			map[string]any{"user": "nina@contoso.com", "nonce": "req-8c1f"}, ReaderTimes(newYork, "en-US")),
		// The second person's question, on each path (the target's with a later
		// start), and the requester's waiting card.
		"confirm-target": ConfirmTarget(ConfirmView{RequesterName: "Hana *Helpdesk* <at>Max</at>", TargetName: "Max Manager", TargetUPN: "max@contoso.com",
			Reason: "ticket 4711 [call me](https://evil.example)", Start: start.AddDate(0, 0, 1), Expires: start.Add(15 * time.Minute), Data: map[string]string{"id": "c0nf1rm"}}),
		"confirm-manager": ConfirmManager(ConfirmView{RequesterName: "Hana Helpdesk", TargetName: "Nina Newhire", TargetUPN: "nina@contoso.com",
			Expires: start.Add(15 * time.Minute), Data: map[string]string{"id": "c0nf1rm"}}),
		"confirm-helpdesk": ConfirmHelpdesk(ConfirmView{RequesterName: "Hana Helpdesk", TargetName: "Max Manager", TargetUPN: "max@contoso.com",
			Expires: start.Add(15 * time.Minute), Data: map[string]string{"id": "c0nf1rm"}}),
		"confirm-waiting": WaitingForConfirmation("Max Manager", "max@contoso.com", "Max Manager (the account holder)", start.Add(15*time.Minute), map[string]string{"id": "c0nf1rm"}),
		"notice":          Notice("Replacing the pass", "The new pass for nina@contoso.com will arrive here in a moment."),
		"status": Status(StatusView{Times: ReaderTimes(newYork, "en-US"), DisplayName: "Nina Newhire", UPN: "nina@contoso.com", Enabled: true, Created: start.AddDate(0, 0, -3),
			TAP: "present, valid until 2026-03-02 16:30 UTC", Methods: []Fact{
				{Title: "Microsoft Authenticator", Value: "registered 2026-03-02"},
				{Title: "Windows Hello for Business", Value: "not registered"},
				{Title: "FIDO2 security key", Value: "not registered"},
				{Title: "Phone", Value: "registered 2026-02-27"},
			}}),
		"status-disabled": Status(StatusView{UPN: "old.account@contoso.com", TAP: "none"}),
		"audit": Audit(AuditView{Title: "Audit log: latest entries", Filters: "since 7 days", Summary: "2 issued or revoked, 1 refused, 1 asked to confirm replacing",
			Times: ReaderTimes(berlin, "de-DE"), Rows: []AuditRow{
				{Time: start, By: "Hana Helpdesk", Action: "tap.create", User: "nina@contoso.com", Outcome: "issued", Ticket: "ticket 4711"},
				{Time: start.Add(-time.Hour), By: "Hana Helpdesk", Action: "tap.create", User: "gwen@contoso.com", Outcome: "refused: privileged role"},
				{Time: start.Add(-2 * time.Hour), By: "tapbot", Action: "tap.redact", User: "nina@contoso.com", Outcome: "removed from the chat: expired", Ticket: "*urgent* <at>Max</at> [x](y)"},
				{Time: start.Add(-26 * time.Hour), By: "Hana Helpdesk", Action: "tap.create", User: "nina@contoso.com", Outcome: "asked to confirm replacing"},
			}}),
		"joiners": Joiners([]JoinerRow{{Name: "Nina Newhire", UPN: "nina@contoso.com", Starts: start.AddDate(0, 0, 3)},
			{Name: "Ola *Bold* <at>x</at>", UPN: "ola@contoso.com", Starts: start.AddDate(0, 0, 6)}}, "7 days", ReaderTimes(time.UTC, "en-GB")),
		"joiners-none": Joiners(nil, "7 days", ReaderTimes(time.UTC, "en-GB")),
		"audit-empty":  Audit(AuditView{Title: "Audit log for nobody@contoso.com", Filters: "user nobody@contoso.com · since 7 days"}),
		// The onboarding form as first sent, and re-sent with errors beside fields. The
		// Teams people picker variant is left out: it is a Teams extension beyond 1.5.
		"onboard-form": OnboardForm(OnboardFormView{RequestID: "req-8c1f", Values: OnboardValues{UsageLocation: "DE", Manager: "max@contoso.com"},
			Domains: []string{"contoso.com", "contoso.onmicrosoft.com"}, Licences: []LicenceOption{{SKUID: "c7df2760-2c81-4ef7-b578-5b5392b571df", Name: "Microsoft 365 E5", Free: 12}},
			Groups: []Choice{{Title: "New hires", Value: "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d40003"}}, MinStartDate: "2026-03-02"}),
		"onboard-form-errors": OnboardForm(OnboardFormView{RequestID: "req-8c1f",
			Values: OnboardValues{GivenName: "José", Surname: "Müller *x* <at>Max</at>", MailNickname: "jose.muller", Domain: "contoso.com",
				UsageLocation: "XX", StartDate: "2026-03-01", Manager: "max@contoso.com", NoSmartphone: true, Notes: "[laptop](https://evil.example)"},
			Errors:  map[string]string{"usageLocation": "Use a two-letter country code such as DE.", "startDate": "The start date is in the past.", "": "jose.muller@contoso.com is taken; try jose.muller2."},
			Domains: []string{"contoso.com"}, MinStartDate: "2026-03-02",
			SuggestedDisplayName: "José Müller *x* <at>Max</at>", SuggestedMailNickname: "jose.muller"}),
		"checklist":      withRefresh(Checklist(sampleChecklist()), ChecklistRefresh(sampleChecklist())),
		"checklist-copy": ChecklistCopy(sampleChecklist()),
		"stuck": Stuck(StuckView{Times: ViewerTimes(), HireName: "Nina Newhire", HireUPN: "nina@contoso.com", StepTitle: "Sign in to your laptop",
			Hint: "An Autopilot reboot before Windows Hello lands on the password screen: ask for a fresh pass.", GraphShows: []string{"Microsoft Authenticator registered 2026-03-02", "no Entra-joined device yet"},
			At: start, IssueData: map[string]string{"user": "nina@contoso.com", "nonce": "stuck-req-8c1f-laptop"}}),
		"stuck-handled": Stuck(StuckView{Times: ViewerTimes(), HireName: "Nina Newhire", HireUPN: "nina@contoso.com", StepTitle: "Sign in to your laptop",
			At: start, Handler: "Hana *Helpdesk* <at>Max</at>", IssueData: map[string]string{"user": "nina@contoso.com", "nonce": "stuck-req-8c1f-laptop"}}),
		"onboard-summary": OnboardSummary(OnboardSummaryView{Times: ViewerTimes(), RequestID: "req-8c1f", Status: "Waiting for approval", RequestedBy: "Max Manager",
			Submitted: start, Values: OnboardValues{GivenName: "Nina", Surname: "Newhire", DisplayName: "Nina Newhire", MailNickname: "nina",
				Domain: "contoso.com", UsageLocation: "DE", StartDate: "2026-03-09", Manager: "max@contoso.com"},
			ManagerName: "Max Manager", LicenceName: "Microsoft 365 E5", GroupNames: []string{"New hires"}}),
	}
}

// TestWriteSamples builds every card tapbot can send and checks each marshals to an
// Adaptive Card for the schema version Teams renders. With CARDS_OUT=dir it also writes
// them there as <name>.json, for Microsoft's renderer to check (e2e/validate/cards.test.mjs).
func TestWriteSamples(t *testing.T) {
	out := os.Getenv("CARDS_OUT")
	if out != "" {
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	all := samples()
	names := make([]string, 0, len(all))
	for name := range all {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		raw, err := json.MarshalIndent(all[name], "", "  ")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var card struct {
			Type    string            `json:"type"`
			Version string            `json:"version"`
			Body    []json.RawMessage `json:"body"`
		}
		if err := json.Unmarshal(raw, &card); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if card.Type != "AdaptiveCard" || card.Version != Version || len(card.Body) == 0 {
			t.Errorf("%s: type %q version %q, %d body elements; want AdaptiveCard %s with a body", name, card.Type, card.Version, len(card.Body), Version)
		}
		if out != "" {
			if err := os.WriteFile(filepath.Join(out, name+".json"), append(raw, '\n'), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	// The pass goes out exactly as Entra issued it: one run of literal text, not
	// escaped, not split.
	raw, _ := json.Marshal(all["tap"])
	var tap struct {
		Body []struct {
			Type    string `json:"type"`
			Inlines []struct {
				Text     string `json:"text"`
				FontType string `json:"fontType"`
			} `json:"inlines"`
		} `json:"body"`
	}
	if err := json.Unmarshal(raw, &tap); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range tap.Body {
		if e.Type == "RichTextBlock" && len(e.Inlines) == 1 && e.Inlines[0].Text == sampleTAP && e.Inlines[0].FontType == "Monospace" {
			found = true
		}
	}
	if !found {
		t.Errorf("TAP card = %s, want %q verbatim as the only run of a monospace RichTextBlock", raw, sampleTAP)
	}
}
