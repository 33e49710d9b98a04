package command

import (
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestParse(t *testing.T) {
	bot := []Mention{{Text: "<at>tapbot</at>", MentionedID: "28:bot"}}
	tests := []struct {
		name     string
		text     string
		mentions []Mention
		wantName string
		wantArgs []string
		wantText string
	}{
		{"slash command", "/help", nil, "help", []string{}, "/help"},
		{"no slash", "help", nil, "help", []string{}, "help"},
		{"case-insensitive", "/HeLp", nil, "help", []string{}, "/HeLp"},
		{"args keep case", "/tap Alice@Contoso.com 8h once Ticket 4711", nil, "tap",
			[]string{"Alice@Contoso.com", "8h", "once", "Ticket", "4711"}, "/tap Alice@Contoso.com 8h once Ticket 4711"},
		{"channel mention stripped", "<at>tapbot</at> help", bot, "help", []string{}, "help"},
		{"mention with nbsp and newline", "<at>tapbot</at>\u00a0/tap   bob@contoso.com\n", bot, "tap", []string{"bob@contoso.com"}, "/tap bob@contoso.com"},
		{"mention in the middle", "/status <at>tapbot</at> bob@contoso.com", bot, "status", []string{"bob@contoso.com"}, "/status bob@contoso.com"},
		{"other user's mention kept", "<at>tapbot</at> tap <at>Bob</at>", append(bot, Mention{Text: "<at>Bob</at>", MentionedID: "29:bob"}),
			"tap", []string{"<at>Bob</at>"}, "tap <at>Bob</at>"},
		{"mention of someone else not stripped", "<at>tapbot</at> help", []Mention{{Text: "<at>tapbot</at>", MentionedID: "29:impostor"}},
			"", nil, "<at>tapbot</at> help"},
		{"empty", "   ", nil, "", nil, ""},
		{"punctuation is not a command", "hello, there", nil, "", nil, "hello, there"},
		{"digits first is not a command", "/4711", nil, "", nil, "/4711"},
		{"slash alone", "/", nil, "", nil, "/"},
		{"markup is not a command", "<b>help</b>", nil, "", nil, "<b>help</b>"},
		{"invalid UTF-8 dropped", "he\xfflp", nil, "help", []string{}, "help"},
		{"long name rejected", "/" + strings.Repeat("a", 33), nil, "", nil, "/" + strings.Repeat("a", 33)},
		{"dash allowed", "/check-list x", nil, "check-list", []string{"x"}, "/check-list x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Parse(tt.text, tt.mentions, "28:bot")
			if got.Name != tt.wantName {
				t.Errorf("Name = %q, want %q", got.Name, tt.wantName)
			}
			if tt.wantName != "" && !slices.Equal(got.Args, tt.wantArgs) {
				t.Errorf("Args = %q, want %q", got.Args, tt.wantArgs)
			}
			if got.Text != tt.wantText {
				t.Errorf("Text = %q, want %q", got.Text, tt.wantText)
			}
		})
	}
}

func TestParseCapsLength(t *testing.T) {
	got := Parse("/tap "+strings.Repeat("x ", MaxTextBytes), nil, "")
	if len(got.Text) > MaxTextBytes {
		t.Fatalf("parsed %d bytes, want at most %d", len(got.Text), MaxTextBytes)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"/help", "<at>tapbot</at> /tap a@b.c 8h once", "HELP", "", "\u00a0/x\u2028y", "/tap\xff\xfe"} {
		f.Add(s, "<at>tapbot</at>")
	}
	f.Fuzz(func(t *testing.T, text, mention string) {
		c := Parse(text, []Mention{{Text: mention, MentionedID: "28:bot"}}, "28:bot")
		if !utf8.ValidString(c.Text) {
			t.Fatalf("Text = %q, want valid UTF-8", c.Text)
		}
		if strings.TrimSpace(c.Text) != c.Text || strings.Contains(c.Text, "  ") {
			t.Fatalf("Text = %q, want it trimmed with single spaces", c.Text)
		}
		if c.Name == "" {
			if len(c.Args) != 0 {
				t.Fatalf("no command but Args = %q, want none", c.Args)
			}
			return
		}
		if c.Name != strings.ToLower(c.Name) || strings.HasPrefix(c.Name, "/") || len(c.Name) > 32 {
			t.Fatalf("Name = %q, want lower case, no leading /, at most 32 bytes", c.Name)
		}
		for _, a := range c.Args {
			if a == "" || strings.IndexFunc(a, unicode.IsSpace) >= 0 {
				t.Fatalf("arg %q, want it non-empty without spaces", a)
			}
		}
		// Parsing the cleaned text again gives the same command: cleaning is idempotent.
		again := Parse(c.Text, nil, "28:bot")
		if again.Name != c.Name || !slices.Equal(again.Args, c.Args) {
			t.Fatalf("Parse(%q) = %+v, want the same command as the first parse %+v", c.Text, again, c)
		}
	})
}
