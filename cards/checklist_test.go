package cards

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// sampleChecklist is a checklist part way through: done, claimed and to-do steps,
// company text with markdown in it, and the hire's MRI for the automatic refresh.
func sampleChecklist() ChecklistView {
	start := time.Date(2026, time.March, 2, 8, 30, 0, 0, time.UTC)
	return ChecklistView{
		RequestID: "req-8c1f", Times: ViewerTimes(),
		Welcome:  "Welcome to *Contoso*! [Click](https://evil.example) <at>Max</at>",
		HireName: "Nina Newhire", HireUPN: "nina@contoso.com",
		Current:   "add-account",
		CheckedAt: start.Add(20 * time.Minute),
		Steps: []ChecklistStep{
			{ID: "tap", Title: "Get your Temporary Access Pass", Body: "Call the helpdesk.", Why: "You have no password.", Status: ChecklistDone, DoneAt: start},
			{ID: "install", Title: "Install Microsoft Authenticator", Body: "Install the app.", Why: "Your phone is your sign-in.", Status: ChecklistClaimed,
				Links: []ChecklistLink{{"App Store (iPhone)", "https://apps.apple.com/app/microsoft-authenticator/id983156458"},
					{"Google Play (Android)", "https://play.google.com/store/apps/details?id=com.azure.authenticator"}}},
			{ID: "add-account", Title: "Add your **work** account", Body: "Skip → Add account → Work or school account → Sign in", Why: "It connects the app.",
				Stuck: "Ask the helpdesk_for a new pass.", Status: ChecklistTodo},
			{ID: "hello", Title: "Set up Windows Hello", Body: "Set a PIN.", Why: "Daily sign-in.", Stuck: "Settings → Accounts", Status: ChecklistTodo},
		},
		RefreshUserIDs: []string{"29:1bSnHZ7Js2STWrgk6ScEErLk1Lp2zQuD5H2qQ960rtvs"},
	}
}

// Generic JSON view of a card.
type node = map[string]any

func decode(t *testing.T, v any) node {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var n node
	if err := json.Unmarshal(raw, &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func list(n node, key string) []node {
	var out []node
	for _, x := range n[key].([]any) {
		out = append(out, x.(node))
	}
	return out
}

// runsText joins a RichTextBlock's runs.
func runsText(n node) string {
	var b strings.Builder
	for _, r := range list(n, "inlines") {
		b.WriteString(r["text"].(string))
	}
	return b.String()
}

// section is what a step's Container shows: its text and its actions.
type section struct {
	text    []string
	actions []node
}

func sections(t *testing.T, card node) []section {
	t.Helper()
	var out []section
	for _, e := range list(card, "body") {
		if e["type"] != "Container" {
			continue
		}
		var s section
		for _, it := range list(e, "items") {
			switch it["type"] {
			case "RichTextBlock":
				s.text = append(s.text, runsText(it))
			case "TextBlock":
				s.text = append(s.text, it["text"].(string))
			case "ActionSet":
				s.actions = append(s.actions, list(it, "actions")...)
			default:
				t.Fatalf("step item of type %v, want RichTextBlock, TextBlock or ActionSet", it["type"])
			}
		}
		out = append(out, s)
	}
	return out
}

func TestChecklistShape(t *testing.T) {
	v := sampleChecklist()
	card := decode(t, withRefresh(Checklist(v), ChecklistRefresh(v)))
	if card["type"] != "AdaptiveCard" || card["version"] != "1.5" || card["$schema"] == nil {
		t.Fatalf("card = %v, want type AdaptiveCard, version 1.5 and a $schema", card)
	}
	// Universal Actions refresh: an Action.Execute and the hire's MRI.
	refresh := card["refresh"].(node)
	action := refresh["action"].(node)
	if action["type"] != "Action.Execute" || action["verb"] != ChecklistRefreshVerb ||
		action["data"].(node)["requestId"] != "req-8c1f" || action["data"].(node)["verb"] != ChecklistRefreshVerb {
		t.Errorf("refresh action = %v, want Action.Execute verb %q with data requestId req-8c1f and the same verb", action, ChecklistRefreshVerb)
	}
	if ids := refresh["userIds"].([]any); len(ids) != 1 || ids[0] != v.RefreshUserIDs[0] {
		t.Errorf("refresh userIds = %v, want [%s]", refresh["userIds"], v.RefreshUserIDs[0])
	}
	// The card-level Refresh button.
	acts := list(card, "actions")
	if len(acts) != 1 || acts[0]["verb"] != ChecklistRefreshVerb || acts[0]["title"] != "Refresh" {
		t.Errorf("card actions = %v, want one Refresh button with verb %q", acts, ChecklistRefreshVerb)
	}
	// The welcome is literal text in a run, markdown and all.
	body := list(card, "body")
	if body[1]["type"] != "RichTextBlock" || runsText(body[1]) != v.Welcome {
		t.Errorf("welcome = %v, want a RichTextBlock reading %q", body[1], v.Welcome)
	}
	if !strings.Contains(body[2]["text"].(string), "1 of 4 steps done.") || !strings.Contains(body[2]["text"].(string), "{{DATE(2026-03-02T08:50:00Z") {
		t.Errorf("progress line = %v, want it to contain %q and %q", body[2]["text"], "1 of 4 steps done.", "{{DATE(2026-03-02T08:50:00Z")
	}

	secs := sections(t, card)
	if len(secs) != 4 {
		t.Fatalf("%d sections, want 4", len(secs))
	}
	// Markers per state.
	for i, want := range []string{"✓ Get your", "⏳ Install", "○ Add your **work** account", "○ Set up"} {
		if !strings.HasPrefix(secs[i].text[0], want) {
			t.Errorf("section %d title %q, want prefix %q", i, secs[i].text[0], want)
		}
	}
	// Done: title and time, no body, no buttons.
	if len(secs[0].actions) != 0 || len(secs[0].text) != 2 || !strings.HasPrefix(secs[0].text[1], "Done {{DATE(2026-03-02T08:30:00Z") {
		t.Errorf("done section = %+v, want no actions and two lines, the second starting %q", secs[0], "Done {{DATE(2026-03-02T08:30:00Z")
	}
	// Claimed: waiting for confirmation, links, "I'm stuck" but no second "I did this".
	if !strings.Contains(secs[1].text[1], "Waiting for confirmation") {
		t.Errorf("claimed section = %q, want its second line to contain %q", secs[1].text, "Waiting for confirmation")
	}
	if got := titles(secs[1].actions); got != "App Store (iPhone)|Google Play (Android)|I'm stuck" {
		t.Errorf("claimed actions = %s, want %s", got, "App Store (iPhone)|Google Play (Android)|I'm stuck")
	}
	if secs[1].actions[0]["type"] != "Action.OpenUrl" || secs[1].actions[0]["url"] != "https://apps.apple.com/app/microsoft-authenticator/id983156458" {
		t.Errorf("first claimed action = %v, want Action.OpenUrl to %s", secs[1].actions[0], "https://apps.apple.com/app/microsoft-authenticator/id983156458")
	}
	// To do: both buttons, with the step in the data; the current step shows its stuck hint.
	if got := titles(secs[2].actions); got != "I did this|I'm stuck" {
		t.Errorf("todo actions = %s, want %s", got, "I did this|I'm stuck")
	}
	claim, stuck := secs[2].actions[0], secs[2].actions[1]
	if claim["type"] != "Action.Execute" || claim["verb"] != ChecklistClaimVerb ||
		claim["data"].(node)["step"] != "add-account" || claim["data"].(node)["requestId"] != "req-8c1f" {
		t.Errorf("claim = %v, want Action.Execute verb %q with data step add-account, requestId req-8c1f", claim, ChecklistClaimVerb)
	}
	if stuck["verb"] != ChecklistStuckVerb || stuck["data"].(node)["step"] != "add-account" {
		t.Errorf("stuck = %v, want verb %q with data step add-account", stuck, ChecklistStuckVerb)
	}
	if got := strings.Join(secs[2].text, "\n"); !strings.Contains(got, "Stuck? Ask the helpdesk_for a new pass.") ||
		!strings.Contains(got, "Skip → Add account → Work or school account → Sign in") || !strings.Contains(got, "Why: It connects the app.") {
		t.Errorf("todo text = %s, want it to contain %q, %q and %q", got,
			"Stuck? Ask the helpdesk_for a new pass.", "Skip → Add account → Work or school account → Sign in", "Why: It connects the app.")
	}
	// Only the current step shows its stuck hint.
	if strings.Contains(strings.Join(secs[3].text, "\n"), "Settings → Accounts") {
		t.Errorf("non-current step text = %q, want no stuck hint (%q)", secs[3].text, "Settings → Accounts")
	}
}

func titles(actions []node) string {
	var t []string
	for _, a := range actions {
		t = append(t, a["title"].(string))
	}
	return strings.Join(t, "|")
}

// Company and user text never goes through markdown: it sits in RichText runs.
func TestChecklistTextIsLiteral(t *testing.T) {
	raw, err := json.Marshal(Checklist(sampleChecklist()))
	if err != nil {
		t.Fatal(err)
	}
	var card struct {
		Body []json.RawMessage `json:"body"`
	}
	_ = json.Unmarshal(raw, &card)
	var walk func(json.RawMessage)
	walk = func(m json.RawMessage) {
		var e struct {
			Type  string            `json:"type"`
			Text  string            `json:"text"`
			Items []json.RawMessage `json:"items"`
		}
		_ = json.Unmarshal(m, &e)
		if e.Type == "TextBlock" && (strings.Contains(e.Text, "Contoso") || strings.Contains(e.Text, "work") || strings.Contains(e.Text, "helpdesk_")) {
			t.Errorf("TextBlock text = %q, want content text only in RichText runs", e.Text)
		}
		for _, it := range e.Items {
			walk(it)
		}
	}
	for _, b := range card.Body {
		walk(b)
	}
	if !strings.Contains(string(raw), `"text":"Add your **work** account"`) {
		t.Errorf("card = %s, want it to contain %s", raw, `"text":"Add your **work** account"`)
	}
}

func TestChecklistAllDone(t *testing.T) {
	v := sampleChecklist()
	for i := range v.Steps {
		v.Steps[i].Status = ChecklistDone
	}
	v.CheckedAt = time.Time{}
	card := decode(t, Checklist(v))
	for i, s := range sections(t, card) {
		if len(s.actions) != 0 || !strings.HasPrefix(s.text[0], "✓ ") {
			t.Errorf("section %d = %+v, want no actions and a title starting %q", i, s, "✓ ")
		}
	}
	if got := list(card, "body")[2]["text"]; got != "All done: no password needed, ever. Welcome!" {
		t.Errorf("progress line = %v, want %q", got, "All done: no password needed, ever. Welcome!")
	}
}

func TestChecklistCopy(t *testing.T) {
	v := sampleChecklist()
	card := decode(t, ChecklistCopy(v))
	if card["version"] != "1.5" || card["actions"] != nil || card["refresh"] != nil {
		t.Fatalf("copy = %v, want version 1.5, no actions and no refresh", card)
	}
	body := list(card, "body")
	if body[0]["text"] != "What your new hire will see" || runsText(body[1]) != "Nina Newhire (nina@contoso.com)" {
		t.Errorf("copy heading = %v %v, want %q then %q", body[0], body[1], "What your new hire will see", "Nina Newhire (nina@contoso.com)")
	}
	secs := sections(t, card)
	if len(secs) != 4 {
		t.Fatalf("%d sections, want 4", len(secs))
	}
	for i, s := range secs {
		for _, a := range s.actions {
			if a["type"] != "Action.OpenUrl" {
				t.Errorf("section %d of the manager's copy has a %v button, want only Action.OpenUrl", i, a["type"])
			}
		}
	}
	if !strings.HasPrefix(secs[1].text[0], "⏳ ") || !strings.HasPrefix(secs[2].text[0], "○ ") {
		t.Errorf("copy sections 1 and 2 = %q %q, want titles starting %q and %q", secs[1].text, secs[2].text, "⏳ ", "○ ")
	}
	if strings.Contains(strings.Join(secs[2].text, "\n"), "Stuck?") {
		t.Errorf("copy shows the stuck hint, want none")
	}
}

func TestOpenURLOnlyHTTPS(t *testing.T) {
	for _, u := range []string{"http://contoso.com", "javascript:alert(1)", "", "/relative", "https://", "https://u:p@contoso.com", "ms-settings:signinoptions"} {
		if _, err := json.Marshal(OpenURL{Title: "x", URL: u}); err == nil {
			t.Errorf("json.Marshal(OpenURL{URL: %q}) succeeded, want an error", u)
		}
	}
	raw, err := json.Marshal(OpenURL{Title: "My Security Info", URL: "https://aka.ms/mysecurityinfo"})
	if err != nil || string(raw) != `{"type":"Action.OpenUrl","title":"My Security Info","url":"https://aka.ms/mysecurityinfo"}` {
		t.Fatalf("json.Marshal(OpenURL) = %s, %v; want %s, nil", raw, err, `{"type":"Action.OpenUrl","title":"My Security Info","url":"https://aka.ms/mysecurityinfo"}`)
	}
	// The checklist drops a non-https link rather than failing the whole card.
	v := sampleChecklist()
	v.Steps[2].Links = []ChecklistLink{{"evil", "javascript:alert(1)"}}
	if _, err := json.Marshal(Checklist(v)); err != nil {
		t.Fatal(err)
	}
	// A card carrying one directly fails to marshal.
	if _, err := json.Marshal(Card{Body: []Element{ActionSet{Actions: []Action{OpenURL{URL: "http://x"}}}}}); err == nil {
		t.Fatal("card with an http OpenUrl marshalled, want an error")
	}
}

func TestRefresh(t *testing.T) {
	// No users: userIds is still written (empty), and Teams offers a manual refresh.
	raw, _ := json.Marshal(Refresh{Action: Execute{Title: "Refresh", Verb: "v"}})
	if !strings.Contains(string(raw), `"userIds":[]`) {
		t.Errorf("empty refresh = %s, want it to contain %s", raw, `"userIds":[]`)
	}
	ids := make([]string, MaxRefreshUsers+1)
	for i := range ids {
		ids[i] = "29:x"
	}
	if _, err := json.Marshal(Refresh{UserIDs: ids}); err == nil {
		t.Error("61 userIds marshalled, want an error")
	}
	if _, err := json.Marshal(withRefresh(Card{}, Refresh{UserIDs: ids[:MaxRefreshUsers]})); err != nil {
		t.Error(err)
	}
	if _, err := json.Marshal(withRefresh(Card{}, Refresh{UserIDs: ids})); err == nil {
		t.Error("card with 61 userIds marshalled, want an error")
	}
	// A refresh keeps everything else Card writes.
	n := decode(t, withRefresh(Notice("a", "b"), Refresh{}))
	if n["type"] != "AdaptiveCard" || n["version"] != "1.5" || n["msteams"].(node)["width"] != "Full" || len(list(n, "body")) != 2 {
		t.Errorf("wrapped card = %v, want type AdaptiveCard, version 1.5, msteams width Full and 2 body elements", n)
	}
}

func TestEmptyActionSet(t *testing.T) {
	raw, _ := json.Marshal(ActionSet{})
	if string(raw) != `{"type":"ActionSet","actions":[]}` {
		t.Fatalf("json.Marshal(ActionSet{}) = %s, want %s", raw, `{"type":"ActionSet","actions":[]}`)
	}
}

func withRefresh(c Card, r Refresh) Card {
	c.Refresh = &r
	return c
}
