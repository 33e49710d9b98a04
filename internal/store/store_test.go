package store

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

func TestDefaultPath(t *testing.T) {
	tests := []struct {
		name      string
		xdg, home string
		want      string // "" means an error
	}{
		{"XDG_STATE_HOME wins", "/xdg/state", "/home/u", "/xdg/state/tapbot/tapbot.db"},
		{"HOME when XDG_STATE_HOME unset", "", "/home/u", "/home/u/.local/state/tapbot/tapbot.db"},
		{"relative XDG_STATE_HOME is ignored", "rel/state", "/home/u", "/home/u/.local/state/tapbot/tapbot.db"},
		{"XDG_STATE_HOME without HOME", "/xdg/state", "", "/xdg/state/tapbot/tapbot.db"},
		{"neither", "", "", ""},
		{"only a relative XDG_STATE_HOME", "rel/state", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("XDG_STATE_HOME", tc.xdg)
			t.Setenv("HOME", tc.home)
			got, err := DefaultPath()
			if tc.want == "" {
				if err == nil {
					t.Fatalf("DefaultPath() = %q, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("DefaultPath(): %v", err)
			}
			if want := filepath.FromSlash(tc.want); got != want {
				t.Errorf("DefaultPath() = %q, want %q", got, want)
			}
		})
	}
}

func TestReferenceValidate(t *testing.T) {
	valid := Reference{ConversationID: "a:1", Scope: ScopePersonal}
	tests := []validateCase[Reference]{
		{"personal", func(r *Reference) {}, ""},
		{"group chat", func(r *Reference) { r.Scope = ScopeGroupChat }, ""},
		{"channel", func(r *Reference) { r.Scope = ScopeChannel }, ""},
		{"first representable year", func(r *Reference) { r.UpdatedAt = time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC) }, ""},
		{"last representable year", func(r *Reference) { r.UpdatedAt = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC) }, ""},
		{"empty conversation id", func(r *Reference) { r.ConversationID = "" },
			"store: invalid reference: empty conversation id"},
		{"unknown scope", func(r *Reference) { r.Scope = "meeting" },
			`store: invalid reference "a:1": unknown scope "meeting"`},
		{"year 10000", func(r *Reference) { r.UpdatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
			`store: invalid reference "a:1": updated at 10000-01-01 00:00:00 +0000 UTC is outside years 1-9999`},
		// The year that counts is UTC's: this is 10000-01-01 in UTC.
		{"year 10000 in UTC only", func(r *Reference) {
			r.UpdatedAt = time.Date(9999, 12, 31, 23, 0, 0, 0, time.FixedZone("-02", -2*3600))
		}, `store: invalid reference "a:1": updated at 9999-12-31 23:00:00 -0200 -02 is outside years 1-9999`},
	}
	testValidate(t, valid, ErrInvalidReference, tests)
}

// Actions lists every action constant once: /audit's filter accepts exactly these.
func TestActionsListsEveryAction(t *testing.T) {
	src, err := os.ReadFile("vocabulary.go")
	if err != nil {
		t.Fatal(err)
	}
	declared := regexp.MustCompile(`(?m)^\s+Action\w+\s+Action = "([^"]+)"`).FindAllStringSubmatch(string(src), -1)
	listed := map[Action]bool{}
	for _, a := range Actions() {
		if listed[a] {
			t.Errorf("Actions() lists %s twice, want it once", a)
		}
		listed[a] = true
	}
	for _, d := range declared {
		if !listed[Action(d[1])] {
			t.Errorf("Actions() lacks %s, declared in vocabulary.go; want every declared action", d[1])
		}
	}
	if len(declared) != len(listed) {
		t.Errorf("Actions() lists %d actions, want the %d declared", len(listed), len(declared))
	}
}

// validateCase is a valid input changed by mutate, and the error Validate must
// return for it, to the letter ("" means none).
type validateCase[T any] struct {
	name    string
	mutate  func(*T)
	wantErr string
}

// testValidate runs Validate on valid as each case changes it. An error must
// wrap sentinel.
func testValidate[T interface{ Validate() error }](t *testing.T, valid T, sentinel error, tests []validateCase[T]) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := valid
			tc.mutate(&v)
			err := v.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("Validate() = %v, want %q", err, tc.wantErr)
			}
			if !errors.Is(err, sentinel) {
				t.Errorf("Validate() = %v, want an error wrapping %v", err, sentinel)
			}
		})
	}
}
