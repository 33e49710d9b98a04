package itest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/bot/tap"
	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/graph/simtenant"
	"github.com/tapbot/tapbot/internal/store"
)

func (e *env) lastAudit(action store.Action) store.AuditEntry {
	e.t.Helper()
	rows, err := e.store.Audit(context.Background(), store.AuditFilter{Action: action, Limit: 1})
	if err != nil || len(rows) == 0 {
		e.t.Fatalf("no %s audit row (%v), want one", action, err)
	}
	return rows[0]
}

func TestTAPIssuedPrivatelyInPersonalChat(t *testing.T) {
	e := newEnv(t)
	calls := e.command("personal", simtenant.HanaID, "/tap nina@contoso.com 2h ticket 4711")
	if len(calls) != 1 || calls[0].ConversationID != personalConv || calls[0].Method != http.MethodPost {
		t.Fatalf("calls %+v, want one message posted to the personal chat", calls)
	}
	card := decode(t, calls[0]).card()
	value := tapValue(card)
	taps := e.tenant.TAPsOf(simtenant.NinaID)
	if len(taps) != 1 || value == "" || taps[0].Value.Reveal() != value {
		t.Fatalf("card value %q, tenant has %+v; want one pass, the card's", value, taps)
	}
	if taps[0].Lifetime != 2*time.Hour || !strings.Contains(card, "tap.revoke") || !strings.Contains(card, "ticket 4711") {
		t.Fatalf("lifetime %v, card %s; want 2h and a card with tap.revoke and ticket 4711", taps[0].Lifetime, card)
	}
	row := e.lastAudit("tap.create")
	if row.Outcome != "allowed" || row.RequesterID != simtenant.HanaID || row.TargetID != simtenant.NinaID ||
		row.MethodID != taps[0].ID || row.Ticket != "ticket 4711" || row.Expires.IsZero() {
		t.Fatalf("tap.create audit %+v, want allowed, Hana for Nina, method %s, ticket 4711, an expiry", row, taps[0].ID)
	}
	open, err := e.store.OpenDeliveries(context.Background(), simtenant.NinaID)
	if err != nil || len(open) != 1 || open[0].ActivityID == "" || open[0].ConversationID != personalConv {
		t.Fatalf("open deliveries %+v (err %v), want one, to the personal chat, with an activity id", open, err)
	}
}

func TestTAPFromChannelGoesToOneToOne(t *testing.T) {
	e := newEnv(t)
	calls := e.command("channel", simtenant.HanaID, "tap nina@contoso.com")
	var created, card, public int
	var value string
	for _, c := range calls {
		switch {
		case c.Method == http.MethodPost && c.ConversationID == "":
			created++
			if !strings.Contains(string(c.Body), "29:"+simtenant.HanaID) || strings.Contains(string(c.Body), `"isGroup":true`) {
				t.Fatalf("new conversation %s, want a 1:1 with the requester", c.Body)
			}
		case strings.HasPrefix(c.ConversationID, "a:new-"):
			card++
			value = tapValue(decode(t, c).card())
		case c.ConversationID == channelConv:
			public++
			if !strings.Contains(decode(t, c).Text, "private chat") {
				t.Fatalf("channel note %s, want it to point to the private chat", c.Body)
			}
		}
	}
	if created != 1 || card != 1 || public != 1 || value == "" {
		t.Fatalf("create=%d card=%d public=%d value=%q, want 1 1 1 and a value; calls %+v", created, card, public, value, calls)
	}
	for place, text := range e.everythingOutsideTheOneToOne() {
		if strings.Contains(text, value) {
			t.Fatalf("TAP value found in %s, want it in the requester's 1:1 chat only", place)
		}
	}
}

func TestRefusals(t *testing.T) {
	tests := []struct {
		name    string
		from    string
		text    string
		setup   func(e *env)
		code    string
		message string
	}{
		{"not helpdesk", simtenant.MaxID, "/tap nina@contoso.com", nil, "not_helpdesk", "Only members of the helpdesk"},
		{"global administrator", simtenant.HanaID, "/tap gwen@contoso.com", nil, "privileged_role", "Global Administrator"},
		{"admin through a group", simtenant.HanaID, "/tap ines@contoso.com", nil, "privileged_role", "Authentication Administrator"},
		{"PIM-eligible admin", simtenant.HanaID, "/tap paul@contoso.com", nil, "eligible_role", "eligible"},
		{"guest by UPN", simtenant.HanaID, "/tap " + simtenant.GregUPN, nil, "guest", "guest account"},
		{"guest by mail", simtenant.HanaID, "/tap greg@fabrikam.com", nil, "guest", "guest account"},
		{"disabled", simtenant.HanaID, "/tap dan@contoso.com", nil, "disabled", "disabled"},
		{"protected group", simtenant.HanaID, "/tap erin@contoso.com", nil, "protected_group", "protected"},
		{"out of scope", simtenant.HanaID, "/tap colin@contoso.com", nil, "out_of_scope", "outside"},
		{"self", simtenant.HanaID, "/tap hana@contoso.com", nil, "self", "yourself"},
		{"unknown user", simtenant.HanaID, "/tap nobody@contoso.com", nil, "not_found", "can't find"},
		{"lifetime above policy", simtenant.HanaID, "/tap nina@contoso.com 2d", nil, "lifetime_out_of_range", "10m to 8h"},
		{"policy disabled", simtenant.HanaID, "/tap nina@contoso.com", func(e *env) {
			p := e.tenant.TAPPolicy()
			p.Enabled = false
			e.tenant.SetTAPPolicy(p)
		}, "policy_disabled", "turned off"},
		{"not targeted by policy", simtenant.HanaID, "/tap max@contoso.com", func(e *env) {
			p := e.tenant.TAPPolicy()
			p.IncludeTargets = []string{simtenant.GroupNewHires}
			e.tenant.SetTAPPolicy(p)
		}, "policy_not_targeted", "doesn't include"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if tt.setup != nil {
				tt.setup(e)
			}
			calls := e.command("personal", tt.from, tt.text)
			if len(calls) != 1 {
				t.Fatalf("%d replies, want 1", len(calls))
			}
			reply := decode(t, calls[0])
			if !strings.Contains(reply.Text, tt.message) || reply.card() != "" {
				t.Fatalf("reply %q, want text explaining %q and no card", reply.Text, tt.message)
			}
			row := e.lastAudit("tap.create")
			if row.Outcome != "refused" || row.Reason != tt.code || row.RequesterID != tt.from {
				t.Fatalf("audit %+v, want refused/%s", row, tt.code)
			}
			for _, u := range []string{simtenant.NinaID, simtenant.GwenID, simtenant.MaxID, simtenant.PaulID, simtenant.ErinID} {
				if n := len(e.tenant.TAPsOf(u)); n != 0 {
					t.Fatalf("%d TAPs created for %s, want 0", n, u)
				}
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	e := newEnv(t, func(c *tap.Config) { c.MaxPerHour = 2 })
	for _, u := range []string{"nina@contoso.com", "max@contoso.com"} {
		if v := tapValue(decode(t, e.command("personal", simtenant.HanaID, "/tap "+u)[0]).card()); v == "" {
			t.Fatalf("no TAP card for %s, want one issued", u)
		}
	}
	reply := decode(t, e.command("personal", simtenant.HanaID, "/tap alex@contoso.com")[0])
	if !strings.Contains(reply.Text, "in the last hour") || len(e.tenant.TAPsOf(simtenant.AlexID)) != 0 {
		t.Fatalf("third TAP in an hour: reply %q, want it refused (in the last hour) and no pass", reply.Text)
	}
	if row := e.lastAudit("tap.create"); row.Reason != "rate_limited" {
		t.Fatalf("tap.create audit %+v, want reason rate_limited", row)
	}
	e.clock.advance(61 * time.Minute)
	if v := tapValue(decode(t, e.command("personal", simtenant.HanaID, "/tap alex@contoso.com")[0]).card()); v == "" {
		t.Fatal("limit did not lift after an hour")
	}
}

func TestExistingTAPNeedsConfirmation(t *testing.T) {
	e := newEnv(t)
	first := tapValue(decode(t, e.command("personal", simtenant.HanaID, "/tap nina@contoso.com")[0]).card())
	calls := e.command("personal", simtenant.HanaID, "/tap nina@contoso.com 3h")
	confirm := decode(t, calls[0]).card()
	if len(calls) != 1 || tapValue(confirm) != "" || !strings.Contains(confirm, "tap.replace") || strings.Contains(confirm, first) {
		t.Fatalf("%d calls, card %s; want one confirmation card (tap.replace) without any value", len(calls), confirm)
	}
	if taps := e.tenant.TAPsOf(simtenant.NinaID); len(taps) != 1 || taps[0].Value.Reveal() != first {
		t.Fatal("existing TAP replaced without confirmation")
	}
	// The Replace button's data, as Teams sends it back.
	var c struct {
		Actions []struct {
			Verb string         `json:"verb"`
			Data map[string]any `json:"data"`
		} `json:"actions"`
	}
	if err := json.Unmarshal([]byte(confirm), &c); err != nil || len(c.Actions) != 2 || c.Actions[0].Verb != "tap.replace" {
		t.Fatalf("confirmation actions %+v (err %v), want Replace (tap.replace) and Cancel", c.Actions, err)
	}
	before := len(e.cloud.Calls())
	resp := e.invoke(simtenant.HanaID, "tap.replace", c.Actions[0].Data)
	if resp["statusCode"] != float64(200) {
		t.Fatalf("replace invoke answered %v, want statusCode 200", resp)
	}
	// A double click or a Teams redelivery replaces nothing more.
	again := e.invoke(simtenant.HanaID, "tap.replace", c.Actions[0].Data)
	if raw, _ := json.Marshal(again); !strings.Contains(string(raw), "already") {
		t.Fatalf("second replace answered %s, want already", raw)
	}
	taps := e.tenant.TAPsOf(simtenant.NinaID)
	if len(taps) != 1 || taps[0].Value.Reveal() == first || taps[0].Lifetime != 3*time.Hour {
		t.Fatalf("passes after replace %+v, want one new one for 3h", taps)
	}
	var updatedOld, newCard bool
	for _, call := range e.cloud.Calls()[before:] {
		s := decode(t, call)
		switch {
		case call.Method == http.MethodPut && strings.Contains(s.card(), "replaced") && !strings.Contains(s.card(), first):
			updatedOld = true
		case tapValue(s.card()) == taps[0].Value.Reveal():
			newCard = true
		}
	}
	if !updatedOld || !newCard {
		t.Fatalf("old card redacted=%v, new card delivered=%v; want both", updatedOld, newCard)
	}
}

// The replace question has a Cancel: the existing pass stays, and the card's Replace
// button no longer acts (one answer per question).
func TestReplaceCanBeCancelled(t *testing.T) {
	e := newEnv(t)
	first := tapValue(decode(t, e.command("personal", simtenant.HanaID, "/tap nina@contoso.com")[0]).card())
	confirm := decode(t, e.command("personal", simtenant.HanaID, "/tap nina@contoso.com 3h")[0]).card()
	var c struct {
		Actions []struct {
			Verb string         `json:"verb"`
			Data map[string]any `json:"data"`
		} `json:"actions"`
	}
	if err := json.Unmarshal([]byte(confirm), &c); err != nil || len(c.Actions) != 2 || c.Actions[1].Verb != "tap.cancel" {
		t.Fatalf("confirmation card %s, want Replace and Cancel (tap.cancel)", confirm)
	}
	if raw, _ := json.Marshal(e.invoke(simtenant.HanaID, "tap.cancel", c.Actions[1].Data)); !strings.Contains(string(raw), "Cancelled") {
		t.Fatalf("cancel answered %s, want Cancelled", raw)
	}
	if raw, _ := json.Marshal(e.invoke(simtenant.HanaID, "tap.replace", c.Actions[0].Data)); !strings.Contains(string(raw), "already") {
		t.Fatalf("replace after cancel answered %s, want already", raw)
	}
	if taps := e.tenant.TAPsOf(simtenant.NinaID); len(taps) != 1 || taps[0].Value.Reveal() != first {
		t.Fatalf("passes after cancel %+v, want the existing one only", taps)
	}
	if row := e.lastAudit("tap.create"); row.Reason != "cancelled" {
		t.Fatalf("tap.create audit %+v, want reason cancelled", row)
	}
}

func TestRevokeButtonRedactsAtOnce(t *testing.T) {
	e := newEnv(t)
	card := decode(t, e.command("personal", simtenant.HanaID, "/tap nina@contoso.com")[0]).card()
	value := tapValue(card)
	var c struct {
		Actions []struct {
			Data map[string]any `json:"data"`
		} `json:"actions"`
	}
	_ = json.Unmarshal([]byte(card), &c)
	// Someone outside the helpdesk cannot revoke, even with the card's data.
	if resp := e.invoke(simtenant.MaxID, "tap.revoke", c.Actions[0].Data); !strings.Contains(mustJSON(resp), "Not allowed") {
		t.Fatalf("non-helpdesk revoke answered %v, want Not allowed", resp)
	}
	if len(e.tenant.TAPsOf(simtenant.NinaID)) != 1 {
		t.Fatal("non-helpdesk revoke deleted the TAP")
	}
	resp := e.invoke(simtenant.HanaID, "tap.revoke", c.Actions[0].Data)
	if raw := mustJSON(resp); strings.Contains(raw, value) || !strings.Contains(raw, "revoked") {
		t.Fatalf("revoke answered %s, want revoked, without the pass", raw)
	}
	if len(e.tenant.TAPsOf(simtenant.NinaID)) != 0 {
		t.Fatal("TAP still exists after Revoke")
	}
	if open, _ := e.store.OpenDeliveries(context.Background(), simtenant.NinaID); len(open) != 0 {
		t.Fatalf("open deliveries %+v, want none", open)
	}
	if row := e.lastAudit("tap.revoke"); row.Outcome != "allowed" || row.RequesterID != simtenant.HanaID {
		t.Fatalf("tap.revoke audit %+v, want allowed, by Hana", row)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestRevokeCommandAndStatus(t *testing.T) {
	e := newEnv(t)
	value := tapValue(decode(t, e.command("personal", simtenant.HanaID, "/tap nina@contoso.com")[0]).card())
	e.tenant.AddMethod(simtenant.NinaID, graph.Method{Type: "microsoftAuthenticator", DisplayName: "iPhone"})

	status := decode(t, e.command("personal", simtenant.HanaID, "/status nina@contoso.com")[0]).card()
	for _, want := range []string{"Microsoft Authenticator", "registered", "present, valid until", "Windows Hello for Business"} {
		if !strings.Contains(status, want) {
			t.Errorf("status card: %s\nwant it to contain %q", status, want)
		}
	}
	if strings.Contains(status, value) {
		t.Fatal("status shows the TAP value")
	}

	calls := e.command("personal", simtenant.HanaID, "/revoke nina@contoso.com")
	var redacted, replied bool
	for _, c := range calls {
		s := decode(t, c)
		redacted = redacted || (c.Method == http.MethodPut && strings.Contains(s.card(), "revoked") && !strings.Contains(s.card(), value))
		replied = replied || strings.Contains(s.Text, "Revoked")
	}
	if !redacted || !replied || len(e.tenant.TAPsOf(simtenant.NinaID)) != 0 {
		t.Fatalf("revoke: redacted=%v replied=%v taps=%d, want true true 0", redacted, replied, len(e.tenant.TAPsOf(simtenant.NinaID)))
	}
	if reply := decode(t, e.command("personal", simtenant.MaxID, "/status nina@contoso.com")[0]); !strings.Contains(reply.Text, "Only members") {
		t.Fatalf("non-helpdesk /status: reply %q, want Only members…", reply.Text)
	}
}

func TestExpiredPassIsRedactedDurably(t *testing.T) {
	e := newEnv(t)
	calls := e.command("personal", simtenant.HanaID, "/tap nina@contoso.com 30m")
	value := tapValue(decode(t, calls[0]).card())
	if n, err := e.flow.RedactExpired(context.Background()); err != nil || n != 0 {
		t.Fatalf("RedactExpired before expiry = %d, %v; want 0, nil", n, err)
	}
	e.clock.advance(31 * time.Minute)
	before := len(e.cloud.Calls())
	if n, err := e.flow.RedactExpired(context.Background()); err != nil || n != 1 {
		t.Fatalf("RedactExpired after expiry = %d, %v; want 1, nil", n, err)
	}
	upd := e.cloud.Calls()[before:]
	if len(upd) != 1 || upd[0].Method != http.MethodPut || upd[0].ActivityID != calls[0].ResponseID ||
		strings.Contains(string(upd[0].Body), value) || !strings.Contains(string(upd[0].Body), "expired") {
		t.Fatalf("calls at expiry %+v, want one update (PUT) of the pass card saying expired, without the pass", upd)
	}
	// Once only.
	if n, _ := e.flow.RedactExpired(context.Background()); n != 0 {
		t.Fatalf("RedactExpired again = %d, want 0", n)
	}
}

func TestGraphThrottlingIsRetried(t *testing.T) {
	e := newEnv(t)
	// The TAP policy and helpdesk membership are cached after this first TAP.
	e.command("personal", simtenant.HanaID, "/tap nina@contoso.com")
	e.graph.FailNext(1, http.StatusTooManyRequests, "0")
	if v := tapValue(decode(t, e.command("personal", simtenant.HanaID, "/tap max@contoso.com")[0]).card()); v == "" {
		t.Fatal("a 429 then success did not issue the TAP")
	}
}

func TestGraphOutageIsExplainedAndAudited(t *testing.T) {
	e := newEnv(t)
	e.graph.FailNext(1000, http.StatusServiceUnavailable, "0")
	calls := e.command("personal", simtenant.HanaID, "/tap nina@contoso.com")
	reply := decode(t, calls[0])
	if !strings.Contains(reply.Text, "unavailable") || !strings.Contains(reply.Text, "Nothing was changed") {
		t.Fatalf("outage reply %q, want it to say Graph is unavailable and Nothing was changed", reply.Text)
	}
	if row := e.lastAudit("tap.create"); row.Outcome != "failed" {
		t.Fatalf("tap.create audit %+v, want outcome failed", row)
	}
}

func TestGraphRoundTripsPerTAP(t *testing.T) {
	e := newEnv(t)
	e.command("personal", simtenant.HanaID, "/tap nina@contoso.com") // warms helpdesk and policy caches
	e.graph.Reset()
	e.command("personal", simtenant.HanaID, "/tap max@contoso.com")
	if n := e.graph.RequestCount(); n > 3 {
		t.Fatalf("/tap with warm caches made %d Graph round trips (want ≤ 3): %+v", n, e.graph.Requests())
	}
}

// The leak test: TAPs issued through every path (personal, channel, replace, revoke,
// expiry, refusal) appear nowhere but in messages to the requester's 1:1 chat.
func TestTAPValueNeverLeaks(t *testing.T) {
	e := newEnv(t)
	e.command("personal", simtenant.HanaID, "/tap nina@contoso.com 2h once ticket 1")
	e.command("channel", simtenant.HanaID, "tap max@contoso.com")
	e.command("personal", simtenant.HanaID, "/tap nina@contoso.com")
	confirm := decode(t, e.cloud.Calls()[len(e.cloud.Calls())-1]).card()
	var c struct {
		Actions []struct {
			Data map[string]any `json:"data"`
		} `json:"actions"`
	}
	_ = json.Unmarshal([]byte(confirm), &c)
	replaced := e.invoke(simtenant.HanaID, "tap.replace", c.Actions[0].Data)
	e.command("personal", simtenant.HanaID, "/revoke max@contoso.com")
	e.command("personal", simtenant.HanaID, "/tap gwen@contoso.com")
	// Revocations refused: a card matching no delivery, a protected account.
	forgedRevoke := e.invoke(simtenant.HanaID, "tap.revoke", map[string]any{"userId": simtenant.NinaID, "methodId": "forged"})
	e.command("channel", simtenant.HanaID, "revoke gwen@contoso.com")
	e.clock.advance(3 * time.Hour)
	if _, err := e.flow.RedactExpired(context.Background()); err != nil {
		t.Fatal(err)
	}
	var values []string
	for _, c := range e.cloud.Calls() {
		if v := tapValue(decode(t, c).card()); v != "" && !contains(values, v) {
			values = append(values, v)
		}
	}
	if len(values) != 3 {
		t.Fatalf("%d TAP values seen, want 3 issued", len(values))
	}
	for place, text := range e.everythingOutsideTheOneToOne(mustJSON(replaced), mustJSON(forgedRevoke)) {
		for _, v := range values {
			if strings.Contains(text, v) {
				t.Fatalf("TAP value found in %s, want it in the requester's 1:1 chat only", place)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestUsedOrRemovedPassIsRedacted(t *testing.T) {
	e := newEnv(t)
	once := e.command("personal", simtenant.HanaID, "/tap nina@contoso.com once")[0]
	multi := e.command("personal", simtenant.HanaID, "/tap max@contoso.com")[0]
	if n, err := e.flow.RedactSpent(context.Background()); err != nil || n != 0 {
		t.Fatalf("RedactSpent with every pass live = %d, %v; want 0, nil", n, err)
	}
	if err := e.tenant.UseTAP(simtenant.NinaID); err != nil {
		t.Fatal(err)
	}
	// Max's pass is replaced outside tapbot, e.g. in the Entra admin center.
	if _, err := e.tenant.CreateTAP(simtenant.MaxID, graph.TAPRequest{}); err != nil {
		t.Fatal(err)
	}
	before := len(e.cloud.Calls())
	if n, err := e.flow.RedactSpent(context.Background()); err != nil || n != 2 {
		t.Fatalf("RedactSpent = %d, %v; want 2, nil", n, err)
	}
	got := map[string]string{}
	for _, c := range e.cloud.Calls()[before:] {
		got[c.ActivityID] = string(c.Body)
	}
	if !strings.Contains(got[once.ResponseID], "it was used") || !strings.Contains(got[multi.ResponseID], "replaced by a new pass") {
		t.Fatalf("card updates by activity %v, want Nina's saying it was used and Max's saying replaced by a new pass", got)
	}
}

// Issue #9 item 1: every way of holding a role that the directoryRole cast cannot show
// blocks a pass, through the real endpoint, and leaves no pass in the tenant.
func TestTAPRefusedForRolesOnlyRoleManagementShows(t *testing.T) {
	for _, tc := range []struct{ upn, id, code, says string }{
		{simtenant.GaryUPN, simtenant.GaryID, "eligible_role", "through the group Global admins (PIM)"},
		{simtenant.CaraUPN, simtenant.CaraID, "privileged_role", "custom directory role " + simtenant.RoleCustomTier1Name},
		{simtenant.AudreyUPN, simtenant.AudreyID, "privileged_role", "scoped to an administrative unit"},
		{simtenant.PiaUPN, simtenant.PiaID, "eligible_role", "PIM for Groups"},
		{simtenant.OscarUPN, simtenant.OscarID, "privileged_role", "through the group Paris desk"},
	} {
		t.Run(tc.upn, func(t *testing.T) {
			e := newEnv(t)
			calls := e.command("personal", simtenant.HanaID, "/tap "+tc.upn)
			if reply := decode(t, calls[len(calls)-1]); !strings.Contains(reply.Text, tc.says) {
				t.Errorf("reply %q, want it to say %q", reply.Text, tc.says)
			}
			if row := e.lastAudit("tap.create"); row.Outcome != "refused" || row.Reason != tc.code {
				t.Errorf("audit %+v, want refused %s", row, tc.code)
			}
			if taps := e.tenant.TAPsOf(tc.id); len(taps) != 0 {
				t.Errorf("passes %+v, want none", taps)
			}
		})
	}
}

// A role query that fails refuses the pass with a plain explanation (fail closed).
func TestTAPRefusedWhenARoleQueryFails(t *testing.T) {
	for _, path := range []string{"/roleManagement/directory/roleAssignments", "/roleManagement/directory/roleEligibilityScheduleInstances",
		"/identityGovernance/privilegedAccess/group/eligibilityScheduleInstances", "/users/*/transitiveMemberOf"} {
		t.Run(path, func(t *testing.T) {
			e := newEnv(t)
			e.graph.FailPath(path, http.StatusServiceUnavailable)
			calls := e.command("personal", simtenant.HanaID, "/tap nina@contoso.com")
			if reply := decode(t, calls[len(calls)-1]); !strings.Contains(reply.Text, "couldn't find out which directory roles") || !strings.Contains(reply.Text, "unavailable") {
				t.Errorf("reply %q, want it to say tapbot couldn't find out which directory roles, Graph being unavailable", reply.Text)
			}
			if row := e.lastAudit("tap.create"); row.Outcome != "refused" || row.Reason != "roles_unknown" {
				t.Errorf("tap.create audit %+v, want refused roles_unknown", row)
			}
			if taps := e.tenant.TAPsOf(simtenant.NinaID); len(taps) != 0 {
				t.Errorf("passes %+v, want none", taps)
			}
		})
	}
}

// Without Entra ID P2 the PIM APIs answer AadPremiumLicenseRequired: that is "no
// eligibility", so an ordinary user still gets a pass.
func TestTAPWithoutPIMLicence(t *testing.T) {
	e := newEnv(t)
	e.tenant.SetPIMLicensed(false)
	if v := tapValue(decode(t, e.command("personal", simtenant.HanaID, "/tap nina@contoso.com")[0]).card()); v == "" {
		t.Fatal("no pass without P2")
	}
	e.command("personal", simtenant.HanaID, "/tap gwen@contoso.com")
	if row := e.lastAudit("tap.create"); row.Outcome != "refused" || row.Reason != "privileged_role" {
		t.Errorf("active Global Administrator without P2: audit %+v, want refused privileged_role", row)
	}
}

// revokeButtonData returns the Revoke button's data of a TAP card.
func revokeButtonData(t *testing.T, card string) map[string]any {
	t.Helper()
	var c struct {
		Actions []struct {
			Verb string         `json:"verb"`
			Data map[string]any `json:"data"`
		} `json:"actions"`
	}
	if err := json.Unmarshal([]byte(card), &c); err != nil || len(c.Actions) != 1 || c.Actions[0].Verb != "tap.revoke" {
		t.Fatalf("TAP card %s (err %v), want one action, tap.revoke", card, err)
	}
	return c.Actions[0].Data
}

// The Revoke button's data comes back from the client: the user it names is taken
// from the stored delivery and Graph, never from the card, and a card that points at
// no pass tapbot delivered revokes nothing.
func TestRevokeCardIdentityComesFromTheStore(t *testing.T) {
	e := newEnv(t)
	data := revokeButtonData(t, decode(t, e.command("personal", simtenant.HanaID, "/tap nina@contoso.com")[0]).card())
	gwenTAP, err := e.tenant.CreateTAP(simtenant.GwenID, graph.TAPRequest{})
	if err != nil {
		t.Fatal(err)
	}

	// A pass tapbot never delivered (an administrator's, made in the admin center).
	forged := map[string]any{"userId": simtenant.GwenID, "methodId": gwenTAP.ID, "upn": "nina@contoso.com"}
	if resp := mustJSON(e.invoke(simtenant.HanaID, "tap.revoke", forged)); !strings.Contains(resp, "matches no pass") {
		t.Fatalf("forged revoke answered %s, want matches no pass", resp)
	}
	if len(e.tenant.TAPsOf(simtenant.GwenID)) != 1 {
		t.Fatal("a forged card deleted a pass tapbot never delivered")
	}
	if row := e.lastAudit("tap.revoke"); row.Outcome != "refused" || row.Reason != "no_open_delivery" || row.TargetUPN == "nina@contoso.com" {
		t.Fatalf("forged revoke audit %+v, want refused no_open_delivery, not naming nina", row)
	}
	// The right ids with a forged name: the name is not believed.
	data["upn"] = "gwen@contoso.com"
	if resp := mustJSON(e.invoke(simtenant.HanaID, "tap.revoke", data)); !strings.Contains(resp, "nina@contoso.com") || strings.Contains(resp, "gwen") {
		t.Fatalf("revoke answered %s, want it to name nina@contoso.com, not gwen", resp)
	}
	if row := e.lastAudit("tap.revoke"); row.Outcome != "allowed" || row.TargetUPN != "nina@contoso.com" || row.TargetID != simtenant.NinaID {
		t.Fatalf("revoke audit %+v, want allowed for nina@contoso.com (%s)", row, simtenant.NinaID)
	}
	if card := decode(t, e.command("personal", simtenant.AlexID, "/audit nina@contoso.com")[0]).card(); !strings.Contains(card, `"revoked"`) {
		t.Fatalf("/audit nina card: %s\nwant the revoke in it", card)
	}
}

// /revoke and the Revoke button protect the same accounts /tap does: a helpdesk
// member can't delete an administrator's or a protected account's pass.
func TestRevokeRefusesProtectedTargets(t *testing.T) {
	tests := []struct {
		name, user, id, code string
	}{
		{"global administrator", "gwen@contoso.com", simtenant.GwenID, "privileged_role"},
		{"admin through a group", "ines@contoso.com", simtenant.InesID, "privileged_role"},
		{"PIM-eligible admin", "paul@contoso.com", simtenant.PaulID, "eligible_role"},
		{"protected group", "erin@contoso.com", simtenant.ErinID, "protected_group"},
		{"out of scope", "colin@contoso.com", simtenant.ColinID, "out_of_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			// Colin is outside the tenant's TAP policy too; let an admin have given him a pass.
			p := e.tenant.TAPPolicy()
			p.IncludeTargets = []string{graph.AllUsers}
			e.tenant.SetTAPPolicy(p)
			if _, err := e.tenant.CreateTAP(tt.id, graph.TAPRequest{}); err != nil {
				t.Fatal(err)
			}
			reply := decode(t, e.command("personal", simtenant.HanaID, "/revoke "+tt.user)[0])
			if !strings.Contains(reply.Text, "doesn't revoke") || len(e.tenant.TAPsOf(tt.id)) != 1 {
				t.Fatalf("revoke of %s: reply %q, %d passes left; want doesn't revoke and 1 left", tt.user, reply.Text, len(e.tenant.TAPsOf(tt.id)))
			}
			if row := e.lastAudit("tap.revoke"); row.Outcome != "refused" || row.Reason != tt.code || row.TargetID != tt.id {
				t.Fatalf("audit %+v, want refused/%s", row, tt.code)
			}
		})
	}

	// The button too: Nina became an administrator after her pass was issued.
	e := newEnv(t)
	data := revokeButtonData(t, decode(t, e.command("personal", simtenant.HanaID, "/tap nina@contoso.com")[0]).card())
	e.tenant.AssignRole(simtenant.NinaID, "62e90394-69f5-4237-9190-012177145e10", "Global Administrator")
	if resp := mustJSON(e.invoke(simtenant.HanaID, "tap.revoke", data)); !strings.Contains(resp, "doesn't revoke") {
		t.Fatalf("revoke button answered %s, want doesn't revoke", resp)
	}
	if len(e.tenant.TAPsOf(simtenant.NinaID)) != 1 {
		t.Fatal("the Revoke button deleted an administrator's pass")
	}
	if row := e.lastAudit("tap.revoke"); row.Reason != "privileged_role" {
		t.Fatalf("tap.revoke audit %+v, want reason privileged_role", row)
	}
}

// brokenConnector answers every call 403, as the Connector does for a chat the bot
// was removed from, and counts the calls.
func brokenConnector(t *testing.T) (*httptest.Server, *atomic.Int64) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":{"code":"BotNotInConversationRoster","message":"gone"}}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// saveStuckDeliveries records n deliveries whose cards can never be updated, all
// expiring (and so due) before anything issued later.
func (e *env) saveStuckDeliveries(n int, serviceURL string, expires time.Time, targetID, methodID string) {
	e.t.Helper()
	for i := range n {
		d := store.Delivery{ID: fmt.Sprintf("stuck-%02d", i), TargetID: targetID, TargetUPN: "max@contoso.com",
			MethodID: methodID, RequesterID: simtenant.HanaID, ServiceURL: serviceURL,
			ConversationID: "a:gone", ActivityID: fmt.Sprintf("gone-%d", i), Expires: expires}
		if err := e.store.SaveDelivery(context.Background(), d); err != nil {
			e.t.Fatal(err)
		}
	}
}

// Fifty cards that can never be updated must not keep a fifty-first from being
// redacted; each backs off, and is given up (logged and audited) after a bounded
// number of tries.
func TestExpiryRedactionBacksOffAndGivesUp(t *testing.T) {
	e := newEnv(t)
	broken, brokenCalls := brokenConnector(t)
	e.saveStuckDeliveries(50, broken.URL, e.clock.now().Add(-time.Hour), simtenant.MaxID, "old-method")
	card := e.command("personal", simtenant.HanaID, "/tap nina@contoso.com 30m")[0]
	e.clock.advance(31 * time.Minute)

	redacted := func() bool {
		open, err := e.store.OpenDeliveries(context.Background(), simtenant.NinaID)
		return err == nil && len(open) == 0
	}
	for run := 0; run < 3 && !redacted(); run++ {
		if _, err := e.flow.RedactExpired(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if !redacted() {
		t.Fatal("Nina's expired pass is still on its card: the stuck deliveries starve the queue")
	}
	var updated bool
	for _, c := range e.cloud.Calls() {
		updated = updated || (c.Method == http.MethodPut && c.ActivityID == card.ResponseID)
	}
	if !updated {
		t.Fatal("Nina's card was not updated")
	}

	// The stuck ones are retried with growing pauses, then given up.
	perRow := func() int64 { return brokenCalls.Load() / 50 }
	for i := 0; i < 30; i++ {
		e.clock.advance(2 * time.Hour)
		if _, err := e.flow.RedactExpired(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if due, _ := e.store.DueDeliveries(context.Background(), e.clock.now().Add(24*time.Hour), 100); len(due) != 0 {
		t.Fatalf("%d stuck deliveries still queued after 30 runs, want 0", len(due))
	}
	if perRow() > 8 {
		t.Fatalf("each stuck card was tried %d times; want at most 8", perRow())
	}
	rows, err := e.store.Audit(context.Background(), store.AuditFilter{Action: "tap.redact", Outcome: "failed", Limit: 100})
	if err != nil || len(rows) != 50 || !strings.HasPrefix(rows[0].Reason, "gave_up after 8 attempts (expired)") {
		t.Fatalf("%d failed tap.redact audit rows (err %v), first %+v; want 50, gave_up after 8 attempts", len(rows), err, rows[:min(1, len(rows))])
	}
	if !strings.Contains(e.logs.String(), "gave up removing a pass from its card") {
		t.Fatal("giving up was not logged")
	}
}

// The used-pass check goes round all open deliveries: the ones that expire first
// don't take every run's batch.
func TestUsedPassCheckRotates(t *testing.T) {
	e := newEnv(t)
	e.command("personal", simtenant.HanaID, "/tap max@contoso.com 8h")
	live := e.tenant.TAPsOf(simtenant.MaxID)[0]
	// Twenty-five cards of Max's live pass that expire before Nina's: each check
	// finds the pass still usable.
	e.saveStuckDeliveries(25, e.cloud.ServiceURL(), e.clock.now().Add(time.Hour), simtenant.MaxID, live.ID)
	e.command("personal", simtenant.HanaID, "/tap nina@contoso.com 8h once")
	if err := e.tenant.UseTAP(simtenant.NinaID); err != nil {
		t.Fatal(err)
	}
	open := func() int {
		ds, _ := e.store.OpenDeliveries(context.Background(), simtenant.NinaID)
		return len(ds)
	}
	for run := 0; run < 2 && open() > 0; run++ {
		if _, err := e.flow.RedactSpent(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if open() != 0 {
		t.Fatal("Nina's used pass was never checked: the check keeps taking the same deliveries")
	}
}

// A pass that starts later: the time is read in the organisation's zone (no
// localTimezone on the activity), Graph gets it as startDateTime, the card names it,
// and the card is redacted when start + lifetime has passed, not lifetime from now.
func TestFutureStartPass(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	e := newEnv(t, func(c *tap.Config) { c.Location = berlin })
	day := e.clock.now().In(berlin).AddDate(0, 0, 2)
	start := time.Date(day.Year(), day.Month(), day.Day(), 8, 0, 0, 0, berlin)
	when := start.Format("2006-01-02 15:04")
	calls := e.command("personal", simtenant.HanaID, "/tap nina@contoso.com 8h from "+when+" ticket 12")
	if len(calls) != 1 {
		t.Fatalf("calls %+v, want one", calls)
	}
	card := decode(t, calls[0]).card()
	taps := e.tenant.TAPsOf(simtenant.NinaID)
	if len(taps) != 1 || !taps[0].Start.Equal(start) || taps[0].Lifetime != 8*time.Hour {
		t.Fatalf("tenant has %+v, want start %v", taps, start)
	}
	if !strings.Contains(card, "Not valid before "+when+" Europe/Berlin") || tapValue(card) != taps[0].Value.Reveal() {
		t.Fatalf("card %s\nwant the pass, Not valid before %s Europe/Berlin", card, when)
	}
	e.clock.advance(9 * time.Hour)
	if n, err := e.flow.RedactExpired(context.Background()); err != nil || n != 0 {
		t.Fatalf("RedactExpired before start + lifetime = %d, %v; want 0, nil", n, err)
	}
	e.clock.advance(start.Add(8*time.Hour+time.Minute).Sub(e.clock.now()) + 9*time.Hour)
	if n, err := e.flow.RedactExpired(context.Background()); err != nil || n != 1 {
		t.Fatalf("RedactExpired after start + lifetime = %d, %v; want 1, nil", n, err)
	}
	// A start in the past, or too far ahead, is a typo answered at once.
	for _, bad := range []string{"2020-01-01 08:00", e.clock.now().AddDate(0, 2, 0).Format("2006-01-02") + " 08:00"} {
		out := e.command("personal", simtenant.HanaID, "/tap nina@contoso.com 8h from "+bad)
		if len(out) != 1 || tapValue(decode(t, out[0]).card()) != "" || decode(t, out[0]).Text == "" {
			t.Fatalf("start %s: calls %+v, want one text reply and no pass", bad, out)
		}
	}
}

// Scheduled start-day passes all have tapbot as requester of record: the per-person
// hourly limit must not turn a busy Monday (more joiners than TAPBOT_TAP_MAX_PER_HOUR)
// into refusals, but each still claims its target, so a pass being issued for the same
// user at the same moment stops it.
func TestScheduledPassesAreNotRateLimitedButClaimTheTarget(t *testing.T) {
	e := newEnv(t, func(c *tap.Config) { c.MaxPerHour = 1 })
	ctx := context.Background()
	to := store.Reference{ConversationID: "a:1contoso-max-tapbot-personal", Scope: store.ScopePersonal,
		TenantID: simtenant.ContosoTenantID, UserAADObjectID: simtenant.MaxID, ServiceURL: e.cloud.ServiceURL(), BotID: botAccount}
	scheduled := func(id, upn string) error {
		_, err := e.flow.IssueScheduled(ctx, bot.ScheduledPass{RequestID: "sched:" + id, UserID: id,
			UPN: upn, To: to, Reason: "start-day pass"})
		return err
	}
	for _, u := range []struct{ id, upn string }{{simtenant.NinaID, "nina@contoso.com"}, {simtenant.MaxID, "max@contoso.com"}, {simtenant.AlexID, "alex@contoso.com"}} {
		if err := scheduled(u.id, u.upn); err != nil {
			t.Fatalf("scheduled pass for %s beyond the hourly limit: %v, want it issued", u.upn, err)
		}
		if len(e.tenant.TAPsOf(u.id)) != 1 {
			t.Fatalf("%d passes for %s in the tenant, want 1", len(e.tenant.TAPsOf(u.id)), u.upn)
		}
	}
	// People stay limited (TestRateLimit); the claim on the target holds for tapbot too.
	now := e.clock.now()
	if err := e.store.BeginTAP(ctx, store.TAPIntent{ID: "other", TargetID: simtenant.HanaID, TargetUPN: "hana@contoso.com",
		RequesterID: simtenant.AlexID, StartedAt: now, LeaseUntil: now.Add(time.Hour)}, store.TAPLimits{}); err != nil {
		t.Fatal(err)
	}
	err := scheduled(simtenant.HanaID, "hana@contoso.com")
	if !errors.Is(err, bot.ErrPassNotIssued) || !strings.Contains(err.Error(), "being issued right now") || len(e.tenant.TAPsOf(simtenant.HanaID)) != 0 {
		t.Fatalf("scheduled pass while another is being issued: err %v, want ErrPassNotIssued (being issued right now) and no pass", err)
	}
}
