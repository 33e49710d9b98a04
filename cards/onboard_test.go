package cards_test

import (
	"encoding/json"
	"github.com/tapbot/tapbot/cards"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tapbot/tapbot/bot/onboard"
)

const (
	testRequestID = "7f3c2a9e-5b1d-4e8f-a6c4-0d2e1f3a4b5c"
	requesterID   = "11111111-1111-4111-8111-111111111111"
	otherManager  = "22222222-2222-4222-8222-222222222222"
	groupNewHires = "aaaaaaaa-0000-4000-8000-000000000001"
	groupSales    = "aaaaaaaa-0000-4000-8000-000000000002"
	skuE3         = "05e9a617-0261-4cee-bb44-138d3ef5d965"
	skuP1         = "078d2b04-f1bd-4111-bbd4-b4b1b354cef4"
)

// hostile is user text that would do harm if a card rendered it as markdown.
const hostile = "**Boss** <at>Admin</at> [click](https://evil.example) _x_ # y"

func formView() cards.OnboardFormView {
	return cards.OnboardFormView{
		RequestID: testRequestID,
		Values: cards.OnboardValues{GivenName: "José", Surname: "Müller", DisplayName: "José Müller", MailNickname: "jose.muller",
			Domain: "fabrikam.com", JobTitle: "Sales engineer", Department: "Sales", OfficeLocation: "Berlin 3.14",
			UsageLocation: "DE", StartDate: "2026-03-02", Manager: otherManager, Licence: skuE3,
			Groups: []string{groupNewHires, groupSales}, Notes: "Laptop shipped.\nCall on day one."},
		Domains:      []string{"contoso.com", "fabrikam.com"},
		Licences:     []cards.LicenceOption{{SKUID: skuE3, Name: "Microsoft 365 E3", Free: 12}, {SKUID: skuP1, Name: "Microsoft Entra ID P1", Free: 1}},
		Groups:       []cards.Choice{{Title: "New hires", Value: groupNewHires}, {Title: "Sales", Value: groupSales}},
		PeoplePicker: true,
		People:       []cards.Choice{{Title: "Megan Bowen", Value: requesterID}, {Title: "Lee Gu", Value: otherManager}},
		MinStartDate: "2026-03-01",
	}
}

// The request ParseSubmission must make of formView's submission.
func formRequest() onboard.Request {
	return onboard.Request{RequestID: testRequestID, GivenName: "José", Surname: "Müller", DisplayName: "José Müller",
		MailNickname: "jose.muller", Domain: "fabrikam.com", JobTitle: "Sales engineer", Department: "Sales",
		OfficeLocation: "Berlin 3.14", UsageLocation: "DE", StartDate: time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC),
		Manager: otherManager, Licence: skuE3, Groups: []string{groupNewHires, groupSales}, HasSmartphone: onboard.Yes,
		Notes: "Laptop shipped.\nCall on day one."}
}

func cardJSON(t *testing.T, c cards.Card) map[string]any {
	t.Helper()
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// walk calls fn for every object in v with a "type", depth first in document order.
func walk(v any, fn func(map[string]any)) {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["type"].(string); ok {
			fn(x)
		}
		for _, k := range slices.Sorted(maps.Keys(x)) {
			if k == "body" || k == "items" || k == "inlines" || k == "actions" || k == "columns" {
				walk(x[k], fn)
			}
		}
	case []any:
		for _, e := range x {
			walk(e, fn)
		}
	}
}

func inputs(card map[string]any) []map[string]any {
	var in []map[string]any
	walk(card["body"], func(o map[string]any) {
		if strings.HasPrefix(o["type"].(string), "Input.") {
			in = append(in, o)
		}
	})
	return in
}

func str(o map[string]any, k string) string { s, _ := o[k].(string); return s }

// submit builds the data Teams sends for Action.Execute: the action's data with each
// input's current value merged in under its id. Like the Adaptive Cards renderer, it
// leaves out inputs with no value.
func submit(t *testing.T, card map[string]any) map[string]any {
	t.Helper()
	actions, _ := card["actions"].([]any)
	if len(actions) != 1 {
		t.Fatalf("want one action, got %v", card["actions"])
	}
	action := actions[0].(map[string]any)
	data := map[string]any{}
	maps.Copy(data, action["data"].(map[string]any))
	for _, in := range inputs(card) {
		if v := str(in, "value"); v != "" {
			data[str(in, "id")] = v
		}
	}
	return data
}

func TestOnboardFormIDsAreTheParsersKeys(t *testing.T) {
	card := cardJSON(t, cards.OnboardForm(formView()))
	var ids []string
	for _, in := range inputs(card) {
		ids = append(ids, str(in, "id"))
	}
	if !slices.Equal(ids, onboard.Fields) {
		t.Errorf("input ids = %q, want the parser's keys %q", ids, onboard.Fields)
	}
	action := card["actions"].([]any)[0].(map[string]any)
	data := action["data"].(map[string]any)
	if str(action, "type") != "Action.Execute" || str(action, "verb") != onboard.SubmitVerb || cards.OnboardSubmitVerb != onboard.SubmitVerb {
		t.Errorf("submit action = %v, want Action.Execute with verb %q (and cards.OnboardSubmitVerb %q the same)", action, onboard.SubmitVerb, cards.OnboardSubmitVerb)
	}
	if len(data) != 2 || data[onboard.KeyVerb] != onboard.SubmitVerb || data[onboard.KeyRequestID] != testRequestID {
		t.Errorf("submit data = %v, want only %s=%s and %s=%s", data, onboard.KeyVerb, onboard.SubmitVerb, onboard.KeyRequestID, testRequestID)
	}
}

func TestOnboardFormRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		view func(*cards.OnboardFormView)
		want func(*onboard.Request)
	}{
		{name: "filled form with people picker"},
		{name: "manager by UPN in a text input", view: func(v *cards.OnboardFormView) {
			v.PeoplePicker, v.Values.Manager = false, "Megan.Bowen@contoso.com"
		}, want: func(r *onboard.Request) { r.Manager = "megan.bowen@contoso.com" }},
		{name: "no smartphone", view: func(v *cards.OnboardFormView) { v.Values.NoSmartphone = true },
			want: func(r *onboard.Request) { r.HasSmartphone = onboard.No }},
		{name: "new form with defaults", view: func(v *cards.OnboardFormView) {
			v.Values = cards.OnboardValues{UsageLocation: "DE", Manager: requesterID}
		}, want: func(r *onboard.Request) {
			*r = onboard.Request{RequestID: testRequestID, Domain: "contoso.com", UsageLocation: "DE", Manager: requesterID, HasSmartphone: onboard.Yes}
		}},
		{name: "user text with markdown kept as typed", view: func(v *cards.OnboardFormView) {
			v.Values.DisplayName, v.Values.Notes = hostile, hostile
		}, want: func(r *onboard.Request) { r.DisplayName, r.Notes = hostile, hostile }},
		{name: "one group", view: func(v *cards.OnboardFormView) { v.Values.Groups = []string{groupSales} },
			want: func(r *onboard.Request) { r.Groups = []string{groupSales} }},
		{name: "no licence offered", view: func(v *cards.OnboardFormView) { v.Licences = nil },
			want: func(r *onboard.Request) { r.Licence = "" }},
		{name: "suggestions carried to the next submit", view: func(v *cards.OnboardFormView) {
			v.SuggestedDisplayName, v.SuggestedMailNickname = "José Müller", "jose.muller"
		}, want: func(r *onboard.Request) {
			r.SuggestedDisplayName, r.SuggestedMailNickname = "José Müller", "jose.muller"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := formView()
			if tt.view != nil {
				tt.view(&v)
			}
			want := formRequest()
			if tt.want != nil {
				tt.want(&want)
			}
			got, err := onboard.ParseSubmission(submit(t, cardJSON(t, cards.OnboardForm(v))))
			if err != nil {
				t.Fatalf("ParseSubmission: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip:\n got  %+v\n want %+v", got, want)
			}
		})
	}
}

// The manager field shows a person, never a bare object id: the people picker
// pre-selects an id only when a choice gives its name, and the text field takes a
// sign-in name.
func TestOnboardFormManagerShowsAPerson(t *testing.T) {
	manager := func(v cards.OnboardFormView) map[string]any {
		t.Helper()
		for _, in := range inputs(cardJSON(t, cards.OnboardForm(v))) {
			if str(in, "id") == "manager" {
				return in
			}
		}
		t.Fatal("no manager input")
		return nil
	}
	tests := []struct {
		name      string
		view      func(*cards.OnboardFormView)
		typ, want string
		choices   []any
	}{
		{name: "picker: the requester pre-selected by id, named by a choice", view: func(v *cards.OnboardFormView) {
			v.Values.Manager, v.People = requesterID, []cards.Choice{{Title: "Megan Bowen", Value: requesterID}}
		}, typ: "Input.ChoiceSet", want: requesterID, choices: []any{map[string]any{"title": "Megan Bowen", "value": requesterID}}},
		{name: "picker: an id no choice names is not pre-selected", view: func(v *cards.OnboardFormView) {
			v.Values.Manager, v.People = otherManager, nil
		}, typ: "Input.ChoiceSet", want: "", choices: []any{}},
		{name: "text field: the sign-in name", view: func(v *cards.OnboardFormView) {
			v.PeoplePicker, v.Values.Manager, v.People = false, "megan.bowen@contoso.com", nil
		}, typ: "Input.Text", want: "megan.bowen@contoso.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := formView()
			tt.view(&v)
			in := manager(v)
			if str(in, "type") != tt.typ || str(in, "value") != tt.want {
				t.Errorf("manager input %v, want %s with value %q", in, tt.typ, tt.want)
			}
			if tt.typ != "Input.ChoiceSet" {
				return
			}
			if !reflect.DeepEqual(in["choices"], tt.choices) {
				t.Errorf("choices %v, want %v", in["choices"], tt.choices)
			}
			if want := map[string]any{"type": "Data.Query", "dataset": "graph.microsoft.com/users"}; !reflect.DeepEqual(in["choices.data"], want) {
				t.Errorf("choices.data = %v, want %v", in["choices.data"], want)
			}
		})
	}
}

func TestOnboardFormInputs(t *testing.T) {
	card := cardJSON(t, cards.OnboardForm(formView()))
	byID := map[string]map[string]any{}
	for _, in := range inputs(card) {
		byID[str(in, "id")] = in
	}
	check := func(id, key string, want any) {
		t.Helper()
		if got := byID[id][key]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s.%s = %#v, want %#v", id, key, got, want)
		}
	}
	check("givenName", "isRequired", true)
	check("givenName", "label", "Given name")
	check("givenName", "maxLength", 64.0)
	check("surname", "maxLength", 64.0)
	check("displayName", "maxLength", 256.0)
	check("displayName", "isRequired", nil) // left empty, tapbot suggests one
	check("mailNickname", "maxLength", 64.0)
	check("mailNickname", "regex", `^[A-Za-z0-9'._!#^~-]{1,64}$`)
	check("jobTitle", "maxLength", 128.0)
	check("department", "maxLength", 64.0)
	check("officeLocation", "maxLength", 128.0)
	check("usageLocation", "maxLength", 2.0)
	check("startDate", "type", "Input.Date")
	check("startDate", "min", "2026-03-01")
	check("domain", "type", "Input.ChoiceSet")
	check("domain", "style", "compact")
	check("domain", "choices", []any{map[string]any{"title": "@contoso.com", "value": "contoso.com"},
		map[string]any{"title": "@fabrikam.com", "value": "fabrikam.com"}})
	check("licence", "choices", []any{map[string]any{"title": "Microsoft 365 E3 (12 free)", "value": skuE3},
		map[string]any{"title": "Microsoft Entra ID P1 (1 free)", "value": skuP1}})
	check("licence", "isRequired", nil)
	check("groups", "isMultiSelect", true)
	check("groups", "style", "expanded")
	check("groups", "value", groupNewHires+","+groupSales)
	check("hasSmartphone", "type", "Input.Toggle")
	check("hasSmartphone", "valueOn", "true")
	check("hasSmartphone", "valueOff", "false")
	check("notes", "isMultiline", true)
	check("manager", "choices.data", map[string]any{"type": "Data.Query", "dataset": "graph.microsoft.com/users"})
	check("manager", "choices", []any{map[string]any{"title": "Megan Bowen", "value": requesterID},
		map[string]any{"title": "Lee Gu", "value": otherManager}})
	check("manager", "isRequired", true)

	// Without the picker: a text input, and nothing outside schema 1.5.
	v := formView()
	v.PeoplePicker = false
	raw, _ := json.Marshal(cards.OnboardForm(v))
	if strings.Contains(string(raw), "choices.data") || strings.Contains(string(raw), "Data.Query") {
		t.Errorf("form without people picker = %s, want no choices.data or Data.Query (a Teams extension)", raw)
	}
	for _, in := range inputs(cardJSON(t, cards.OnboardForm(v))) {
		if str(in, "id") == "manager" && (str(in, "type") != "Input.Text" || str(in, "style") != "email") {
			t.Errorf("manager input = %v, want Input.Text with style email", in)
		}
	}

	// Nothing to offer: no licence input (a note instead), no groups input.
	v = formView()
	v.Licences, v.Groups = nil, nil
	c := cardJSON(t, cards.OnboardForm(v))
	for _, in := range inputs(c) {
		if id := str(in, "id"); id == "licence" || id == "groups" {
			t.Errorf("input %q offered without choices, want it left out", id)
		}
	}
	if !strings.Contains(mustJSON(t, c), "No licence has free units") {
		t.Errorf("form without licences = %s, want it to contain %q", mustJSON(t, c), "No licence has free units")
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// A server-side error shows as attention-coloured text right under its field, the
// entered values stay, and the input's own errorMessage never quotes user text.
func TestOnboardFormErrorsBesideFields(t *testing.T) {
	v := formView()
	v.Values.MailNickname = "jose.muller"
	v.Values.UsageLocation = hostile
	v.Errors = map[string]string{
		"mailNickname":  "jose.muller@fabrikam.com is already taken. jose.muller2 is free.",
		"usageLocation": hostile + " is not a country code. Use the two-letter ISO 3166 code, such as US, GB or DE.",
		"startDate":     "The start date is in the past. Choose today or a later day.",
		"licence":       "No units of that licence are free any more. Choose another one, or none and assign it later.",
		"groups":        "Choose groups from the list only.",
		"hasSmartphone": "Say whether the new hire has a smartphone.",
		"":              "This request was already sent.",
	}
	card := cardJSON(t, cards.OnboardForm(v))
	body := card["body"].([]any)
	attention := func(o map[string]any) string {
		if str(o, "type") != "RichTextBlock" {
			return ""
		}
		runs := o["inlines"].([]any)
		run := runs[0].(map[string]any)
		if len(runs) != 1 || str(run, "color") != "Attention" {
			return ""
		}
		return str(run, "text")
	}
	seen := map[string]bool{}
	for i, e := range body {
		o := e.(map[string]any)
		id := str(o, "id")
		if !strings.HasPrefix(str(o, "type"), "Input.") {
			continue
		}
		next := ""
		if i+1 < len(body) {
			next = attention(body[i+1].(map[string]any))
		}
		if next != v.Errors[id] {
			t.Errorf("under %s: %q, want %q", id, next, v.Errors[id])
		}
		if strings.Contains(str(o, "errorMessage"), "**") || strings.Contains(str(o, "errorMessage"), "jose") {
			t.Errorf("%s.errorMessage = %q, want no user text (** or jose)", id, str(o, "errorMessage"))
		}
		seen[id] = true
	}
	// The general message and the summary line sit at the top, before any input.
	top := attention(body[2].(map[string]any))
	if !strings.HasPrefix(top, "Some details need another look") || !strings.Contains(top, "This request was already sent.") {
		t.Errorf("top message = %q, want it to start %q and contain %q", top, "Some details need another look", "This request was already sent.")
	}
	// Entered values are kept.
	for _, in := range inputs(card) {
		if str(in, "id") == "usageLocation" && str(in, "value") != hostile {
			t.Errorf("usage location input = %v, want value %q kept", in, hostile)
		}
	}
	// Without errors there is no attention text at all.
	walk(cardJSON(t, cards.OnboardForm(formView()))["body"], func(o map[string]any) {
		if str(o, "color") == "Attention" {
			t.Errorf("form without errors has attention text %v, want none", o)
		}
	})
}

// Text people typed never reaches a markdown-rendered TextBlock: it is an input's value
// in the form and a TextRun in the summary.
func TestOnboardCardsShowUserTextLiterally(t *testing.T) {
	v := formView()
	v.Values.GivenName, v.Values.Notes, v.Values.JobTitle = hostile, hostile, hostile
	v.Errors = map[string]string{"givenName": hostile + " is too long."}
	s := cards.OnboardSummaryView{RequestID: testRequestID, Status: "Waiting for approval", RequestedBy: hostile,
		Submitted: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Values: v.Values, ManagerName: hostile,
		LicenceName: hostile, GroupNames: []string{hostile}}
	for name, c := range map[string]cards.Card{"form": cards.OnboardForm(v), "summary": cards.OnboardSummary(s)} {
		card := cardJSON(t, c)
		runs := 0
		walk(card["body"], func(o map[string]any) {
			switch str(o, "type") {
			case "TextBlock":
				if strings.Contains(str(o, "text"), "Boss") || strings.Contains(str(o, "text"), "<at>") {
					t.Errorf("%s: TextBlock text = %q, want no user text in a TextBlock", name, str(o, "text"))
				}
			case "TextRun":
				if strings.Contains(str(o, "text"), hostile) {
					runs++
				}
			}
		})
		if runs == 0 {
			t.Errorf("%s: no TextRun contains %q, want the user text as a TextRun", name, hostile)
		}
		if card["version"] != "1.5" || card["type"] != "AdaptiveCard" {
			t.Errorf("%s: type %v version %v, want AdaptiveCard 1.5", name, card["type"], card["version"])
		}
	}
}

func TestOnboardSummary(t *testing.T) {
	v := cards.OnboardSummaryView{Times: cards.ViewerTimes(), RequestID: testRequestID, Status: "Waiting for approval", RequestedBy: "Megan Bowen",
		Submitted: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Values: formView().Values, ManagerName: "Lee Gu",
		LicenceName: "Microsoft 365 E3", GroupNames: []string{"New hires", "Sales"}, Buttons: cards.OnboardRetry}
	rows := func(c cards.Card) map[string]string {
		out := map[string]string{}
		walk(cardJSON(t, c)["body"], func(o map[string]any) {
			if str(o, "type") != "RichTextBlock" {
				return
			}
			runs := o["inlines"].([]any)
			if len(runs) == 2 {
				label := strings.TrimSuffix(str(runs[0].(map[string]any), "text"), ": ")
				out[label] = str(runs[1].(map[string]any), "text")
			}
		})
		return out
	}
	want := map[string]string{
		"Name": "José Müller", "Display name": "José Müller", "Sign-in name": "jose.muller@fabrikam.com",
		"Job title": "Sales engineer", "Department": "Sales", "Office location": "Berlin 3.14", "Usage location": "DE",
		"Start date": "2026-03-02", "Manager": "Lee Gu", "Licence": "Microsoft 365 E3", "Groups": "New hires, Sales",
		"Smartphone": "Yes: Microsoft Authenticator", "Notes": "Laptop shipped.\nCall on day one.",
		"Requested by ": "Megan Bowen",
	}
	if got := rows(cards.OnboardSummary(v)); !maps.Equal(got, want) {
		t.Errorf("summary rows:\n got  %q\n want %q", got, want)
	}
	card := cardJSON(t, cards.OnboardSummary(v))
	if acts := card["actions"].([]any); len(acts) != 1 || str(acts[0].(map[string]any), "verb") != "onboard.retry" {
		t.Errorf("actions = %v, want one with verb onboard.retry", card["actions"])
	}
	if !strings.Contains(mustJSON(t, card), "{{DATE(2026-03-01T09:00:00Z, SHORT)}}") || !strings.Contains(mustJSON(t, card), "Request "+testRequestID) {
		t.Errorf("summary = %s, want it to contain %q and %q", mustJSON(t, card), "{{DATE(2026-03-01T09:00:00Z, SHORT)}}", "Request "+testRequestID)
	}

	// Names not resolved: the raw values; optional rows left out; no phone: the key.
	v = cards.OnboardSummaryView{Values: cards.OnboardValues{GivenName: "Ann", MailNickname: "ann", Domain: "contoso.com",
		Manager: "megan@contoso.com", Licence: skuE3, Groups: []string{groupSales}, NoSmartphone: true}}
	want = map[string]string{"Name": "Ann", "Sign-in name": "ann@contoso.com", "Manager": "megan@contoso.com",
		"Licence": skuE3, "Groups": groupSales, "Smartphone": "No: a FIDO2 security key"}
	if got := rows(cards.OnboardSummary(v)); !maps.Equal(got, want) {
		t.Errorf("bare summary rows:\n got  %q\n want %q", got, want)
	}
	if _, ok := cardJSON(t, cards.OnboardSummary(v))["actions"]; ok {
		t.Error("summary without actions has an actions array, want none")
	}
}

func TestInputJSON(t *testing.T) {
	tests := []struct {
		name string
		el   cards.Element
		want string
	}{
		{"text, minimal", cards.InputText{ID: "a"}, `{"type":"Input.Text","id":"a"}`},
		{"text, all", cards.InputText{ID: "a", Label: "L", Placeholder: "P", Value: "V", MaxLength: 5, IsMultiline: true, IsRequired: true,
			ErrorMessage: "E", Regex: "^x$", Style: "email"},
			`{"type":"Input.Text","id":"a","label":"L","placeholder":"P","value":"V","maxLength":5,"isMultiline":true,"isRequired":true,"errorMessage":"E","regex":"^x$","style":"email"}`},
		{"date", cards.InputDate{ID: "d", Label: "L", Value: "2026-03-02", Min: "2026-03-01", IsRequired: true, ErrorMessage: "E"},
			`{"type":"Input.Date","id":"d","label":"L","value":"2026-03-02","min":"2026-03-01","isRequired":true,"errorMessage":"E"}`},
		{"choice set, no choices", cards.InputChoiceSet{ID: "c"}, `{"type":"Input.ChoiceSet","id":"c","choices":[],"wrap":true}`},
		{"choice set, filtered multi", cards.InputChoiceSet{ID: "c", Label: "L", Placeholder: "P", Value: "1,2", Choices: []cards.Choice{{"One", "1"}},
			IsMultiSelect: true, Style: cards.ChoiceFiltered, IsRequired: true, ErrorMessage: "E"},
			`{"type":"Input.ChoiceSet","id":"c","label":"L","placeholder":"P","value":"1,2","choices":[{"title":"One","value":"1"}],"isMultiSelect":true,"style":"filtered","isRequired":true,"errorMessage":"E","wrap":true}`},
		{"people picker", cards.InputChoiceSet{ID: "p", PeoplePicker: true},
			`{"type":"Input.ChoiceSet","id":"p","choices":[],"choices.data":{"type":"Data.Query","dataset":"graph.microsoft.com/users"},"wrap":true}`},
		{"toggle", cards.InputToggle{ID: "t", Title: "T", Value: "true", ValueOn: "true", ValueOff: "false"},
			`{"type":"Input.Toggle","id":"t","title":"T","value":"true","valueOn":"true","valueOff":"false","wrap":true}`},
		{"toggle, title required even empty", cards.InputToggle{ID: "t"}, `{"type":"Input.Toggle","id":"t","title":"","wrap":true}`},
		{"container", cards.Container{Items: []cards.Element{cards.TextBlock{Text: "x"}}, Style: "attention", Spacing: "Small"},
			`{"type":"Container","items":[{"type":"TextBlock","text":"x"}],"style":"attention","spacing":"Small"}`},
		{"empty container", cards.Container{}, `{"type":"Container","items":[]}`},
	}
	for _, tt := range tests {
		if got := mustJSON(t, tt.el); got != tt.want {
			t.Errorf("%s:\n got  %s\n want %s", tt.name, got, tt.want)
		}
	}
}

// The form says who approves (approvers, not the helpdesk), and the date input's own
// error, which Teams shows for an empty date and for one before the minimum, says
// what is wrong and what to do.
func TestOnboardFormWording(t *testing.T) {
	raw := mustJSON(t, cardJSON(t, cards.OnboardForm(cards.OnboardFormView{RequestID: "r", MinStartDate: "2026-03-02"})))
	if !strings.Contains(raw, "An approver approves the request") || strings.Contains(raw, "helpdesk approves") {
		t.Errorf("form = %s, want it to contain %q and not %q", raw, "An approver approves the request", "helpdesk approves")
	}
	if !strings.Contains(raw, "Choose a start date of today or later") {
		t.Errorf("form = %s, want it to contain %q", raw, "Choose a start date of today or later")
	}
}
