package itest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tapbot/tapbot/bot/checklist"
	"github.com/tapbot/tapbot/bot/connector"
	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/graph/msgraph"
	"github.com/tapbot/tapbot/graph/simtenant"
	"github.com/tapbot/tapbot/internal/bftest"
	"go.uber.org/zap"
)

const ninaConv = "a:1contoso-nina-tapbot-personal"

// newChecklistEnv is the TAP harness plus the checklist flow, with the helpdesk
// channel's thread as the place "I'm stuck" cards go.
func newChecklistEnv(t *testing.T) (*env, *checklist.Flow) {
	e := newEnv(t)
	gc := flowGraph(t, e)
	conn := connectorFor(t, e)
	f := checklist.New(checklist.Config{TenantID: simtenant.ContosoTenantID, HelpdeskGroups: []string{simtenant.GroupHelpdesk},
		HelpdeskConversation: channelConv, Now: e.clock.now}, gc, conn, e.store, zap.NewNop())
	f.Register(e.handler)
	e.flow.AnswerIssueWith(f)
	return e, f
}

// fromNina is an activity from the new hire in her own 1:1 chat.
func (e *env) fromNina(typ, text string) map[string]any {
	a := e.activity(typ, "personal", simtenant.NinaID, text)
	a["conversation"].(map[string]any)["id"] = ninaConv
	return a
}

func TestChecklistDeliveredTickedAndStuck(t *testing.T) {
	e, flow := newChecklistEnv(t)
	ctx := context.Background()
	// The helpdesk channel is known to the bot (a message there stores its reference).
	e.command("channel", simtenant.HanaID, "help")

	reply := decode(t, e.command("personal", simtenant.HanaID, "/checklist nina@contoso.com")[0])
	if !strings.Contains(reply.Text, "as soon as they open Teams") {
		t.Fatalf("/checklist: reply %q, want it to say the checklist goes out as soon as they open Teams", reply.Text)
	}
	if r := decode(t, e.command("personal", simtenant.MaxID, "/checklist nina@contoso.com")[0]); !strings.Contains(r.Text, "Only members of the helpdesk") {
		t.Fatalf("/checklist from outside the helpdesk: reply %q, want it to say only members of the helpdesk may", r.Text)
	}

	// Nina opens Teams: her first message stores the reference; the next run sends the card.
	before := len(e.cloud.Calls())
	e.post(e.fromNina("message", "hi"))
	e.drain()
	if err := flow.RunChecks(ctx); err != nil {
		t.Fatal(err)
	}
	var card string
	for _, c := range e.cloud.Calls()[before:] {
		if c.ConversationID == ninaConv && c.Method == http.MethodPost && strings.Contains(string(c.Body), "checklist.claim") {
			card = string(c.Body)
		}
	}
	if card == "" || !strings.Contains(card, `"refresh"`) {
		t.Fatalf("checklist card to Nina: %q, want one delivered, with refresh", card)
	}

	// Graph shows Authenticator: the next run ticks the steps and updates her card.
	e.tenant.AddMethod(simtenant.NinaID, graph.Method{Type: "microsoftAuthenticator", DisplayName: "iPhone", Created: e.clock.now()})
	before = len(e.cloud.Calls())
	if err := flow.RunChecks(ctx); err != nil {
		t.Fatal(err)
	}
	updated := false
	for _, c := range e.cloud.Calls()[before:] {
		if c.Method == http.MethodPut && c.ConversationID == ninaConv && strings.Contains(string(c.Body), "Install Microsoft Authenticator") {
			updated = true
		}
	}
	if !updated {
		t.Fatal("card not updated when Graph showed Authenticator, want it updated (PUT) with the install step")
	}
	saved, err := e.store.Checklist(ctx, simtenant.NinaID)
	if err != nil || !strings.Contains(string(saved.Progress), `"id":"install","status":"done"`) {
		t.Fatalf("progress %s (err %v), want the install step done", saved.Progress, err)
	}

	// A claim without evidence stays "waiting for confirmation".
	claim := e.fromNina("invoke", "")
	claim["name"] = "adaptiveCard/action"
	claim["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "checklist.claim",
		"data": map[string]any{"requestId": saved.RequestID, "step": "hello"}}}
	if status, body := e.post(claim); status != http.StatusOK || !strings.Contains(mustJSON(body), "Waiting for confirmation") {
		t.Fatalf("claim: status %d, answer %s; want 200 and Waiting for confirmation", status, mustJSON(body))
	}
	if c, _ := e.store.Checklist(ctx, simtenant.NinaID); !strings.Contains(string(c.Progress), `"id":"hello","status":"claimed"`) {
		t.Fatalf("progress after the claim: %s, want the hello step claimed", c.Progress)
	}

	// Nina is stuck at the laptop: the helpdesk channel gets a card whose button issues a pass.
	stuck := e.fromNina("invoke", "")
	stuck["name"] = "adaptiveCard/action"
	stuck["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "checklist.stuck",
		"data": map[string]any{"requestId": saved.RequestID, "step": "laptop"}}}
	before = len(e.cloud.Calls())
	if status, body := e.post(stuck); status != http.StatusOK || !strings.Contains(mustJSON(body), "helpdesk knows") {
		t.Fatalf("stuck: status %d, answer %s; want 200 and that the helpdesk knows", status, mustJSON(body))
	}
	var stuckCard string
	for _, c := range e.cloud.Calls()[before:] {
		if c.ConversationID == channelConv {
			stuckCard = decode(t, c).card()
		}
	}
	if !strings.Contains(stuckCard, "nina@contoso.com") || !strings.Contains(stuckCard, "tap.issue") {
		t.Fatalf("stuck card %s\nwant one in the helpdesk channel naming nina@contoso.com, with tap.issue", stuckCard)
	}
	var sc struct {
		Actions []struct {
			Verb string         `json:"verb"`
			Data map[string]any `json:"data"`
		} `json:"actions"`
	}
	_ = json.Unmarshal([]byte(stuckCard), &sc)
	// The answer replaces the card in the channel for everyone: it is the same card,
	// details and "Message them" kept, saying who is on it; so is a second click.
	issue := func() string {
		a := e.activity("invoke", "channel", simtenant.HanaID, "")
		a["from"].(map[string]any)["name"] = "Hana Helpdesk"
		a["name"] = "adaptiveCard/action"
		a["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": sc.Actions[0].Verb, "data": sc.Actions[0].Data}}
		status, body := e.post(a)
		e.drain()
		if status != http.StatusOK {
			t.Fatalf("issue: status %d, want 200", status)
		}
		return mustJSON(body)
	}
	answers := []string{issue(), issue()}
	for _, answer := range answers {
		for _, want := range []string{"nina@contoso.com", "Message them", "Hana Helpdesk", " is issuing a new pass.", "tap.issue", "What Microsoft Entra shows"} {
			if !strings.Contains(answer, want) {
				t.Fatalf("the Issue button's answer: %s\nwant it to contain %q", answer, want)
			}
		}
	}
	taps := e.tenant.TAPsOf(simtenant.NinaID)
	if len(taps) != 1 {
		t.Fatalf("Issue new TAP from the stuck card, clicked twice: %d TAPs, want 1", len(taps))
	}
	// The pass issued from the helpdesk channel's card went only to the clicker's 1:1.
	for place, text := range e.everythingOutsideTheOneToOne(answers...) {
		if strings.Contains(text, taps[0].Value.Reveal()) {
			t.Fatalf("TAP value found in %s, want it in the clicker's 1:1 chat only", place)
		}
	}

	// Someone else cannot act on Nina's checklist with her card's data.
	other := e.activity("invoke", "personal", simtenant.MaxID, "")
	other["name"] = "adaptiveCard/action"
	other["value"] = claim["value"]
	if _, body := e.post(other); !strings.Contains(mustJSON(body), "No checklist") {
		t.Fatalf("another user's claim: answer %s, want No checklist", mustJSON(body))
	}
}

func connectorFor(t *testing.T, e *env) *connector.Client {
	t.Helper()
	c, err := connector.New(connector.Config{HTTPClient: e.cloud.Client(), CheckServiceURL: func(*url.URL) error { return nil },
		BaseBackoff: time.Millisecond}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// After onboarding creates an account, the checklist starts by itself; the manager
// gets a read-only copy when the hire's card goes out.
// Nina's first Teams sign-in (the install in her personal chat) brings her waiting
// checklist at once, with one welcome; without a checklist the install only greets.
func TestChecklistDeliveredAtFirstInstall(t *testing.T) {
	e, _ := newChecklistEnv(t)
	install := func(from, conv string) []bftest.ConnectorCall {
		a := e.activity("conversationUpdate", "personal", from, "")
		a["conversation"].(map[string]any)["id"] = conv
		a["membersAdded"] = []any{map[string]any{"id": botAccount}}
		before := len(e.cloud.Calls())
		if status, _ := e.post(a); status != http.StatusOK {
			t.Fatalf("install: status %d, want 200", status)
		}
		e.drain()
		return e.cloud.Calls()[before:]
	}
	if calls := install(simtenant.MaxID, "a:max-personal"); len(calls) != 1 || strings.Contains(string(calls[0].Body), "checklist") {
		t.Fatalf("install without a checklist: %d calls, want the welcome only", len(calls))
	}
	e.command("personal", simtenant.HanaID, "/checklist nina@contoso.com")
	calls := install(simtenant.NinaID, ninaConv)
	cards := 0
	for _, c := range calls {
		if c.ConversationID == ninaConv && strings.Contains(string(c.Body), "checklist.claim") {
			cards++
		}
	}
	if len(calls) != 2 || cards != 1 {
		t.Fatalf("first install: %d calls with %d checklist cards, want the welcome and one card", len(calls), cards)
	}
}

func TestChecklistBeginSendsManagerCopy(t *testing.T) {
	e, flow := newChecklistEnv(t)
	ctx := context.Background()
	maxMsg := e.activity("message", "personal", simtenant.MaxID, "hi")
	maxMsg["conversation"].(map[string]any)["id"] = "a:1contoso-max-tapbot-personal"
	e.post(maxMsg)
	e.post(e.fromNina("message", "hi"))
	e.drain()

	before := len(e.cloud.Calls())
	if err := flow.Begin(ctx, simtenant.NinaID, simtenant.NinaUPN, simtenant.MaxID, "req-onboard-1", true); err != nil {
		t.Fatal(err)
	}
	var hire, manager string
	for _, c := range e.cloud.Calls()[before:] {
		switch c.ConversationID {
		case ninaConv:
			hire = string(c.Body)
		case "a:1contoso-max-tapbot-personal":
			manager = string(c.Body)
		}
	}
	if !strings.Contains(hire, "checklist.claim") || !strings.Contains(hire, "security key") {
		t.Fatalf("hire's card %s\nwant the checklist, on the security key path", hire)
	}
	if manager == "" || strings.Contains(manager, "checklist.claim") || !strings.Contains(manager, "nina@contoso.com") {
		t.Fatalf("manager's copy %q, want a read-only copy naming nina@contoso.com", manager)
	}
	// Starting again keeps the existing checklist.
	if err := flow.Begin(ctx, simtenant.NinaID, simtenant.NinaUPN, simtenant.MaxID, "req-onboard-2", false); err != nil {
		t.Fatal(err)
	}
	if c, _ := e.store.Checklist(ctx, simtenant.NinaID); c.RequestID != "req-onboard-1" {
		t.Fatalf("checklist after a second Begin: %+v, want request req-onboard-1 kept", c)
	}
}

func TestChecklistRemindersOnceEach(t *testing.T) {
	e, flow := newChecklistEnv(t)
	ctx := context.Background()
	maxMsg := e.activity("message", "personal", simtenant.MaxID, "hi")
	maxMsg["conversation"].(map[string]any)["id"] = "a:1contoso-max-tapbot-personal"
	e.post(maxMsg)
	e.post(e.fromNina("message", "hi"))
	e.drain()
	if err := flow.Begin(ctx, simtenant.NinaID, simtenant.NinaUPN, simtenant.MaxID, "req-1", false); err != nil {
		t.Fatal(err)
	}
	reminders := func() (hire, manager int) {
		for _, c := range e.cloud.Calls() {
			body := string(c.Body)
			if strings.Contains(body, "A reminder") && c.ConversationID == ninaConv {
				hire++
			}
			if strings.Contains(body, "hasn't finished") && c.ConversationID == "a:1contoso-max-tapbot-personal" {
				manager++
			}
		}
		return
	}
	run := func() {
		if err := flow.RunChecks(ctx); err != nil {
			t.Fatal(err)
		}
	}
	run()
	if h, m := reminders(); h+m != 0 {
		t.Fatalf("at once: hire %d manager %d reminders, want 0 0", h, m)
	}
	e.clock.advance(49 * time.Hour)
	run()
	run()
	if h, m := reminders(); h != 1 || m != 0 {
		t.Fatalf("after 2 days: hire %d manager %d, want 1 0", h, m)
	}
	e.clock.advance(48 * time.Hour)
	run()
	if h, m := reminders(); h != 1 || m != 1 {
		t.Fatalf("after 4 days: hire %d manager %d, want 1 1", h, m)
	}
	// A restart (a new flow on the same store) sends no reminder twice.
	restarted := checklist.New(checklist.Config{TenantID: simtenant.ContosoTenantID, Now: e.clock.now},
		flowGraph(t, e), connectorFor(t, e), e.store, zap.NewNop())
	if err := restarted.RunChecks(ctx); err != nil {
		t.Fatal(err)
	}
	if h, m := reminders(); h != 1 || m != 1 {
		t.Fatalf("after a restart: hire %d manager %d, want 1 1", h, m)
	}
	// Done: no more reminders, and the checklist leaves the open list.
	e.tenant.AddMethod(simtenant.NinaID, graph.Method{Type: "microsoftAuthenticator"})
	e.tenant.AddMethod(simtenant.NinaID, graph.Method{Type: "windowsHelloForBusiness"})
	e.tenant.AddDevice(simtenant.NinaID, graph.Device{DisplayName: "laptop", TrustType: graph.TrustEntraJoined})
	if _, err := e.tenant.CreateTAP(simtenant.NinaID, graph.TAPRequest{}); err != nil {
		t.Fatal(err)
	}
	run()
	if c, _ := e.store.Checklist(ctx, simtenant.NinaID); c.DoneAt.IsZero() {
		t.Fatalf("checklist with every step in Graph: %s, want it done", c.Progress)
	}
	if open, _ := e.store.OpenChecklists(ctx, 10); len(open) != 0 {
		t.Fatalf("open checklists %+v, want none", open)
	}
}

func TestStatusShowsChecklistProgress(t *testing.T) {
	e, flow := newChecklistEnv(t)
	ctx := context.Background()
	if err := flow.Begin(ctx, simtenant.NinaID, simtenant.NinaUPN, "", "req-1", false); err != nil {
		t.Fatal(err)
	}
	card := decode(t, e.command("personal", simtenant.HanaID, "/status nina@contoso.com")[0]).card()
	if !strings.Contains(card, "Set-up checklist") || !strings.Contains(card, "0 of 7 steps done") || !strings.Contains(card, "not yet delivered") {
		t.Fatalf("status card %s\nwant the set-up checklist, 0 of 7 steps done, not yet delivered", card)
	}
}

func flowGraph(t *testing.T, e *env) *msgraph.Client {
	t.Helper()
	gc, err := msgraph.New(msgraph.Config{Credential: staticToken{}, BaseURL: e.graph.URL() + "/v1.0", HTTPClient: e.graph.Client()}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	return gc
}

// "I'm stuck" pressed again and again makes one helpdesk card per step and
// interval: later presses update it, and the hire hears that the helpdesk knows.
func TestStuckIsThrottledPerStep(t *testing.T) {
	e, flow := newChecklistEnv(t)
	ctx := context.Background()
	e.command("channel", simtenant.HanaID, "help")
	e.command("personal", simtenant.HanaID, "/checklist nina@contoso.com")
	e.post(e.fromNina("message", "hi"))
	e.drain()
	if err := flow.RunChecks(ctx); err != nil {
		t.Fatal(err)
	}
	saved, err := e.store.Checklist(ctx, simtenant.NinaID)
	if err != nil {
		t.Fatal(err)
	}
	press := func(step string) string {
		a := e.fromNina("invoke", "")
		a["name"] = "adaptiveCard/action"
		a["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": "checklist.stuck",
			"data": map[string]any{"requestId": saved.RequestID, "step": step}}}
		status, body := e.post(a)
		if status != http.StatusOK {
			t.Fatalf("stuck: status %d, want 200", status)
		}
		return mustJSON(body)
	}
	helpdesk := func() (posts, updates int) {
		for _, c := range e.cloud.Calls() {
			if c.ConversationID == channelConv && strings.Contains(string(c.Body), "A new hire is stuck") {
				switch c.Method {
				case http.MethodPost:
					posts++
				case http.MethodPut:
					updates++
				}
			}
		}
		return posts, updates
	}
	if answer := press("laptop"); !strings.Contains(answer, "helpdesk knows") {
		t.Fatalf("first press: answer %s, want that the helpdesk knows", answer)
	}
	for range 4 {
		e.clock.advance(time.Minute)
		if answer := press("laptop"); !strings.Contains(answer, "already knows") {
			t.Fatalf("later press: answer %s, want that the helpdesk already knows", answer)
		}
	}
	if posts, updates := helpdesk(); posts != 1 || updates != 4 {
		t.Fatalf("five presses: %d helpdesk cards posted, %d updates; want 1 and 4", posts, updates)
	}
	var last string
	for _, c := range e.cloud.Calls() {
		if c.ConversationID == channelConv && c.Method == http.MethodPut {
			last = decode(t, c).card()
		}
	}
	if !strings.Contains(last, "Asked again 4 times") || !strings.Contains(last, "tap.issue") {
		t.Fatalf("updated card %s\nwant Asked again 4 times, with tap.issue", last)
	}
	// The throttle is in the store, not in memory: it holds across restarts.
	if c, _ := e.store.Checklist(ctx, simtenant.NinaID); !strings.Contains(string(c.Progress), `"stuckActivity"`) {
		t.Fatalf("progress %s, want the stuck card recorded (stuckActivity)", c.Progress)
	}
	// Another step is another card; after the interval, a new card.
	press("hello")
	e.clock.advance(31 * time.Minute)
	press("laptop")
	if posts, _ := helpdesk(); posts != 3 {
		t.Fatalf("%d helpdesk cards, want 3 (laptop, hello, laptop again after the interval)", posts)
	}
}

// An Authenticator registered for MFA push only has a null createdDateTime in Graph
// v1.0: the checklist's phone sign-in step stays to do (even with the laptop joined)
// and /status says phone sign-in is off, until the hire enables it.
func TestPhoneSignInTellsMFAOnlyFromPasswordless(t *testing.T) {
	e, flow := newDeliveredChecklist(t)
	e.tenant.AddMethod(simtenant.NinaID, graph.Method{Type: "microsoftAuthenticator", DisplayName: "iPhone", MFAOnly: true})
	e.tenant.AddDevice(simtenant.NinaID, graph.Device{DisplayName: "NINA-LAPTOP", TrustType: graph.TrustEntraJoined})
	step := func() string {
		t.Helper()
		p := checkNina(t, e, flow)
		if s, _ := p.Step(checklist.StepLaptop); s.Status != checklist.StatusDone {
			t.Fatalf("laptop step %s, want %s (checks ran)", s.Status, checklist.StatusDone)
		}
		s, _ := p.Step(checklist.StepPhoneSignIn)
		return string(s.Status)
	}
	if st := step(); st != string(checklist.StatusTodo) {
		t.Fatalf("MFA-only Authenticator and a joined laptop: phone-sign-in %s, want todo", st)
	}
	status := decode(t, e.command("personal", simtenant.HanaID, "/status nina@contoso.com")[0]).card()
	if !strings.Contains(status, "MFA approvals only: phone sign-in is off") {
		t.Errorf("status card: %s\nwant MFA approvals only: phone sign-in is off", status)
	}

	e.tenant.AddMethod(simtenant.NinaID, graph.Method{Type: "microsoftAuthenticator", DisplayName: "iPhone", Created: e.clock.now()})
	if st := step(); st != string(checklist.StatusDone) {
		t.Fatalf("phone sign-in registration: phone-sign-in %s, want done", st)
	}
	status = decode(t, e.command("personal", simtenant.HanaID, "/status nina@contoso.com")[0]).card()
	if !strings.Contains(status, "registered for phone sign-in") {
		t.Errorf("status card: %s\nwant it to say registered for phone sign-in", status)
	}
}

// newDeliveredChecklist is the checklist harness with Nina's checklist begun and
// delivered (her first message stores her chat's reference), so checks run for her.
func newDeliveredChecklist(t *testing.T) (*env, *checklist.Flow) {
	t.Helper()
	e, flow := newChecklistEnv(t)
	if err := flow.Begin(context.Background(), simtenant.NinaID, simtenant.NinaUPN, "", "req-1", false); err != nil {
		t.Fatal(err)
	}
	e.post(e.fromNina("message", "hi"))
	e.drain()
	return e, flow
}

// checkNina runs the checklist's checks and returns Nina's progress as stored.
func checkNina(t *testing.T, e *env, flow *checklist.Flow) checklist.Progress {
	t.Helper()
	ctx := context.Background()
	if err := flow.RunChecks(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := e.store.Checklist(ctx, simtenant.NinaID)
	if err != nil {
		t.Fatal(err)
	}
	var p checklist.Progress
	if err := json.Unmarshal(c.Progress, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

// Registering Authenticator for phone sign-in registers the phone in Entra too (a
// device with trustType Workplace): the phone sign-in step ticks and the laptop step
// does not, until a joined laptop shows.
func TestRegisteredPhoneIsNoLaptop(t *testing.T) {
	e, flow := newDeliveredChecklist(t)
	status := func(p checklist.Progress, id string) checklist.Status {
		s, _ := p.Step(id)
		return s.Status
	}

	e.tenant.AddMethod(simtenant.NinaID, graph.Method{Type: "microsoftAuthenticator", DisplayName: "Nina's iPhone", Created: e.clock.now()})
	devs, err := flowGraph(t, e).RegisteredDevices(context.Background(), simtenant.NinaID)
	if err != nil || len(devs) != 1 || devs[0].TrustType != graph.TrustRegistered {
		t.Fatalf("Nina's devices after phone sign-in: %+v, %v; want her phone alone, registered (Workplace), nil", devs, err)
	}
	p := checkNina(t, e, flow)
	if ps, ls := status(p, checklist.StepPhoneSignIn), status(p, checklist.StepLaptop); ps != checklist.StatusDone || ls != checklist.StatusTodo {
		t.Fatalf("after phone sign-in (the phone registered): phone-sign-in %s, laptop %s; want %s, %s",
			ps, ls, checklist.StatusDone, checklist.StatusTodo)
	}

	e.tenant.AddDevice(simtenant.NinaID, graph.Device{DisplayName: "NINA-LAPTOP", TrustType: graph.TrustEntraJoined})
	if ls := status(checkNina(t, e, flow), checklist.StepLaptop); ls != checklist.StatusDone {
		t.Fatalf("with the laptop Entra joined: laptop %s, want %s", ls, checklist.StatusDone)
	}
}
