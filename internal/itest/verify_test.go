package itest

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tapbot/tapbot/bot/tap"
	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/graph/simtenant"
	"github.com/tapbot/tapbot/internal/bftest"
	"github.com/tapbot/tapbot/internal/store"
	"github.com/tapbot/tapbot/internal/store/sqlite"
	"go.uber.org/zap"
)

// Conversations of the second person: Max's 1:1 chat, the helpdesk
// channel and the security channel. None of them may ever see a pass.
const (
	maxConv      = "a:1contoso-max-tapbot-personal"
	securityConv = "19:contoso-security@thread.tacv2"
)

func withVerify(paths ...store.ConfirmPath) option {
	return func(c *tap.Config) {
		c.Verify, c.HelpdeskConversation, c.SecurityConversation = paths, helpdeskConv, securityConv
	}
}

// verifyEnv is an environment where Hana's 1:1 chat is known (she says hello) and
// so are Max's and the two channels.
func verifyEnv(t *testing.T, paths ...store.ConfirmPath) *env {
	e := newEnv(t, withVerify(paths...))
	e.command("personal", simtenant.HanaID, "hello")
	e.saveRef(maxConv, store.ScopePersonal, simtenant.MaxID)
	e.saveRef(helpdeskConv, store.ScopeChannel, "")
	e.saveRef(securityConv, store.ScopeChannel, "")
	return e
}

func (e *env) saveRef(conv string, scope store.Scope, user string) {
	e.t.Helper()
	if err := e.store.SaveReference(context.Background(), store.Reference{ConversationID: conv, Scope: scope,
		TenantID: simtenant.ContosoTenantID, UserAADObjectID: user, ServiceURL: e.cloud.ServiceURL(), BotID: botAccount}); err != nil {
		e.t.Fatal(err)
	}
}

// invokeIn clicks a card button in conversation conv.
func (e *env) invokeIn(conv, from, verb string, data any) string {
	e.t.Helper()
	a := e.activity("invoke", "personal", from, "")
	a["conversation"].(map[string]any)["id"] = conv
	a["name"] = "adaptiveCard/action"
	a["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": verb, "data": data}}
	status, body := e.post(a)
	if status != http.StatusOK {
		e.t.Fatalf("invoke %s: status %d, want 200", verb, status)
	}
	e.drain()
	return mustJSON(body)
}

// question returns the data of the last confirmation question sent to conv.
func (e *env) question(conv string) map[string]any {
	e.t.Helper()
	calls := e.callsTo(conv)
	for i := len(calls) - 1; i >= 0; i-- {
		var c struct {
			Actions []struct {
				Verb string         `json:"verb"`
				Data map[string]any `json:"data"`
			} `json:"actions"`
		}
		if json.Unmarshal([]byte(decode(e.t, calls[i]).card()), &c) == nil && len(c.Actions) > 0 && c.Actions[0].Verb == "tap.confirm" {
			return c.Actions[0].Data
		}
	}
	e.t.Fatalf("no confirmation question (tap.confirm) in %s, want one", conv)
	return nil
}

func (e *env) callsTo(conv string) []bftest.ConnectorCall {
	var out []bftest.ConnectorCall
	for _, c := range e.cloud.Calls() {
		if c.ConversationID == conv {
			out = append(out, c)
		}
	}
	return out
}

// passesIn lists the TAP values delivered to conv.
func (e *env) passesIn(conv string) []string {
	var out []string
	for _, c := range e.callsTo(conv) {
		if v := tapValue(decode(e.t, c).card()); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (e *env) textsIn(conv string) string {
	var b strings.Builder
	for _, c := range e.callsTo(conv) {
		s := decode(e.t, c)
		b.WriteString(s.Text + s.card() + "\n")
	}
	return b.String()
}

func (e *env) auditRows(action store.Action) []store.AuditEntry {
	e.t.Helper()
	rows, err := e.store.Audit(context.Background(), store.AuditFilter{Action: action})
	if err != nil {
		e.t.Fatal(err)
	}
	return rows
}

// noLeak checks that no pass appears anywhere but Hana's 1:1 chat.
func (e *env) noLeak(extra ...string) {
	e.t.Helper()
	values := e.passesIn(personalConv)
	for place, text := range e.everythingOutsideTheOneToOne(extra...) {
		for _, v := range values {
			if strings.Contains(text, v) {
				e.t.Fatalf("TAP value found in %s, want it in Hana's 1:1 chat only", place)
			}
		}
	}
}

func TestVerifyNewHireBypass(t *testing.T) {
	e := verifyEnv(t, store.PathTarget, store.PathManager, store.PathHelpdesk)
	e.command("personal", simtenant.HanaID, "/tap nina@contoso.com")
	if got := e.passesIn(personalConv); len(got) != 1 {
		t.Fatalf("Nina is a new hire: %d passes delivered, want 1 at once", len(got))
	}
	if rows := e.auditRows(store.ActionTAPConfirmAsk); len(rows) != 0 {
		t.Errorf("tap.confirm.ask rows %+v, want none (nobody asked)", rows)
	}
}

func TestVerifyOffIssuesAtOnce(t *testing.T) {
	e := newEnv(t) // Verify empty: TAPBOT_TAP_VERIFY=off
	e.command("personal", simtenant.HanaID, "/tap max@contoso.com")
	if got := e.passesIn(personalConv); len(got) != 1 {
		t.Fatalf("verification off: %d passes delivered, want 1 at once", len(got))
	}
}

func TestVerifyTargetConfirms(t *testing.T) {
	e := verifyEnv(t, store.PathTarget, store.PathManager, store.PathHelpdesk)
	e.command("personal", simtenant.HanaID, "/tap max@contoso.com 1h ticket 42")
	if got := e.passesIn(personalConv); len(got) != 0 {
		t.Fatal("Max is established: no pass before confirmation")
	}
	if !strings.Contains(e.textsIn(personalConv), "Waiting for confirmation by Max Manager (the account holder)") {
		t.Errorf("Hana's chat:\n%s\nwant it to say tapbot waits for Max Manager (the account holder)", e.textsIn(personalConv))
	}
	q := e.question(maxConv)
	e.clock.advance(2 * time.Minute)
	answered := e.invokeIn(maxConv, simtenant.MaxID, "tap.confirm", q)
	if got := e.passesIn(personalConv); len(got) != 1 {
		t.Fatalf("after Max confirmed: %d passes in Hana's chat, want 1", len(got))
	}
	if got := e.passesIn(maxConv); len(got) != 0 {
		t.Fatal("the pass went to the confirmer")
	}
	rows := e.auditRows(store.ActionTAPConfirm)
	if len(rows) != 1 || rows[0].Outcome != store.OutcomeAllowed || rows[0].RequesterID != simtenant.MaxID || rows[0].Reason != "target 2m0s" {
		t.Errorf("tap.confirm rows %+v: want Max, path target, 2m0s", rows)
	}
	if created := e.auditRows(store.ActionTAPCreate); len(created) != 1 || created[0].RequesterID != simtenant.HanaID || created[0].Outcome != store.OutcomeAllowed {
		t.Errorf("tap.create rows %+v: want one allowed for Hana", created)
	}
	card := decode(t, e.command("personal", simtenant.AlexID, "/audit max@contoso.com")[0]).card()
	if !strings.Contains(card, "Max Manager") || !strings.Contains(card, `"tap.confirm"`) || !strings.Contains(card, "target 2m0s") ||
		!strings.Contains(card, `"tap.confirm.ask"`) {
		t.Errorf("/audit card: %s\nwant who confirmed (Max Manager), how and how long (target 2m0s), and the tap.confirm.ask row", card)
	}
	e.noLeak(answered)
}

func TestVerifyManagerConfirms(t *testing.T) {
	e := verifyEnv(t, store.PathTarget, store.PathManager, store.PathHelpdesk)
	e.tenant.AddMethod(simtenant.NinaID, graph.Method{Type: "phone", DisplayName: "mobile"}) // now established
	e.command("personal", simtenant.HanaID, "/tap nina@contoso.com")
	// Nina has no 1:1 chat tapbot knows: her manager Max is asked.
	if !strings.Contains(e.textsIn(personalConv), "Max Manager (the manager)") {
		t.Fatalf("Hana's chat:\n%s\nwant Max Manager asked as the manager", e.textsIn(personalConv))
	}
	answered := e.invokeIn(maxConv, simtenant.MaxID, "tap.confirm", e.question(maxConv))
	if got := e.passesIn(personalConv); len(got) != 1 || len(e.tenant.TAPsOf(simtenant.NinaID)) != 1 {
		t.Fatalf("after the manager confirmed: %d passes delivered, %d in Graph; want 1 and 1", len(got), len(e.tenant.TAPsOf(simtenant.NinaID)))
	}
	e.noLeak(answered)
}

func TestVerifyHelpdeskColleagueConfirms(t *testing.T) {
	e := verifyEnv(t, store.PathHelpdesk)
	e.tenant.AddMember(simtenant.GroupHelpdesk, simtenant.AlexID)
	e.command("personal", simtenant.HanaID, "/tap max@contoso.com")
	q := e.question(helpdeskConv)
	// The requester herself, and Max (no helpdesk member), may not confirm.
	self := e.invokeIn(helpdeskConv, simtenant.HanaID, "tap.confirm", q)
	stranger := e.invokeIn(helpdeskConv, simtenant.MaxID, "tap.confirm", q)
	if !strings.Contains(self, "can't confirm it") || !strings.Contains(stranger, "Only another member of the helpdesk") {
		t.Errorf("self: %s\nstranger: %s\nwant both refused (can't confirm it; Only another member of the helpdesk)", self, stranger)
	}
	if got := e.passesIn(personalConv); len(got) != 0 {
		t.Fatal("a refused confirmation issued a pass")
	}
	answered := e.invokeIn(helpdeskConv, simtenant.AlexID, "tap.confirm", q)
	if got := e.passesIn(personalConv); len(got) != 1 {
		t.Fatalf("after Alex confirmed: %d passes, want 1", len(got))
	}
	refused := 0
	for _, r := range e.auditRows(store.ActionTAPConfirm) {
		if r.Outcome == store.OutcomeRefused {
			refused++
		}
	}
	if refused != 2 {
		t.Errorf("%d refused tap.confirm rows, want 2 (the two refused clicks)", refused)
	}
	e.noLeak(self, stranger, answered)
}

func TestVerifyNotConfirmerRefused(t *testing.T) {
	e := verifyEnv(t, store.PathTarget)
	e.command("personal", simtenant.HanaID, "/tap max@contoso.com")
	q := e.question(maxConv)
	for _, who := range []string{simtenant.HanaID, simtenant.AlexID} {
		if got := e.invokeIn(maxConv, who, "tap.confirm", q); !strings.Contains(got, "can't") && !strings.Contains(got, "someone else") {
			t.Errorf("%s confirming: %s, want a refusal (can't, or someone else)", who, got)
		}
		if got := e.invokeIn(maxConv, who, "tap.deny", q); !strings.Contains(got, "can't") && !strings.Contains(got, "someone else") {
			t.Errorf("%s denying: %s, want a refusal (can't, or someone else)", who, got)
		}
	}
	if got := e.passesIn(personalConv); len(got) != 0 || len(e.auditRows(store.ActionTAPDeny)) != 0 {
		t.Fatal("a click by someone not asked acted")
	}
	e.invokeIn(maxConv, simtenant.MaxID, "tap.confirm", q) // still answerable by Max
	if got := e.passesIn(personalConv); len(got) != 1 {
		t.Fatalf("%d passes after Max confirmed, want 1", len(got))
	}
}

func TestVerifyDoubleClickOnePass(t *testing.T) {
	e := verifyEnv(t, store.PathTarget)
	e.command("personal", simtenant.HanaID, "/tap max@contoso.com")
	q := e.question(maxConv)
	first := e.invokeIn(maxConv, simtenant.MaxID, "tap.confirm", q)
	second := e.invokeIn(maxConv, simtenant.MaxID, "tap.confirm", q)
	deny := e.invokeIn(maxConv, simtenant.MaxID, "tap.deny", q)
	if !strings.Contains(second, "Already answered") || !strings.Contains(deny, "Already answered") {
		t.Errorf("second click: %s\ndeny after confirm: %s\nwant both Already answered", second, deny)
	}
	if got := e.passesIn(personalConv); len(got) != 1 || len(e.tenant.TAPsOf(simtenant.MaxID)) != 1 {
		t.Fatalf("%d passes delivered, %d in Graph; want 1 and 1", len(got), len(e.tenant.TAPsOf(simtenant.MaxID)))
	}
	e.noLeak(first, second, deny)
}

func TestVerifyDenyAlertsSecurity(t *testing.T) {
	for _, tc := range []struct {
		name   string
		paths  []store.ConfirmPath
		target string
		setup  func(e *env)
	}{
		{"this wasn't me", []store.ConfirmPath{store.PathTarget}, "max@contoso.com", func(*env) {}},
		{"manager denies", []store.ConfirmPath{store.PathManager}, "nina@contoso.com", func(e *env) {
			e.tenant.AddMethod(simtenant.NinaID, graph.Method{Type: "fido2", DisplayName: "key"})
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := verifyEnv(t, tc.paths...)
			tc.setup(e)
			e.command("personal", simtenant.HanaID, "/tap "+tc.target+" ticket 99")
			answered := e.invokeIn(maxConv, simtenant.MaxID, "tap.deny", e.question(maxConv))
			if got := e.passesIn(personalConv); len(got) != 0 {
				t.Fatal("a denied request issued a pass")
			}
			alert := e.textsIn(securityConv)
			for _, want := range []string{"Suspected social engineering", tc.target, simtenant.HanaID, "ticket 99"} {
				if !strings.Contains(alert, want) {
					t.Errorf("security alert:\n%s\nwant it to contain %q", alert, want)
				}
			}
			if rows := e.auditRows(store.ActionTAPDeny); len(rows) != 1 || rows[0].Outcome != store.OutcomeRefused || !strings.HasPrefix(rows[0].Reason, "suspected_social_engineering") {
				t.Errorf("tap.deny rows %+v, want one refused, reason suspected_social_engineering…", rows)
			}
			if !strings.Contains(e.textsIn(personalConv), "said no") {
				t.Errorf("Hana's chat:\n%s\nwant her told the confirmer said no", e.textsIn(personalConv))
			}
			// A second attempt the same day is called out.
			e.command("personal", simtenant.HanaID, "/tap "+tc.target+" ticket 100")
			again := e.invokeIn(maxConv, simtenant.MaxID, "tap.deny", e.question(maxConv))
			if !strings.Contains(e.textsIn(securityConv), "Repeated attempts: 2 requests") {
				t.Errorf("security channel:\n%s\nwant the repeated attempts called out (Repeated attempts: 2 requests)", e.textsIn(securityConv))
			}
			e.noLeak(answered, again)
		})
	}
}

func TestVerifyTimeout(t *testing.T) {
	e := verifyEnv(t, store.PathTarget)
	e.command("personal", simtenant.HanaID, "/tap max@contoso.com")
	q := e.question(maxConv)
	e.clock.advance(16 * time.Minute)
	if n, err := e.flow.ExpireConfirmations(context.Background()); err != nil || n != 1 {
		t.Fatalf("ExpireConfirmations = %d, %v; want 1", n, err)
	}
	if !strings.Contains(e.textsIn(personalConv), "Nobody confirmed the pass for max@contoso.com in time") {
		t.Errorf("Hana's chat:\n%s\nwant her told nobody confirmed the pass for max@contoso.com in time", e.textsIn(personalConv))
	}
	late := e.invokeIn(maxConv, simtenant.MaxID, "tap.confirm", q)
	if !strings.Contains(late, "Already answered") || len(e.passesIn(personalConv)) != 0 {
		t.Fatalf("late confirmation answered %s, want Already answered and no pass", late)
	}
	// The account is free for a new request.
	e.command("personal", simtenant.HanaID, "/tap max@contoso.com")
	e.invokeIn(maxConv, simtenant.MaxID, "tap.confirm", e.question(maxConv))
	if got := e.passesIn(personalConv); len(got) != 1 {
		t.Fatalf("%d passes after a new, confirmed request, want 1", len(got))
	}
}

func TestVerifyRequesterCancels(t *testing.T) {
	e := verifyEnv(t, store.PathTarget)
	e.command("personal", simtenant.HanaID, "/tap max@contoso.com")
	q := e.question(maxConv)
	if got := e.invokeIn(maxConv, simtenant.MaxID, "tap.confirm.cancel", q); !strings.Contains(got, "Only the person who asked") {
		t.Errorf("Max cancelling Hana's request: %s, want Only the person who asked", got)
	}
	if got := e.invokeIn(personalConv, simtenant.HanaID, "tap.confirm.cancel", q); !strings.Contains(got, "Cancelled") {
		t.Errorf("Hana cancelling: %s, want Cancelled", got)
	}
	if got := e.invokeIn(maxConv, simtenant.MaxID, "tap.confirm", q); !strings.Contains(got, "Already answered") || len(e.passesIn(personalConv)) != 0 {
		t.Fatalf("confirming a cancelled request: %s, want Already answered and no pass", got)
	}
}

// TestGraphRoundTripsWithVerify: verification costs the new-hire path nothing (its
// methods come in /tap's first $batch); the established path asks with the same two
// batches (one more, GET manager, on the manager path) and issues with three.
func TestGraphRoundTripsWithVerify(t *testing.T) {
	e := verifyEnv(t, store.PathTarget, store.PathManager)
	e.command("personal", simtenant.HanaID, "/tap gwen@contoso.com") // warms helpdesk and policy caches
	count := func(what string, max int, do func()) {
		t.Helper()
		e.graph.Reset()
		do()
		n := e.graph.RequestCount()
		t.Logf("%s: %d Graph round trips", what, n)
		if n > max {
			t.Errorf("%s made %d Graph round trips (want ≤ %d): %+v", what, n, max, e.graph.Requests())
		}
	}
	count("new hire /tap", 3, func() { e.command("personal", simtenant.HanaID, "/tap nina@contoso.com") })
	count("established /tap, target asked", 2, func() { e.command("personal", simtenant.HanaID, "/tap max@contoso.com") })
	count("target confirms", 3, func() { e.invokeIn(maxConv, simtenant.MaxID, "tap.confirm", e.question(maxConv)) })
	e.command("personal", simtenant.HanaID, "/revoke nina@contoso.com")
	e.tenant.AddMethod(simtenant.NinaID, graph.Method{Type: "phone", DisplayName: "mobile"})
	count("established /tap, manager asked", 3, func() { e.command("personal", simtenant.HanaID, "/tap nina@contoso.com") })
}

// TestVerifyLaterStartWaitsForConfirmation: a pass asked to start later waits for the
// second person like any other (it was refused before the record kept a start), the
// question says when it would be valid, and the pass is created with that start.
func TestVerifyLaterStartWaitsForConfirmation(t *testing.T) {
	e := verifyEnv(t, store.PathTarget)
	start := e.clock.now().UTC().Add(24 * time.Hour).Truncate(time.Hour)
	e.command("personal", simtenant.HanaID, "/tap max@contoso.com 8h from "+start.Format("2006-01-02 15:04"))
	if got := e.passesIn(personalConv); len(got) != 0 {
		t.Fatalf("%d passes before confirmation, want 0", len(got))
	}
	if asked := e.auditRows(store.ActionTAPConfirmAsk); len(asked) != 1 {
		t.Fatalf("tap.confirm.ask rows %+v, want 1 (the later start waits for Max)", asked)
	}
	if want := "The pass is valid from {{DATE(" + start.Format(time.RFC3339); !strings.Contains(e.textsIn(maxConv), want) {
		t.Errorf("Max's question:\n%s\nwant it to contain %q", e.textsIn(maxConv), want)
	}
	e.invokeIn(maxConv, simtenant.MaxID, "tap.confirm", e.question(maxConv))
	taps := e.tenant.TAPsOf(simtenant.MaxID)
	if len(taps) != 1 || !taps[0].Start.Equal(start) || taps[0].Lifetime != 8*time.Hour {
		t.Fatalf("passes in Graph after Max confirmed = %+v, want one of 8h from %v", taps, start)
	}
	if got := e.passesIn(personalConv); len(got) != 1 {
		t.Fatalf("%d passes delivered to Hana, want 1", len(got))
	}
	e.noLeak()
}

// TestVerifyAnsweredCardsAreUpdated: once a confirmation is decided, the card that
// was not clicked is updated too — the requester's waiting card loses its Cancel
// button when the confirmer answers, the question loses its buttons when the
// requester cancels, and both when nobody answers in time — so no card keeps
// buttons that no longer act. The clicked card is the click's own answer's.
func TestVerifyAnsweredCardsAreUpdated(t *testing.T) {
	updates := func(e *env, conv string) []string {
		var out []string
		for _, c := range e.callsTo(conv) {
			if c.Method == http.MethodPut {
				out = append(out, decode(e.t, c).card())
			}
		}
		return out
	}
	// settled checks that conv got exactly one update, saying want, without buttons.
	settled := func(t *testing.T, e *env, conv, want string) {
		t.Helper()
		got := updates(e, conv)
		if len(got) != 1 {
			t.Errorf("%d updates in %s, want 1", len(got), conv)
			return
		}
		if !strings.Contains(got[0], want) || strings.Contains(got[0], `"actions"`) {
			t.Errorf("updated card in %s = %s\nwant %q and no buttons", conv, got[0], want)
		}
	}
	t.Run("confirmed", func(t *testing.T) {
		e := verifyEnv(t, store.PathTarget)
		e.command("personal", simtenant.HanaID, "/tap max@contoso.com")
		e.invokeIn(maxConv, simtenant.MaxID, "tap.confirm", e.question(maxConv))
		settled(t, e, personalConv, "was confirmed") // the waiting card
		if got := updates(e, maxConv); len(got) != 0 {
			t.Errorf("%d updates in Max's chat, want 0: the click's answer replaced the question", len(got))
		}
		e.noLeak()
	})
	t.Run("confirmed in the helpdesk channel", func(t *testing.T) {
		// Teams sends a channel click with the thread in its conversation id and
		// the card's message as replyToId: the question is still the clicked card.
		e := verifyEnv(t, store.PathHelpdesk)
		e.tenant.AddMember(simtenant.GroupHelpdesk, simtenant.AlexID)
		e.command("personal", simtenant.HanaID, "/tap max@contoso.com")
		var questionID string
		for _, c := range e.callsTo(helpdeskConv) {
			questionID = c.ResponseID
		}
		a := e.activity("invoke", "channel", simtenant.AlexID, "")
		a["conversation"].(map[string]any)["id"] = helpdeskConv + ";messageid=" + questionID
		a["replyToId"] = questionID
		a["name"] = "adaptiveCard/action"
		a["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "tap.confirm", "data": e.question(helpdeskConv)}}
		if status, _ := e.post(a); status != http.StatusOK {
			t.Fatalf("confirm in the channel: status %d, want 200", status)
		}
		e.drain()
		if got := e.passesIn(personalConv); len(got) != 1 {
			t.Fatalf("%d passes after Alex confirmed, want 1", len(got))
		}
		settled(t, e, personalConv, "was confirmed")
		if got := updates(e, helpdeskConv); len(got) != 0 {
			t.Errorf("%d updates of the question in the channel, want 0: the click's answer replaced it", len(got))
		}
		e.noLeak()
	})
	t.Run("cancelled", func(t *testing.T) {
		e := verifyEnv(t, store.PathTarget)
		e.command("personal", simtenant.HanaID, "/tap max@contoso.com")
		e.invokeIn(personalConv, simtenant.HanaID, "tap.confirm.cancel", e.question(maxConv))
		settled(t, e, maxConv, "withdrew the request") // the question
	})
	t.Run("expired", func(t *testing.T) {
		e := verifyEnv(t, store.PathTarget)
		e.command("personal", simtenant.HanaID, "/tap max@contoso.com")
		e.clock.advance(16 * time.Minute)
		if n, err := e.flow.ExpireConfirmations(context.Background()); err != nil || n != 1 {
			t.Fatalf("ExpireConfirmations = %d, %v; want 1, nil", n, err)
		}
		settled(t, e, maxConv, "in time")
		settled(t, e, personalConv, "in time")
	})
}

// TestVerifyAlertNamesTheRequester: the security team reads who asked by name, as
// Teams sent it with the /tap, and by object id.
func TestVerifyAlertNamesTheRequester(t *testing.T) {
	e := verifyEnv(t, store.PathTarget)
	a := e.activity("message", "personal", simtenant.HanaID, "/tap max@contoso.com ticket 7")
	a["from"].(map[string]any)["name"] = "Hana Helpdesk"
	if status, _ := e.post(a); status != http.StatusOK {
		t.Fatalf("POST /tap: status %d, want 200", status)
	}
	e.drain()
	e.invokeIn(maxConv, simtenant.MaxID, "tap.deny", e.question(maxConv))
	if want := "Asked by Hana Helpdesk (object id " + simtenant.HanaID + ")"; !strings.Contains(e.textsIn(securityConv), want) {
		t.Errorf("security alert:\n%s\nwant it to contain %q", e.textsIn(securityConv), want)
	}
}

// TestVerifyConfirmedStartIsCheckedAgain: a confirmed request runs every check
// again, the start's limit included. A confirmation whose start lies beyond
// tap.MaxStartAhead when it is confirmed (a row /tap would never have written) is
// refused and audited, and no pass is created.
func TestVerifyConfirmedStartIsCheckedAgain(t *testing.T) {
	e := verifyEnv(t, store.PathTarget)
	now := e.clock.now().UTC()
	err := e.store.CreateConfirmation(context.Background(), store.TAPConfirmation{ID: "far-start", RequestID: "req-far-start",
		TenantID: simtenant.ContosoTenantID, RequesterID: simtenant.HanaID, TargetID: simtenant.MaxID, TargetUPN: simtenant.MaxUPN,
		Path: store.PathTarget, ConfirmerID: simtenant.MaxID, LifetimeMinutes: 60, State: store.ConfirmPending,
		CreatedAt: now, ExpiresAt: now.Add(15 * time.Minute), Start: now.Add(tap.MaxStartAhead + 24*time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	e.invokeIn(maxConv, simtenant.MaxID, "tap.confirm", map[string]any{"id": "far-start"})
	if taps := e.tenant.TAPsOf(simtenant.MaxID); len(taps) != 0 {
		t.Fatalf("passes in Graph after confirming a start beyond MaxStartAhead = %+v, want none", taps)
	}
	if created := e.auditRows(store.ActionTAPCreate); len(created) != 1 || created[0].Outcome != store.OutcomeRefused {
		t.Errorf("tap.create rows %+v, want one refused", created)
	}
	if got := e.textsIn(personalConv); !strings.Contains(got, "at most 30 days ahead") {
		t.Errorf("Hana's chat:\n%s\nwant her told a pass may start at most 30 days ahead", got)
	}
}

// TestVerifyCardUpdatesComeLast: updating the card that was not clicked is
// cosmetic, so it comes after what the decision must bring about — the pass in the
// requester's chat once confirmed, the security alert once denied. A throttled or
// hanging Connector retries an update for up to a minute and more, which must not
// hold either up within the background work's time.
func TestVerifyCardUpdatesComeLast(t *testing.T) {
	// index is the position among the Connector calls of the first that matches.
	index := func(e *env, match func(bftest.ConnectorCall) bool) int {
		for i, c := range e.cloud.Calls() {
			if match(c) {
				return i
			}
		}
		return -1
	}
	waitingUpdated := func(c bftest.ConnectorCall) bool {
		return c.Method == http.MethodPut && c.ConversationID == personalConv
	}
	t.Run("confirmed", func(t *testing.T) {
		e := verifyEnv(t, store.PathTarget)
		e.command("personal", simtenant.HanaID, "/tap max@contoso.com")
		e.invokeIn(maxConv, simtenant.MaxID, "tap.confirm", e.question(maxConv))
		pass := index(e, func(c bftest.ConnectorCall) bool {
			return c.ConversationID == personalConv && tapValue(decode(t, c).card()) != ""
		})
		if update := index(e, waitingUpdated); pass < 0 || update < pass {
			t.Errorf("Connector call %d delivers the pass and %d updates the waiting card, want the pass delivered first", pass, update)
		}
	})
	t.Run("denied", func(t *testing.T) {
		e := verifyEnv(t, store.PathTarget)
		e.command("personal", simtenant.HanaID, "/tap max@contoso.com")
		e.invokeIn(maxConv, simtenant.MaxID, "tap.deny", e.question(maxConv))
		alert := index(e, func(c bftest.ConnectorCall) bool { return c.ConversationID == securityConv })
		if update := index(e, waitingUpdated); alert < 0 || update < alert {
			t.Errorf("Connector call %d posts the security alert and %d updates the waiting card, want the alert posted first", alert, update)
		}
	})
}

// decideFails is a store whose compare-and-set of confirmations fails (a full disk).
type decideFails struct{ store.Store }

func (decideFails) DecideConfirmation(context.Context, string, store.ConfirmState, string, time.Time) (store.TAPConfirmation, error) {
	return store.TAPConfirmation{}, errors.New("disk I/O error")
}

// TestVerifyExpiryFailureNamesTheConfirmation: when expiring a question cannot be
// written, the log line says which one, so an operator can find it.
func TestVerifyExpiryFailureNamesTheConfirmation(t *testing.T) {
	sq, err := sqlite.Open(context.Background(), t.TempDir()+"/tapbot.db", zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvOn(t, decideFails{sq}, withVerify(store.PathTarget))
	e.command("personal", simtenant.HanaID, "hello")
	e.saveRef(maxConv, store.ScopePersonal, simtenant.MaxID)
	e.command("personal", simtenant.HanaID, "/tap max@contoso.com")
	id, _ := e.question(maxConv)["id"].(string)
	e.clock.advance(16 * time.Minute)
	if n, err := e.flow.ExpireConfirmations(context.Background()); err != nil || n != 0 {
		t.Fatalf("ExpireConfirmations = %d, %v; want 0 expired, nil", n, err)
	}
	if want := `"confirmation":"` + id + `"`; id == "" || !strings.Contains(e.logs.String(), want) {
		t.Errorf("logs:\n%s\nwant the failure to name the confirmation (%s)", e.logs.String(), want)
	}
}
