package command

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// userRef accepts what Entra accepts in a UPN or mail address, conservatively: the
// value ends up in a Graph URL path or $filter, so anything odd is refused here.
var userRef = regexp.MustCompile(`^[A-Za-z0-9._%+'#-]{1,113}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`)

// ParseUser validates a user reference (UPN or mail) typed in a command or carried by
// a card, and lower-cases it. The error's text is written for the person who typed it.
func ParseUser(s string) (string, error) {
	s = strings.TrimSpace(s)
	// Teams turns typed addresses into mailto links in some clients.
	s = strings.TrimPrefix(s, "mailto:")
	if !userRef.MatchString(s) {
		return "", fmt.Errorf("%q is not a user principal name or e-mail address like user@contoso.com", Truncate(s, 80))
	}
	return strings.ToLower(s), nil
}

// Truncate cuts s to n runes, marking the cut, for quoting input back in a message.
func Truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
