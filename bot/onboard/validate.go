package onboard

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
)

// Entra's limits on the user properties the form sets (Microsoft Graph, user resource;
// "Password policies and account restrictions in Microsoft Entra ID", username
// policies). Lengths count UTF-16 code units, as the directory does: a character
// outside the Basic Multilingual Plane counts twice.
const (
	MaxDisplayName    = 256
	MaxGivenName      = 64
	MaxSurname        = 64
	MaxMailNickname   = 64 // mailNickname; also the UPN's part before the @
	MaxUPN            = 113
	MaxUPNDomain      = 48 // the UPN's part after the @
	MaxJobTitle       = 128
	MaxDepartment     = 64
	MaxOfficeLocation = 128
	MaxNotes          = 2000 // tapbot's own limit: notes go to approvers, not to Entra
)

// Facts are what the tenant says at validation time: the caller reads them from Graph
// (or a cache) so that Validate stays a pure function.
type Facts struct {
	VerifiedDomains []string
	FreeLicences    map[string]int // SKU id → free units (enabled − consumed)
	AllowedGroups   []string       // group ids the form offers
	// UPNTaken reports whether a user (or anything else holding the address) already
	// has the UPN. nil skips the check.
	UPNTaken func(upn string) bool
}

// Validate checks a parsed request and returns a message for each field in error,
// keyed by the field's id (Field…), written for the person filling in the form. An
// empty map means the request is valid. now is the current time in the requester's
// time zone: the start date is compared with the requester's date, not with an instant.
func Validate(r Request, f Facts, now time.Time) map[string]string {
	errs := map[string]string{}
	set := func(field, format string, args ...any) {
		if _, dup := errs[field]; !dup {
			errs[field] = fmt.Sprintf(format, args...)
		}
	}

	name := func(field, what string, v string, max int, required bool) {
		switch {
		case v == "" && required:
			set(field, "Enter the %s.", what)
		case length(v) > max:
			set(field, "The %s can be at most %d characters.", what, max)
		case hasUnsafeRunes(v):
			set(field, "The %s contains control or text-direction characters; type it again without them.", what)
		}
	}
	name(FieldGivenName, "given name", r.GivenName, MaxGivenName, true)
	name(FieldSurname, "surname", r.Surname, MaxSurname, true)
	name(FieldDisplayName, "display name", r.DisplayName, MaxDisplayName, true)
	name(FieldJobTitle, "job title", r.JobTitle, MaxJobTitle, false)
	name(FieldDepartment, "department", r.Department, MaxDepartment, false)
	name(FieldOfficeLocation, "office location", r.OfficeLocation, MaxOfficeLocation, false)
	if length(r.Notes) > MaxNotes {
		set(FieldNotes, "The notes can be at most %d characters.", MaxNotes)
	} else if hasUnsafeRunes(strings.NewReplacer("\n", "", "\t", "").Replace(r.Notes)) {
		set(FieldNotes, "The notes contain control or text-direction characters; type them again without them.")
	}

	if msg := checkNickname(r.MailNickname); msg != "" {
		set(FieldMailNickname, "%s", msg)
	}
	switch {
	case r.Domain == "":
		set(FieldDomain, "Choose the domain of the new user's sign-in name.")
	case !slices.ContainsFunc(f.VerifiedDomains, func(d string) bool { return strings.EqualFold(d, r.Domain) }):
		set(FieldDomain, "Choose one of the organisation's verified domains.")
	case len(r.Domain) > MaxUPNDomain:
		set(FieldDomain, "Entra allows at most %d characters after the @; choose a shorter domain.", MaxUPNDomain)
	}
	// Both parts valid means the whole UPN is too: 64 + 1 + 48 = 113, Entra's limit.
	_, nickBad := errs[FieldMailNickname]
	_, domainBad := errs[FieldDomain]
	if upn := r.UPN(); !nickBad && !domainBad && f.UPNTaken != nil && f.UPNTaken(upn) {
		if next := NextFreeUPN(r.MailNickname, r.Domain, f.UPNTaken); next != "" {
			local, _, _ := strings.Cut(next, "@")
			set(FieldMailNickname, "%s is already taken. %s is free.", upn, local)
		} else {
			set(FieldMailNickname, "%s is already taken. Choose another user name.", upn)
		}
	}

	switch {
	case r.UsageLocation == "":
		set(FieldUsageLocation, "Enter the usage location: the two-letter code of the country where the new hire works, such as US, GB or DE.")
	case !IsCountryCode(r.UsageLocation):
		set(FieldUsageLocation, "%s is not a country code. Use the two-letter ISO 3166 code, such as US, GB or DE.", r.UsageLocation)
	}

	if r.StartDate.IsZero() {
		set(FieldStartDate, "Choose the start date.")
	} else {
		today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		start := time.Date(r.StartDate.Year(), r.StartDate.Month(), r.StartDate.Day(), 0, 0, 0, 0, time.UTC)
		if start.Before(today) {
			set(FieldStartDate, "The start date is in the past. Choose today or a later day.")
		}
	}

	switch {
	case r.Manager == "":
		set(FieldManager, "Choose the new hire's manager.")
	case !IsObjectID(r.Manager) && !IsUPN(r.Manager):
		set(FieldManager, "Choose the manager from the directory, or enter their sign-in name like name@contoso.com.")
	case r.UPN() != "" && strings.EqualFold(r.Manager, r.UPN()):
		set(FieldManager, "The new user can't be their own manager.")
	}

	if r.Licence != "" {
		free, known := -1, false
		for sku, n := range f.FreeLicences {
			if strings.EqualFold(sku, r.Licence) {
				free, known = n, true
				break
			}
		}
		switch {
		case !known:
			set(FieldLicence, "That licence is not one of the organisation's subscriptions. Choose one from the list.")
		case free <= 0:
			set(FieldLicence, "No units of that licence are free any more. Choose another one, or none and assign it later.")
		}
	}

	for _, g := range r.Groups {
		if !slices.ContainsFunc(f.AllowedGroups, func(a string) bool { return strings.EqualFold(a, g) }) {
			set(FieldGroups, "Choose groups from the list only.")
		}
	}

	if r.HasSmartphone == Unanswered {
		set(FieldHasSmartphone, "Say whether the new hire has a smartphone.")
	}
	return errs
}

// length counts s the way Entra counts string lengths: in UTF-16 code units.
func length(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// hasUnsafeRunes reports control characters and the bidirectional-text controls that
// could make a name display as something else in an approver's card (Trojan Source).
func hasUnsafeRunes(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		switch {
		case unicode.IsControl(r):
			return true
		case r == 0x061C, r == 0x200E, r == 0x200F, r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
			return true
		}
		return false
	})
}

// upnLocal is Entra's character set for the part of a UPN before the @ (username
// policies: A–Z a–z 0–9 ' . - _ ! # ^ ~). tapbot uses it for mailNickname too, the
// same string, which keeps it within the mail alias rules as well.
var upnLocal = regexp.MustCompile(`^[A-Za-z0-9'._!#^~-]+$`)

// checkNickname returns why nick is not a valid user name, or "".
func checkNickname(nick string) string {
	switch {
	case nick == "":
		return "Enter the user name (the part of the sign-in name before the @)."
	case strings.Contains(nick, "@"):
		return "Enter only the part before the @; choose the domain in the list."
	case len(nick) > MaxMailNickname:
		return fmt.Sprintf("The user name can be at most %d characters.", MaxMailNickname)
	case !upnLocal.MatchString(nick):
		return "The user name can contain only the letters a–z, digits and ' . - _ ! # ^ ~ (no spaces or accents)."
	case strings.Contains(strings.ToUpper(nick), "#EXT#"):
		// Entra reserves #EXT# for the names it gives B2B guests and refuses it in a
		// member's UPN; refuse it here, beside the field, rather than at creation.
		return "The user name can't contain #EXT#: Entra keeps it for guest accounts."
	case strings.HasPrefix(nick, "."), strings.HasSuffix(nick, "."), strings.Contains(nick, ".."):
		return "The user name can't start or end with a dot or have two dots in a row."
	}
	return ""
}

var (
	objectIDRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	domainRE   = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$`)
)

// IsObjectID reports whether s is shaped like an Entra object id (a GUID), as the
// Teams people picker submits.
func IsObjectID(s string) bool { return objectIDRE.MatchString(s) }

// IsUPN reports whether s is a plausible user principal name by Entra's username
// policies: allowed characters, at most 64 before the @ and 113 in all, no dot
// right before the @ (nor leading or doubled), and a domain name after it.
func IsUPN(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && len(s) <= MaxUPN && len(local) <= MaxMailNickname && upnLocal.MatchString(local) &&
		!strings.HasPrefix(local, ".") && !strings.HasSuffix(local, ".") && !strings.Contains(local, "..") &&
		domainRE.MatchString(domain)
}

// SuggestDisplayName suggests "Given Surname".
func SuggestDisplayName(given, surname string) string {
	return line(given + " " + surname)
}

// SuggestNickname suggests a user name from the names: lower-case ASCII, accents
// folded ("José Müller" → "jose.muller"), given name and surname joined by a dot,
// hyphens kept, spaces and other characters dropped. "" when nothing usable is left
// (names in non-Latin scripts): then a person has to choose one.
func SuggestNickname(given, surname string) string {
	var parts []string
	for _, name := range []string{given, surname} {
		if p := foldPart(name); p != "" {
			parts = append(parts, p)
		}
	}
	nick := strings.Join(parts, ".")
	if len(nick) > MaxMailNickname {
		nick = strings.TrimRight(nick[:MaxMailNickname], ".-")
	}
	return nick
}

func foldPart(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '-':
			if b.Len() > 0 && !strings.HasSuffix(b.String(), "-") {
				b.WriteRune(r)
			}
		default:
			b.WriteString(asciiFold[r]) // "" for anything else: dropped
		}
	}
	return strings.Trim(b.String(), "-")
}

// asciiFold maps the lower-case Latin letters of Latin-1 Supplement and Latin
// Extended-A (plus Romanian ș ț) to ASCII, the way people spell such names in
// e-mail addresses.
var asciiFold = func() map[rune]string {
	m := map[rune]string{}
	for to, from := range map[string]string{
		"a": "àáâãäåāăą", "ae": "æ", "c": "çćĉċč", "d": "ðďđ", "e": "èéêëēĕėęě", "g": "ĝğġģ",
		"h": "ĥħ", "i": "ìíîïĩīĭįı", "ij": "ĳ", "j": "ĵ", "k": "ķĸ", "l": "ĺļľŀł", "n": "ñńņňŉŋ",
		"o": "òóôõöøōŏő", "oe": "œ", "r": "ŕŗř", "s": "śŝşšſș", "ss": "ß", "t": "ţťŧț", "th": "þ",
		"u": "ùúûüũūŭůűų", "w": "ŵ", "y": "ýÿŷ", "z": "źżž",
	} {
		for _, r := range from {
			m[r] = to
		}
	}
	return m
}()

// maxUPNTries bounds NextFreeUPN's look-ups (each may be a Graph call).
const maxUPNTries = 50

// NextFreeUPN returns the first of nick@domain, nick2@domain, nick3@domain … that
// taken says is free, shortening nick where the number would break Entra's length
// limits; "" when none of the first few is free.
func NextFreeUPN(nick, domain string, taken func(string) bool) string {
	for n := 1; n <= maxUPNTries; n++ {
		suffix := ""
		if n > 1 {
			suffix = strconv.Itoa(n)
		}
		room := min(MaxMailNickname, MaxUPN-1-len(domain)) - len(suffix)
		if room <= 0 {
			return ""
		}
		local := nick
		if len(local) > room {
			local = strings.TrimRight(local[:room], ".")
		}
		upn := local + suffix + "@" + domain
		if taken == nil || !taken(upn) {
			return upn
		}
	}
	return ""
}

// ApplySuggestions fills the display name and the user name from the names where
// the requester left them to tapbot: empty, or still equal to what tapbot suggested
// when it last sent the form back, so that correcting a name corrects them too. It
// reports whether the user name is a suggestion the requester has not seen yet: it
// becomes the sign-in name, so the flow shows it before using it. A display name is
// used at once: deriving it from the names is what the form promises, and nothing
// hangs on it.
func ApplySuggestions(r Request) (Request, bool) {
	if leftToTapbot(r.DisplayName, r.SuggestedDisplayName) {
		r.DisplayName = SuggestDisplayName(r.GivenName, r.Surname)
	}
	if !leftToTapbot(r.MailNickname, r.SuggestedMailNickname) {
		return r, false
	}
	nick := SuggestNickname(r.GivenName, r.Surname)
	unseen := nick != r.MailNickname
	r.MailNickname = nick
	return r, unseen
}

// leftToTapbot reports whether a field's value is tapbot's to fill: empty, or the
// suggestion tapbot made for it.
func leftToTapbot(value, suggested string) bool {
	return value == "" || value == suggested
}

// IsCountryCode reports whether cc is a current ISO 3166-1 alpha-2 code (upper case).
func IsCountryCode(cc string) bool {
	if len(cc) != 2 || cc[0] < 'A' || cc[0] > 'Z' || cc[1] < 'A' || cc[1] > 'Z' {
		return false
	}
	return strings.Contains(countryCodes[cc[0]-'A'], cc[1:])
}

// countryCodes are the 249 officially assigned ISO 3166-1 alpha-2 codes (as in
// Debian's iso-codes 4.15), by first letter: countryCodes[i] holds the second letters
// of the codes starting with 'A'+i.
var countryCodes = [26]string{
	"DEFGILMOQRSTUWXZ",        // A
	"ABDEFGHIJLMNOQRSTVWYZ",   // B
	"ACDFGHIKLMNORUVWXYZ",     // C
	"EJKMOZ",                  // D
	"CEGHRST",                 // E
	"IJKMOR",                  // F
	"ABDEFGHILMNPQRSTUWY",     // G
	"KMNRTU",                  // H
	"DELMNOQRST",              // I
	"EMOP",                    // J
	"EGHIMNPRWYZ",             // K
	"ABCIKRSTUVY",             // L
	"ACDEFGHKLMNOPQRSTUVWXYZ", // M
	"ACEFGILOPRUZ",            // N
	"M",                       // O
	"AEFGHKLMNRSTWY",          // P
	"A",                       // Q
	"EOSUW",                   // R
	"ABCDEGHIJKLMNORSTVXYZ",   // S
	"CDFGHJKLMNORTVWZ",        // T
	"AGMSYZ",                  // U
	"ACEGINU",                 // V
	"FS",                      // W
	"",                        // X
	"ET",                      // Y
	"AMW",                     // Z
}
