package msgraph

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/tapbot/tapbot/graph"
)

func TestIsGUID(t *testing.T) {
	for s, want := range map[string]bool{
		aliceID: true, strings.ToUpper(aliceID): true,
		"11111111111141118111111111111111":       false,
		"11111111-1111-4111-8111-11111111111g":   false,
		"11111111-1111-4111-8111-1111111111111":  false,
		"{11111111-1111-4111-8111-111111111111}": false,
		"":                                       false,
	} {
		if isGUID(s) != want {
			t.Errorf("isGUID(%q) = %v, want %v", s, !want, want)
		}
	}
}

func TestIsUPN(t *testing.T) {
	for s, want := range map[string]bool{
		"alice@contoso.com": true, "o'brien@contoso.com": true, "a.b-c_d!e^f~g@sub.contoso.co.uk": true,
		"x@contoso.onmicrosoft.com":              true,
		strings.Repeat("a", 64) + "@contoso.com": true,
		strings.Repeat("a", 65) + "@contoso.com": false,
		"a@" + strings.Repeat("b", 110) + ".com": false,
		"alice":                                  false,
		"@contoso.com":                           false,
		"alice@":                                 false,
		"alice@contoso":                          false,
		"alice@@contoso.com":                     false,
		"alice.@contoso.com":                     false,
		"al ice@contoso.com":                     false,
		"a+b@contoso.com":                        false,
		"a/b@contoso.com":                        false,
		"a?b@contoso.com":                        false,
		"a#EXT#@contoso.com":                     true,
		"a%2F@contoso.com":                       false,
		"$a@contoso.com":                         false,
		"alice@contoso..com":                     false,
		"alice@-contoso.com":                     false,
		"alice@contoso.com/":                     false,
		"alice@contoso.com\n":                    false,
		"élodie@contoso.com":                     false,
	} {
		if isUPN(s) != want {
			t.Errorf("isUPN(%q) = %v, want %v", s, !want, want)
		}
	}
}

func TestCheckRefSortsFailures(t *testing.T) {
	for ref, want := range map[string]error{
		aliceID: nil, aliceUPN: nil,
		"a+b@contoso.com": graph.ErrNotFound, "a/b@contoso.com": graph.ErrNotFound, // could be mail, cannot be a UPN
		"a?b": graph.ErrBadRequest, "../x": graph.ErrBadRequest, "a@b c": graph.ErrBadRequest, "a\x00@b.c": graph.ErrBadRequest,
		"": graph.ErrBadRequest,
	} {
		err := checkRef(ref)
		if want == nil && err != nil || want != nil && !errors.Is(err, want) {
			t.Errorf("checkRef(%q) = %v, want %v", ref, err, want)
		}
	}
}

func TestOdataString(t *testing.T) {
	for in, want := range map[string]string{
		"a@b.c": "'a@b.c'", "o'brien": "'o''brien'", "''": "''''''", "": "''",
	} {
		if got := odataString(in); got != want {
			t.Errorf("odataString(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestShownCutsAndEscapes(t *testing.T) {
	s := shown("a\nb")
	if s != `"a\nb"` {
		t.Errorf("shown(%q) = %s, want %s", "a\nb", s, `"a\nb"`)
	}
	long := shown(strings.Repeat("é", 100))
	if !strings.HasSuffix(long, "…") || len(long) > maxShownRef+8 || strings.ContainsRune(long, unicode.ReplacementChar) {
		t.Errorf("shown(100 × é) = %s, want it cut to at most %d bytes, ending in …, with no broken rune", long, maxShownRef+8)
	}
}

func TestChunks(t *testing.T) {
	got := chunks(guids(41), 20)
	if len(got) != 3 || len(got[0]) != 20 || len(got[2]) != 1 {
		t.Errorf("chunks(41 ids, 20) = %v, want chunks of 20, 20 and 1", got)
	}
	if chunks(nil, 20) != nil {
		t.Error("chunks of nothing")
	}
}

func TestShortType(t *testing.T) {
	for in, want := range map[string]string{
		"#microsoft.graph.microsoftAuthenticatorAuthenticationMethod":  "microsoftAuthenticator",
		"#microsoft.graph.windowsHelloForBusinessAuthenticationMethod": "windowsHelloForBusiness",
		"#microsoft.graph.temporaryAccessPassAuthenticationMethod":     "temporaryAccessPass",
		"": "",
	} {
		if got := shortType(in); got != want {
			t.Errorf("shortType(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestDecodeQuery(t *testing.T) {
	in := "/users/a%40b.c?%24select=id,mail&%24filter=mail%20eq%20%27x%2Dy%27"
	want := "/users/a%40b.c?$select=id,mail&$filter=mail%20eq%20%27x-y%27"
	if got := decodeQuery(in); got != want {
		t.Errorf("decodeQuery(%s) = %s, want %s", in, got, want)
	}
	if got := decodeQuery("/users/a%24b"); got != "/users/a%24b" {
		t.Errorf("decodeQuery(/users/a%%24b) = %s, want the path unchanged", got)
	}
}

// FuzzCheckRef holds the promise the path segments rest on: whatever checkRef
// accepts has no character that could leave the segment or forge a header.
func FuzzCheckRef(f *testing.F) {
	for _, s := range []string{aliceID, aliceUPN, "a/b@c.d", "a?b", "x#EXT#@y.z", "a\r\nb@c.d", "%2e%2e@x.y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ref string) {
		if checkRef(ref) != nil {
			return
		}
		if len(ref) > maxUPN || strings.ContainsAny(ref, "/\\?%&+ ") || slices.ContainsFunc([]rune(ref), func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			t.Fatalf("checkRef accepted %q, want it refused: too long, or a character that leaves the segment", ref)
		}
	})
}
