package doctor

import (
	"github.com/tapbot/tapbot/cards"
	checks "github.com/tapbot/tapbot/internal/doctor"
)

// Card shows a report: one row per check with its mark, title and finding, and the
// fix below it. Findings and fixes name groups as Graph calls them, so they go in
// RichText runs, which Teams never reads as markdown.
func Card(r checks.Report) cards.Card {
	body := []cards.Element{
		cards.TextBlock{Text: "Tenant check", Size: "Medium", Weight: "Bolder", Wrap: true},
		cards.TextBlock{Text: r.Summary(), Subtle: true, Wrap: true, Spacing: "None"},
	}
	for _, it := range r.Items {
		body = append(body, cards.RichText{Runs: []cards.TextRun{
			{Text: it.Status.Mark() + " ", Weight: "Bolder", Color: color(it.Status)},
			{Text: it.Title, Weight: "Bolder"},
			{Text: " — " + it.Detail},
		}, Spacing: "Medium"})
		if it.Status != checks.OK && it.Fix != "" {
			body = append(body, cards.RichText{Runs: []cards.TextRun{{Text: "Fix: " + it.Fix, Subtle: true, Size: "Small"}}, Spacing: "None"})
		}
	}
	footer := "This check only reads the tenant; tapbot never changes it from Teams."
	if len(checks.Plan(r)) > 0 {
		footer += " To make the changes marked “tapbot doctor --fix”, run `tapbot doctor --fix` on the server: it shows them and asks before changing anything."
	}
	body = append(body, cards.TextBlock{Text: footer, Subtle: true, Wrap: true, Size: "Small", Spacing: "Large"})
	return cards.Card{Body: body}
}

func color(s checks.Status) string {
	switch s {
	case checks.OK:
		return "Good"
	case checks.Warn:
		return "Warning"
	}
	return "Attention"
}
