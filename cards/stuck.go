package cards

import (
	"fmt"
	"net/url"
	"time"
)

// StuckView is what the helpdesk sees when a new hire presses "I'm stuck".
type StuckView struct {
	HireName, HireUPN string
	StepTitle         string
	Hint              string   // the step's known pitfall, from the checklist content
	GraphShows        []string // tapbot's own wording of the evidence, e.g. "Authenticator registered 2026-03-02"
	At                time.Time
	// Again counts the presses after the first that this card stands for (tapbot
	// updates one card instead of posting another); LastAt is the latest.
	Again     int
	LastAt    time.Time
	IssueData any // data of the "Issue new TAP" button (bot/tap IssueData)
	// Handler is who pressed "Issue new TAP" ("" while nobody has): everyone in the
	// channel sees that someone is on it.
	Handler string
	Times   Times // ViewerTimes: the card is in a channel, read by everyone there
}

// Stuck is the card posted to the helpdesk channel: who, which step, what Graph shows,
// and the two ways to help — a fresh pass (the /tap checks run for whoever clicks; the
// pass goes to their private chat) and a chat with the hire.
func Stuck(v StuckView) Card {
	body := []Element{
		TextBlock{Text: "A new hire is stuck", Size: "Medium", Weight: "Bolder", Wrap: true},
		userLine(v.HireName, v.HireUPN),
		RichText{Runs: []TextRun{{Text: "Step: ", Weight: "Bolder"}, {Text: v.StepTitle}}},
	}
	if !v.At.IsZero() {
		body = append(body, TextBlock{Text: "Asked for help " + v.Times.At(v.At) + ".", Subtle: true, Wrap: true, Spacing: "None"})
	}
	if v.Again > 0 {
		text := fmt.Sprintf("Asked again %d times, last %s.", v.Again, v.Times.At(v.LastAt))
		if v.Again == 1 {
			text = "Asked again " + v.Times.At(v.LastAt) + "."
		}
		body = append(body, RichText{Runs: []TextRun{{Text: text, Weight: "Bolder", Color: "Attention"}}, Spacing: "None"})
	}
	if v.Handler != "" {
		body = append(body, RichText{Runs: []TextRun{{Text: v.Handler, Weight: "Bolder", Color: "Good"}, {Text: " is issuing a new pass.", Color: "Good"}}})
	}
	shows := v.GraphShows
	if len(shows) == 0 {
		shows = []string{"nothing registered yet"}
	}
	body = append(body, TextBlock{Text: "What Microsoft Entra shows", Weight: "Bolder", Wrap: true})
	for _, s := range shows {
		body = append(body, RichText{Runs: []TextRun{{Text: "• " + s}}, Spacing: "None"})
	}
	if v.Hint != "" {
		body = append(body, RichText{Runs: []TextRun{{Text: "Known pitfall: ", Weight: "Bolder"}, {Text: v.Hint, Subtle: true}}})
	}
	actions := []Action{Execute{Title: "Issue new TAP", Verb: "tap.issue", Data: v.IssueData, Style: "positive"}}
	if v.HireUPN != "" {
		// Teams' deep link opens (or starts) a 1:1 chat with the user.
		actions = append(actions, OpenURL{Title: "Message them",
			URL: "https://teams.microsoft.com/l/chat/0/0?users=" + url.QueryEscape(v.HireUPN)})
	}
	return Card{Body: body, Actions: actions}
}
