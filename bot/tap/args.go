package tap

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tapbot/tapbot/bot/command"
	"github.com/tapbot/tapbot/cards"
)

// UsageError is a mistake in what someone typed. Its text is written for them.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usage(msg string) error { return &UsageError{Msg: msg} }

func usagef(format string, args ...any) error { return &UsageError{Msg: fmt.Sprintf(format, args...)} }

// parseUserArg reads the one argument of /revoke and /status, a user. The error's text
// is the answer: how (in howTo) when there is not exactly one argument, else why it
// is no user.
func parseUserArg(args []string, howTo string) (string, error) {
	if len(args) != 1 {
		return "", usage(howTo)
	}
	return command.ParseUser(args[0])
}

// Request is a parsed `/tap <user> [lifetime] [from YYYY-MM-DD HH:MM] [once] [reason…]`.
type Request struct {
	User     string        // UPN or mail, lower-cased
	Lifetime time.Duration // 0: the policy's default
	// Start is when the pass becomes valid (Graph's startDateTime); zero: at once.
	Start  time.Time
	Once   bool
	Reason string // free text: a reason or ticket number
}

// Entra accepts TAP lifetimes from 10 minutes to 30 days.
const (
	MinLifetime = 10 * time.Minute
	MaxLifetime = 30 * 24 * time.Hour
	maxReason   = 500 // runes
)

var lifetimeRE = regexp.MustCompile(`^(?:(\d{1,3})d)?(?:(\d{1,4})h)?(?:(\d{1,5})m)?$`)

// ParseRequest parses the arguments of /tap, reading a start time in UTC. Errors are
// written for the person who typed the command.
func ParseRequest(args []string) (Request, error) { return ParseRequestIn(args, time.UTC) }

// ParseRequestIn parses the arguments of /tap; a start time ("from 2026-12-01 08:00")
// is wall-clock time in loc.
func ParseRequestIn(args []string, loc *time.Location) (Request, error) {
	if len(args) == 0 {
		return Request{}, usage("Tell me whose pass to create: /tap user@contoso.com [lifetime like 90m, 8h or 2d] [from 2026-12-01 08:00] [once] [reason or ticket]")
	}
	var r Request
	ref, err := command.ParseUser(args[0])
	if err != nil {
		return Request{}, usage(err.Error())
	}
	r.User = ref
	rest := args[1:]
	if len(rest) > 0 {
		if d, ok, err := parseLifetime(rest[0]); err != nil {
			return Request{}, err
		} else if ok {
			r.Lifetime = d
			rest = rest[1:]
		} else if looksLikeLifetime(rest[0]) {
			// A typo such as 99y or 2hr must not become the reason while the pass
			// gets the default lifetime.
			return Request{}, usagef("%q is not a lifetime. Write it like 90m, 8h, 2d or 1h30m: /tap %s 8h [once] [reason]", command.Truncate(rest[0], 20), ref)
		}
	}
	if len(rest) > 1 && strings.EqualFold(rest[0], "from") && startLike.MatchString(rest[1]) {
		start, n, err := parseStart(rest[1:], loc, ref)
		if err != nil {
			return Request{}, err
		}
		r.Start = start
		rest = rest[1+n:]
	}
	if len(rest) > 0 && strings.EqualFold(rest[0], "once") {
		r.Once = true
		rest = rest[1:]
		if len(rest) > 0 && looksLikeLifetime(rest[0]) {
			return Request{}, usagef("Put the lifetime before once: /tap %s %s once [reason]", ref, command.Truncate(rest[0], 20))
		}
	}
	reason := strings.Join(rest, " ")
	if utf8.RuneCountInString(reason) > maxReason {
		return Request{}, usagef("The reason is too long (%d characters at most).", maxReason)
	}
	r.Reason = reason
	return r, nil
}

// parseLifetime reads 90m, 8h, 2d, 1h30m. ok is false when s is not a lifetime at all
// (then it is the start of the reason).
func parseLifetime(s string) (time.Duration, bool, error) {
	m := lifetimeRE.FindStringSubmatch(strings.ToLower(s))
	if m == nil || s == "" {
		return 0, false, nil
	}
	var d time.Duration
	for i, unit := range []time.Duration{24 * time.Hour, time.Hour, time.Minute} {
		if m[i+1] == "" {
			continue
		}
		n, _ := strconv.Atoi(m[i+1]) // digits only, at most 5
		d += time.Duration(n) * unit
	}
	if d < MinLifetime || d > MaxLifetime {
		return 0, false, usagef("A pass can live from 10 minutes to 30 days; %s is outside that.", s)
	}
	return d, true, nil
}

// startLike is the date after "from": digits and dashes, meant as a date whether or
// not it is one. "from" followed by anything else starts the reason ("from HR").
var startLike = regexp.MustCompile(`^\d{2,4}-`)

// parseStart reads "YYYY-MM-DD HH:MM" (or the date alone, meaning midnight) from the
// front of args as wall-clock time in loc, returning how many arguments it used.
func parseStart(args []string, loc *time.Location, ref string) (time.Time, int, error) {
	bad := usagef("Write the start like this: /tap %s 8h from 2026-12-01 08:00 [once] [reason]", ref)
	// A time after the date starts with a digit (08:00, and 8am, which is refused
	// rather than taken for the reason).
	if len(args) > 1 && args[1] != "" && args[1][0] >= '0' && args[1][0] <= '9' {
		t, err := time.ParseInLocation(cards.StartLayout, args[0]+" "+args[1], loc)
		if err != nil {
			return time.Time{}, 0, bad
		}
		return t, 2, nil
	}
	t, err := time.ParseInLocation("2006-01-02", args[0], loc)
	if err != nil {
		return time.Time{}, 0, bad
	}
	return t, 1, nil
}

// lifetimeLike is a number with a unit stuck to it (99y, 2hr, 1.5h, 8hours): meant as
// a lifetime, whether or not it is one. A bare number is a ticket, not a lifetime.
var lifetimeLike = regexp.MustCompile(`^\d+([.,]\d+)?[a-zA-Z]+(\d+[a-zA-Z]*)*$`)

func looksLikeLifetime(s string) bool { return lifetimeLike.MatchString(s) }

// FormatLifetime prints a lifetime the way people type it: 90m, 8h, 2d, 1h30m.
func FormatLifetime(d time.Duration) string {
	d = d.Round(time.Minute)
	var b strings.Builder
	if days := d / (24 * time.Hour); days > 0 {
		fmt.Fprintf(&b, "%dd", days)
		d -= days * 24 * time.Hour
	}
	if h := d / time.Hour; h > 0 {
		fmt.Fprintf(&b, "%dh", h)
		d -= h * time.Hour
	}
	if m := d / time.Minute; m > 0 || b.Len() == 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	return b.String()
}
