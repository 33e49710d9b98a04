package cards

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// Verbs of the checklist card's Action.Execute actions. Their data is
// {"verb", "requestId"} plus "step" for claim and stuck.
const (
	ChecklistClaimVerb   = "checklist.claim"   // "I did this"
	ChecklistStuckVerb   = "checklist.stuck"   // "I'm stuck"
	ChecklistRefreshVerb = "checklist.refresh" // Refresh button and automatic refresh
)

// MaxRefreshUsers is the most user MRIs Teams takes in a card's refresh.userIds.
const MaxRefreshUsers = 60

// ChecklistStatus is a step's status as the card shows it. The words are those of
// bot/checklist.Status.
type ChecklistStatus string

// Checklist step statuses.
const (
	ChecklistTodo    ChecklistStatus = "todo"
	ChecklistClaimed ChecklistStatus = "claimed"
	ChecklistDone    ChecklistStatus = "done"
)

// ChecklistLink is a link shown with a step; URL must be https.
type ChecklistLink struct {
	Title, URL string
}

// ChecklistStep is one step as the card shows it. The texts come from the company's
// checklist content and are shown literally.
type ChecklistStep struct {
	ID                      string
	Title, Body, Why, Stuck string
	Links                   []ChecklistLink
	Status                  ChecklistStatus
	DoneAt                  time.Time
}

// ChecklistView is what the checklist card shows.
type ChecklistView struct {
	RequestID string // the onboarding request the checklist belongs to, in every action's data
	Welcome   string
	// HireName and HireUPN name the new hire on the manager's copy.
	HireName, HireUPN string
	Steps             []ChecklistStep
	// Current is the id of the step to work on (checklist.Next); its stuck hint is shown.
	Current string
	// CheckedAt is when Graph was last asked; zero hides the line.
	CheckedAt time.Time
	// Times writes CheckedAt and DoneAt: ViewerTimes, since the card is posted and
	// updated on tapbot's initiative and the manager gets a copy.
	Times Times
	// RefreshUserIDs are the Teams user MRIs ("29:…", the activity's From.ID) whose
	// client refreshes the card automatically when it is shown (at most 60). Empty
	// means nobody's does: Teams then offers "Refresh card" in the card's menu.
	RefreshUserIDs []string
}

// ChecklistData is the data of the checklist card's buttons: which checklist and step.
// It comes back from the client, so the checklist flow reads it with bot.Decode and
// acts only on the clicker's own checklist.
type ChecklistData struct {
	Verb      string `json:"verb"` // repeated so an Action.Submit fallback routes too
	RequestID string `json:"requestId"`
	Step      string `json:"step,omitempty"`
}

// Checklist is the new hire's checklist card: the welcome, one section per step with
// its marker (✓ done, ⏳ waiting for confirmation, ○ to do), and, on steps not done,
// "I did this" and "I'm stuck". Done steps show their title and when only. Send it
// with Refresh set to ChecklistRefresh(v) so it refreshes itself.
func Checklist(v ChecklistView) Card {
	body := []Element{
		TextBlock{Text: "Your first day: sign-in set-up", Size: "Medium", Weight: "Bolder", Wrap: true},
	}
	if v.Welcome != "" {
		body = append(body, RichText{Runs: []TextRun{{Text: v.Welcome}}})
	}
	body = append(body, progressLine(v))
	for _, s := range v.Steps {
		body = append(body, checklistSection(v, s, true))
	}
	return Card{Body: body, Actions: []Action{
		Execute{Title: "Refresh", Verb: ChecklistRefreshVerb, Data: ChecklistData{Verb: ChecklistRefreshVerb, RequestID: v.RequestID}},
	}}
}

// ChecklistCopy is the manager's read-only copy: what the new hire sees, with their
// progress, and no buttons but the steps' links.
func ChecklistCopy(v ChecklistView) Card {
	body := []Element{
		TextBlock{Text: "What your new hire will see", Size: "Medium", Weight: "Bolder", Wrap: true},
	}
	if v.HireUPN != "" || v.HireName != "" {
		body = append(body, userLine(v.HireName, v.HireUPN))
	}
	body = append(body,
		TextBlock{Text: "Their steps tick themselves when Microsoft 365 shows them done. You don't need to do anything; if they get stuck, the helpdesk hears about it.", Subtle: true, Wrap: true, Size: "Small"},
		progressLine(v))
	if v.Welcome != "" {
		body = append(body, RichText{Runs: []TextRun{{Text: v.Welcome, Subtle: true}}})
	}
	for _, s := range v.Steps {
		body = append(body, checklistSection(v, s, false))
	}
	return Card{Body: body}
}

// ChecklistRefresh is the card's Universal Actions refresh: Teams sends the
// checklist.refresh invoke when one of v.RefreshUserIDs views the card.
func ChecklistRefresh(v ChecklistView) Refresh {
	return Refresh{
		Action:  Execute{Title: "Refresh", Verb: ChecklistRefreshVerb, Data: ChecklistData{Verb: ChecklistRefreshVerb, RequestID: v.RequestID}},
		UserIDs: v.RefreshUserIDs,
	}
}

func progressLine(v ChecklistView) Element {
	done := 0
	for _, s := range v.Steps {
		if s.Status == ChecklistDone {
			done++
		}
	}
	text := strconv.Itoa(done) + " of " + strconv.Itoa(len(v.Steps)) + " steps done."
	if len(v.Steps) > 0 && done == len(v.Steps) {
		text = "All done: no password needed, ever. Welcome!"
	}
	if !v.CheckedAt.IsZero() {
		text += " Last checked " + v.Times.At(v.CheckedAt) + "."
	}
	return TextBlock{Text: text, Wrap: true, Weight: "Bolder", Spacing: "Medium"}
}

func checklistSection(v ChecklistView, s ChecklistStep, interactive bool) Element {
	marker, color := "○ ", ""
	switch s.Status {
	case ChecklistDone:
		marker, color = "✓ ", "Good"
	case ChecklistClaimed:
		marker, color = "⏳ ", "Warning"
	}
	items := []Element{RichText{Runs: []TextRun{
		{Text: marker, Weight: "Bolder", Color: color},
		{Text: s.Title, Weight: "Bolder"},
	}}}
	switch s.Status {
	case ChecklistDone:
		line := "Done."
		if !s.DoneAt.IsZero() {
			line = "Done " + v.Times.At(s.DoneAt) + "."
		}
		items = append(items, TextBlock{Text: line, Subtle: true, Size: "Small", Wrap: true, Spacing: "None"})
		return Container{Items: items, Spacing: "Medium"}
	case ChecklistClaimed:
		items = append(items, TextBlock{Text: "Waiting for confirmation: this ticks itself as soon as Microsoft 365 shows it.", Subtle: true, Size: "Small", Wrap: true, Spacing: "None"})
	}
	if s.Body != "" {
		items = append(items, RichText{Runs: []TextRun{{Text: s.Body, Subtle: true}}, Spacing: "Small"})
	}
	if s.Why != "" {
		items = append(items, RichText{Runs: []TextRun{{Text: "Why: ", Subtle: true, Weight: "Bolder", Size: "Small"}, {Text: s.Why, Subtle: true, Size: "Small"}}, Spacing: "Small"})
	}
	if s.Stuck != "" && s.ID == v.Current && interactive {
		items = append(items, RichText{Runs: []TextRun{{Text: "Stuck? ", Weight: "Bolder", Size: "Small"}, {Text: s.Stuck, Size: "Small"}}, Spacing: "Small"})
	}
	var actions []Action
	for _, l := range s.Links {
		if httpsURL(l.URL) {
			actions = append(actions, OpenURL(l))
		}
	}
	if interactive {
		if s.Status == ChecklistTodo {
			actions = append(actions, Execute{Title: "I did this", Verb: ChecklistClaimVerb,
				Data: ChecklistData{Verb: ChecklistClaimVerb, RequestID: v.RequestID, Step: s.ID}})
		}
		actions = append(actions, Execute{Title: "I'm stuck", Verb: ChecklistStuckVerb,
			Data: ChecklistData{Verb: ChecklistStuckVerb, RequestID: v.RequestID, Step: s.ID}})
	}
	if len(actions) > 0 {
		items = append(items, ActionSet{Actions: actions, Spacing: "Small"})
	}
	return Container{Items: items, Spacing: "Medium"}
}

// OpenURL is an Action.OpenUrl. Only https URLs are allowed: marshalling any other
// fails, so a bad link cannot reach a card.
type OpenURL struct {
	Title string
	URL   string
}

func (OpenURL) isAction() {}

// MarshalJSON implements json.Marshaler.
func (o OpenURL) MarshalJSON() ([]byte, error) {
	if !httpsURL(o.URL) {
		return nil, fmt.Errorf("cards: Action.OpenUrl %q: not an https URL", o.URL)
	}
	return json.Marshal(struct {
		Type  string `json:"type"`
		Title string `json:"title"`
		URL   string `json:"url"`
	}{"Action.OpenUrl", o.Title, o.URL})
}

func httpsURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Scheme == "https" && u.Hostname() != "" && u.User == nil
}

// ActionSet shows actions inside the body, e.g. under the section they belong to.
type ActionSet struct {
	Actions []Action
	Spacing string
}

func (ActionSet) isElement() {}

// MarshalJSON implements json.Marshaler.
func (a ActionSet) MarshalJSON() ([]byte, error) {
	actions := a.Actions
	if actions == nil {
		actions = []Action{}
	}
	return json.Marshal(struct {
		Type    string   `json:"type"`
		Actions []Action `json:"actions"`
		Spacing string   `json:"spacing,omitempty"`
	}{"ActionSet", actions, a.Spacing})
}

// Refresh is a card's Universal Actions refresh: Teams invokes Action with trigger
// "automatic" when one of UserIDs (Teams user MRIs, at most 60) views the card. With
// no UserIDs nobody's client refreshes it automatically; Teams shows a "Refresh card"
// menu item instead. Outlook ignores UserIDs.
type Refresh struct {
	Action  Execute
	UserIDs []string
}

// MarshalJSON implements json.Marshaler. userIds is always written: Teams documents
// that it must be present.
func (r Refresh) MarshalJSON() ([]byte, error) {
	if len(r.UserIDs) > MaxRefreshUsers {
		return nil, fmt.Errorf("cards: refresh.userIds has %d users, Teams takes at most %d", len(r.UserIDs), MaxRefreshUsers)
	}
	ids := r.UserIDs
	if ids == nil {
		ids = []string{}
	}
	return json.Marshal(struct {
		Action  Execute  `json:"action"`
		UserIDs []string `json:"userIds"`
	}{r.Action, ids})
}
