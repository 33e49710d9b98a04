package msgraph

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/tapbot/tapbot/graph"
)

// Limits from Entra's rules for userPrincipalName (113 characters, 64 before the @;
// letters, digits and ' . - _ ! # ^ ~) and from RFC 5321 for mail addresses (254).
const (
	maxUPN       = 113
	maxUPNLocal  = 64
	maxMail      = 254
	maxShownRef  = 64 // how much of a rejected input an error quotes
	guidLen      = 36
	groupsPerReq = 20 // checkMemberGroups takes at most 20 group ids per request
)

// isGUID reports whether s is an object id in its canonical 8-4-4-4-12 hex form.
func isGUID(s string) bool {
	if len(s) != guidLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// isUPN reports whether s can be a userPrincipalName, B2B guests' generated names
// (…#EXT#@…) included: the SDK's URI template percent-encodes '#' in the path segment.
func isUPN(s string) bool {
	if len(s) > maxUPN {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || len(local) > maxUPNLocal || strings.HasSuffix(local, ".") {
		return false
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		if !isAlnum(c) && !strings.ContainsRune("'.-_!^~#", rune(c)) {
			return false
		}
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			if !isAlnum(l[i]) && l[i] != '-' {
				return false
			}
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// isMail reports whether s is plausible as a mail address to look up: one @ with text
// on both sides, printable, no spaces, not over-long. It only has to be safe, not
// RFC-complete: the value reaches Graph as an escaped OData literal, never as a path.
func isMail(s string) bool {
	if len(s) > maxMail || !utf8.ValidString(s) {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// checkRef validates a user reference that becomes a path segment (/users/{ref}):
// an object id or a UPN. An input that cannot be a UPN but is a plausible mail address
// is reported as not found, so callers that fall back to a mail lookup on ErrNotFound
// still do; anything else is a bad request. Either way no request is made.
func checkRef(ref string) error {
	switch {
	case isGUID(ref) || isUPN(ref):
		return nil
	case isMail(ref):
		return fmt.Errorf("graph: no user principal name can be %s: %w", shown(ref), graph.ErrNotFound)
	}
	return fmt.Errorf("graph: %s is neither an object id nor a user principal name: %w", shown(ref), graph.ErrBadRequest)
}

// checkID validates an object id (user, group, method) that must be a GUID.
func checkID(what, id string) error {
	if !isGUID(id) {
		return fmt.Errorf("graph: %s %s is not an object id: %w", what, shown(id), graph.ErrBadRequest)
	}
	return nil
}

// checkGroupIDs validates group ids for checkMemberGroups; they go into a JSON body,
// but Graph only knows GUIDs and a typo should fail here, not as a silent non-member.
func checkGroupIDs(ids []string) error {
	for _, id := range ids {
		if err := checkID("group", id); err != nil {
			return err
		}
	}
	return nil
}

// odataString quotes s as an OData string literal for $filter: the only escape the
// grammar has is doubling the single quote. URL encoding is the SDK's job.
func odataString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// shown quotes untrusted input for an error message: Go-escaped (control characters
// cannot forge log lines) and cut short.
func shown(s string) string {
	if len(s) > maxShownRef {
		cut := maxShownRef
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

// chunks splits ids into slices of at most n.
func chunks(ids []string, n int) [][]string {
	var out [][]string
	for len(ids) > n {
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}
