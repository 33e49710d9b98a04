package onboard

// This file holds the onboarding request a manager submits with the /onboard form:
// parsing the card's submitted data (untrusted: it comes back from the client) and
// validating it against Entra's rules and the tenant's facts. Pure functions, no I/O.

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// SubmitVerb is the verb of the form's submit action.
const SubmitVerb = "onboard.submit"

// Ids of the form's inputs, which are also the keys of the submitted data and of the
// error map Validate returns.
const (
	FieldGivenName      = "givenName"
	FieldSurname        = "surname"
	FieldDisplayName    = "displayName"
	FieldMailNickname   = "mailNickname" // the user name: the UPN's part before the @
	FieldDomain         = "domain"
	FieldJobTitle       = "jobTitle"
	FieldDepartment     = "department"
	FieldOfficeLocation = "officeLocation"
	FieldUsageLocation  = "usageLocation"
	FieldStartDate      = "startDate"
	FieldManager        = "manager"
	FieldLicence        = "licence" // a subscribed SKU id
	FieldGroups         = "groups"  // group ids joined by commas
	FieldHasSmartphone  = "hasSmartphone"
	FieldNotes          = "notes"
)

// Keys of the submit action's own data, next to the inputs.
const (
	KeyVerb      = "verb"
	KeyRequestID = "requestId"
	// The suggestions a re-sent form showed (see Request.SuggestedDisplayName).
	KeySuggestedDisplayName  = "suggestedDisplayName"
	KeySuggestedMailNickname = "suggestedMailNickname"
)

// Fields lists the input ids in form order.
var Fields = []string{FieldGivenName, FieldSurname, FieldDisplayName, FieldMailNickname, FieldDomain,
	FieldJobTitle, FieldDepartment, FieldOfficeLocation, FieldUsageLocation, FieldStartDate, FieldManager,
	FieldLicence, FieldGroups, FieldHasSmartphone, FieldNotes}

// Answer is the answer to a yes/no question; Unanswered when the client sent none, so
// a missing answer is never taken for either.
type Answer int8

// Answers.
const (
	Unanswered Answer = iota
	Yes
	No
)

// Request is an onboarding request as the form submitted it: trimmed and normalised,
// not yet validated (see Validate).
type Request struct {
	// RequestID is the id the form carried. It is only the client's claim: the flow
	// looks the request up, checks that it is the submitter's and still open, and keys
	// its exactly-once claim on it, so that double clicks and Teams' redeliveries of
	// the same submit have one effect.
	RequestID      string
	GivenName      string
	Surname        string
	DisplayName    string
	MailNickname   string // lower-case
	Domain         string // lower-case
	JobTitle       string
	Department     string
	OfficeLocation string
	UsageLocation  string    // upper-case
	StartDate      time.Time // a date: midnight UTC of the chosen day; zero if none
	Manager        string    // an Entra object id (people picker) or a UPN; lower-case
	Licence        string    // SKU id, lower-case; "" for none
	Groups         []string  // group ids, lower-case, without duplicates
	HasSmartphone  Answer    // No: the new hire registers a FIDO2 security key instead
	Notes          string
	// SuggestedDisplayName and SuggestedMailNickname are the suggestions tapbot made
	// from the names when it last sent the form back, carried in the submit action's
	// data. The inputs alone cannot tell a suggestion from a typed value: with these,
	// a value still equal to the suggestion follows the names when they are corrected,
	// and a typed one is kept (see ApplySuggestions). Only the client's claim, so they
	// decide nothing but which suggestion to refresh; not stored with the request.
	SuggestedDisplayName  string `json:"-"`
	SuggestedMailNickname string `json:"-"`
}

// UPN is the new user's user principal name, or "" while either part is missing.
func (r Request) UPN() string {
	if r.MailNickname == "" || r.Domain == "" {
		return ""
	}
	return r.MailNickname + "@" + r.Domain
}

// StartDateString is the start date as YYYY-MM-DD, or "".
func (r Request) StartDateString() string {
	if r.StartDate.IsZero() {
		return ""
	}
	return r.StartDate.Format(dateLayout)
}

// NeedsSecurityKey reports whether the new hire takes the FIDO2 security key path.
func (r Request) NeedsSecurityKey() bool { return r.HasSmartphone == No }

// SubmissionError is card data that no form of ours would send: a malformed or
// oversized value, or a missing request id. Key names the offending key; the message
// is safe to log and to show (it never echoes the value).
type SubmissionError struct {
	Key    string
	Reason string
}

func (e *SubmissionError) Error() string {
	if e.Key == "" {
		return "onboard: bad submission: " + e.Reason
	}
	return fmt.Sprintf("onboard: bad submission: %s: %s", e.Key, e.Reason)
}

func bad(key, reason string) error { return &SubmissionError{Key: key, Reason: reason} }

// Bounds on what a client may send. They are far above what the form allows (Validate
// applies Entra's limits and explains them) and only stop abuse: a value over its bound
// is refused outright, never truncated into something the user did not type.
const (
	maxKeys        = 64   // keys in the data, known or not
	maxValueBytes  = 1024 // a single-line value
	maxNotesBytes  = 8192
	maxGroupsBytes = 8192
	maxGroups      = 100
	maxRequestID   = 64
)

const dateLayout = "2006-01-02"

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,` + strconv.Itoa(maxRequestID) + `}$`)

// ParseSubmission reads the data of the form's submit action (Action.Execute's
// action.data, or an Action.Submit message's value): the inputs' values merged with the
// action's own data. Only known keys are read, each must be a string within its bound;
// unknown keys are ignored. Values are trimmed and normalised: user-name parts
// lower-cased, the country code upper-cased, whitespace in single-line fields collapsed.
// Empty inputs may be missing (some clients omit them); the request id may not.
func ParseSubmission(data map[string]any) (Request, error) {
	if data == nil {
		return Request{}, bad("", "no data")
	}
	if len(data) > maxKeys {
		return Request{}, bad("", "too many keys")
	}
	str := func(key string, limit int) (string, error) {
		v, ok := data[key]
		if !ok {
			return "", nil
		}
		s, ok := v.(string)
		if !ok {
			return "", bad(key, "not a string")
		}
		if len(s) > limit {
			return "", bad(key, "too long")
		}
		if !utf8.ValidString(s) {
			return "", bad(key, "not UTF-8")
		}
		return s, nil
	}
	var (
		r   Request
		err error // the first bad value
	)
	get := func(key string, limit int) string {
		s, e := str(key, limit)
		if e != nil && err == nil {
			err = e
		}
		return s
	}
	if verb := get(KeyVerb, maxValueBytes); verb != "" && verb != SubmitVerb {
		return Request{}, bad(KeyVerb, "not "+SubmitVerb)
	}
	r.RequestID = strings.TrimSpace(get(KeyRequestID, maxValueBytes))
	r.GivenName = line(get(FieldGivenName, maxValueBytes))
	r.Surname = line(get(FieldSurname, maxValueBytes))
	r.DisplayName = line(get(FieldDisplayName, maxValueBytes))
	r.MailNickname = strings.ToLower(strings.TrimSpace(get(FieldMailNickname, maxValueBytes)))
	r.Domain = strings.ToLower(strings.TrimLeftFunc(strings.TrimSpace(get(FieldDomain, maxValueBytes)),
		func(c rune) bool { return c == '@' || unicode.IsSpace(c) }))
	r.JobTitle = line(get(FieldJobTitle, maxValueBytes))
	r.Department = line(get(FieldDepartment, maxValueBytes))
	r.OfficeLocation = line(get(FieldOfficeLocation, maxValueBytes))
	r.UsageLocation = strings.ToUpper(strings.TrimSpace(get(FieldUsageLocation, maxValueBytes)))
	date := strings.TrimSpace(get(FieldStartDate, maxValueBytes))
	manager := strings.TrimSpace(get(FieldManager, maxValueBytes))
	r.Licence = strings.ToLower(strings.TrimSpace(get(FieldLicence, maxValueBytes)))
	groups := get(FieldGroups, maxGroupsBytes)
	toggle := strings.TrimSpace(get(FieldHasSmartphone, maxValueBytes))
	r.Notes = text(get(FieldNotes, maxNotesBytes))
	r.SuggestedDisplayName = line(get(KeySuggestedDisplayName, maxValueBytes))
	r.SuggestedMailNickname = strings.ToLower(strings.TrimSpace(get(KeySuggestedMailNickname, maxValueBytes)))
	if err != nil {
		return Request{}, err
	}

	if !requestIDRE.MatchString(r.RequestID) {
		return Request{}, bad(KeyRequestID, "missing or malformed")
	}
	if date != "" {
		// Input.Date submits YYYY-MM-DD whatever the user's locale shows.
		d, perr := time.Parse(dateLayout, date)
		if perr != nil || len(date) != len(dateLayout) {
			return Request{}, bad(FieldStartDate, "not a YYYY-MM-DD date")
		}
		r.StartDate = d
	}
	// Teams clients turn typed addresses into mailto: links.
	r.Manager = strings.ToLower(manager)
	for strings.HasPrefix(r.Manager, "mailto:") {
		r.Manager = strings.TrimSpace(strings.TrimPrefix(r.Manager, "mailto:"))
	}
	if groups != "" {
		for g := range strings.SplitSeq(groups, ",") {
			g = strings.ToLower(strings.TrimSpace(g))
			if g != "" && !slices.Contains(r.Groups, g) {
				r.Groups = append(r.Groups, g)
			}
		}
		if len(r.Groups) > maxGroups {
			return Request{}, bad(FieldGroups, "too many groups")
		}
	}
	switch toggle {
	case "":
	case "true":
		r.HasSmartphone = Yes
	case "false":
		r.HasSmartphone = No
	default:
		return Request{}, bad(FieldHasSmartphone, `not "true" or "false"`)
	}
	return r, nil
}

// line normalises a single-line field: trimmed, every run of white space (line breaks
// included) made one space.
func line(s string) string { return strings.Join(strings.Fields(s), " ") }

// text normalises a multi-line field: CRLF and CR made LF, each line's trailing space
// dropped, the whole trimmed.
func text(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRightFunc(l, unicode.IsSpace)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}
