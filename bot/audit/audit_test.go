package audit

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/store"
)

var now = time.Date(2026, time.March, 9, 12, 0, 0, 0, time.UTC)

func TestParseQuery(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args string
		want Query
		err  string // part of the UsageError; "" for none
	}{
		{"", Query{}, ""},
		{"nina@contoso.com", Query{User: "nina@contoso.com"}, ""},
		{"nina@contoso.com since 7d action tap.revoke", Query{User: "nina@contoso.com", Since: now.Add(-7 * 24 * time.Hour), Action: store.ActionTAPRevoke, since: "7d"}, ""},
		{"ACTION TAP.CREATE Since 24h", Query{Action: store.ActionTAPCreate, Since: now.Add(-24 * time.Hour), since: "24h"}, ""},
		{"since 2w", Query{Since: now.Add(-14 * 24 * time.Hour), since: "2w"}, ""},
		{"since 2026-03-01", Query{Since: time.Date(2026, time.March, 1, 0, 0, 0, 0, berlin), since: "2026-03-01"}, ""},
		{"since 7x", Query{}, `"7x" as a time`},
		{"since 0d", Query{}, `"0d" as a time`},
		{"since 99999w", Query{}, `"99999w" as a time`},
		{"since d", Query{}, `"d" as a time`},
		{"since 2026-04-01", Query{}, "in the future"},
		{"since", Query{}, `"since" needs a value`},
		{"since 1d since 2d", Query{}, "given twice"},
		{"action tap.delete", Query{}, `no action "tap.delete"`},
		{"action tap.create action tap.revoke", Query{}, "given twice"},
		{"nina@contoso.com gwen@contoso.com", Query{}, "one user at a time"},
		{"7d", Query{User: ""}, `"7d" as a user`},
	}
	for _, tt := range tests {
		q, err := ParseQuery(strings.Fields(tt.args), now, berlin)
		if tt.err != "" {
			var u *UsageError
			if !errors.As(err, &u) || !strings.Contains(u.Msg, tt.err) || !strings.Contains(u.Msg, "Usage: /audit") {
				t.Errorf("%q: error %v, want one with %q and the usage", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil || q.User != tt.want.User || q.Action != tt.want.Action || !q.Since.Equal(tt.want.Since) || q.since != tt.want.since {
			t.Errorf("%q: %+v, %v; want %+v", tt.args, q, err, tt.want)
		}
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{"nina@contoso.com since 7d action tap.revoke", "since 2026-03-01", "since 9999999999999999999d", "action"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := ParseQuery(strings.Fields(s), now, time.UTC)
		if err == nil && q.Since.After(now) {
			t.Fatalf("ParseQuery(%q) since %v, want no later than now (%v)", s, q.Since, now)
		}
	})
}

func TestOutcomeWords(t *testing.T) {
	rows := []store.AuditEntry{
		{Action: store.ActionTAPCreate, Outcome: store.OutcomeAllowed},
		{Action: store.ActionTAPCreate, Outcome: store.OutcomeRefused, Reason: "privileged_role"},
		{Action: store.ActionTAPCreate, Outcome: store.OutcomeRefused, Reason: store.ReasonNeedsConfirmation},
		{Action: store.ActionTAPCreate, Outcome: store.OutcomeRefused, Reason: store.ReasonCancelled},
		{Action: store.ActionTAPCreate, Outcome: store.OutcomeFailed, Reason: "lookup"},
		{Action: store.ActionTAPRedact, Outcome: store.OutcomeAllowed, Reason: store.RedactExpired},
		{Action: store.ActionTAPRevoke, Outcome: store.OutcomeRefused, Reason: "not_helpdesk"},
	}
	want := []string{"issued", "refused: privileged role", "asked to confirm replacing", "cancelled", "failed: lookup",
		"removed from the chat: expired", "refused: not in the helpdesk group"}
	for i, r := range rows {
		if got := outcome(r); got != want[i] {
			t.Errorf("outcome(%+v) = %q, want %q", r, got, want[i])
		}
	}
	if got := summary(rows); got != "2 done, 2 refused, 1 failed, 1 asked to confirm replacing, 1 cancelled" {
		t.Errorf("summary = %q, want %q", got, "2 done, 2 refused, 1 failed, 1 asked to confirm replacing, 1 cancelled")
	}
}

type fakeUsers struct {
	calls int
	users map[string]graph.User
}

func (f *fakeUsers) User(_ context.Context, ref string) (graph.User, error) {
	f.calls++
	if u, ok := f.users[ref]; ok {
		return u, nil
	}
	return graph.User{}, graph.ErrNotFound
}

func TestNames(t *testing.T) {
	clock := now
	dir := &fakeUsers{users: map[string]graph.User{"id-hana": {DisplayName: "Hana Helpdesk"}}}
	n := &names{dir: dir, ttl: time.Minute, now: func() time.Time { return clock }, cache: map[string]cachedName{}}
	ctx := context.Background()
	for _, tt := range []struct {
		r    requester
		want string
	}{
		{requester{}, "tapbot"},
		{requester{upn: "cli:ops"}, "cli:ops"},
		{requester{id: "id-hana"}, "Hana Helpdesk"},
		{requester{id: "id-gone", upn: "old@contoso.com"}, "old@contoso.com"},
		{requester{id: "id-gone"}, "id-gone"},
	} {
		if got := n.who(ctx, tt.r); got != tt.want {
			t.Errorf("who(%+v) = %q, want %q", tt.r, got, tt.want)
		}
	}
	calls := dir.calls
	dir.users["id-hana"] = graph.User{DisplayName: "Hana Renamed"}
	if got := n.who(ctx, requester{id: "id-hana"}); got != "Hana Helpdesk" || dir.calls != calls {
		t.Errorf("within the TTL: %q after %d calls, want %q from the cache (0 calls)", got, dir.calls-calls, "Hana Helpdesk")
	}
	clock = clock.Add(2 * time.Minute)
	if got := n.who(ctx, requester{id: "id-hana"}); got != "Hana Renamed" {
		t.Errorf("after the TTL: %q, want %q", got, "Hana Renamed")
	}
}
