package cards

import (
	"strings"
	"time"
	"unicode"
)

// TAPView is what the TAP card shows. Value is the pass itself: this card is the one
// place it is ever written, and it only goes to the requester's 1:1 chat.
type TAPView struct {
	UserDisplayName   string
	UserPrincipalName string
	Value             string
	Start, Expires    time.Time
	UsableOnce        bool
	// StartNote says, in the requester's words and time zone, when a pass that
	// starts later becomes valid ("2026-12-01 08:00 Europe/Berlin"); "" for a pass
	// valid at once.
	StartNote  string
	Reason     string
	RevokeData any // data of the Revoke action (ids, no secret)
	Times      Times
}

// TAP is the card carrying a new Temporary Access Pass.
func TAP(v TAPView) Card {
	body := []Element{
		TextBlock{Text: "Temporary Access Pass", Size: "Medium", Weight: "Bolder", Wrap: true},
		userLine(v.UserDisplayName, v.UserPrincipalName),
		RichText{Runs: []TextRun{{Text: v.Value, Size: "ExtraLarge", Weight: "Bolder", FontType: "Monospace"}}, Spacing: "Medium"},
		RichText{Runs: []TextRun{{Text: Phonetic(v.Value), Subtle: true, Size: "Small"}}, Spacing: "None"},
		TextBlock{Text: validity(v.Times, v.Start, v.Expires, v.UsableOnce), Wrap: true},
	}
	if v.StartNote != "" {
		body = append(body, TextBlock{Text: "Not valid before " + v.StartNote + ": it works from then on, not now.", Weight: "Bolder", Wrap: true})
	}
	if v.Reason != "" {
		body = append(body, RichText{Runs: []TextRun{{Text: "Reason: " + v.Reason, Subtle: true}}})
	}
	body = append(body, TextBlock{Text: "Read it out only on a call where you have verified the person. It disappears from this chat when it expires or is revoked.", Subtle: true, Wrap: true, Size: "Small"})
	return Card{Body: body, Actions: []Action{Execute{Title: "Revoke", Verb: "tap.revoke", Data: v.RevokeData, Style: "destructive"}}}
}

// RedactedTAP replaces a TAP card once the pass is gone: same facts, no value.
func RedactedTAP(displayName, upn string, expires time.Time, why string, times Times) Card {
	return Card{Body: []Element{
		TextBlock{Text: "Temporary Access Pass", Size: "Medium", Weight: "Bolder", Wrap: true},
		userLine(displayName, upn),
		TextBlock{Text: "The pass was removed from this chat: " + why + ".", Wrap: true, Weight: "Bolder"},
		TextBlock{Text: "It was valid until " + times.At(expires) + ".", Subtle: true, Wrap: true},
	}}
}

// ConfirmReplace asks before a new TAP silently ends the user's current one.
// cancelData goes with the Cancel button: the same nonce, so that one of the two
// buttons acts, once.
func ConfirmReplace(displayName, upn string, current time.Time, data, cancelData any, times Times) Card {
	return Card{
		Body: []Element{
			TextBlock{Text: "Replace the existing pass?", Size: "Medium", Weight: "Bolder", Wrap: true},
			userLine(displayName, upn),
			TextBlock{Text: "This user already has a Temporary Access Pass, valid until " + times.At(current) +
				". Creating a new one deletes it: anyone holding it can no longer use it.", Wrap: true},
		},
		Actions: []Action{
			Execute{Title: "Replace it", Verb: "tap.replace", Data: data, Style: "destructive"},
			Execute{Title: "Cancel", Verb: "tap.cancel", Data: cancelData},
		},
	}
}

// Notice is a one-line card answering a card action.
func Notice(title, text string) Card {
	return Card{Body: []Element{
		TextBlock{Text: title, Weight: "Bolder", Wrap: true},
		RichText{Runs: []TextRun{{Text: text}}},
	}}
}

// StatusView is what /status shows about a user. No secret.
type StatusView struct {
	DisplayName, UPN string
	Enabled          bool
	Created          time.Time
	TAP              string // tapbot's wording, e.g. "valid until …", "none"
	Methods          []Fact // method name → state, tapbot's wording
	Times            Times
}

// Status is the /status card.
func Status(v StatusView) Card {
	facts := []Fact{
		{Title: "Account", Value: map[bool]string{true: "enabled", false: "disabled"}[v.Enabled]},
		{Title: "Created", Value: v.Times.At(v.Created)},
		{Title: "Temporary Access Pass", Value: v.TAP},
	}
	// Every value here is tapbot's own wording; the user's name goes in a RichText run.
	facts = append(facts, v.Methods...)
	return Card{Body: []Element{
		TextBlock{Text: "Sign-in status", Size: "Medium", Weight: "Bolder", Wrap: true},
		userLine(v.DisplayName, v.UPN),
		FactSet{Facts: facts},
	}}
}

func userLine(name, upn string) Element {
	text := upn
	if name != "" {
		text = name + " (" + upn + ")"
	}
	return RichText{Runs: []TextRun{{Text: text}}, Spacing: "None"}
}

func validity(times Times, start, expires time.Time, once bool) string {
	use := "Can be used several times until it expires."
	if once {
		use = "Works for one sign-in only."
	}
	return "Valid from " + times.At(start) + " until " + times.At(expires) + ". " + use
}

var natoLetters = [26]string{"alfa", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
	"juliett", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango",
	"uniform", "victor", "whiskey", "x-ray", "yankee", "zulu"}

var digitNames = [10]string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

var symbolNames = map[rune]string{
	'!': "exclamation mark", '@': "at sign", '#': "hash", '$': "dollar", '%': "percent", '^': "caret",
	'&': "ampersand", '*': "asterisk", '(': "open parenthesis", ')': "close parenthesis", '-': "dash",
	'_': "underscore", '=': "equals", '+': "plus", '?': "question mark", '.': "dot", ',': "comma",
	':': "colon", ';': "semicolon", '/': "slash", '\\': "backslash", '~': "tilde", '<': "less than",
	'>': "greater than", '[': "open bracket", ']': "close bracket", '{': "open brace", '}': "close brace",
	'|': "pipe", '"': "double quote", '\'': "apostrophe", '`': "backtick",
}

// Phonetic spells a pass for reading aloud: NATO words, capitals in upper case
// ("capital ALFA"), digits and symbols by name.
func Phonetic(s string) string {
	words := make([]string, 0, len(s))
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
			words = append(words, natoLetters[r-'a'])
		case r >= 'A' && r <= 'Z':
			words = append(words, "capital "+strings.ToUpper(natoLetters[r-'A']))
		case r >= '0' && r <= '9':
			words = append(words, digitNames[r-'0'])
		case symbolNames[r] != "":
			words = append(words, symbolNames[r])
		case unicode.IsSpace(r):
			words = append(words, "space")
		default:
			words = append(words, string(r))
		}
	}
	return strings.Join(words, " · ")
}
