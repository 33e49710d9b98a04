package onboard

import (
	"maps"
	"strings"
	"testing"
	"time"
)

// now is 09:00 on 1 March 2026 in Berlin.
var (
	berlin = time.FixedZone("CET", 3600)
	now    = time.Date(2026, 3, 1, 9, 0, 0, 0, berlin)
)

func facts() Facts {
	taken := map[string]bool{"megan.bowen@contoso.com": true, "jose.muller@contoso.com": true}
	return Facts{
		VerifiedDomains: []string{"contoso.com", "Fabrikam.COM"},
		FreeLicences:    map[string]int{strings.ToUpper(skuE3): 12, "c7df2760-2c81-4ef7-b578-5b5392b571df": 0},
		AllowedGroups:   []string{groupA, strings.ToUpper(groupB)},
		UPNTaken:        func(upn string) bool { return taken[upn] },
	}
}

func validRequest() Request {
	r := parsedSubmission()
	r.MailNickname = "jose.muller.sales"
	return r
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Request)
		facts func(*Facts)
		want  map[string]string
	}{
		{name: "valid"},
		{name: "valid with only the required fields", edit: func(r *Request) {
			r.JobTitle, r.Department, r.OfficeLocation, r.Licence, r.Groups, r.Notes = "", "", "", "", nil, ""
		}},
		{name: "valid without a smartphone", edit: func(r *Request) { r.HasSmartphone = No }},
		{name: "starts today", edit: func(r *Request) { r.StartDate = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) }},
		{name: "second verified domain, case-insensitive", edit: func(r *Request) { r.Domain = "fabrikam.com" }},
		{name: "manager by UPN", edit: func(r *Request) { r.Manager = "megan.bowen@contoso.com" }},
		{name: "no facts about taken UPNs", edit: func(r *Request) { r.MailNickname = "jose.muller" },
			facts: func(f *Facts) { f.UPNTaken = nil }},
		{name: "empty form", edit: func(r *Request) { *r = Request{RequestID: reqID} }, want: map[string]string{
			FieldGivenName:     "Enter the given name.",
			FieldSurname:       "Enter the surname.",
			FieldDisplayName:   "Enter the display name.",
			FieldMailNickname:  "Enter the user name (the part of the sign-in name before the @).",
			FieldDomain:        "Choose the domain of the new user's sign-in name.",
			FieldUsageLocation: "Enter the usage location: the two-letter code of the country where the new hire works, such as US, GB or DE.",
			FieldStartDate:     "Choose the start date.",
			FieldManager:       "Choose the new hire's manager.",
			FieldHasSmartphone: "Say whether the new hire has a smartphone.",
		}},
		{name: "given name too long", edit: func(r *Request) { r.GivenName = strings.Repeat("a", 65) },
			want: map[string]string{FieldGivenName: "The given name can be at most 64 characters."}},
		{name: "given name at the limit", edit: func(r *Request) { r.GivenName = strings.Repeat("é", 64) }},
		{name: "surname counted in UTF-16 units", edit: func(r *Request) { r.Surname = strings.Repeat("𝓜", 33) },
			want: map[string]string{FieldSurname: "The surname can be at most 64 characters."}},
		{name: "display name too long", edit: func(r *Request) { r.DisplayName = strings.Repeat("d", 257) },
			want: map[string]string{FieldDisplayName: "The display name can be at most 256 characters."}},
		{name: "display name with a control character", edit: func(r *Request) { r.DisplayName = "José\x00Müller" },
			want: map[string]string{FieldDisplayName: "The display name contains control or text-direction characters; type it again without them."}},
		{name: "surname with a right-to-left override", edit: func(r *Request) { r.Surname = "Müller\u202Enimda" },
			want: map[string]string{FieldSurname: "The surname contains control or text-direction characters; type it again without them."}},
		{name: "job title too long", edit: func(r *Request) { r.JobTitle = strings.Repeat("j", 129) },
			want: map[string]string{FieldJobTitle: "The job title can be at most 128 characters."}},
		{name: "department too long", edit: func(r *Request) { r.Department = strings.Repeat("d", 65) },
			want: map[string]string{FieldDepartment: "The department can be at most 64 characters."}},
		{name: "office location too long", edit: func(r *Request) { r.OfficeLocation = strings.Repeat("o", 129) },
			want: map[string]string{FieldOfficeLocation: "The office location can be at most 128 characters."}},
		{name: "office location with a control character", edit: func(r *Request) { r.OfficeLocation = "Berlin\x1b[31m" },
			want: map[string]string{FieldOfficeLocation: "The office location contains control or text-direction characters; type it again without them."}},
		{name: "notes too long", edit: func(r *Request) { r.Notes = strings.Repeat("n", 2001) },
			want: map[string]string{FieldNotes: "The notes can be at most 2000 characters."}},
		{name: "notes with lines and tabs", edit: func(r *Request) { r.Notes = "a\n\tb\nc" }},
		{name: "notes with a bell", edit: func(r *Request) { r.Notes = "a\a" },
			want: map[string]string{FieldNotes: "The notes contain control or text-direction characters; type them again without them."}},
		{name: "user name with @", edit: func(r *Request) { r.MailNickname = "jose@contoso.com" },
			want: map[string]string{FieldMailNickname: "Enter only the part before the @; choose the domain in the list."}},
		{name: "user name too long", edit: func(r *Request) { r.MailNickname = strings.Repeat("u", 65) },
			want: map[string]string{FieldMailNickname: "The user name can be at most 64 characters."}},
		{name: "user name at the limit", edit: func(r *Request) { r.MailNickname = strings.Repeat("u", 64) }},
		{name: "user name with a space", edit: func(r *Request) { r.MailNickname = "jose muller" },
			want: map[string]string{FieldMailNickname: "The user name can contain only the letters a–z, digits and ' . - _ ! # ^ ~ (no spaces or accents)."}},
		{name: "user name with an accent", edit: func(r *Request) { r.MailNickname = "josé" },
			want: map[string]string{FieldMailNickname: "The user name can contain only the letters a–z, digits and ' . - _ ! # ^ ~ (no spaces or accents)."}},
		{name: "user name with a plus", edit: func(r *Request) { r.MailNickname = "jose+test" },
			want: map[string]string{FieldMailNickname: "The user name can contain only the letters a–z, digits and ' . - _ ! # ^ ~ (no spaces or accents)."}},
		{name: "user name with every allowed symbol", edit: func(r *Request) { r.MailNickname = "o'neil.j-x_y!z#a^b~c" }},
		{name: "user name with #EXT#", edit: func(r *Request) { r.MailNickname = "jose#EXT#" },
			want: map[string]string{FieldMailNickname: "The user name can't contain #EXT#: Entra keeps it for guest accounts."}},
		{name: "user name with #ext# in lower case", edit: func(r *Request) { r.MailNickname = "jose_fabrikam.com#ext#" },
			want: map[string]string{FieldMailNickname: "The user name can't contain #EXT#: Entra keeps it for guest accounts."}},
		{name: "user name ending in a dot", edit: func(r *Request) { r.MailNickname = "jose." },
			want: map[string]string{FieldMailNickname: "The user name can't start or end with a dot or have two dots in a row."}},
		{name: "user name starting with a dot", edit: func(r *Request) { r.MailNickname = ".jose" },
			want: map[string]string{FieldMailNickname: "The user name can't start or end with a dot or have two dots in a row."}},
		{name: "user name with two dots", edit: func(r *Request) { r.MailNickname = "jose..muller" },
			want: map[string]string{FieldMailNickname: "The user name can't start or end with a dot or have two dots in a row."}},
		{name: "UPN taken, next free suggested", edit: func(r *Request) { r.MailNickname = "jose.muller" },
			want: map[string]string{FieldMailNickname: "jose.muller@contoso.com is already taken. jose.muller2 is free."}},
		{name: "UPN taken, nothing free", edit: func(r *Request) { r.MailNickname = "jose.muller" },
			facts: func(f *Facts) { f.UPNTaken = func(string) bool { return true } },
			want:  map[string]string{FieldMailNickname: "jose.muller@contoso.com is already taken. Choose another user name."}},
		{name: "longest UPN Entra takes", edit: func(r *Request) {
			r.MailNickname, r.Domain = strings.Repeat("u", 64), strings.Repeat("d", 44)+".com"
		}, facts: func(f *Facts) { f.VerifiedDomains = append(f.VerifiedDomains, strings.Repeat("d", 44)+".com") }},
		{name: "domain not verified", edit: func(r *Request) { r.Domain = "evil.example" },
			want: map[string]string{FieldDomain: "Choose one of the organisation's verified domains."}},
		{name: "domain longer than Entra allows", edit: func(r *Request) { r.Domain = strings.Repeat("d", 45) + ".com" },
			facts: func(f *Facts) { f.VerifiedDomains = []string{strings.Repeat("d", 45) + ".com"} },
			want:  map[string]string{FieldDomain: "Entra allows at most 48 characters after the @; choose a shorter domain."}},
		{name: "taken UPN not looked up while the domain is wrong", edit: func(r *Request) { r.MailNickname, r.Domain = "jose.muller", "evil.example" },
			facts: func(f *Facts) { f.UPNTaken = func(string) bool { panic("looked up") } },
			want:  map[string]string{FieldDomain: "Choose one of the organisation's verified domains."}},
		{name: "usage location not a country", edit: func(r *Request) { r.UsageLocation = "UK" },
			want: map[string]string{FieldUsageLocation: "UK is not a country code. Use the two-letter ISO 3166 code, such as US, GB or DE."}},
		{name: "usage location a name", edit: func(r *Request) { r.UsageLocation = "GERMANY" },
			want: map[string]string{FieldUsageLocation: "GERMANY is not a country code. Use the two-letter ISO 3166 code, such as US, GB or DE."}},
		{name: "start date yesterday", edit: func(r *Request) { r.StartDate = time.Date(2026, 2, 28, 0, 0, 0, 0, time.UTC) },
			want: map[string]string{FieldStartDate: "The start date is in the past. Choose today or a later day."}},
		{name: "manager neither id nor UPN", edit: func(r *Request) { r.Manager = "Megan Bowen" },
			want: map[string]string{FieldManager: "Choose the manager from the directory, or enter their sign-in name like name@contoso.com."}},
		{name: "manager UPN with a dot before the @", edit: func(r *Request) { r.Manager = "megan.@contoso.com" },
			want: map[string]string{FieldManager: "Choose the manager from the directory, or enter their sign-in name like name@contoso.com."}},
		{name: "manager the new user", edit: func(r *Request) { r.Manager = "jose.muller.sales@contoso.com" },
			want: map[string]string{FieldManager: "The new user can't be their own manager."}},
		{name: "licence unknown", edit: func(r *Request) { r.Licence = "6fd2c87f-b296-42f0-b197-1e91e994b900" },
			want: map[string]string{FieldLicence: "That licence is not one of the organisation's subscriptions. Choose one from the list."}},
		{name: "licence used up", edit: func(r *Request) { r.Licence = "c7df2760-2c81-4ef7-b578-5b5392b571df" },
			want: map[string]string{FieldLicence: "No units of that licence are free any more. Choose another one, or none and assign it later."}},
		{name: "licence used up since the form was sent", facts: func(f *Facts) { f.FreeLicences[strings.ToUpper(skuE3)] = 0 },
			want: map[string]string{FieldLicence: "No units of that licence are free any more. Choose another one, or none and assign it later."}},
		{name: "group outside the allow-list", edit: func(r *Request) { r.Groups = append(r.Groups, "62e90394-69f5-4237-9190-012177145e10") },
			want: map[string]string{FieldGroups: "Choose groups from the list only."}},
		{name: "smartphone unanswered", edit: func(r *Request) { r.HasSmartphone = Unanswered },
			want: map[string]string{FieldHasSmartphone: "Say whether the new hire has a smartphone."}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, f := validRequest(), facts()
			if tt.edit != nil {
				tt.edit(&r)
			}
			if tt.facts != nil {
				tt.facts(&f)
			}
			got := Validate(r, f, now)
			want := tt.want
			if want == nil {
				want = map[string]string{}
			}
			if !maps.Equal(got, want) {
				t.Errorf("Validate:\n got  %q\n want %q", got, want)
			}
			for field := range got {
				if !isField(field) {
					t.Errorf("error under %q, want it under an input id (one of %q)", field, Fields)
				}
			}
		})
	}
}

// Validate checks the UPN's parts; their limits add up to Entra's limit on the whole.
func TestUPNLimitsAddUp(t *testing.T) {
	if MaxMailNickname+1+MaxUPNDomain != MaxUPN {
		t.Fatalf("MaxMailNickname + 1 + MaxUPNDomain = %d, want MaxUPN %d (else Validate must check the whole UPN's length too)", MaxMailNickname+1+MaxUPNDomain, MaxUPN)
	}
}

func isField(id string) bool {
	for _, f := range Fields {
		if f == id {
			return true
		}
	}
	return false
}

// The start date is compared with the requester's date, whatever the instant says.
func TestValidateStartDateInRequesterZone(t *testing.T) {
	march2 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		now  time.Time
		ok   bool
	}{
		// 00:30 on 2 March in Berlin is still 1 March in UTC: 2 March is today there.
		{"Berlin just after midnight", time.Date(2026, 3, 2, 0, 30, 0, 0, berlin), true},
		// 23:30 on 2 March in Berlin is 22:30 UTC: still today.
		{"Berlin late evening", time.Date(2026, 3, 2, 23, 30, 0, 0, berlin), true},
		// 00:30 on 3 March in Berlin is 23:30 on 2 March in UTC, but 2 March is past there.
		{"Berlin the next day", time.Date(2026, 3, 3, 0, 30, 0, 0, berlin), false},
		// 20:00 on 1 March in Seattle is 2 March 04:00 UTC: 2 March is tomorrow there.
		{"Seattle the day before", time.Date(2026, 3, 1, 20, 0, 0, 0, time.FixedZone("PST", -8*3600)), true},
		// 10:00 on 3 March in Tokyo is 01:00 UTC on 3 March.
		{"Tokyo the next day", time.Date(2026, 3, 3, 10, 0, 0, 0, time.FixedZone("JST", 9*3600)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := validRequest()
			r.StartDate = march2
			_, bad := Validate(r, facts(), tt.now)[FieldStartDate]
			if bad == tt.ok {
				t.Errorf("start 2026-03-02 at %v: error %v, want %v", tt.now, bad, !tt.ok)
			}
		})
	}
}

func TestSuggestNickname(t *testing.T) {
	tests := []struct{ given, surname, want string }{
		{"José", "Müller", "jose.muller"},
		{"  Zoë ", "Ångström-Öberg", "zoe.angstrom-oberg"},
		{"Łukasz", "Żółć", "lukasz.zolc"},
		{"Ștefan", "Țurcanu", "stefan.turcanu"},
		{"Søren", "Kierkegaard", "soren.kierkegaard"},
		{"Æsa", "Straße", "aesa.strasse"},
		{"Mary Ann", "O'Neil", "maryann.oneil"},
		{"Jean-Luc", "van der Berg", "jean-luc.vanderberg"},
		{"-Anna-", "--", "anna"},
		{"", "Smith", "smith"},
		{"Ann", "", "ann"},
		{"Иван", "Петров", ""},
		{"王", "伟", ""},
		{"<at>Admin</at>", "**bold**", "atadminat.bold"},
		{"R2", "D2", "r2.d2"},
		{strings.Repeat("a", 40), strings.Repeat("b", 40), strings.Repeat("a", 40) + "." + strings.Repeat("b", 23)},
		{strings.Repeat("a", 64), "b", strings.Repeat("a", 64)},
	}
	for _, tt := range tests {
		got := SuggestNickname(tt.given, tt.surname)
		if got != tt.want {
			t.Errorf("SuggestNickname(%q, %q) = %q, want %q", tt.given, tt.surname, got, tt.want)
		}
		if got != "" && checkNickname(got) != "" {
			t.Errorf("suggestion %q is invalid (%s), want a valid user name", got, checkNickname(got))
		}
	}
}

func TestSuggestDisplayName(t *testing.T) {
	for _, tt := range []struct{ given, surname, want string }{
		{"José", "Müller", "José Müller"}, {" José ", "", "José"}, {"", "Müller", "Müller"}, {"Mary  Ann", "O'Neil", "Mary Ann O'Neil"},
	} {
		if got := SuggestDisplayName(tt.given, tt.surname); got != tt.want {
			t.Errorf("SuggestDisplayName(%q, %q) = %q, want %q", tt.given, tt.surname, got, tt.want)
		}
	}
}

func TestApplySuggestions(t *testing.T) {
	jose := Request{GivenName: "José", Surname: "Müller"}
	with := func(edit func(*Request)) Request {
		r := jose
		edit(&r)
		return r
	}
	tests := []struct {
		name          string
		in            Request
		display, nick string
		unseen        bool
	}{
		{name: "both left empty: display name used at once, user name shown first",
			in: jose, display: "José Müller", nick: "jose.muller", unseen: true},
		{name: "typed values kept",
			in: with(func(r *Request) { r.DisplayName, r.MailNickname = "Pepe", "pepe" }), display: "Pepe", nick: "pepe"},
		{name: "user name already the suggestion shown: nothing new to see",
			in:      with(func(r *Request) { r.MailNickname, r.SuggestedMailNickname = "jose.muller", "jose.muller" }),
			display: "José Müller", nick: "jose.muller"},
		{name: "names corrected after a round trip: suggestions follow them",
			in: with(func(r *Request) {
				r.DisplayName, r.SuggestedDisplayName = "José Muler", "José Muler"
				r.MailNickname, r.SuggestedMailNickname = "jose.muler", "jose.muler"
			}), display: "José Müller", nick: "jose.muller", unseen: true},
		{name: "names corrected, display name and user name typed over the suggestion: kept",
			in: with(func(r *Request) {
				r.DisplayName, r.SuggestedDisplayName = "Pepe Müller", "José Muler"
				r.MailNickname, r.SuggestedMailNickname = "pepe", "jose.muler"
			}), display: "Pepe Müller", nick: "pepe"},
		{name: "non-Latin names: display name filled, no user name to suggest",
			in: Request{GivenName: "Иван"}, display: "Иван"},
		{name: "no names: nothing to fill", in: Request{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, unseen := ApplySuggestions(tt.in)
			if got.DisplayName != tt.display || got.MailNickname != tt.nick || unseen != tt.unseen {
				t.Errorf("got display %q, user name %q, unseen %v; want %q, %q, %v",
					got.DisplayName, got.MailNickname, unseen, tt.display, tt.nick, tt.unseen)
			}
		})
	}
}

func TestNextFreeUPN(t *testing.T) {
	takenSet := func(upns ...string) func(string) bool {
		m := map[string]bool{}
		for _, u := range upns {
			m[u] = true
		}
		return func(u string) bool { return m[u] }
	}
	long := strings.Repeat("a", 64)
	tests := []struct {
		name, nick, domain string
		taken              func(string) bool
		want               string
	}{
		{"free", "jose.muller", "contoso.com", takenSet(), "jose.muller@contoso.com"},
		{"nil taken", "jose.muller", "contoso.com", nil, "jose.muller@contoso.com"},
		{"taken once", "jose.muller", "contoso.com", takenSet("jose.muller@contoso.com"), "jose.muller2@contoso.com"},
		{"taken twice", "jose.muller", "contoso.com", takenSet("jose.muller@contoso.com", "jose.muller2@contoso.com"), "jose.muller3@contoso.com"},
		{"64 characters: the number replaces the end", long, "contoso.com", takenSet(long + "@contoso.com"), strings.Repeat("a", 63) + "2@contoso.com"},
		{"no dot left before the number", strings.Repeat("a", 62) + ".b", "contoso.com", takenSet(strings.Repeat("a", 62) + ".b@contoso.com"),
			strings.Repeat("a", 62) + "2@contoso.com"},
		{"whole UPN within 113", long, strings.Repeat("d", 44) + ".com", takenSet(), strings.Repeat("a", 64) + "@" + strings.Repeat("d", 44) + ".com"},
		{"whole UPN shortened to 113", long, strings.Repeat("d", 44) + ".com", takenSet(long + "@" + strings.Repeat("d", 44) + ".com"),
			strings.Repeat("a", 63) + "2@" + strings.Repeat("d", 44) + ".com"},
		{"all taken", "jose", "contoso.com", func(string) bool { return true }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NextFreeUPN(tt.nick, tt.domain, tt.taken)
			if got != tt.want {
				t.Errorf("NextFreeUPN = %q, want %q", got, tt.want)
			}
			if got != "" && (len(got) > MaxUPN || !IsUPN(got)) {
				t.Errorf("NextFreeUPN = %q, want a UPN by Entra's rules, at most %d bytes", got, MaxUPN)
			}
		})
	}
}

// isoCodes are the 249 ISO 3166-1 alpha-2 codes, written out independently of the
// compact table in validate.go.
const isoCodes = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ " +
	"CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR " +
	"GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP " +
	"KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT " +
	"MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW " +
	"SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ " +
	"UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"

func TestIsCountryCode(t *testing.T) {
	want := map[string]bool{}
	for _, c := range strings.Fields(isoCodes) {
		want[c] = true
	}
	if len(want) != 249 {
		t.Fatalf("test list has %d codes, want 249", len(want))
	}
	for a := 'A'; a <= 'Z'; a++ {
		for b := 'A'; b <= 'Z'; b++ {
			cc := string([]rune{a, b})
			if IsCountryCode(cc) != want[cc] {
				t.Errorf("IsCountryCode(%q) = %v, want %v", cc, !want[cc], want[cc])
			}
		}
	}
	for _, cc := range []string{"", "D", "de", "DEU", "UK", "EU", "XK", "D1", "ÄB"} {
		if IsCountryCode(cc) {
			t.Errorf("IsCountryCode(%q) = true, want false", cc)
		}
	}
}

func TestIsUPNAndObjectID(t *testing.T) {
	for _, tt := range []struct {
		s        string
		upn, oid bool
	}{
		{"megan.bowen@contoso.com", true, false},
		{"o'neil_j-x!y#z^a~b@sub.contoso.co.uk", true, false},
		{"gus.guest_contoso.net#ext#@contoso.onmicrosoft.com", true, false},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("d", 44) + ".com", true, false},
		{strings.Repeat("a", 65) + "@contoso.com", false, false},
		{strings.Repeat("a", 64) + "@" + strings.Repeat("d", 45) + ".com", false, false},
		{"megan.@contoso.com", false, false},
		{".megan@contoso.com", false, false},
		{"me..gan@contoso.com", false, false},
		{"megan@contoso", false, false},
		{"megan@@contoso.com", false, false},
		{"megan bowen@contoso.com", false, false},
		{"megan+x@contoso.com", false, false},
		{"megan@-contoso.com", false, false},
		{"megan", false, false},
		{managerID, false, true},
		{strings.ToUpper(managerID), false, true},
		{"11111111111141118111111111111111", false, false},
		{"1111111-1111-4111-8111-111111111111", false, false},
	} {
		if got := IsUPN(tt.s); got != tt.upn {
			t.Errorf("IsUPN(%q) = %v, want %v", tt.s, got, tt.upn)
		}
		if got := IsObjectID(tt.s); got != tt.oid {
			t.Errorf("IsObjectID(%q) = %v, want %v", tt.s, got, tt.oid)
		}
	}
}
