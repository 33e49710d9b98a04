package tap

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tapbot/tapbot/cards"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		args    string
		want    Request
		wantErr string
	}{
		{args: "alice@contoso.com", want: Request{User: "alice@contoso.com"}},
		{args: "Alice@Contoso.COM 8h once ticket 4711", want: Request{User: "alice@contoso.com", Lifetime: 8 * time.Hour, Once: true, Reason: "ticket 4711"}},
		{args: "alice@contoso.com 90m", want: Request{User: "alice@contoso.com", Lifetime: 90 * time.Minute}},
		{args: "alice@contoso.com 2d new laptop", want: Request{User: "alice@contoso.com", Lifetime: 48 * time.Hour, Reason: "new laptop"}},
		{args: "alice@contoso.com 1h30m", want: Request{User: "alice@contoso.com", Lifetime: 90 * time.Minute}},
		{args: "alice@contoso.com ONCE", want: Request{User: "alice@contoso.com", Once: true}},
		{args: "alice@contoso.com 4711", want: Request{User: "alice@contoso.com", Reason: "4711"}},
		{args: "mailto:alice@contoso.com", want: Request{User: "alice@contoso.com"}},
		{args: "o'brien@contoso.com", want: Request{User: "o'brien@contoso.com"}},
		{args: "greg_fabrikam.com#EXT#@contoso.onmicrosoft.com", want: Request{User: "greg_fabrikam.com#ext#@contoso.onmicrosoft.com"}},
		{args: "", wantErr: "Tell me whose pass"},
		{args: "alice", wantErr: "is not a user principal name"},
		{args: "alice@contoso.com/../../me", wantErr: "is not a user principal name"},
		{args: "alice@contoso.com?$select=x", wantErr: "is not a user principal name"},
		{args: "alice@contoso.com 5m", wantErr: "10 minutes to 30 days"},
		{args: "alice@contoso.com 31d", wantErr: "10 minutes to 30 days"},
		{args: "alice@contoso.com 8h " + strings.Repeat("x", 501), wantErr: "too long"},
		// A mistyped lifetime is an error, not the start of the reason.
		{args: "alice@contoso.com 99y", wantErr: `"99y" is not a lifetime`},
		{args: "alice@contoso.com 2hr ticket 7", wantErr: `"2hr" is not a lifetime`},
		{args: "alice@contoso.com 1.5h", wantErr: "is not a lifetime"},
		{args: "alice@contoso.com 8hours", wantErr: "is not a lifetime"},
		{args: "alice@contoso.com once 2h", wantErr: "Put the lifetime before once"},
		{args: "alice@contoso.com once 2hr", wantErr: "Put the lifetime before once"},
		{args: "alice@contoso.com 8h once 4711 replaced phone", want: Request{User: "alice@contoso.com", Lifetime: 8 * time.Hour, Once: true, Reason: "4711 replaced phone"}},
		{args: "alice@contoso.com ticket 2hr", want: Request{User: "alice@contoso.com", Reason: "ticket 2hr"}},
		// A pass that starts later: wall-clock time (UTC here; ParseRequestIn takes a zone).
		{args: "alice@contoso.com 8h from 2026-12-01 08:00", want: Request{User: "alice@contoso.com", Lifetime: 8 * time.Hour, Start: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}},
		{args: "alice@contoso.com 8h from 2026-12-01 once t1", want: Request{User: "alice@contoso.com", Lifetime: 8 * time.Hour, Start: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Once: true, Reason: "t1"}},
		{args: "alice@contoso.com from 2026-12-01 08:00 ticket 9", want: Request{User: "alice@contoso.com", Start: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC), Reason: "ticket 9"}},
		{args: "alice@contoso.com from HR ticket", want: Request{User: "alice@contoso.com", Reason: "from HR ticket"}},
		{args: "alice@contoso.com 8h from 2026-13-01 08:00", wantErr: "Write the start like this"},
		{args: "alice@contoso.com 8h from 2026-12-01 8am", wantErr: "Write the start like this"},
		{args: "alice@contoso.com 8h from 2026-12-01 25:00", wantErr: "Write the start like this"},
		{args: "alice@contoso.com 8h from 26-12-01", wantErr: "Write the start like this"},
	}
	for _, tt := range tests {
		t.Run(tt.args, func(t *testing.T) {
			got, err := ParseRequest(strings.Fields(tt.args))
			if tt.wantErr != "" {
				var u *UsageError
				if !errors.As(err, &u) || !strings.Contains(u.Msg, tt.wantErr) {
					t.Fatalf("want usage error %q, got %v", tt.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestFormatLifetime(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Minute: "10m", 90 * time.Minute: "1h30m", 8 * time.Hour: "8h", 48 * time.Hour: "2d", 0: "0m",
	} {
		if got := FormatLifetime(d); got != want {
			t.Errorf("FormatLifetime(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestParseRequestInZone(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	got, err := ParseRequestIn(strings.Fields("alice@contoso.com 8h from 2026-12-01 08:00"), berlin)
	if err != nil || !got.Start.Equal(time.Date(2026, 12, 1, 7, 0, 0, 0, time.UTC)) || cards.StartText(got.Start) != "2026-12-01 08:00 Europe/Berlin" {
		t.Fatalf("ParseRequestIn = %+v, %v; want start 2026-12-01 07:00 UTC shown as %q", got, err, "2026-12-01 08:00 Europe/Berlin")
	}
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{"a@b.co 8h once x", "a@b.co 8h from 2026-12-01 08:00 once x", "a@b.co from 2026-02-30", "a@b.co 1d2h3m", "x@y.z 99999m", "'@a.b", "a@b.c\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRequest(strings.Fields(s))
		if err != nil {
			var u *UsageError
			if !errors.As(err, &u) {
				t.Fatalf("ParseRequest error = %T %v, want a *UsageError", err, err)
			}
			return
		}
		// Whatever is accepted is safe to put in a Graph path or OData literal.
		if strings.ContainsAny(r.User, "/?&\\ \"\x00") || r.User != strings.ToLower(r.User) {
			t.Fatalf("User = %q, want lower case without / ? & \\ space quote or NUL", r.User)
		}
		if r.Lifetime != 0 && (r.Lifetime < MinLifetime || r.Lifetime > MaxLifetime) {
			t.Fatalf("Lifetime = %v, want 0 or %v..%v", r.Lifetime, MinLifetime, MaxLifetime)
		}
		// A start is whole minutes, as typed: never seconds or a zone other than the one given.
		if !r.Start.IsZero() && (r.Start.Second() != 0 || r.Start.Location() != time.UTC) {
			t.Fatalf("Start = %v, want whole minutes in UTC", r.Start)
		}
	})
}
