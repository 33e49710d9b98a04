package onboard

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

const (
	reqID     = "7f3c2a9e-5b1d-4e8f-a6c4-0d2e1f3a4b5c"
	managerID = "11111111-1111-4111-8111-111111111111"
	groupA    = "aaaaaaaa-0000-4000-8000-000000000001"
	groupB    = "aaaaaaaa-0000-4000-8000-000000000002"
	skuE3     = "05e9a617-0261-4cee-bb44-138d3ef5d965"
)

// submission is what Teams sends for a fully filled form: the action's data with the
// inputs' values merged in, every value a string.
func submission() map[string]any {
	return map[string]any{
		KeyVerb: SubmitVerb, KeyRequestID: reqID,
		FieldGivenName: "José", FieldSurname: "Müller", FieldDisplayName: "José Müller",
		FieldMailNickname: "jose.muller", FieldDomain: "contoso.com",
		FieldJobTitle: "Sales engineer", FieldDepartment: "Sales", FieldOfficeLocation: "Berlin 3.14",
		FieldUsageLocation: "DE", FieldStartDate: "2026-03-02", FieldManager: managerID,
		FieldLicence: skuE3, FieldGroups: groupA + "," + groupB, FieldHasSmartphone: "true",
		FieldNotes: "Laptop shipped.\nCall on day one.",
	}
}

func parsedSubmission() Request {
	return Request{RequestID: reqID, GivenName: "José", Surname: "Müller", DisplayName: "José Müller",
		MailNickname: "jose.muller", Domain: "contoso.com", JobTitle: "Sales engineer", Department: "Sales",
		OfficeLocation: "Berlin 3.14", UsageLocation: "DE", StartDate: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
		Manager: managerID, Licence: skuE3, Groups: []string{groupA, groupB}, HasSmartphone: Yes,
		Notes: "Laptop shipped.\nCall on day one."}
}

func TestParseSubmission(t *testing.T) {
	tests := []struct {
		name string
		edit func(map[string]any)
		want func(*Request)
	}{
		{name: "full form"},
		{name: "Action.Execute data without verb", edit: func(d map[string]any) { delete(d, KeyVerb) }},
		{name: "empty inputs omitted by the client", edit: func(d map[string]any) {
			for _, k := range []string{FieldDisplayName, FieldMailNickname, FieldJobTitle, FieldDepartment, FieldOfficeLocation,
				FieldLicence, FieldGroups, FieldNotes, FieldStartDate, FieldHasSmartphone} {
				delete(d, k)
			}
		}, want: func(r *Request) {
			r.DisplayName, r.MailNickname, r.JobTitle, r.Department, r.OfficeLocation = "", "", "", "", ""
			r.Licence, r.Groups, r.Notes, r.StartDate, r.HasSmartphone = "", nil, "", time.Time{}, Unanswered
		}},
		{name: "empty strings", edit: func(d map[string]any) { d[FieldGroups], d[FieldHasSmartphone], d[FieldStartDate] = "", "", "" },
			want: func(r *Request) { r.Groups, r.HasSmartphone, r.StartDate = nil, Unanswered, time.Time{} }},
		{name: "no smartphone", edit: func(d map[string]any) { d[FieldHasSmartphone] = "false" },
			want: func(r *Request) { r.HasSmartphone = No }},
		{name: "names trimmed, inner white space collapsed", edit: func(d map[string]any) {
			d[FieldGivenName], d[FieldSurname], d[FieldDisplayName] = "  José\t Maria ", "van  der\nBerg", " José Maria van der Berg\r\n"
			d[FieldJobTitle], d[FieldDepartment], d[FieldOfficeLocation] = " Sales  engineer ", "\u00a0Sales\u00a0", "Berlin\n3.14"
		}, want: func(r *Request) {
			r.GivenName, r.Surname, r.DisplayName = "José Maria", "van der Berg", "José Maria van der Berg"
			r.JobTitle, r.Department, r.OfficeLocation = "Sales engineer", "Sales", "Berlin 3.14"
		}},
		{name: "user name and domain lower-cased", edit: func(d map[string]any) {
			d[FieldMailNickname], d[FieldDomain] = " Jose.Muller ", "@Contoso.COM "
		}},
		{name: "country upper-cased", edit: func(d map[string]any) { d[FieldUsageLocation] = " de" }},
		{name: "manager UPN from a mailto link", edit: func(d map[string]any) { d[FieldManager] = "mailto:Megan.Bowen@Contoso.com" },
			want: func(r *Request) { r.Manager = "megan.bowen@contoso.com" }},
		{name: "manager object id upper-case", edit: func(d map[string]any) { d[FieldManager] = strings.ToUpper(managerID) }},
		{name: "groups trimmed, lower-cased, deduplicated", edit: func(d map[string]any) {
			d[FieldGroups] = " " + strings.ToUpper(groupA) + ", ," + groupB + "," + groupA + ","
		}},
		{name: "notes: CRLF, trailing space", edit: func(d map[string]any) { d[FieldNotes] = "  Laptop shipped.  \r\nCall on day one.\r\n\r\n" }},
		{name: "markdown and mentions kept as typed", edit: func(d map[string]any) {
			d[FieldDisplayName], d[FieldNotes] = "**José** <at>Admin</at>", "[click](https://evil.example)"
		}, want: func(r *Request) { r.DisplayName, r.Notes = "**José** <at>Admin</at>", "[click](https://evil.example)" }},
		{name: "unknown keys ignored, whatever their type", edit: func(d map[string]any) {
			d["msteams"] = map[string]any{"type": "messageBack"}
			d["isAdmin"] = true
			d["userPrincipalName"] = "ceo@contoso.com"
		}},
		{name: "licence id lower-cased", edit: func(d map[string]any) { d[FieldLicence] = strings.ToUpper(skuE3) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := submission()
			if tt.edit != nil {
				tt.edit(d)
			}
			want := parsedSubmission()
			if tt.want != nil {
				tt.want(&want)
			}
			got, err := ParseSubmission(d)
			if err != nil {
				t.Fatalf("ParseSubmission: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestParseSubmissionRefuses(t *testing.T) {
	long := strings.Repeat("a", maxValueBytes+1)
	tests := []struct {
		name string
		data func() map[string]any
		key  string
	}{
		{name: "no data", data: func() map[string]any { return nil }},
		{name: "too many keys", data: func() map[string]any {
			d := submission()
			for i := range maxKeys {
				d["x"+string(rune('a'+i%26))+strings.Repeat("y", i)] = ""
			}
			return d
		}},
		{name: "no request id", data: func() map[string]any { d := submission(); delete(d, KeyRequestID); return d }, key: KeyRequestID},
		{name: "empty request id", data: func() map[string]any { d := submission(); d[KeyRequestID] = " "; return d }, key: KeyRequestID},
		{name: "request id with a path", data: func() map[string]any { d := submission(); d[KeyRequestID] = "../admin"; return d }, key: KeyRequestID},
		{name: "request id too long", data: func() map[string]any {
			d := submission()
			d[KeyRequestID] = strings.Repeat("a", maxRequestID+1)
			return d
		}, key: KeyRequestID},
		{name: "request id a number", data: func() map[string]any { d := submission(); d[KeyRequestID] = 42.0; return d }, key: KeyRequestID},
		{name: "another verb", data: func() map[string]any { d := submission(); d[KeyVerb] = "tap.revoke"; return d }, key: KeyVerb},
		{name: "name a number", data: func() map[string]any { d := submission(); d[FieldGivenName] = 7.0; return d }, key: FieldGivenName},
		{name: "toggle a bool", data: func() map[string]any { d := submission(); d[FieldHasSmartphone] = true; return d }, key: FieldHasSmartphone},
		{name: "groups an array", data: func() map[string]any { d := submission(); d[FieldGroups] = []any{groupA}; return d }, key: FieldGroups},
		{name: "manager an object", data: func() map[string]any {
			d := submission()
			d[FieldManager] = map[string]any{"id": managerID}
			return d
		}, key: FieldManager},
		{name: "null value", data: func() map[string]any { d := submission(); d[FieldSurname] = nil; return d }, key: FieldSurname},
		{name: "oversized name", data: func() map[string]any { d := submission(); d[FieldDisplayName] = long; return d }, key: FieldDisplayName},
		{name: "oversized notes", data: func() map[string]any {
			d := submission()
			d[FieldNotes] = strings.Repeat("n", maxNotesBytes+1)
			return d
		}, key: FieldNotes},
		{name: "invalid UTF-8", data: func() map[string]any { d := submission(); d[FieldSurname] = "M\xfcller"; return d }, key: FieldSurname},
		{name: "date in the user's format", data: func() map[string]any { d := submission(); d[FieldStartDate] = "02/03/2026"; return d }, key: FieldStartDate},
		{name: "date without leading zeros", data: func() map[string]any { d := submission(); d[FieldStartDate] = "2026-3-2"; return d }, key: FieldStartDate},
		{name: "date that does not exist", data: func() map[string]any { d := submission(); d[FieldStartDate] = "2026-02-30"; return d }, key: FieldStartDate},
		{name: "date with a time", data: func() map[string]any {
			d := submission()
			d[FieldStartDate] = "2026-03-02T00:00:00Z"
			return d
		}, key: FieldStartDate},
		{name: "toggle yes", data: func() map[string]any { d := submission(); d[FieldHasSmartphone] = "yes"; return d }, key: FieldHasSmartphone},
		{name: "too many groups", data: func() map[string]any {
			d := submission()
			var g []string
			for i := range maxGroups + 1 {
				g = append(g, strings.Repeat("g", i+1))
			}
			d[FieldGroups] = strings.Join(g, ",")
			return d
		}, key: FieldGroups},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseSubmission(tt.data())
			var se *SubmissionError
			if !errors.As(err, &se) {
				t.Fatalf("got %+v, %v; want a *SubmissionError", r, err)
			}
			if se.Key != tt.key {
				t.Errorf("error key %q, want %q (%v)", se.Key, tt.key, err)
			}
			if !reflect.DeepEqual(r, Request{}) {
				t.Errorf("a refused submission returned %+v, want the zero Request", r)
			}
			// The message names the key, never the value: it is logged.
			if strings.Contains(err.Error(), "aaaa") || strings.Contains(err.Error(), "admin") {
				t.Errorf("error = %v, want it to name the key, not echo the value", err)
			}
		})
	}
}

func TestRequestHelpers(t *testing.T) {
	r := parsedSubmission()
	if got := r.UPN(); got != "jose.muller@contoso.com" {
		t.Errorf("UPN = %q, want %q", got, "jose.muller@contoso.com")
	}
	if got := r.StartDateString(); got != "2026-03-02" {
		t.Errorf("StartDateString = %q, want %q", got, "2026-03-02")
	}
	if r.NeedsSecurityKey() {
		t.Error("a new hire with a smartphone needs no security key")
	}
	r.HasSmartphone = No
	if !r.NeedsSecurityKey() {
		t.Error("a new hire without a smartphone needs a security key")
	}
	r.HasSmartphone = Unanswered
	if r.NeedsSecurityKey() {
		t.Error("an unanswered question is not a no")
	}
	if (Request{MailNickname: "x"}).UPN() != "" || (Request{Domain: "contoso.com"}).UPN() != "" || (Request{}).StartDateString() != "" {
		t.Error("partial requests have no UPN or date")
	}
}

// asData turns a request back into the data a client would submit for it.
func asData(r Request) map[string]any {
	d := map[string]any{KeyVerb: SubmitVerb, KeyRequestID: r.RequestID,
		FieldGivenName: r.GivenName, FieldSurname: r.Surname, FieldDisplayName: r.DisplayName,
		FieldMailNickname: r.MailNickname, FieldDomain: r.Domain, FieldJobTitle: r.JobTitle,
		FieldDepartment: r.Department, FieldOfficeLocation: r.OfficeLocation, FieldUsageLocation: r.UsageLocation,
		FieldStartDate: r.StartDateString(), FieldManager: r.Manager, FieldLicence: r.Licence,
		FieldGroups: strings.Join(r.Groups, ","), FieldNotes: r.Notes}
	switch r.HasSmartphone {
	case Yes:
		d[FieldHasSmartphone] = "true"
	case No:
		d[FieldHasSmartphone] = "false"
	}
	return d
}

func FuzzParseSubmission(f *testing.F) {
	for _, d := range []map[string]any{submission(), asData(Request{RequestID: "r"}), {KeyRequestID: "x", FieldGroups: ",,A,a"}} {
		raw, _ := json.Marshal(d)
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var d map[string]any
		if json.Unmarshal(raw, &d) != nil {
			return
		}
		r, err := ParseSubmission(d)
		if err != nil {
			var se *SubmissionError
			if !errors.As(err, &se) {
				t.Fatalf("error of type %T: %v; want a *SubmissionError", err, err)
			}
			return
		}
		if !requestIDRE.MatchString(r.RequestID) {
			t.Fatalf("request id %q accepted, want it to match %s", r.RequestID, requestIDRE)
		}
		for _, s := range []string{r.GivenName, r.Surname, r.DisplayName, r.JobTitle, r.Department, r.OfficeLocation} {
			if s != line(s) || strings.ContainsAny(s, "\r\n") {
				t.Fatalf("single-line field = %q, want it normalised to %q", s, line(s))
			}
		}
		for _, s := range []string{r.MailNickname, r.Domain, r.Manager, r.Licence} {
			if s != strings.ToLower(s) || s != strings.TrimSpace(s) {
				t.Fatalf("field = %q, want it lower-case and trimmed", s)
			}
		}
		if r.UsageLocation != strings.ToUpper(r.UsageLocation) || strings.HasPrefix(r.Domain, "@") || strings.Contains(r.Notes, "\r") {
			t.Fatalf("request = %+v, want upper-case usage location, domain without @, notes without CR", r)
		}
		seen := map[string]bool{}
		for _, g := range r.Groups {
			if g == "" || seen[g] || strings.Contains(g, ",") || g != strings.TrimSpace(g) {
				t.Fatalf("groups = %q, want distinct trimmed non-empty ids without commas", r.Groups)
			}
			seen[g] = true
		}
		if !r.StartDate.IsZero() && (r.StartDate.Location() != time.UTC || r.StartDate.Hour() != 0 || r.StartDate.Minute() != 0) {
			t.Fatalf("start date = %v, want midnight UTC", r.StartDate)
		}
		for _, s := range []string{r.GivenName, r.Surname, r.DisplayName, r.Notes, r.MailNickname} {
			if !utf8.ValidString(s) {
				t.Fatalf("field = %q, want valid UTF-8", s)
			}
		}
		// Normalising is idempotent: what we parsed parses to itself.
		again, err := ParseSubmission(asData(r))
		if err != nil {
			t.Fatalf("re-parse of %+v: %v", r, err)
		}
		if !reflect.DeepEqual(again, r) {
			t.Fatalf("re-parse = %+v\nwant the request unchanged: %+v", again, r)
		}
		// Validation and suggestions take any parsed request.
		taken := func(upn string) bool { return len(upn)%2 == 0 }
		_ = Validate(r, Facts{VerifiedDomains: []string{r.Domain}, UPNTaken: taken}, time.Now())
		if nick := SuggestNickname(r.GivenName, r.Surname); nick != "" && checkNickname(nick) != "" {
			t.Fatalf("SuggestNickname = %q, invalid (%s); want a valid nickname or none", nick, checkNickname(nick))
		}
	})
}
