package store

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestClampLimit(t *testing.T) {
	for n, want := range map[int]int{
		-1: DefaultLimit, 0: DefaultLimit, 1: 1, DefaultLimit + 1: DefaultLimit + 1,
		MaxLimit: MaxLimit, MaxLimit + 1: MaxLimit, 1 << 40: MaxLimit,
	} {
		if got := ClampLimit(n); got != want {
			t.Errorf("ClampLimit(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"", 3, ""},
		{"abc", 3, "abc"},
		{"abcd", 3, "ab…"},
		{"ééé", 3, "ééé"}, // 6 bytes, 3 runes: kept
		{"éééé", 3, "éé…"},
		{"a\xffb", 3, "a\uFFFDb"},
		{"a\xff\xfeb", 10, "a\uFFFDb"},
		{"a\x00b", 10, "a\uFFFDb"},
		{"\xff\xff\xffabcd", 3, "\uFFFDa…"},
		{"a\u2603b\u2603", 3, "a\u2603…"},
		{"x", 1, "x"},
		{"xy", 1, "…"},
	}
	for _, tc := range tests {
		got := clip(tc.in, tc.limit)
		if got != tc.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
		}
		if !storable(got) || utf8.RuneCountInString(got) > tc.limit {
			t.Errorf("clip(%q, %d) = %q, want storable text of at most %d runes", tc.in, tc.limit, got, tc.limit)
		}
	}
}

func FuzzClip(f *testing.F) {
	for _, s := range []string{"", "abc", "é\xff\x00", strings.Repeat("é", 20)} {
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 1 || limit > 100 {
			return
		}
		got := clip(s, limit)
		if !storable(got) || utf8.RuneCountInString(got) > limit {
			t.Fatalf("clip(%q, %d) = %q, want storable text of at most %d runes", s, limit, got, limit)
		}
		if storable(s) && utf8.RuneCountInString(s) <= limit && got != s {
			t.Fatalf("clip(%q, %d) = %q, want it unchanged", s, limit, got)
		}
	})
}

func TestAuditEntryNormalize(t *testing.T) {
	valid := AuditEntry{Action: "tap.create", Outcome: OutcomeAllowed}
	long := strings.Repeat("x", MaxTicketLen+10)
	tests := []struct {
		name    string
		mutate  func(e *AuditEntry)
		wantErr string // "" means valid
	}{
		{"minimal", func(e *AuditEntry) {}, ""},
		{"refused", func(e *AuditEntry) { e.Outcome = OutcomeRefused }, ""},
		{"failed", func(e *AuditEntry) { e.Outcome = OutcomeFailed }, ""},
		{"long ticket is not an error", func(e *AuditEntry) { e.Ticket = long }, ""},
		{"non-ASCII action", func(e *AuditEntry) { e.Action = "tâp.create" }, ""},
		{"empty action", func(e *AuditEntry) { e.Action = "" },
			`store: invalid audit entry: action "": empty`},
		{"long action", func(e *AuditEntry) { e.Action = Action(strings.Repeat("a", MaxActionLen+1)) },
			`store: invalid audit entry: action "` + strings.Repeat("a", MaxActionLen+1) + `": longer than 64 characters`},
		{"action with a tab", func(e *AuditEntry) { e.Action = "tap\tcreate" },
			`store: invalid audit entry: action "tap\tcreate": contains a space or control character`},
		{"unknown outcome", func(e *AuditEntry) { e.Outcome = "ok" },
			`store: invalid audit entry: outcome "ok" is not "allowed", "refused" or "failed"`},
		{"time in year 10000", func(e *AuditEntry) { e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
			`store: invalid audit entry: time 10000-01-01 00:00:00 +0000 UTC is outside years 1-9999`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := valid
			tc.mutate(&e)
			got, err := e.Normalize()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Normalize() = %v, want nil", err)
				}
				if n := utf8.RuneCountInString(got.Ticket); n > MaxTicketLen {
					t.Errorf("Normalize() left a ticket of %d runes, want at most %d", n, MaxTicketLen)
				}
				if err := e.Validate(); err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("Normalize() = %v, want %q", err, tc.wantErr)
			}
			if !errors.Is(err, ErrInvalidAudit) {
				t.Errorf("Normalize() = %v, does not wrap ErrInvalidAudit", err)
			}
			if err := e.Validate(); err == nil || err.Error() != tc.wantErr {
				t.Errorf("Validate() = %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestDeliveryValidate(t *testing.T) {
	valid := Delivery{ID: "d1", MethodID: "m", ServiceURL: "s", ConversationID: "c", ActivityID: "a", Expires: time.Unix(0, 0)}
	tests := []validateCase[Delivery]{
		{"minimal", func(d *Delivery) {}, ""},
		{"redacted", func(d *Delivery) { d.RedactedAt, d.RedactReason = time.Unix(1, 0), RedactExpired }, ""},
		{"empty id", func(d *Delivery) { d.ID = "" }, `store: invalid delivery "": empty id`},
		{"empty conversation id", func(d *Delivery) { d.ConversationID = "" }, `store: invalid delivery "d1": empty conversation id`},
		{"empty activity id", func(d *Delivery) { d.ActivityID = "" }, `store: invalid delivery "d1": empty activity id`},
		{"empty service url", func(d *Delivery) { d.ServiceURL = "" }, `store: invalid delivery "d1": empty service url`},
		{"empty method id", func(d *Delivery) { d.MethodID = "" }, `store: invalid delivery "d1": empty method id`},
		{"zero expires", func(d *Delivery) { d.Expires = time.Time{} }, `store: invalid delivery "d1": zero expires`},
		{"NUL", func(d *Delivery) { d.RequesterID = "\x00" }, `store: invalid delivery "d1": requester id is not valid UTF-8 without NUL`},
		{"reason alone", func(d *Delivery) { d.RedactReason = RedactUsed },
			`store: invalid delivery "d1": redacted at and redact reason must be set together`},
	}
	testValidate(t, valid, ErrInvalidDelivery, tests)
}

func TestValidateRedactionClaimAndFilter(t *testing.T) {
	y10000 := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		err  error
		want error // nil means valid
	}{
		{"redaction", ValidateRedaction("d", time.Time{}, RedactRevoked), nil},
		{"redaction without reason", ValidateRedaction("d", time.Time{}, ""), ErrInvalidDelivery},
		{"redaction in year 10000", ValidateRedaction("d", y10000, RedactRevoked), ErrInvalidDelivery},
		{"claim", ValidateClaim("k", time.Time{}), nil},
		{"claim of the longest key", ValidateClaim(strings.Repeat("k", MaxClaimLen), time.Time{}), nil},
		{"claim without key", ValidateClaim("", time.Time{}), ErrInvalidClaim},
		{"claim of a long key", ValidateClaim(strings.Repeat("k", MaxClaimLen+1), time.Time{}), ErrInvalidClaim},
		{"claim in year 10000", ValidateClaim("k", y10000), ErrInvalidClaim},
		{"due time", ValidateDueTime(time.Time{}), nil},
		{"due time in year 10000", ValidateDueTime(y10000), ErrInvalidDelivery},
		{"filter", AuditFilter{Outcome: OutcomeFailed, Limit: -3}.Validate(), nil},
		{"filter of unknown outcome", AuditFilter{Outcome: "x"}.Validate(), ErrInvalidAuditFilter},
		{"filter until year 10000", AuditFilter{Until: y10000}.Validate(), ErrInvalidAuditFilter},
	}
	for _, tc := range tests {
		if tc.want == nil && tc.err != nil {
			t.Errorf("%s: %v, want nil", tc.name, tc.err)
		}
		if tc.want != nil && !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, tc.err, tc.want)
		}
	}
}
