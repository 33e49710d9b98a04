package cards

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestHelpCardShape(t *testing.T) {
	raw, err := json.Marshal(Help("in this channel", []CommandHelp{{Usage: "/help", Description: "List commands."}}))
	if err != nil {
		t.Fatal(err)
	}
	var card struct {
		Type    string `json:"type"`
		Version string `json:"version"`
		Schema  string `json:"$schema"`
		Body    []struct {
			Type  string `json:"type"`
			Text  string `json:"text"`
			Facts []Fact `json:"facts"`
		} `json:"body"`
		MSTeams map[string]string `json:"msteams"`
	}
	if err := json.Unmarshal(raw, &card); err != nil {
		t.Fatal(err)
	}
	if card.Type != "AdaptiveCard" || card.Version != "1.5" || card.Schema == "" || card.MSTeams["width"] != "Full" {
		t.Fatalf("card = %s, want type AdaptiveCard, version 1.5, a $schema and msteams width Full", raw)
	}
	if len(card.Body) != 3 || card.Body[2].Type != "FactSet" || card.Body[2].Facts[0] != (Fact{"/help", "List commands."}) {
		t.Fatalf("card = %s, want a 3-element body ending in a FactSet whose first fact is /help: List commands.", raw)
	}
	if !strings.Contains(card.Body[1].Text, "in this channel") {
		t.Fatalf("card = %s, want its second body element to contain %q", raw, "in this channel")
	}
}

func TestEmptyCardHasBodyArray(t *testing.T) {
	raw, _ := json.Marshal(Card{})
	if !strings.Contains(string(raw), `"body":[]`) || strings.Contains(string(raw), `"actions"`) {
		t.Fatalf("Card{} = %s, want it to contain %s and no actions", raw, `"body":[]`)
	}
}

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text", "plain text"},
		{"**bold** _it_", `\*\*bold\*\* \_it\_`},
		{"[click](https://evil.example)", `\[click\]\(https://evil.example\)`},
		{"<at>Admin</at>", "&lt;at\\>Admin&lt;/at\\>"},
		{"# heading\n- item", "\\# heading\n\\- item"},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzEscape(f *testing.F) {
	f.Add("**x** [a](b) <at>y</at>")
	f.Fuzz(func(t *testing.T, s string) {
		out := Escape(s)
		// No unescaped markdown trigger survives.
		for i := 0; i < len(out); i++ {
			switch out[i] {
			case '\\':
				i++ // the escaped character
			case '*', '_', '[', ']', '(', ')', '`', '<', '~':
				t.Fatalf("Escape(%q) = %q, has unescaped %q; want every markdown trigger escaped", s, out, out[i])
			}
		}
	})
}
