package checklist

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func ids(steps []StepText) []string {
	var out []string
	for _, s := range steps {
		out = append(out, s.ID)
	}
	return out
}

func TestDefaultContent(t *testing.T) {
	c := DefaultContent()
	if got := ids(c.Steps); !slices.Equal(got, PhoneSteps) {
		t.Errorf("phone path ids = %v, want %v", got, PhoneSteps)
	}
	if got := ids(c.KeyPath); !slices.Equal(got, KeySteps) {
		t.Errorf("key path ids = %v, want %v", got, KeySteps)
	}
	for _, s := range append(slices.Clone(c.Steps), c.KeyPath...) {
		if s.Title == "" || s.Body == "" || s.Why == "" {
			t.Errorf("step %q = %+v, want a title, a body and a why", s.ID, s)
		}
	}
	install, _ := c.Step(StepInstall)
	wantLinks := []Link{
		{"App Store (iPhone)", "https://apps.apple.com/app/microsoft-authenticator/id983156458"},
		{"Google Play (Android)", "https://play.google.com/store/apps/details?id=com.azure.authenticator"},
	}
	if !reflect.DeepEqual(install.Links, wantLinks) {
		t.Errorf("install links = %v, want %v", install.Links, wantLinks)
	}
	key, _ := c.Step(StepKey)
	if len(key.Links) != 1 || key.Links[0].URL != "https://aka.ms/mysecurityinfo" {
		t.Errorf("key links = %v, want one to %s", key.Links, "https://aka.ms/mysecurityinfo")
	}
	add, _ := c.Step(StepAddAccount)
	for _, w := range []string{"Skip", "Add account", "Work or school account", "Sign in"} {
		if !strings.Contains(add.Body, w) {
			t.Errorf("add-account body = %q, want it to contain %q", add.Body, w)
		}
	}
	// The pitfalls of docs/flow.md: MFA-only Authenticator, and the Autopilot reboot onto
	// the password screen, whose way out is a new TAP from the helpdesk.
	phone, _ := c.Step(StepPhoneSignIn)
	if !strings.Contains(phone.Body, "phone sign-in") || !strings.Contains(phone.Why, "MFA") || !strings.Contains(phone.Stuck, "password") {
		t.Errorf("phone-sign-in = %+v, want the MFA-only pitfall covered: body with %q, why with %q, stuck with %q", phone, "phone sign-in", "MFA", "password")
	}
	for _, id := range []string{StepLaptop, StepLaptopKey} {
		s, _ := c.Step(id)
		if !strings.Contains(s.Stuck, "restarted") || !strings.Contains(s.Stuck, "new Temporary Access Pass") {
			t.Errorf("%s stuck hint = %q, want the reboot pitfall: %q and %q", id, s.Stuck, "restarted", "new Temporary Access Pass")
		}
	}
	laptop, _ := c.Step(StepLaptop)
	if !strings.Contains(laptop.Body, "number") {
		t.Errorf("laptop body = %q, want number matching (%q)", laptop.Body, "number")
	}
	if tap, _ := c.Step(StepTAP); !strings.Contains(tap.Body, "Call the helpdesk") {
		t.Errorf("tap body = %q, want it to contain %q", tap.Body, "Call the helpdesk")
	}
}

func TestDefaultJSONRoundTrip(t *testing.T) {
	c, err := LoadContent(bytes.NewReader(DefaultJSON()))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(c, DefaultContent()) {
		t.Fatal("DefaultJSON and DefaultContent differ, want the same content")
	}
	// Editing the returned bytes does not touch the embedded default.
	b := DefaultJSON()
	b[0] = 'x'
	if DefaultJSON()[0] == 'x' {
		t.Fatal("DefaultJSON shares its buffer, want a copy")
	}
}

func validDoc() map[string]any {
	step := func(id string) map[string]any {
		return map[string]any{"id": id, "title": "T " + id, "body": "B", "why": "W"}
	}
	return map[string]any{
		"welcome": "Hello",
		"steps":   []any{step("tap"), step("install"), step("laptop")},
		"keyPath": []any{step("tap"), step("key")},
	}
}

func TestLoadContentCompanyOverride(t *testing.T) {
	doc := validDoc()
	doc["steps"].([]any)[1].(map[string]any)["links"] = []any{map[string]any{"title": "Intranet", "url": "https://intranet.contoso.com/phone?x=1"}}
	raw, _ := json.Marshal(doc)
	c, err := LoadContent(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if c.Welcome != "Hello" || !slices.Equal(ids(c.Path(false)), []string{"tap", "install", "laptop"}) ||
		!slices.Equal(ids(c.Path(true)), []string{"tap", "key"}) || c.Steps[1].Links[0].Title != "Intranet" {
		t.Fatalf("content = %+v, want welcome Hello, paths [tap install laptop] and [tap key], the install link Intranet", c)
	}
}

func TestLoadContentRejects(t *testing.T) {
	tests := []struct {
		name string
		edit func(d map[string]any)
		raw  string // used instead of the edited document when set
		want string
	}{
		{name: "unknown field", edit: func(d map[string]any) { d["colour"] = "red" }, want: "unknown field"},
		{name: "unknown step field", edit: func(d map[string]any) { step(d, "steps", 0)["tite"] = "x" }, want: "unknown field"},
		{name: "unknown id", edit: func(d map[string]any) { step(d, "steps", 1)["id"] = "install-app" }, want: "unknown step id"},
		{name: "key step on the phone path", edit: func(d map[string]any) { step(d, "steps", 1)["id"] = "key" }, want: "unknown step id"},
		{name: "phone step on the key path", edit: func(d map[string]any) { step(d, "keyPath", 1)["id"] = "install" }, want: "unknown step id"},
		{name: "duplicate id", edit: func(d map[string]any) { step(d, "steps", 2)["id"] = "tap" }, want: "duplicate step id"},
		{name: "empty welcome", edit: func(d map[string]any) { d["welcome"] = " " }, want: "welcome is empty"},
		{name: "long welcome", edit: func(d map[string]any) { d["welcome"] = strings.Repeat("é", MaxWelcome+1) }, want: "welcome has 601 characters"},
		{name: "no phone steps", edit: func(d map[string]any) { d["steps"] = []any{} }, want: "steps has no steps"},
		{name: "no key path", edit: func(d map[string]any) { delete(d, "keyPath") }, want: "keyPath has no steps"},
		{name: "empty title", edit: func(d map[string]any) { step(d, "steps", 0)["title"] = "" }, want: "title is empty"},
		{name: "missing why", edit: func(d map[string]any) { delete(step(d, "steps", 0), "why") }, want: "why is empty"},
		{name: "long body", edit: func(d map[string]any) { step(d, "steps", 0)["body"] = strings.Repeat("b", MaxBody+1) }, want: "body has"},
		{name: "long title", edit: func(d map[string]any) { step(d, "steps", 0)["title"] = strings.Repeat("t", MaxTitle+1) }, want: "title has"},
		{name: "long stuck", edit: func(d map[string]any) { step(d, "steps", 0)["stuck"] = strings.Repeat("s", MaxStuck+1) }, want: "stuck has"},
		{name: "http link", edit: link("http://example.com"), want: "not https"},
		{name: "javascript link", edit: link("javascript:alert(1)"), want: "not https"},
		{name: "relative link", edit: link("/phone"), want: "not https"},
		{name: "link without host", edit: link("https:///x"), want: "no host"},
		{name: "link with user info", edit: link("https://evil@contoso.com/"), want: "user info"},
		{name: "link with space", edit: link("https://contoso.com/a b"), want: "white space"},
		{name: "long link", edit: link("https://contoso.com/" + strings.Repeat("a", MaxURL)), want: "longer than"},
		{name: "empty link title", edit: func(d map[string]any) {
			step(d, "steps", 0)["links"] = []any{map[string]any{"title": "", "url": "https://contoso.com"}}
		}, want: "links[0].title is empty"},
		{name: "too many links", edit: func(d map[string]any) {
			l := map[string]any{"title": "x", "url": "https://contoso.com"}
			step(d, "steps", 0)["links"] = []any{l, l, l, l, l}
		}, want: "5 links"},
		{name: "not JSON", raw: "welcome: hi", want: "invalid character"},
		{name: "trailing data", raw: `{"welcome":"a"} {}`, want: "trailing data"},
		{name: "too large", raw: `{"welcome":"` + strings.Repeat("a", maxDocument) + `"}`, want: "larger than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := []byte(tt.raw)
			if tt.raw == "" {
				d := validDoc()
				tt.edit(d)
				raw, _ = json.Marshal(d)
			}
			_, err := LoadContent(bytes.NewReader(raw))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	c := Content{Steps: []StepText{{ID: "nope"}}}
	err := c.Validate()
	for _, want := range []string{"welcome is empty", "unknown step id", "title is empty", "keyPath has no steps"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to mention %q", err, want)
		}
	}
}

func step(d map[string]any, path string, i int) map[string]any {
	return d[path].([]any)[i].(map[string]any)
}

func link(u string) func(d map[string]any) {
	return func(d map[string]any) {
		step(d, "steps", 0)["links"] = []any{map[string]any{"title": "x", "url": u}}
	}
}
