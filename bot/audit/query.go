package audit

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tapbot/tapbot/bot/command"
	"github.com/tapbot/tapbot/internal/store"
)

// Query is what /audit was asked for. Zero fields do not filter.
type Query struct {
	User   string       // UPN or object id of the user acted on
	Action store.Action // one of store.Actions()
	Since  time.Time    // inclusive
	since  string       // Since as typed, for the card's filter line
}

// maxSince bounds a relative "since": the audit log is kept for years, and a typo
// such as 7000d should be an error, not a scan of all of it.
const maxSince = 3 * 366 * 24 * time.Hour

// UsageError is a query /audit cannot read; Msg says what is wrong and the accepted forms.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

// usage lists the accepted forms.
func usage() string {
	names := make([]string, 0, len(store.Actions()))
	for _, a := range store.Actions() {
		names = append(names, string(a))
	}
	return "Usage: /audit [user] [since 7d|24h|2w|2026-03-01] [action NAME], e.g. /audit nina@contoso.com since 7d action tap.revoke. " +
		"Actions: " + strings.Join(names, ", ") + "."
}

func bad(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...) + " " + usage()}
}

// ParseQuery reads /audit's arguments: an optional user, then "since" and "action"
// each followed by its value, in any order, each at most once. A date is midnight in
// loc, the reader's zone. Anything else is a UsageError naming the word.
func ParseQuery(args []string, now time.Time, loc *time.Location) (Query, error) {
	var q Query
	for i := 0; i < len(args); i++ {
		word := strings.ToLower(args[i])
		switch word {
		case "since", "action":
			if i+1 == len(args) {
				return Query{}, bad("%q needs a value.", word)
			}
			i++
			if err := q.set(word, args[i], now, loc); err != nil {
				return Query{}, err
			}
		default:
			if q.User != "" {
				return Query{}, bad("I can't read %q: one user at a time, and filters start with \"since\" or \"action\".", args[i])
			}
			ref, err := command.ParseUser(args[i])
			if err != nil {
				return Query{}, bad("I can't read %q as a user.", args[i])
			}
			q.User = ref
		}
	}
	return q, nil
}

func (q *Query) set(word, value string, now time.Time, loc *time.Location) error {
	switch word {
	case "since":
		if !q.Since.IsZero() {
			return bad("\"since\" is given twice.")
		}
		t, err := parseSince(value, now, loc)
		if err != nil {
			return err
		}
		q.Since, q.since = t, value
	case "action":
		if q.Action != "" {
			return bad("\"action\" is given twice.")
		}
		a, ok := findAction(value)
		if !ok {
			return bad("There is no action %q.", value)
		}
		q.Action = a
	}
	return nil
}

func findAction(name string) (store.Action, bool) {
	for _, a := range store.Actions() {
		if strings.EqualFold(string(a), name) {
			return a, true
		}
	}
	return "", false
}

// parseSince reads 7d, 24h, 2w or a date (YYYY-MM-DD, midnight in loc).
func parseSince(v string, now time.Time, loc *time.Location) (time.Time, error) {
	if d, err := time.ParseInLocation(time.DateOnly, v, loc); err == nil {
		if d.After(now) {
			return time.Time{}, bad("%s is in the future.", v)
		}
		return d, nil
	}
	unreadable := bad("I can't read %q as a time: use hours, days or weeks such as 24h, 7d, 2w (up to 3 years), or a date such as 2026-03-01.", v)
	if len(v) < 2 {
		return time.Time{}, unreadable
	}
	per, ok := map[byte]time.Duration{'h': time.Hour, 'd': 24 * time.Hour, 'w': 7 * 24 * time.Hour}[v[len(v)-1]]
	n, err := strconv.Atoi(v[:len(v)-1])
	if err != nil || !ok || n <= 0 || n > int(maxSince/per) {
		return time.Time{}, unreadable
	}
	return now.Add(-time.Duration(n) * per), nil
}

// describe is the query in words for the card, e.g. "user nina@contoso.com · since 7d".
func (q Query) describe() string {
	var parts []string
	if q.User != "" {
		parts = append(parts, "user "+q.User)
	}
	if q.since != "" {
		parts = append(parts, "since "+q.since)
	}
	if q.Action != "" {
		parts = append(parts, "action "+string(q.Action))
	}
	return strings.Join(parts, " · ")
}
