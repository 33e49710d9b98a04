package tap

import (
	"testing"
	"time"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/store"
)

func TestEstablished(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	after := 14 * 24 * time.Hour
	young, old := now.Add(-2*24*time.Hour), now.Add(-30*24*time.Hour)
	m := func(types ...string) []graph.Method {
		var out []graph.Method
		for _, ty := range types {
			out = append(out, graph.Method{Type: ty})
		}
		return out
	}
	for _, tc := range []struct {
		name       string
		created    time.Time
		methods    []graph.Method
		onboarding bool
		want       bool
	}{
		{"young, password only: new hire", young, m("password"), false, false},
		{"young, a TAP and email: new hire", young, m("password", "temporaryAccessPass", "email"), false, false},
		{"young with Authenticator", young, m("password", "microsoftAuthenticator"), false, true},
		{"young with a phone", young, m("phone"), false, true},
		{"young with FIDO2", young, m("fido2"), false, true},
		{"young with Windows Hello", young, m("windowsHelloForBusiness"), false, true},
		{"young with software OATH", young, m("softwareOath"), false, true},
		{"young, onboarding unfinished, Authenticator registered: new hire", young, m("microsoftAuthenticator"), true, false},
		{"old, no methods", old, nil, false, true},
		{"old, onboarding unfinished: still established", old, nil, true, true},
		{"exactly the age limit", now.Add(-after), nil, false, true},
		{"creation unknown: fail closed", time.Time{}, nil, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := graph.Target{User: graph.User{CreatedDateTime: tc.created}, Methods: tc.methods}
			if got := Established(target, now, after, tc.onboarding); got != tc.want {
				t.Errorf("Established = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestMayAnswer(t *testing.T) {
	const hana, max, alex, nina = "hana", "max", "alex", "nina"
	c := func(p store.ConfirmPath, confirmer string) store.TAPConfirmation {
		return store.TAPConfirmation{RequesterID: hana, TargetID: nina, Path: p, ConfirmerID: confirmer}
	}
	for _, tc := range []struct {
		name     string
		c        store.TAPConfirmation
		clicker  string
		helpdesk bool
		want     string // refusal code, "" allowed
	}{
		{"target answers", c(store.PathTarget, nina), nina, false, ""},
		{"manager answers", c(store.PathManager, max), max, false, ""},
		{"colleague answers", c(store.PathHelpdesk, ""), alex, true, ""},
		{"requester on the target path", c(store.PathTarget, nina), hana, true, "self_confirmation"},
		{"requester on the helpdesk path", c(store.PathHelpdesk, ""), hana, true, "self_confirmation"},
		{"requester, case differs", c(store.PathHelpdesk, ""), "HANA", true, "self_confirmation"},
		{"someone else for the target", c(store.PathTarget, nina), max, false, "not_confirmer"},
		{"a helpdesk member for the manager", c(store.PathManager, max), alex, true, "not_confirmer"},
		{"no helpdesk member on the helpdesk path", c(store.PathHelpdesk, ""), max, false, "not_confirmer"},
		{"empty clicker on the helpdesk path", c(store.PathHelpdesk, ""), "", false, "not_confirmer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := MayAnswer(tc.c, tc.clicker, tc.helpdesk)
			switch {
			case tc.want == "" && r != nil:
				t.Errorf("refused %s, want allowed", r.Code)
			case tc.want != "" && (r == nil || r.Code != tc.want):
				t.Errorf("got %v, want %s", r, tc.want)
			}
		})
	}
}

func TestParseVerify(t *testing.T) {
	for in, want := range map[string]string{
		"off": "[]", "OFF": "[]", "target,manager,helpdesk": "[target manager helpdesk]",
		" Helpdesk , target ": "[helpdesk target]", "manager": "[manager]",
	} {
		got, err := ParseVerify(in)
		if err != nil || fmtPaths(got) != want {
			t.Errorf("ParseVerify(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "friend", "target,target", "target,,manager"} {
		if _, err := ParseVerify(bad); err == nil {
			t.Errorf("ParseVerify(%q): want an error", bad)
		}
	}
}

func fmtPaths(ps []store.ConfirmPath) string {
	s := "["
	for i, p := range ps {
		if i > 0 {
			s += " "
		}
		s += string(p)
	}
	return s + "]"
}
