// Package cards builds Adaptive Cards (schema 1.5, the newest Teams renders) from typed
// Go values. No I/O and no string templates: text from users is data in a field, never
// spliced into JSON.
//
// A button's data is a typed payload too: declared here when a builder here or another
// flow fills it in (ChecklistData, IssueTAPData, OnboardRequestData), else passed in as
// Data by the flow that reads it. That flow reads it back into the same type with
// bot.Decode. A form's submit data is the exception: the client merges the inputs'
// values into it, and bot/onboard.ParseSubmission checks them one by one.
package cards

import (
	"encoding/json"
	"strings"
)

// ContentType is the attachment content type of an Adaptive Card.
const ContentType = "application/vnd.microsoft.card.adaptive"

// Version is the Adaptive Card schema version tapbot targets; Teams supports up to 1.5.
const Version = "1.5"

const schemaURL = "http://adaptivecards.io/schemas/adaptive-card.json"

// Card is an Adaptive Card.
type Card struct {
	Body    []Element
	Actions []Action
	// Refresh makes Teams re-fetch the card through an Action.Execute when one of its
	// users views it (Universal Actions); nil for static cards.
	Refresh *Refresh
}

// MarshalJSON writes the card with its fixed type, schema and version, and asks Teams
// for full width so tables of commands and facts do not wrap needlessly.
func (c Card) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type    string         `json:"type"`
		Schema  string         `json:"$schema"`
		Version string         `json:"version"`
		Body    []Element      `json:"body"`
		Actions []Action       `json:"actions,omitempty"`
		Refresh *Refresh       `json:"refresh,omitempty"`
		MSTeams map[string]any `json:"msteams"`
	}{"AdaptiveCard", schemaURL, Version, nonNil(c.Body), c.Actions, c.Refresh, map[string]any{"width": "Full"}})
}

func nonNil(b []Element) []Element {
	if b == nil {
		return []Element{}
	}
	return b
}

// Element is a card body element.
type Element interface{ isElement() }

// Action is a card action.
type Action interface{ isAction() }

// TextBlock shows text. Text is rendered with Adaptive Cards' markdown subset; pass
// user-supplied text through Escape first.
type TextBlock struct {
	Text     string
	Size     string // "", Small, Medium, Large, ExtraLarge
	Weight   string // "", Lighter, Bolder
	Subtle   bool
	Wrap     bool
	FontType string // "", Default, Monospace
	Spacing  string
}

func (TextBlock) isElement() {}

// MarshalJSON implements json.Marshaler.
func (t TextBlock) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		Size     string `json:"size,omitempty"`
		Weight   string `json:"weight,omitempty"`
		Subtle   bool   `json:"isSubtle,omitempty"`
		Wrap     bool   `json:"wrap,omitempty"`
		FontType string `json:"fontType,omitempty"`
		Spacing  string `json:"spacing,omitempty"`
	}{"TextBlock", t.Text, t.Size, t.Weight, t.Subtle, t.Wrap, t.FontType, t.Spacing})
}

// Fact is one row of a FactSet.
type Fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// FactSet shows title/value rows.
type FactSet struct{ Facts []Fact }

func (FactSet) isElement() {}

// MarshalJSON implements json.Marshaler.
func (f FactSet) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type  string `json:"type"`
		Facts []Fact `json:"facts"`
	}{"FactSet", f.Facts})
}

// markdownSpecial are the characters the Adaptive Cards markdown subset reacts to.
var markdownEscaper = strings.NewReplacer(
	`\`, `\\`, `*`, `\*`, `_`, `\_`, "`", "\\`", `[`, `\[`, `]`, `\]`,
	`(`, `\(`, `)`, `\)`, `#`, `\#`, `-`, `\-`, `+`, `\+`, `>`, `\>`, `<`, `&lt;`, `~`, `\~`,
)

// Escape makes user text display literally in a TextBlock or Fact: no bold, links,
// lists or injected mentions.
func Escape(s string) string { return markdownEscaper.Replace(s) }

// RichText shows runs of text that are never interpreted as markdown: the right
// element for credentials (which must display exactly) and for text people typed.
type RichText struct {
	Runs    []TextRun
	Spacing string
}

func (RichText) isElement() {}

// MarshalJSON implements json.Marshaler.
func (r RichText) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type    string    `json:"type"`
		Inlines []TextRun `json:"inlines"`
		Spacing string    `json:"spacing,omitempty"`
	}{"RichTextBlock", r.Runs, r.Spacing})
}

// TextRun is a run of literal text inside RichText.
type TextRun struct {
	Text     string
	Size     string
	Weight   string
	FontType string
	Subtle   bool
	Color    string // "", Good, Warning, Attention, Accent
}

// MarshalJSON implements json.Marshaler.
func (t TextRun) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type     string `json:"type"`
		Text     string `json:"text"`
		Size     string `json:"size,omitempty"`
		Weight   string `json:"weight,omitempty"`
		FontType string `json:"fontType,omitempty"`
		Subtle   bool   `json:"isSubtle,omitempty"`
		Color    string `json:"color,omitempty"`
	}{"TextRun", t.Text, t.Size, t.Weight, t.FontType, t.Subtle, t.Color})
}

// Execute is an Action.Execute (Universal Actions): Teams sends an invoke and shows the
// card the bot answers with in place of this one.
type Execute struct {
	Title string
	Verb  string
	Data  any
	Style string // "", positive, destructive
}

func (Execute) isAction() {}

// MarshalJSON implements json.Marshaler.
func (e Execute) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type  string `json:"type"`
		Title string `json:"title"`
		Verb  string `json:"verb"`
		Data  any    `json:"data,omitempty"`
		Style string `json:"style,omitempty"`
	}{"Action.Execute", e.Title, e.Verb, e.Data, e.Style})
}
