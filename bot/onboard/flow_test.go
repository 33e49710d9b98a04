package onboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/store"
)

func TestReadButton(t *testing.T) {
	for _, tc := range []struct {
		data   map[string]any
		id     string
		reason string
		ok     bool
	}{
		{map[string]any{"requestId": "abc123"}, "abc123", "", true},
		{map[string]any{"requestId": "abc123", "reason": "  too   early \n"}, "abc123", "too early", true},
		{map[string]any{"requestId": ""}, "", "", false},
		{map[string]any{"requestId": "../x"}, "", "", false},
		{map[string]any{"requestId": 42}, "", "", false},
		{map[string]any{"requestId": "abc", "reason": 7}, "", "", false},
		{map[string]any{"requestId": "abc", "reason": strings.Repeat("x", maxReason+1)}, "", "", false},
		{map[string]any{"requestId": "abc", "reason": "evil\u202e"}, "", "", false},
		{nil, "", "", false},
	} {
		d, ok := readButton(tc.data)
		if d.RequestID != tc.id || d.Reason != tc.reason || ok != tc.ok {
			t.Errorf("readButton(%v) = %q, %q, %v; want %q, %q, %v", tc.data, d.RequestID, d.Reason, ok, tc.id, tc.reason, tc.ok)
		}
	}
}

func TestFailureTextIsPlainAndActionable(t *testing.T) {
	rec := record{Request: Request{MailNickname: "a", Domain: "contoso.com", Licence: "sku"}, LicenceName: "Microsoft 365 E3"}
	for _, tc := range []struct {
		step string
		err  error
		want string
	}{
		{StepLicence, fmt.Errorf("x: %w", graph.ErrLicenceUnavailable), "No unit of Microsoft 365 E3 is free"},
		{StepManager, &graph.Error{Status: 503}, "busy or unavailable"},
		{StepManager, fmt.Errorf("x: %w", graph.ErrNotFound), "manager's account no longer exists"},
		{StepGroups, fmt.Errorf("x: %w", graph.ErrForbidden), "tapbot doctor"},
		{StepUser, errUPNTaken{"a@contoso.com"}, "a@contoso.com was taken by another account"},
		{StepUser, context.DeadlineExceeded, "Press Retry"},
		{StepUser, errors.New("Graph said: secret details"), "reference req1"},
	} {
		got := failureText(tc.step, tc.err, rec, "req1")
		if !strings.Contains(got, tc.want) || !strings.HasPrefix(got, "Couldn't "+stepLabels[tc.step]) {
			t.Errorf("failureText(%s, %v) = %q, want it to start %q and contain %q", tc.step, tc.err, got, "Couldn't "+stepLabels[tc.step], tc.want)
		}
		if strings.Contains(got, "secret details") {
			t.Errorf("failure text = %q, want it without Graph's message", got)
		}
	}
}

func TestSummaryButtonsByState(t *testing.T) {
	f := &Flow{}
	rec := record{Request: Request{GivenName: "A", Surname: "B", DisplayName: "A B", MailNickname: "a.b", Domain: "contoso.com"}, DeciderName: "Alex"}
	for state, want := range map[string][]string{
		store.OnboardSubmitted:    {VerbApprove, VerbReject},
		store.OnboardApproved:     nil,
		store.OnboardProvisioning: nil,
		store.OnboardFailed:       {VerbRetry},
		store.OnboardDone:         nil,
		store.OnboardRejected:     nil,
	} {
		c := f.summary(store.OnboardRequest{ID: "r1", State: state}, rec, true)
		raw, _ := json.Marshal(c)
		var got struct {
			Actions []struct{ Verb string } `json:"actions"`
		}
		_ = json.Unmarshal(raw, &got)
		var verbs []string
		for _, a := range got.Actions {
			verbs = append(verbs, a.Verb)
		}
		if strings.Join(verbs, ",") != strings.Join(want, ",") {
			t.Errorf("%s: actions %v, want %v", state, verbs, want)
		}
		// The requester's view never has buttons.
		if c := f.summary(store.OnboardRequest{ID: "r1", State: state}, rec, false); len(c.Actions) != 0 {
			t.Errorf("%s: requester's card has actions %+v, want none", state, c.Actions)
		}
	}
}

func TestRecordNeverHoldsAPassword(t *testing.T) {
	// The stored form is the record: no field may carry a secret. This pins its keys.
	raw := record{}.encode()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for k := range m {
		if strings.Contains(strings.ToLower(k), "password") || strings.Contains(strings.ToLower(k), "secret") {
			t.Errorf("record has key %q, want none naming a password or secret", k)
		}
	}
}

func TestNewRequiresApproversAndValidConfig(t *testing.T) {
	if f, err := New(Config{}, nil, nil, nil, nil); err != nil || !f.off {
		t.Errorf("unconfigured flow: err %v, off %v; want nil, true", err, f != nil && f.off)
	}
	if _, err := New(Config{ApproversConversation: "c"}, nil, nil, nil, nil); err == nil {
		t.Error("no approver group accepted, want an error")
	}
	if _, err := New(Config{ApproverGroups: []string{"g"}}, nil, nil, nil, nil); err == nil {
		t.Error("no approvers' conversation accepted, want an error")
	}
	if _, err := New(Config{ApproverGroups: []string{"g"}, ApproversConversation: "c", DefaultUsageLocation: "XX"}, nil, nil, nil, nil); err == nil {
		t.Error("bad usage location accepted, want an error")
	}
	f, err := New(Config{ApproverGroups: []string{"g"}, ApproversConversation: "c", DefaultUsageLocation: "de"}, nil, nil, nil, nil)
	if err != nil || f.cfg.DefaultUsageLocation != "DE" {
		t.Errorf("New = %+v, %v; want usage location DE, nil", f, err)
	}
}

// A start-day pass time left unset becomes 08:00; midnight, set on purpose, stays.
func TestStartDayTAPAtDefaultKeepsMidnight(t *testing.T) {
	for _, tt := range []struct {
		in   ClockTime
		want ClockTime
	}{{ClockTime{}, At(8, 0)}, {At(0, 0), At(0, 0)}, {At(6, 30), At(6, 30)}} {
		f, err := New(Config{StartDayTAPAt: tt.in}, nil, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if f.cfg.StartDayTAPAt != tt.want {
			t.Errorf("StartDayTAPAt %+v became %+v, want %+v", tt.in, f.cfg.StartDayTAPAt, tt.want)
		}
	}
}
