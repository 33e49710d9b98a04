package simtenant

import (
	"errors"
	"testing"
)

func TestParseFilter(t *testing.T) {
	props := map[string]string{"mail": "string", "accountenabled": "bool"}
	get := func(mail string, enabled bool) func(string) any {
		return func(p string) any {
			if p == "mail" {
				return mail
			}
			return enabled
		}
	}
	tests := []struct {
		filter string
		mail   string
		match  bool
	}{
		{"mail eq 'a@b.c'", "a@b.c", true},
		{"mail eq 'A@B.C'", "a@b.c", true},
		{"mail eq 'O''Brien@b.c'", "o'brien@b.c", true},
		{"mail eq ''''", "'", true},
		{"mail eq ''", "", true},
		{"mail eq 'x' or mail eq 'a@b.c'", "a@b.c", true},
		{"mail eq 'x' or mail eq 'y' and accountEnabled eq true", "x", true}, // and binds tighter
		{"(mail eq 'x' or mail eq 'y') and accountEnabled eq false", "x", false},
		{"  mail   eq   'a b'  ", "a b", true},
	}
	for _, tt := range tests {
		f, err := parseFilter(tt.filter, props)
		if err != nil {
			t.Errorf("%q: %v", tt.filter, err)
			continue
		}
		if got := f.match(get(tt.mail, true)); got != tt.match {
			t.Errorf("parseFilter(%q) on mail %q matches = %v, want %v", tt.filter, tt.mail, got, tt.match)
		}
	}
	for _, bad := range []string{"mail eq 'O'Brien'", "mail eq 'x", "mail eq", "eq 'x'", "mail eq 'x' and", "(mail eq 'x'", "'x' eq mail", "mail eq x", "mail eq 'a' xor mail eq 'b'", "mail ~ 'x'", ")"} {
		_, err := parseFilter(bad, props)
		var fe *filterError
		if !errors.As(err, &fe) || fe.unsupported || fe.prop != "" {
			t.Errorf("%q: %v, want a syntax error", bad, err)
		}
	}
	for _, unsupported := range []string{"mail ne 'x'", "startswith(mail,'x')", "city eq 'x'", "mail eq true", "accountEnabled eq 'true'", "mail eq null"} {
		_, err := parseFilter(unsupported, props)
		var fe *filterError
		if !errors.As(err, &fe) || !fe.unsupported && fe.prop == "" {
			t.Errorf("%q: %v, want unsupported", unsupported, err)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"mail eq 'a@b.c'", "mail eq 'O''Brien' or (accountEnabled eq true and mail eq '')", "startswith(mail,'x')", "(((", "mail eq '''"} {
		f.Add(s)
	}
	props := map[string]string{"mail": "string", "accountenabled": "bool"}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseFilter(s, props)
		if (e == nil) == (err == nil) {
			t.Fatalf("parseFilter(%q) = %v, %v; want an expression or an error, not both or neither", s, e, err)
		}
		if e != nil {
			e.match(func(string) any { return "x" })
		}
	})
}

func TestSkipTokenAndQueryEncoding(t *testing.T) {
	if n, ok := decodeSkipToken(encodeSkipToken(42)); !ok || n != 42 {
		t.Errorf("decodeSkipToken(encodeSkipToken(42)) = %d, %v; want 42, true", n, ok)
	}
	for _, bad := range []string{"", "!!", encodeSkipToken(-1), "Z3JhcGh0ZXN0Ong"} {
		if _, ok := decodeSkipToken(bad); ok {
			t.Errorf("decodeSkipToken(%q) accepted, want it refused", bad)
		}
	}
	got := encodeQuery(map[string][]string{"$filter": {"mail eq 'a+b@c.d'"}, "$select": {"id"}})
	if want := "$filter=mail%20eq%20%27a%2Bb%40c.d%27&$select=id"; got != want {
		t.Errorf("encodeQuery = %s, want %s", got, want)
	}
}

// FuzzServe drives every handler with arbitrary requests: whatever comes in, the
// answer is a Graph-shaped status, never a panic.
func FuzzServe(f *testing.F) {
	f.Add("POST", "/$batch", `{"requests":[{"id":"1","method":"GET","url":"/users?$filter=mail eq 'a'","dependsOn":["1"]}]}`)
	f.Add("POST", "/users/"+NinaID+"/authentication/temporaryAccessPassMethods", `{"lifetimeInMinutes":-1,"startDateTime":"2025-13-01T00:00:00Z"}`)
	f.Add("PATCH", "/policies/authenticationMethodsPolicy/authenticationMethodConfigurations/TemporaryAccessPass", `{"@odata.type":"#microsoft.graph.temporaryAccessPassAuthenticationMethodConfiguration","includeTargets":null}`)
	f.Add("GET", "/users/"+HanaID+"/transitiveMemberOf/graph.directoryRole?$select=id&$top=1&$skiptoken=x", "")
	f.Add("POST", "/users/"+HanaID+"/checkMemberGroups", `{"groupIds":[null]}`)
	f.Fuzz(func(t *testing.T, method, target, body string) {
		s, rep := dispatchOnce(t, method, target, body)
		if _, err := marshal(s.replyBody(rep, "r", "")); err != nil {
			t.Fatal(err)
		}
	})
}
