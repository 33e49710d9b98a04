package itest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tapbot/tapbot/graph/simtenant"
	"github.com/tapbot/tapbot/internal/bftest"
)

// commandIn sends text with the reader's time zone and locale on the activity, as
// Teams does, and returns the bot's first answer.
func (e *env) commandIn(zone, locale, from, text string) sent {
	e.t.Helper()
	calls := e.commandWith(zone, locale, from, text)
	if len(calls) == 0 {
		e.t.Fatalf("%q: no answer, want at least one", text)
	}
	return decode(e.t, calls[0])
}

func (e *env) commandWith(zone, locale, from, text string) []bftest.ConnectorCall {
	e.t.Helper()
	before := len(e.cloud.Calls())
	a := e.activity("message", "personal", from, text)
	a["localTimezone"], a["locale"] = zone, locale
	if status, _ := e.post(a); status != http.StatusOK {
		e.t.Fatalf("POST %q: status %d, want 200", text, status)
	}
	e.drain()
	return e.cloud.Calls()[before:]
}

// /audit shows names, outcomes in words, a table, filters, and the reader's zone.
func TestAuditView(t *testing.T) {
	e := newEnv(t)
	e.command("personal", simtenant.HanaID, "/tap gwen@contoso.com")
	e.command("personal", simtenant.HanaID, "/tap nina@contoso.com 1h ticket =4711")
	e.command("personal", simtenant.HanaID, "/tap nina@contoso.com 2h") // asks to confirm replacing
	if later := e.commandIn("", "", simtenant.AlexID, "/audit since 1h").card(); !strings.Contains(later, "gwen@contoso.com") || !strings.Contains(later, "since 1h") {
		t.Fatalf("/audit since 1h card: %s\nwant gwen's entry and the filter named since 1h", later)
	}
	e.clock.advance(2 * time.Hour)
	if _, err := e.flow.RedactExpired(context.Background()); err != nil {
		t.Fatal(err)
	}

	card := e.commandIn("Europe/Berlin", "de-DE", simtenant.AlexID, "/audit").card()
	for _, want := range []string{`"type":"Table"`, "Hana Helpdesk", `"refused: privileged role"`, `"issued"`, "=4711",
		`"asked to confirm replacing"`, "removed from the chat: expired", "1 refused", "1 asked to confirm replacing", " CET"} {
		if !strings.Contains(card, want) {
			t.Errorf("audit card: %s\nwant it to contain %q", card, want)
		}
	}
	for _, never := range []string{simtenant.HanaID, "needs_confirmation", "privileged_role", "2 refused"} {
		if strings.Contains(card, never) {
			t.Errorf("audit card: %s\nwant it without %q", card, never)
		}
	}

	only := e.commandIn("", "", simtenant.AlexID, "/audit gwen@contoso.com since 1d action tap.create").card()
	if strings.Contains(only, "nina") || !strings.Contains(only, "gwen@contoso.com") || !strings.Contains(only, "since 1d · action tap.create") || !strings.Contains(only, " UTC") {
		t.Fatalf("filtered audit card: %s\nwant gwen's entries only, the filters named and times in UTC", only)
	}
	if redactions := e.commandIn("", "", simtenant.AlexID, "/audit action tap.redact").card(); strings.Contains(redactions, "issued") || !strings.Contains(redactions, "removed from the chat") {
		t.Fatalf("/audit action tap.redact card: %s\nwant redactions only", redactions)
	}
	for _, typo := range []string{"/audit since 7x", "/audit action tap.delete", "/audit nina@contoso.com gwen@contoso.com", "/audit since"} {
		if reply := e.commandIn("", "", simtenant.AlexID, typo); !strings.Contains(reply.Text, "Usage: /audit") || reply.card() != "" {
			t.Errorf("%s: reply %q, want the /audit usage and no card", typo, reply.Text)
		}
	}

	if reply := decode(t, e.command("personal", simtenant.HanaID, "/audit")[0]); !strings.Contains(reply.Text, "Only members of the auditor group") {
		t.Fatalf("/audit from a non-auditor: reply %q, want it to say only members of the auditor group may", reply.Text)
	}
	for _, c := range e.command("channel", simtenant.AlexID, "audit") {
		if c.ConversationID == channelConv && strings.Contains(string(c.Body), "gwen") {
			t.Fatal("audit entries posted in a channel")
		}
	}
}
