// Package command parses chat text into a command name and arguments. It is pure and
// fuzzed: it sees every message anyone sends the bot.
package command

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxTextBytes caps the text considered. Commands are short; the cap keeps a pasted
// novel from costing more than a command.
const MaxTextBytes = 4096

// Mention is an @mention entity of the activity: the markup Teams put in the text
// (e.g. "<at>tapbot</at>") and whom it mentions.
type Mention struct {
	Text        string
	MentionedID string
}

// Command is parsed chat text. Name is empty when the text is not a command word.
type Command struct {
	Name string   // lower case, without the leading '/'
	Args []string // whitespace-separated, case kept
	Text string   // the cleaned text: mentions of the bot removed, whitespace collapsed
}

// Parse cleans text and splits it into a command. Mentions of botID are removed using
// the mention entities (Teams puts "<at>Bot name</at>" in the text of every message
// addressed to the bot in a channel or group chat); a leading '/' is optional and the
// name is case-insensitive, so "@tapbot Help", "/help" and "HELP" are the same command.
func Parse(text string, mentions []Mention, botID string) Command {
	if len(text) > MaxTextBytes {
		text = text[:MaxTextBytes]
	}
	for _, m := range mentions {
		if m.MentionedID == botID && m.Text != "" {
			text = strings.ReplaceAll(text, m.Text, " ")
		}
	}
	// After stripping: a mention entity's text is sender-controlled too, and removing
	// it (or the length cap) can split a multi-byte character.
	text = strings.ToValidUTF8(text, "")
	// Teams sends non-breaking spaces after mentions; Fields only splits on Unicode
	// space, which includes them.
	fields := strings.FieldsFunc(text, unicode.IsSpace)
	c := Command{Text: strings.Join(fields, " ")}
	if len(fields) == 0 {
		return c
	}
	name := strings.TrimPrefix(fields[0], "/")
	if !isWord(name) {
		return c
	}
	c.Name = strings.ToLower(name)
	c.Args = fields[1:]
	return c
}

// isWord accepts names made of ASCII letters, digits and '-', starting with a letter,
// so free text ("hello, there") and markup never look like a command.
func isWord(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		ok := (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (i > 0 && ((r >= '0' && r <= '9') || r == '-'))
		if !ok {
			return false
		}
		i += size
	}
	return true
}
