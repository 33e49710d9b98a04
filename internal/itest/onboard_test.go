package itest

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapbot/tapbot/bot/connector"
	"github.com/tapbot/tapbot/bot/onboard"
	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/graph/msgraph"
	"github.com/tapbot/tapbot/graph/simtenant"
	"github.com/tapbot/tapbot/internal/password"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// hookDir is the real msgraph client with a hook before some provisioning calls, so
// a test can make the fake tenant fail at a chosen step.
type hookDir struct {
	*msgraph.Client
	mu     sync.Mutex
	before map[string]func()
}

func (d *hookDir) hook(name string) {
	d.mu.Lock()
	fn := d.before[name]
	delete(d.before, name)
	d.mu.Unlock()
	if fn != nil {
		fn()
	}
}

func (d *hookDir) on(name string, fn func()) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.before[name] = fn
}

func (d *hookDir) SetManager(ctx context.Context, userID, managerID string) error {
	d.hook("manager")
	return d.Client.SetManager(ctx, userID, managerID)
}

func (d *hookDir) CreateUser(ctx context.Context, nu graph.NewUser) (graph.User, error) {
	d.hook("user")
	return d.Client.CreateUser(ctx, nu)
}

type onboardEnv struct {
	*env
	gc   *msgraph.Client
	dir  *hookDir
	ob   *onboard.Flow
	cfg  onboard.Config
	conn *connector.Client
	log  *zap.Logger
}

const approversConv = "19:contoso-approvers@thread.tacv2"

func newOnboardEnv(t *testing.T, mods ...func(*onboard.Config)) *onboardEnv {
	t.Helper()
	e := newEnv(t)
	log := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(e.logs), zap.DebugLevel))
	gc, err := msgraph.New(msgraph.Config{Credential: staticToken{}, BaseURL: e.graph.URL() + "/v1.0", HTTPClient: e.graph.Client()}, log)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := connector.New(connector.Config{HTTPClient: e.cloud.Client(), CheckServiceURL: func(*url.URL) error { return nil },
		BaseBackoff: time.Millisecond}, log)
	if err != nil {
		t.Fatal(err)
	}
	dir := &hookDir{Client: gc, before: map[string]func(){}}
	cfg := onboard.Config{
		ApproverGroups: []string{simtenant.GroupApprovers}, ApproversConversation: approversConv,
		OnboardingGroups: []string{simtenant.GroupNewHires}, AllowedGroups: []string{simtenant.GroupStaff},
		DefaultUsageLocation: "US", PeoplePicker: true, Now: e.clock.now,
	}
	for _, m := range mods {
		m(&cfg)
	}
	ob, err := onboard.New(cfg, dir, conn, e.store, log)
	if err != nil {
		t.Fatal(err)
	}
	ob.Register(e.handler) // before any activity: the handler is not serving yet
	ref := store.Reference{ConversationID: approversConv, Scope: store.ScopeChannel, TenantID: simtenant.ContosoTenantID,
		TeamID: "19:contoso-approvers-team@thread.tacv2", ServiceURL: e.cloud.ServiceURL(), BotID: botAccount}
	if err := e.store.SaveReference(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	ref = store.Reference{ConversationID: helpdeskConv, Scope: store.ScopeChannel, TenantID: simtenant.ContosoTenantID,
		TeamID: "19:contoso-it-helpdesk-general@thread.tacv2", ServiceURL: e.cloud.ServiceURL(), BotID: botAccount}
	if err := e.store.SaveReference(context.Background(), ref); err != nil {
		t.Fatal(err)
	}
	return &onboardEnv{env: e, gc: gc, dir: dir, ob: ob, cfg: cfg, conn: conn, log: log}
}

// card is a decoded Adaptive Card, loosely.
type card struct {
	Body    []map[string]any `json:"body"`
	Actions []map[string]any `json:"actions"`
}

func parseCard(t testing.TB, raw []byte) card {
	t.Helper()
	var c card
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("card %s: %v", raw, err)
	}
	return c
}

// invokeCard returns the card of an invoke response.
func invokeCard(t testing.TB, body map[string]any) (card, string) {
	t.Helper()
	if body["type"] != "application/vnd.microsoft.card.adaptive" {
		t.Fatalf("invoke answered %v, want an Adaptive Card", body)
	}
	raw, _ := json.Marshal(body["value"])
	return parseCard(t, raw), string(raw)
}

// openForm sends /onboard as from and returns the form and its request id.
func (o *onboardEnv) openForm(from string) (card, string) {
	o.t.Helper()
	calls := o.command("personal", from, "/onboard")
	if len(calls) != 1 {
		o.t.Fatalf("/onboard: %d calls, want 1", len(calls))
	}
	c := parseCard(o.t, []byte(decode(o.t, calls[0]).card()))
	data, _ := c.Actions[0]["data"].(map[string]any)
	id, _ := data["requestId"].(string)
	if id == "" {
		o.t.Fatalf("form actions %+v, want a request id in the first", c.Actions)
	}
	return c, id
}

func startDate(o *onboardEnv, days int) string {
	return o.clock.now().AddDate(0, 0, days).Format("2006-01-02")
}

// goodForm is a valid submission (the user name filled in).
func goodForm(o *onboardEnv, id string) map[string]any {
	return map[string]any{
		"verb": onboard.SubmitVerb, "requestId": id,
		"givenName": "José", "surname": "Müller", "displayName": "José Müller", "mailNickname": "jose.muller",
		"domain": "contoso.com", "jobTitle": "Engineer", "department": "R&D", "officeLocation": "Berlin",
		"usageLocation": "DE", "startDate": startDate(o, 7), "manager": simtenant.MaxID,
		"licence": simtenant.SKUEntraIDP1, "groups": simtenant.GroupStaff, "hasSmartphone": "true",
		"notes": "Laptop ships Monday.",
	}
}

const joseUPN = "jose.muller@contoso.com"

// submit sends the form and returns the answer card.
func (o *onboardEnv) submit(from string, data map[string]any) (card, string) {
	o.t.Helper()
	return invokeCard(o.t, o.invoke(from, onboard.SubmitVerb, data))
}

func (o *onboardEnv) decide(from, verb, id string, extra map[string]any) (card, string) {
	o.t.Helper()
	data := map[string]any{"verb": verb, "requestId": id}
	for k, v := range extra {
		data[k] = v
	}
	return invokeCard(o.t, o.invoke(from, verb, data))
}

func (o *onboardEnv) request(id string) store.OnboardRequest {
	o.t.Helper()
	r, err := o.store.Onboard(context.Background(), id)
	if err != nil {
		o.t.Fatal(err)
	}
	return r
}

// usersCreated counts POST /users round trips.
func (o *onboardEnv) usersCreated() int {
	n := 0
	for _, r := range o.graph.Requests() {
		if r.Method == http.MethodPost && strings.HasSuffix(strings.TrimRight(r.Path, "/"), "/users") {
			n++
		}
	}
	return n
}

func (o *onboardEnv) callsTo(conv string) []string {
	var out []string
	for _, c := range o.cloud.Calls() {
		if c.ConversationID == conv {
			out = append(out, c.Method+" "+string(c.Body))
		}
	}
	return out
}

// submitted opens the form as Max and submits a valid request; it returns the id.
func (o *onboardEnv) submitted() string {
	o.t.Helper()
	_, id := o.openForm(simtenant.MaxID)
	_, raw := o.submit(simtenant.MaxID, goodForm(o, id))
	if !strings.Contains(raw, "Waiting for approval") {
		o.t.Fatalf("valid submit answered %s, want Waiting for approval", raw)
	}
	return id
}

func (o *onboardEnv) memberOf(userID string, groups ...string) []string {
	o.t.Helper()
	in, err := o.gc.CheckMemberGroups(context.Background(), userID, groups)
	if err != nil {
		o.t.Fatal(err)
	}
	return in
}

func TestOnboardHappyPath(t *testing.T) {
	o := newOnboardEnv(t)
	form, id := o.openForm(simtenant.MaxID)
	formRaw, _ := json.Marshal(form)
	for _, want := range []string{`"@contoso.com"`, "Microsoft Entra ID P1 (15 free)", "Staff", `"value":"US"`, simtenant.MaxID} {
		if !strings.Contains(string(formRaw), want) {
			t.Errorf("form %s\nwant it to contain %s", formRaw, want)
		}
	}
	if strings.Contains(string(formRaw), simtenant.SKUM365E3) {
		t.Error("the form offers a licence with no free unit")
	}

	// Empty user and display names: tapbot fills both and shows the form again for the
	// user name, which becomes the sign-in name.
	data := goodForm(o, id)
	data["mailNickname"], data["displayName"] = "", ""
	_, raw := o.submit(simtenant.MaxID, data)
	if !strings.Contains(raw, `"value":"jose.muller"`) || !strings.Contains(raw, `"value":"José Müller"`) || !strings.Contains(raw, "suggested") {
		t.Fatalf("submit with empty names answered %s\nwant the form again with jose.muller and José Müller suggested", raw)
	}
	if _, err := o.store.Onboard(context.Background(), id); err == nil {
		t.Fatal("a request was stored before the requester saw the suggestion")
	}

	_, raw = o.submit(simtenant.MaxID, goodForm(o, id))
	if !strings.Contains(raw, "Waiting for approval") || strings.Contains(raw, "Action.Execute") {
		t.Fatalf("requester's summary %s\nwant Waiting for approval and no actions", raw)
	}
	if r := o.request(id); r.State != store.OnboardSubmitted || r.RequesterID != simtenant.MaxID {
		t.Fatalf("stored request %+v, want submitted by Max", r)
	}
	if row := o.lastAudit("onboard.request"); row.Outcome != "allowed" || row.TargetUPN != joseUPN {
		t.Fatalf("onboard.request audit %+v, want allowed for %s", row, joseUPN)
	}
	posted := o.callsTo(approversConv)
	if len(posted) != 1 || !strings.Contains(posted[0], onboard.VerbApprove) || !strings.Contains(posted[0], onboard.VerbReject) {
		t.Fatalf("approvers' channel got %v, want one card with Approve and Reject", posted)
	}

	c, raw := o.decide(simtenant.AlexID, onboard.VerbApprove, id, nil)
	if !strings.Contains(raw, "Approved by Alex Approver") || len(c.Actions) != 0 {
		t.Fatalf("decided card %s\nwant Approved by Alex Approver and no actions", raw)
	}
	r := o.request(id)
	if r.State != store.OnboardDone || r.Step != onboard.StepLicence || r.UserID == "" || r.DeciderID != simtenant.AlexID {
		t.Fatalf("request after approval %+v, want done at step %s, with a user id, decided by Alex", r, onboard.StepLicence)
	}
	u, ok := o.tenant.User(joseUPN)
	if !ok || u.ID != r.UserID || !u.AccountEnabled || u.ForceChangePasswordNextSignIn || u.UsageLocation != "DE" ||
		u.DisplayName != "José Müller" || u.JobTitle != "Engineer" || u.MailNickname != "jose.muller" {
		t.Fatalf("created user %+v (found %v), want id %s, enabled, no forced password change, DE, José Müller, Engineer, jose.muller", u, ok, r.UserID)
	}
	if m, _ := o.tenant.ManagerOf(u.ID); m != simtenant.MaxID {
		t.Errorf("manager %q, want %q", m, simtenant.MaxID)
	}
	if lic := o.tenant.LicensesOf(u.ID); len(lic) != 1 || !strings.EqualFold(lic[0], simtenant.SKUEntraIDP1) {
		t.Errorf("licences %v, want [%s]", lic, simtenant.SKUEntraIDP1)
	}
	if in := o.memberOf(u.ID, simtenant.GroupStaff, simtenant.GroupNewHires); len(in) != 2 {
		t.Errorf("groups %v, want Staff and New hires", in)
	}
	if o.usersCreated() != 1 {
		t.Errorf("%d POST /users, want 1", o.usersCreated())
	}
	for _, step := range onboard.Steps {
		rows, _ := o.store.Audit(context.Background(), store.AuditFilter{Action: "onboard.provision", Outcome: "allowed"})
		found := false
		for _, row := range rows {
			found = found || row.Reason == step
		}
		if !found {
			t.Errorf("no allowed onboard.provision row for step %s, want one per step", step)
		}
	}
	o.lastAudit("onboard.done")
	// The approval card was updated for everyone, and the requester told.
	var updatedDone, told bool
	for _, c := range o.cloud.Calls() {
		body := string(c.Body)
		if c.ConversationID == approversConv && c.Method == http.MethodPut && strings.Contains(body, "is ready") {
			updatedDone = true
		}
		if c.ConversationID == personalConv && strings.Contains(body, "The account for José Müller is ready") {
			told = true
		}
	}
	if !updatedDone || !told {
		t.Errorf("approval card updated %v, requester told %v; want both", updatedDone, told)
	}
	o.assertPasswordNeverLeaks(joseUPN)
}

// assertPasswordNeverLeaks looks for the created user's password everywhere tapbot
// writes: logs, the database, metrics and every message, 1:1 chats included.
func (o *onboardEnv) assertPasswordNeverLeaks(upn string) {
	o.t.Helper()
	pw, ok := o.tenant.PasswordOf(upn)
	if !ok {
		o.t.Fatal("no password recorded for " + upn)
	}
	value := pw.Reveal()
	if len(value) < 16 {
		o.t.Fatalf("password of %d characters, want at least 16", len(value))
	}
	var all bytes.Buffer
	for _, c := range o.cloud.Calls() {
		all.Write(c.Body)
	}
	// JSON escaping changes some symbols (quotes, backslashes, and < > & with HTML
	// escaping): look for every form the value can take in a log line or a body.
	forms := []string{value}
	for _, html := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(html)
		_ = enc.Encode(value)
		forms = append(forms, strings.Trim(strings.TrimSpace(b.String()), `"`))
	}
	for place, text := range o.everythingOutsideTheOneToOne(all.String()) {
		for _, form := range forms {
			if strings.Contains(text, form) {
				o.t.Errorf("the password appears in %s, want it nowhere tapbot writes", place)
				break
			}
		}
	}
}

// findInput returns the index of the input with id in the card's body.
func findInput(c card, id string) int {
	for i, el := range c.Body {
		if el["id"] == id {
			return i
		}
	}
	return -1
}

// errorAfter returns the error text shown right after the input with id, or "".
func errorAfter(c card, id string) string {
	i := findInput(c, id)
	if i < 0 || i+1 >= len(c.Body) || c.Body[i+1]["type"] != "RichTextBlock" {
		return ""
	}
	runs, _ := c.Body[i+1]["inlines"].([]any)
	if len(runs) == 0 {
		return ""
	}
	run, _ := runs[0].(map[string]any)
	if run["color"] != "Attention" {
		return ""
	}
	s, _ := run["text"].(string)
	return s
}

func TestOnboardValidationErrorsBesideFields(t *testing.T) {
	o := newOnboardEnv(t)
	_, id := o.openForm(simtenant.MaxID)
	cases := []struct {
		field, value, want string
	}{
		{"givenName", "", "given name"},
		{"surname", strings.Repeat("x", 65), "at most 64"},
		{"displayName", "Evil\u202eName", "text-direction"},
		{"mailNickname", "jose muller", "only the letters"},
		{"mailNickname", "jose_fabrikam.com#EXT#", "#EXT#"},
		{"domain", "fabrikam.com", "verified domains"},
		{"usageLocation", "XX", "not a country code"},
		{"startDate", startDate(o, -1), "in the past"},
		{"manager", "nobody@contoso.com", "can't find"},
		{"manager", simtenant.GregID, "not a guest"},
		{"licence", simtenant.SKUM365E3, "No units"},
		{"licence", "00000000-0000-4000-8000-000000000000", "not one of the organisation's"},
		{"groups", simtenant.GroupProtected, "from the list"},
		{"jobTitle", strings.Repeat("j", 129), "at most 128"},
	}
	for _, tc := range cases {
		t.Run(tc.field+"="+tc.want, func(t *testing.T) {
			data := goodForm(o, id)
			data[tc.field] = tc.value
			c, raw := o.submit(simtenant.MaxID, data)
			msg := errorAfter(c, tc.field)
			if !strings.Contains(msg, tc.want) {
				t.Fatalf("error beside %s = %q, want %q; card %s", tc.field, msg, tc.want, raw)
			}
			// Every other value is kept as entered.
			for _, keep := range []string{"givenName", "surname", "officeLocation", "notes"} {
				if keep == tc.field {
					continue
				}
				if i := findInput(c, keep); i < 0 || c.Body[i]["value"] != data[keep] {
					t.Errorf("%s input %v, want the value %v kept", keep, c.Body[i], data[keep])
				}
			}
			if len(c.Actions) != 1 || c.Actions[0]["verb"] != onboard.SubmitVerb {
				t.Errorf("form actions %v, want the submit action only", c.Actions)
			}
		})
	}
	if _, err := o.store.Onboard(context.Background(), id); err == nil {
		t.Fatal("an invalid form was stored")
	}
	if o.usersCreated() != 0 || len(o.callsTo(approversConv)) != 0 {
		t.Fatal("an invalid form reached Graph or the approvers")
	}
}

func TestOnboardUPNCollisionSuggestsNext(t *testing.T) {
	o := newOnboardEnv(t)
	_, id := o.openForm(simtenant.MaxID)
	data := goodForm(o, id)
	data["mailNickname"] = "nina"
	c, raw := o.submit(simtenant.MaxID, data)
	if msg := errorAfter(c, "mailNickname"); !strings.Contains(msg, "nina@contoso.com is already taken") || !strings.Contains(msg, "nina2 is free") {
		t.Fatalf("collision message %q, want nina@contoso.com is already taken and nina2 is free; card %s", msg, raw)
	}
}

// resubmission is what a client sends from a re-sent form: the action's data with
// each input's value merged in, then the requester's edits.
func resubmission(t *testing.T, c card, edits map[string]any) map[string]any {
	t.Helper()
	data, _ := c.Actions[0]["data"].(map[string]any)
	out := maps.Clone(data)
	for _, el := range c.Body {
		if id, _ := el["id"].(string); id != "" && el["value"] != nil {
			out[id] = el["value"]
		}
	}
	for k, v := range edits {
		out[k] = v
	}
	return out
}

func inputValue(c card, id string) any {
	if i := findInput(c, id); i >= 0 {
		return c.Body[i]["value"]
	}
	return nil
}

// A display name left empty is the names: used in the same submit, no round trip.
func TestOnboardFormEmptyDisplayNameAcceptedAtOnce(t *testing.T) {
	o := newOnboardEnv(t)
	_, id := o.openForm(simtenant.MaxID)
	data := goodForm(o, id)
	data["displayName"] = ""
	_, raw := o.submit(simtenant.MaxID, data)
	if !strings.Contains(raw, "Waiting for approval") || !strings.Contains(raw, "José Müller") {
		t.Fatalf("submit with an empty display name answered %s, want Waiting for approval for José Müller", raw)
	}
	if form := string(o.request(id).Form); !strings.Contains(form, `"DisplayName":"José Müller"`) {
		t.Fatalf("stored form %s, want display name José Müller", form)
	}
}

// After a round trip, the suggestions tapbot filled in follow corrected names, and a
// value the requester typed over them is kept.
func TestOnboardFormSuggestionsFollowCorrectedNames(t *testing.T) {
	o := newOnboardEnv(t)
	_, id := o.openForm(simtenant.MaxID)
	data := goodForm(o, id)
	data["surname"], data["displayName"], data["mailNickname"], data["usageLocation"] = "Muler", "", "", "XX"
	c, raw := o.submit(simtenant.MaxID, data)
	if inputValue(c, "displayName") != "José Muler" || inputValue(c, "mailNickname") != "jose.muler" || errorAfter(c, "usageLocation") == "" {
		t.Fatalf("first answer %s\nwant José Muler and jose.muler suggested, and an error beside usageLocation", raw)
	}

	// The surname corrected: both suggestions follow; the new user name is shown first.
	c, raw = o.submit(simtenant.MaxID, resubmission(t, c, map[string]any{"surname": "Müller", "usageLocation": "DE"}))
	if inputValue(c, "displayName") != "José Müller" || inputValue(c, "mailNickname") != "jose.muller" || !strings.Contains(raw, "suggested the user name") {
		t.Fatalf("after correcting the surname %s\nwant José Müller and jose.muller, the user name suggestion named", raw)
	}
	if strings.Contains(raw, "suggested the display name") {
		t.Errorf("answer %s\nwant no second display name suggestion", raw)
	}

	if _, err := o.store.Onboard(context.Background(), id); err == nil {
		t.Fatal("stored before the requester saw the user name")
	}

	// A display name typed over the suggestion survives another correction; the user
	// name the requester has seen is still the names' suggestion, so it is accepted.
	_, raw = o.submit(simtenant.MaxID, resubmission(t, c, map[string]any{"givenName": "Jose", "displayName": "Pepe Müller"}))
	if !strings.Contains(raw, "Waiting for approval") {
		t.Fatalf("final submit answered %s, want Waiting for approval", raw)
	}
	form := string(o.request(id).Form)
	if !strings.Contains(form, `"DisplayName":"Pepe Müller"`) || !strings.Contains(form, `"MailNickname":"jose.muller"`) || strings.Contains(form, "Suggested") {
		t.Fatalf("stored form %s, want display name Pepe Müller, user name jose.muller, no suggestion flags", form)
	}
}

// With the Teams people picker the form names the manager it pre-selects, also when
// it comes back with an error about them.
func TestOnboardFormPickerShowsManagerByName(t *testing.T) {
	o := newOnboardEnv(t)
	form, id := o.openForm(simtenant.MaxID)
	i := findInput(form, "manager")
	want := []any{map[string]any{"title": "Max Manager", "value": simtenant.MaxID}}
	if i < 0 || form.Body[i]["value"] != simtenant.MaxID || !reflect.DeepEqual(form.Body[i]["choices"], want) {
		t.Fatalf("form body %v, want the manager input with Max pre-selected and named: %v", form.Body, want)
	}
	data := goodForm(o, id)
	data["manager"] = simtenant.GregID
	c, raw := o.submit(simtenant.MaxID, data)
	want = []any{map[string]any{"title": "Greg Guest", "value": simtenant.GregID}}
	if i := findInput(c, "manager"); c.Body[i]["value"] != simtenant.GregID || !reflect.DeepEqual(c.Body[i]["choices"], want) {
		t.Fatalf("answer %s\nwant the refused manager pre-selected and named: %v", raw, want)
	}
}

// In the Playground (no people picker) the manager is a sign-in name, pre-filled with
// the requester's, and resolved to the person when the request is validated.
func TestOnboardFormManagerByUPN(t *testing.T) {
	o := newOnboardEnv(t, func(c *onboard.Config) { c.PeoplePicker = false })
	form, id := o.openForm(simtenant.MaxID)
	if i := findInput(form, "manager"); i < 0 || form.Body[i]["type"] != "Input.Text" || form.Body[i]["value"] != simtenant.MaxUPN {
		t.Fatalf("form body %v, want the manager as an Input.Text pre-filled with %s", form.Body, simtenant.MaxUPN)
	}
	data := goodForm(o, id)
	data["manager"] = strings.ToUpper(simtenant.MaxUPN)
	if _, raw := o.submit(simtenant.MaxID, data); !strings.Contains(raw, "Waiting for approval") || !strings.Contains(raw, "Max Manager") {
		t.Fatalf("submit with a UPN manager answered %s, want Waiting for approval with Max Manager", raw)
	}
	o.decide(simtenant.AlexID, onboard.VerbApprove, id, nil)
	u, ok := o.tenant.User(joseUPN)
	if !ok {
		t.Fatal("user not created")
	}
	if m, _ := o.tenant.ManagerOf(u.ID); m != simtenant.MaxID {
		t.Errorf("manager %q, want Max's id", m)
	}
}

func TestOnboardReject(t *testing.T) {
	o := newOnboardEnv(t)
	id := o.submitted()
	c, raw := o.decide(simtenant.AlexID, onboard.VerbReject, id, map[string]any{"reason": "Hire postponed"})
	if !strings.Contains(raw, "Rejected by Alex Approver: Hire postponed") || len(c.Actions) != 0 {
		t.Fatalf("rejected card %s\nwant Rejected by Alex Approver: Hire postponed and no actions", raw)
	}
	if r := o.request(id); r.State != store.OnboardRejected || r.Decision != "Hire postponed" {
		t.Fatalf("request %+v, want rejected, decision Hire postponed", r)
	}
	if _, ok := o.tenant.User(joseUPN); ok || o.usersCreated() != 0 {
		t.Fatal("a rejected request created a user")
	}
	if row := o.lastAudit("onboard.reject"); row.Outcome != "allowed" || row.RequesterID != simtenant.AlexID {
		t.Fatalf("onboard.reject audit %+v, want allowed, by Alex", row)
	}
	// A later approval changes nothing.
	_, raw = o.decide(simtenant.AlexID, onboard.VerbApprove, id, nil)
	if !strings.Contains(raw, "already decided") || o.request(id).State != store.OnboardRejected {
		t.Fatalf("approve after reject answered %s, want already decided and the request still rejected", raw)
	}
	told := false
	for _, s := range o.callsTo(personalConv) {
		told = told || strings.Contains(s, "was rejected by Alex Approver. Reason: Hire postponed")
	}
	if !told {
		t.Error("requester not told of the rejection")
	}
}

func TestOnboardSelfApprovalRefused(t *testing.T) {
	o := newOnboardEnv(t)
	_, id := o.openForm(simtenant.AlexID) // Alex is an approver and asks himself
	data := goodForm(o, id)
	if _, raw := o.submit(simtenant.AlexID, data); !strings.Contains(raw, "Waiting for approval") {
		t.Fatalf("submit answered %s, want Waiting for approval", raw)
	}
	c, raw := o.decide(simtenant.AlexID, onboard.VerbApprove, id, nil)
	if !strings.Contains(raw, "another approver must decide") || len(c.Actions) != 2 {
		t.Fatalf("self-approval answered %s\nwant another approver must decide, both buttons kept", raw)
	}
	if r := o.request(id); r.State != store.OnboardSubmitted {
		t.Fatalf("state %s, want %s", r.State, store.OnboardSubmitted)
	}
	if row := o.lastAudit("onboard.approve"); row.Outcome != "refused" || row.Reason != "self_approval" {
		t.Fatalf("onboard.approve audit %+v, want refused self_approval", row)
	}
}

func TestOnboardNonApproverRefused(t *testing.T) {
	o := newOnboardEnv(t)
	id := o.submitted()
	for _, verb := range []string{onboard.VerbApprove, onboard.VerbReject, onboard.VerbRetry} {
		c, raw := o.decide(simtenant.HanaID, verb, id, nil)
		if !strings.Contains(raw, "Only members of the onboarding approvers group") || len(c.Actions) != 0 {
			t.Fatalf("%s by a non-approver answered %s\nwant Only members of the onboarding approvers group and no actions", verb, raw)
		}
		// A plain refusal: nothing of the request (the card's data may be forged or forwarded).
		for _, detail := range []string{"José", "Müller", "jose.muller", "Engineer", "Laptop ships", "Berlin", "R&D", id} {
			if strings.Contains(raw, detail) {
				t.Fatalf("%s by a non-approver shows %q, want no details of the request: %s", verb, detail, raw)
			}
		}
	}
	// Nor whether a request exists.
	_, known := o.decide(simtenant.HanaID, onboard.VerbApprove, id, nil)
	_, unknown := o.decide(simtenant.HanaID, onboard.VerbApprove, strings.Replace(id, id[len(id)-4:], "0000", 1), nil)
	if known != unknown {
		t.Fatalf("refusals for a known and an unknown request:\n%s\n%s\nwant them the same", known, unknown)
	}
	if r := o.request(id); r.State != store.OnboardSubmitted {
		t.Fatalf("state %s, want %s", r.State, store.OnboardSubmitted)
	}
	if row := o.lastAudit("onboard.reject"); row.Outcome != "refused" || row.Reason != "not_approver" {
		t.Fatalf("onboard.reject audit %+v, want refused not_approver", row)
	}
}

func TestOnboardDuplicateSubmitAndApproveMakeOneUser(t *testing.T) {
	o := newOnboardEnv(t)
	_, id := o.openForm(simtenant.MaxID)
	o.submit(simtenant.MaxID, goodForm(o, id))
	_, raw := o.submit(simtenant.MaxID, goodForm(o, id)) // Teams redelivers
	if !strings.Contains(raw, "already sent") {
		t.Fatalf("second submit answered %s, want already sent", raw)
	}
	// Someone else replaying the request id gets nothing.
	if _, raw := o.submit(simtenant.HanaID, goodForm(o, id)); !strings.Contains(raw, "not valid") {
		t.Fatalf("foreign submit answered %s, want not valid", raw)
	}
	if n := len(o.callsTo(approversConv)); n != 1 {
		t.Fatalf("%d approval cards, want 1", n)
	}

	// Two approvals at once and a late double click: one decision, one user.
	var wg sync.WaitGroup
	answers := make([]string, 2)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := o.activity("invoke", "personal", simtenant.AlexID, "")
			a["name"] = "adaptiveCard/action"
			a["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": onboard.VerbApprove,
				"data": map[string]any{"verb": onboard.VerbApprove, "requestId": id}}}
			_, body := o.post(a)
			raw, _ := json.Marshal(body)
			answers[i] = string(raw)
		}()
	}
	wg.Wait()
	o.drain()
	_, raw = o.decide(simtenant.AlexID, onboard.VerbApprove, id, nil)
	if !strings.Contains(raw, "already decided") {
		t.Fatalf("late click answered %s, want already decided", raw)
	}
	if already := strings.Count(strings.Join(answers, ""), "already decided"); already > 1 {
		t.Fatalf("concurrent approvals answered %v, want at most one already decided", answers)
	}
	if r := o.request(id); r.State != store.OnboardDone {
		t.Fatalf("state %s (%s), want %s", r.State, r.Error, store.OnboardDone)
	}
	if o.usersCreated() != 1 {
		t.Fatalf("%d POST /users, want 1", o.usersCreated())
	}
	if _, ok := o.tenant.User("jose.muller2@contoso.com"); ok {
		t.Fatal("a second user was created")
	}
	rows, _ := o.store.Audit(context.Background(), store.AuditFilter{Action: "onboard.approve", Outcome: "allowed"})
	if len(rows) != 1 {
		t.Fatalf("%d allowed approvals, want 1", len(rows))
	}
}

// assignLicence adds or removes a licence with a raw Graph request (the client only adds).
func (o *onboardEnv) assignLicence(userID, sku string, remove bool) {
	o.t.Helper()
	body := map[string]any{"addLicenses": []any{}, "removeLicenses": []any{}}
	if remove {
		body["removeLicenses"] = []any{sku}
	} else {
		body["addLicenses"] = []any{map[string]any{"skuId": sku, "disabledPlans": []any{}}}
	}
	raw, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, o.graph.URL()+"/v1.0/users/"+userID+"/assignLicense", bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer graph-test-token")
	req.Header.Set("Content-Type", "application/json")
	resp, err := o.graph.Client().Do(req)
	if err != nil {
		o.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		o.t.Fatalf("assignLicense: status %d, want 2xx", resp.StatusCode)
	}
}

func TestOnboardLicenceExhaustedThenRetry(t *testing.T) {
	o := newOnboardEnv(t)
	const sku = "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46" // SPB, one unit
	o.tenant.AddSKU(graph.SKU{ID: sku, PartNumber: "SPB", Enabled: 1})
	_, id := o.openForm(simtenant.MaxID)
	data := goodForm(o, id)
	data["licence"] = sku
	if _, raw := o.submit(simtenant.MaxID, data); !strings.Contains(raw, "Waiting for approval") {
		t.Fatalf("submit answered %s, want Waiting for approval", raw)
	}
	o.assignLicence(simtenant.NinaID, sku, false) // the last unit goes elsewhere meanwhile

	o.decide(simtenant.AlexID, onboard.VerbApprove, id, nil)
	r := o.request(id)
	if r.State != store.OnboardFailed || r.Step != onboard.StepGroups || !strings.Contains(r.Error, "No unit of Microsoft 365 Business Premium is free") {
		t.Fatalf("request %+v, want failed, step %s, error No unit of Microsoft 365 Business Premium is free", r, onboard.StepGroups)
	}
	if row := o.lastAudit("onboard.provision"); row.Outcome != "failed" || row.Reason != onboard.StepLicence {
		t.Fatalf("onboard.provision audit %+v, want failed at %s", row, onboard.StepLicence)
	}
	var retryCard bool
	for _, s := range o.callsTo(approversConv) {
		retryCard = retryCard || (strings.HasPrefix(s, "PUT") && strings.Contains(s, onboard.VerbRetry))
	}
	if !retryCard {
		t.Fatal("the approvers' card got no Retry")
	}

	// Retry by a non-approver is refused; after a unit is freed, an approver's works.
	if _, raw := o.decide(simtenant.MaxID, onboard.VerbRetry, id, nil); !strings.Contains(raw, "Only members") {
		t.Fatalf("retry by the requester answered %s, want Only members", raw)
	}
	o.assignLicence(simtenant.NinaID, sku, true)
	o.decide(simtenant.AlexID, onboard.VerbRetry, id, nil)
	r = o.request(id)
	if r.State != store.OnboardDone {
		t.Fatalf("request after retry %+v, want done", r)
	}
	if lic := o.tenant.LicensesOf(r.UserID); len(lic) != 1 || !strings.EqualFold(lic[0], sku) {
		t.Fatalf("licences %v, want [%s]", lic, sku)
	}
	if o.usersCreated() != 1 {
		t.Fatalf("%d POST /users, want 1", o.usersCreated())
	}
	// A second retry click finds nothing to do.
	if _, raw := o.decide(simtenant.AlexID, onboard.VerbRetry, id, nil); !strings.Contains(raw, "not waiting for a retry") {
		t.Fatalf("second retry answered %s, want not waiting for a retry", raw)
	}
}

func TestOnboardGraphOutageMidProvisioningThenRetry(t *testing.T) {
	o := newOnboardEnv(t)
	id := o.submitted()
	o.dir.on("manager", func() { o.graph.FailNext(1000, http.StatusServiceUnavailable, "0") })
	o.decide(simtenant.AlexID, onboard.VerbApprove, id, nil)
	r := o.request(id)
	if r.State != store.OnboardFailed || r.Step != onboard.StepUsageLocation || r.UserID == "" ||
		!strings.Contains(r.Error, "busy or unavailable") {
		t.Fatalf("request %+v, want failed at step %s with a user id: busy or unavailable", r, onboard.StepUsageLocation)
	}
	o.graph.Reset() // Graph is back
	o.decide(simtenant.AlexID, onboard.VerbRetry, id, nil)
	r = o.request(id)
	if r.State != store.OnboardDone {
		t.Fatalf("request after retry %+v, want done", r)
	}
	if m, _ := o.tenant.ManagerOf(r.UserID); m != simtenant.MaxID {
		t.Errorf("manager %q, want %q", m, simtenant.MaxID)
	}
	if o.usersCreated() != 0 { // Reset forgot the first attempt's requests: none since
		t.Fatalf("%d POST /users on the retry, want 0 (the user exists)", o.usersCreated())
	}
	if u, ok := o.tenant.User(joseUPN); !ok || u.ID != r.UserID {
		t.Fatal("user missing")
	}
	o.assertPasswordNeverLeaks(joseUPN)
}

// A create whose answer was lost (Graph created the user, then the call failed) is
// found on the retry and adopted rather than duplicated or refused.
func TestOnboardLostCreateAnswerAdoptsOwnUser(t *testing.T) {
	o := newOnboardEnv(t)
	id := o.submitted()
	// Before tapbot's create, "another attempt" creates the same account, so tapbot's
	// create meets a conflict on the UPN, exactly as a retried lost answer does.
	o.dir.on("user", func() {
		pw, _ := password.Generate()
		if _, err := o.gc.CreateUser(context.Background(), graph.NewUser{DisplayName: "José Müller", UserPrincipalName: joseUPN,
			MailNickname: "jose.muller", Password: pw}); err != nil {
			t.Error(err)
		}
	})
	o.decide(simtenant.AlexID, onboard.VerbApprove, id, nil)
	r := o.request(id)
	u, _ := o.tenant.User(joseUPN)
	if r.State != store.OnboardDone || r.UserID != u.ID {
		t.Fatalf("request %+v, want done with user id %s (the account it adopted)", r, u.ID)
	}
}

// An account someone else owns under the UPN fails the request plainly.
func TestOnboardUPNTakenMeanwhileFails(t *testing.T) {
	o := newOnboardEnv(t)
	id := o.submitted()
	o.dir.on("user", func() {
		pw, _ := password.Generate()
		if _, err := o.gc.CreateUser(context.Background(), graph.NewUser{DisplayName: "Someone Else", UserPrincipalName: joseUPN,
			Password: pw}); err != nil {
			t.Error(err)
		}
	})
	o.decide(simtenant.AlexID, onboard.VerbApprove, id, nil)
	r := o.request(id)
	if r.State != store.OnboardFailed || r.UserID != "" || !strings.Contains(r.Error, "was taken by another account") {
		t.Fatalf("request %+v, want failed with no user id: was taken by another account", r)
	}
}

// A crash between steps (here: a panic before the manager step, which Later
// survives, leaving the request as a dead process would) is resumed by the next
// process's Resume from the step after the last one recorded, without a second user.
func TestOnboardRestartBetweenStepsResumes(t *testing.T) {
	o := newOnboardEnv(t)
	id := o.submitted()
	o.dir.on("manager", func() { panic("simulated crash") })
	o.decide(simtenant.AlexID, onboard.VerbApprove, id, nil)
	r := o.request(id)
	if r.State != store.OnboardProvisioning || r.Step != onboard.StepUsageLocation || r.UserID == "" {
		t.Fatalf("request after the crash %+v, want provisioning at step %s with a user id", r, onboard.StepUsageLocation)
	}
	restarted, err := onboard.New(o.cfg, o.gc, o.conn, o.store, o.log)
	if err != nil {
		t.Fatal(err)
	}
	if err := restarted.Resume(context.Background()); err != nil {
		t.Fatal(err)
	}
	r = o.request(id)
	if r.State != store.OnboardDone {
		t.Fatalf("request after Resume %+v, want done", r)
	}
	if m, _ := o.tenant.ManagerOf(r.UserID); m != simtenant.MaxID {
		t.Errorf("manager %q, want %q", m, simtenant.MaxID)
	}
	if o.usersCreated() != 1 {
		t.Fatalf("%d POST /users, want 1", o.usersCreated())
	}
}

const helpdeskConv = "19:contoso-helpdesk@thread.tacv2"

// On the start date the helpdesk channel gets "New hire X starts today"; its Issue
// TAP button issues a pass through the TAP flow, privately to the helpdesk member who
// clicks, once.
func TestOnboardStartDayCardIssuesTAP(t *testing.T) {
	o := newOnboardEnv(t, func(c *onboard.Config) { c.HelpdeskConversation = helpdeskConv })
	id := o.submitted()
	o.decide(simtenant.AlexID, onboard.VerbApprove, id, nil)
	if r := o.request(id); r.State != store.OnboardDone {
		t.Fatalf("request %+v, want done", r)
	}
	ctx := context.Background()
	if n, err := o.ob.RunDueJobs(ctx); err != nil || n != 0 {
		t.Fatalf("before the start date: RunDueJobs = %d, %v; want 0, nil", n, err)
	}
	o.clock.advance(8 * 24 * time.Hour) // the start date is a week ahead
	if n, err := o.ob.RunDueJobs(ctx); err != nil || n != 1 {
		t.Fatalf("on the start date: RunDueJobs = %d, %v; want 1, nil", n, err)
	}
	if n, _ := o.ob.RunDueJobs(ctx); n != 0 {
		t.Fatal("the start-day card ran twice")
	}
	var posted string
	for _, c := range o.cloud.Calls() {
		if c.ConversationID == helpdeskConv {
			posted = decode(t, c).card()
		}
	}
	if !strings.Contains(posted, "New hire José Müller starts today") || !strings.Contains(posted, "Issue TAP") {
		t.Fatalf("start-day card %s\nwant New hire José Müller starts today, with Issue TAP", posted)
	}
	c := parseCard(t, []byte(posted))
	data := c.Actions[0]["data"]
	verb, _ := c.Actions[0]["verb"].(string)
	body := o.invoke(simtenant.HanaID, verb, data)
	if raw, _ := json.Marshal(body); verb != "tap.issue" || !strings.Contains(string(raw), "Creating the pass") {
		t.Fatalf("Issue TAP (verb %s) answered %s, want tap.issue and Creating the pass", verb, raw)
	}
	r := o.request(id)
	if taps := o.tenant.TAPsOf(r.UserID); len(taps) != 1 {
		t.Fatalf("%d TAPs for the new hire, want 1", len(taps))
	}
	if row := o.lastAudit("tap.create"); row.Outcome != "allowed" || row.TargetID != r.UserID || row.RequesterID != simtenant.HanaID {
		t.Fatalf("tap.create audit %+v, want allowed, by Hana, for user %s", row, r.UserID)
	}
	// A second click issues nothing more.
	if raw, _ := json.Marshal(o.invoke(simtenant.HanaID, verb, data)); !strings.Contains(string(raw), "Already issued") {
		t.Fatalf("second click answered %s, want Already issued", raw)
	}
	if taps := o.tenant.TAPsOf(r.UserID); len(taps) != 1 {
		t.Fatalf("%d TAPs after a second click, want 1", len(taps))
	}
}

func TestRequestsCommand(t *testing.T) {
	o := newOnboardEnv(t)
	id := o.submitted()
	// The requester sees it without buttons.
	calls := o.command("personal", simtenant.MaxID, "/requests")
	var all strings.Builder
	for _, c := range calls {
		s := decode(t, c)
		all.WriteString(s.Text + s.card())
	}
	if !strings.Contains(all.String(), "Your 1 open request") || !strings.Contains(all.String(), id) || strings.Contains(all.String(), onboard.VerbApprove) {
		t.Fatalf("requester's /requests: %s\nwant Your 1 open request, with %s and no buttons", all.String(), id)
	}
	// An approver sees it with Approve and Reject, and they work from there.
	calls = o.command("personal", simtenant.AlexID, "/requests")
	all.Reset()
	for _, c := range calls {
		s := decode(t, c)
		all.WriteString(s.Text + s.card())
	}
	if !strings.Contains(all.String(), "waiting for an approver") || !strings.Contains(all.String(), onboard.VerbApprove) {
		t.Fatalf("approver's /requests: %s\nwant it waiting for an approver, with Approve", all.String())
	}
	// Someone with nothing open is told so.
	calls = o.command("personal", simtenant.NinaID, "/requests")
	if len(calls) != 1 || !strings.Contains(decode(t, calls[0]).Text, "no open onboarding requests") {
		t.Fatalf("/requests with nothing open: calls %+v, want one reply saying no open onboarding requests", calls)
	}
}

// Provisioning that stopped without a record (the process died) is picked up by the
// job runner once it has been quiet for a while, not while it may still be running.
func TestOnboardJobRunnerResumesStaleProvisioning(t *testing.T) {
	o := newOnboardEnv(t)
	id := o.submitted()
	o.dir.on("manager", func() { panic("simulated crash") })
	o.decide(simtenant.AlexID, onboard.VerbApprove, id, nil)
	run := func() { o.ob.RunOnce(context.Background()) }
	run()
	if r := o.request(id); r.State != store.OnboardProvisioning {
		t.Fatalf("request before it went stale %+v, want still provisioning (not resumed)", r)
	}
	o.clock.advance(11 * time.Minute)
	run()
	r := o.request(id)
	if r.State != store.OnboardDone || o.usersCreated() != 1 {
		t.Fatalf("request after the runner %+v, %d users; want done and 1", r, o.usersCreated())
	}
}

// The requester's card (the form they submitted, whose id Teams sends as replyToId)
// follows the request's state: it is updated for approval and again when done.
func TestOnboardRequesterCardFollowsState(t *testing.T) {
	o := newOnboardEnv(t)
	_, id := o.openForm(simtenant.MaxID)
	a := o.activity("invoke", "personal", simtenant.MaxID, "")
	a["name"] = "adaptiveCard/action"
	a["replyToId"] = "form-card-1"
	a["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": onboard.SubmitVerb, "data": goodForm(o, id)}}
	if status, body := o.post(a); status != http.StatusOK || !strings.Contains(func() string { b, _ := json.Marshal(body); return string(b) }(), "Waiting for approval") {
		t.Fatalf("submit: status %d, body %v; want 200 and Waiting for approval", status, body)
	}
	o.drain()
	o.decide(simtenant.AlexID, onboard.VerbApprove, id, nil)
	var states []string
	for _, c := range o.cloud.Calls() {
		if c.ConversationID == personalConv && c.Method == http.MethodPut && c.ActivityID == "form-card-1" {
			body := decode(t, c).card()
			switch {
			case strings.Contains(body, "is ready"):
				states = append(states, "done")
			case strings.Contains(body, "Approved by Alex Approver"):
				states = append(states, "approved")
			}
			if strings.Contains(body, onboard.VerbApprove) || strings.Contains(body, onboard.VerbRetry) {
				t.Error("the requester's card got approver buttons")
			}
		}
	}
	if strings.Join(states, ",") != "approved,done" {
		t.Fatalf("requester's card updates %v, want [approved done]", states)
	}
}

// Without approvers configured the commands stay (they are in the app manifest) and
// say how to turn onboarding on; card actions change nothing.
func TestOnboardOffWithoutApprovers(t *testing.T) {
	o := newOnboardEnv(t, func(c *onboard.Config) { c.ApproverGroups, c.ApproversConversation = nil, "" })
	for _, cmd := range []string{"/onboard", "/requests"} {
		calls := o.command("personal", simtenant.MaxID, cmd)
		if len(calls) != 1 || !strings.Contains(decode(t, calls[0]).Text, "TAPBOT_APPROVER_GROUPS") {
			t.Fatalf("%s when off: calls %+v, want one reply naming TAPBOT_APPROVER_GROUPS", cmd, calls)
		}
	}
	if _, raw := o.submit(simtenant.MaxID, goodForm(o, "abc123")); !strings.Contains(raw, "not set up") {
		t.Fatalf("submit when off answered %s, want not set up", raw)
	}
	if _, err := o.store.Onboard(context.Background(), "abc123"); err == nil {
		t.Fatal("a request was stored while onboarding is off")
	}
}

// A replica killed mid-provisioning (here: its step never returns) leaves the request
// to another replica, which takes it over only once it is stale, and finishes it with
// one user; a live replica's provisioning is never resumed under it.
func TestOnboardAnotherReplicaFinishesStaleProvisioning(t *testing.T) {
	o := newOnboardEnv(t)
	id := o.submitted()
	o.dir.on("manager", func() { panic("simulated kill") })
	o.decide(simtenant.AlexID, onboard.VerbApprove, id, nil)
	if r := o.request(id); r.State != store.OnboardProvisioning || r.Step != onboard.StepUsageLocation {
		t.Fatalf("request after the kill %+v, want provisioning at step %s", r, onboard.StepUsageLocation)
	}
	other, err := onboard.New(o.cfg, o.gc, o.conn, o.store, o.log)
	if err != nil {
		t.Fatal(err)
	}
	other.RunOnce(context.Background())
	if r := o.request(id); r.State != store.OnboardProvisioning || r.Step != onboard.StepUsageLocation {
		t.Fatalf("request after another replica's early run %+v, want still provisioning at step %s (not stale yet)", r, onboard.StepUsageLocation)
	}
	o.clock.advance(11 * time.Minute)
	other.RunOnce(context.Background())
	r := o.request(id)
	if r.State != store.OnboardDone {
		t.Fatalf("request after the other replica's run %+v, want done", r)
	}
	if m, _ := o.tenant.ManagerOf(r.UserID); m != simtenant.MaxID || o.usersCreated() != 1 {
		t.Fatalf("manager %q, %d POST /users; want Max and 1", m, o.usersCreated())
	}
}

// An approval card that could not be posted (tapbot not in the approvers' channel):
// the requester is told to use /requests and to ask the approvers, not the helpdesk;
// /requests offers Send again and Cancel, each acting once.
func TestOnboardUnpostedApprovalRetryOrCancel(t *testing.T) {
	const missing = "19:approvers-without-tapbot@thread.tacv2"
	o := newOnboardEnv(t, func(c *onboard.Config) { c.ApproversConversation = missing })
	first := o.submitted()
	o.drain()
	told := strings.Join(o.callsTo(personalConv), "\n")
	if !strings.Contains(told, "/requests") || !strings.Contains(told, "approvers") || strings.Contains(told, "Tell the helpdesk") {
		t.Fatalf("requester told: %s\nwant /requests and the approvers named, not the helpdesk", told)
	}
	_, second := o.openForm(simtenant.MaxID)
	form := goodForm(o, second)
	form["mailNickname"], form["displayName"] = "jose.muller2", "José Müller 2"
	if _, raw := o.submit(simtenant.MaxID, form); !strings.Contains(raw, "Waiting for approval") {
		t.Fatalf("second submit answered %s, want Waiting for approval", raw)
	}
	o.drain()
	listed := o.command("personal", simtenant.MaxID, "/requests")
	o.drain()
	buttons := 0
	for _, c := range o.cloud.Calls() {
		if body := string(c.Body); strings.Contains(body, onboard.VerbRepost) && strings.Contains(body, onboard.VerbCancel) {
			buttons++
		}
	}
	if buttons < 2 {
		t.Fatalf("/requests (%d replies) offers Send again and Cancel on %d requests, want 2", len(listed), buttons)
	}
	// Only the requester may act on it.
	if _, raw := o.decide(simtenant.AlexID, onboard.VerbRepost, first, nil); !strings.Contains(raw, "not valid") {
		t.Fatalf("someone else's repost answered %s, want not valid", raw)
	}

	// tapbot is added to the approvers' channel; Send again posts the card, once.
	if err := o.store.SaveReference(context.Background(), store.Reference{ConversationID: missing, Scope: store.ScopeChannel,
		TenantID: simtenant.ContosoTenantID, ServiceURL: o.cloud.ServiceURL(), BotID: botAccount}); err != nil {
		t.Fatal(err)
	}
	if _, raw := o.decide(simtenant.MaxID, onboard.VerbRepost, first, nil); !strings.Contains(raw, "again") {
		t.Fatalf("repost answered %s, want it sent again", raw)
	}
	if _, raw := o.decide(simtenant.MaxID, onboard.VerbRepost, first, nil); !strings.Contains(raw, "not waiting") {
		t.Fatalf("second repost answered %s, want not waiting", raw)
	}
	o.drain()
	if posted := o.callsTo(missing); len(posted) != 1 || !strings.Contains(posted[0], onboard.VerbApprove) {
		t.Fatalf("%d approval cards posted, want 1 with Approve", len(posted))
	}

	// Cancel withdraws the other request, once; it cannot be posted afterwards.
	if _, raw := o.decide(simtenant.MaxID, onboard.VerbCancel, second, nil); !strings.Contains(raw, "cancelled") {
		t.Fatalf("cancel answered %s, want cancelled", raw)
	}
	if r := o.request(second); r.State != store.OnboardRejected || r.DeciderID != simtenant.MaxID {
		t.Fatalf("cancelled request %+v, want rejected, decided by Max", r)
	}
	if _, raw := o.decide(simtenant.MaxID, onboard.VerbRepost, second, nil); !strings.Contains(raw, "not waiting") {
		t.Fatalf("repost after cancel answered %s, want not waiting", raw)
	}
	for _, a := range []store.Action{store.ActionOnboardRepost, store.ActionOnboardCancel} {
		if n := len(o.audits(a)); n != 1 {
			t.Fatalf("%s audited %d times, want once", a, n)
		}
	}
}
