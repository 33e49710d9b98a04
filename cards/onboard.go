package cards

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// Ids of the onboarding form's inputs. They are the keys bot/onboard.ParseSubmission
// reads and the keys of the error map bot/onboard.Validate returns; a test holds the
// two packages to the same names.
const (
	onboardGivenName      = "givenName"
	onboardSurname        = "surname"
	onboardDisplayName    = "displayName"
	onboardMailNickname   = "mailNickname"
	onboardDomain         = "domain"
	onboardJobTitle       = "jobTitle"
	onboardDepartment     = "department"
	onboardOfficeLocation = "officeLocation"
	onboardUsageLocation  = "usageLocation"
	onboardStartDate      = "startDate"
	onboardManager        = "manager"
	onboardLicence        = "licence"
	onboardGroups         = "groups"
	onboardHasSmartphone  = "hasSmartphone"
	onboardNotes          = "notes"
)

// OnboardSubmitVerb is the verb of the onboarding form's submit action.
const OnboardSubmitVerb = "onboard.submit"

// onboardSubmitData is the submit action's data; the client merges the inputs' values
// into it. The verb is repeated in the data so that an Action.Submit fallback routes too.
type onboardSubmitData struct {
	Verb                  string `json:"verb"`
	RequestID             string `json:"requestId"`
	SuggestedDisplayName  string `json:"suggestedDisplayName,omitempty"`
	SuggestedMailNickname string `json:"suggestedMailNickname,omitempty"`
}

// OnboardValues are the values an onboarding form shows: the defaults of a new form,
// or what the requester entered when the form comes back with errors.
type OnboardValues struct {
	GivenName      string
	Surname        string
	DisplayName    string
	MailNickname   string // the user name: the part of the sign-in name before the @
	Domain         string
	JobTitle       string
	Department     string
	OfficeLocation string
	UsageLocation  string // ISO 3166 alpha-2, e.g. from configuration
	StartDate      string // YYYY-MM-DD
	Manager        string // an Entra object id with PeoplePicker, else a UPN; the requester by default
	Licence        string // SKU id
	Groups         []string
	NoSmartphone   bool // the zero value is the common case: the new hire has a phone
	Notes          string
}

// LicenceOption is a subscribed SKU the form offers.
type LicenceOption struct {
	SKUID string
	Name  string // e.g. "Microsoft 365 E3"
	Free  int    // enabled − consumed units
}

// OnboardFormView is what the /onboard form shows.
type OnboardFormView struct {
	RequestID string // carried in the submit action's data
	Values    OnboardValues
	// Errors are messages by input id, shown under their input; a message under a key
	// that is no input id (such as "") is shown at the top.
	Errors   map[string]string
	Domains  []string        // the tenant's verified domains
	Licences []LicenceOption // SKUs with free units
	Groups   []Choice        // the configured allow-list: Title the group's name, Value its id
	// PeoplePicker asks for the manager with the Teams people picker (the value is the
	// chosen person's object id). It is a Teams extension outside schema 1.5: other
	// hosts show a plain choice set of People, and strict 1.5 validators warn about it.
	// Without it the form asks for the manager's UPN in a text input.
	PeoplePicker bool
	// People are offered by the manager picker without a search (Title name, Value
	// object id): the requester, and the chosen manager when re-displaying. Hosts
	// without the Teams people picker show only these.
	People       []Choice
	MinStartDate string // YYYY-MM-DD: the requester's today, a hint for the date picker
	// SuggestedDisplayName and SuggestedMailNickname are what tapbot would fill in from
	// the names shown, carried in the submit action's data: the inputs alone can't tell
	// a value tapbot suggested (to follow the names when they change) from one typed.
	SuggestedDisplayName  string
	SuggestedMailNickname string
}

// OnboardForm is the form a manager fills in to request an account for a new hire.
// The server validates every value again when it comes back; errors are shown beside
// the fields with the entered values kept.
func OnboardForm(v OnboardFormView) Card {
	body := []Element{
		TextBlock{Text: "New hire", Size: "Medium", Weight: "Bolder", Wrap: true},
		TextBlock{Text: "Fill in the new hire's details. An approver approves the request before the account is created; nobody ever needs a password.", Subtle: true, Wrap: true},
	}
	var general []string
	for field, msg := range v.Errors {
		if !isOnboardInput(field) {
			general = append(general, msg)
		}
	}
	if len(v.Errors) > 0 {
		slices.Sort(general)
		general = append([]string{"Some details need another look: see the messages below."}, general...)
		body = append(body, errorText(strings.Join(general, "\n")))
	}

	field := func(in Element, id string) {
		body = append(body, in)
		if msg := v.Errors[id]; msg != "" {
			body = append(body, errorText(msg))
		}
	}
	val := v.Values

	field(InputText{ID: onboardGivenName, Label: "Given name", Value: val.GivenName, MaxLength: 64,
		IsRequired: true, ErrorMessage: "Enter the given name."}, onboardGivenName)
	field(InputText{ID: onboardSurname, Label: "Surname", Value: val.Surname, MaxLength: 64,
		IsRequired: true, ErrorMessage: "Enter the surname."}, onboardSurname)
	field(InputText{ID: onboardDisplayName, Label: "Display name", Value: val.DisplayName, MaxLength: 256,
		Placeholder: "Leave empty to use the given name and surname"}, onboardDisplayName)
	field(InputText{ID: onboardMailNickname, Label: "User name (before the @)", Value: val.MailNickname,
		MaxLength: 64, Placeholder: "Leave empty for a suggestion such as jose.muller",
		Regex: `^[A-Za-z0-9'._!#^~-]{1,64}$`, ErrorMessage: "Use only letters a–z, digits and ' . - _ ! # ^ ~."}, onboardMailNickname)

	domains := make([]Choice, 0, len(v.Domains))
	for _, d := range v.Domains {
		domains = append(domains, Choice{Title: "@" + d, Value: d})
	}
	domain := val.Domain
	if domain == "" && len(v.Domains) > 0 {
		domain = v.Domains[0]
	}
	field(InputChoiceSet{ID: onboardDomain, Label: "Domain", Value: domain, Choices: domains,
		Style: ChoiceCompact, IsRequired: true, ErrorMessage: "Choose a domain."}, onboardDomain)

	field(InputText{ID: onboardJobTitle, Label: "Job title", Value: val.JobTitle, MaxLength: 128}, onboardJobTitle)
	field(InputText{ID: onboardDepartment, Label: "Department", Value: val.Department, MaxLength: 64}, onboardDepartment)
	field(InputText{ID: onboardOfficeLocation, Label: "Office location", Value: val.OfficeLocation, MaxLength: 128}, onboardOfficeLocation)
	field(InputText{ID: onboardUsageLocation, Label: "Usage location (country code)", Value: val.UsageLocation,
		Placeholder: "Two letters, such as US, GB or DE", MaxLength: 2, IsRequired: true, Regex: `^[A-Za-z]{2}$`,
		ErrorMessage: "Enter a two-letter country code such as US, GB or DE."}, onboardUsageLocation)
	field(InputDate{ID: onboardStartDate, Label: "Start date", Value: val.StartDate, Min: v.MinStartDate,
		IsRequired: true, ErrorMessage: "Choose a start date of today or later: the account must be ready on the first day."}, onboardStartDate)
	if v.PeoplePicker {
		field(InputChoiceSet{ID: onboardManager, Label: "Manager", Value: pickedPerson(val.Manager, v.People), Choices: v.People,
			PeoplePicker: true, IsRequired: true, ErrorMessage: "Choose the manager."}, onboardManager)
	} else {
		field(InputText{ID: onboardManager, Label: "Manager (sign-in name)", Value: val.Manager, MaxLength: 113,
			Placeholder: "name@contoso.com", Style: "email", IsRequired: true,
			ErrorMessage: "Enter the manager's sign-in name, such as name@contoso.com."}, onboardManager)
	}

	if len(v.Licences) > 0 {
		licences := make([]Choice, 0, len(v.Licences))
		for _, l := range v.Licences {
			licences = append(licences, Choice{Title: licenceTitle(l), Value: l.SKUID})
		}
		field(InputChoiceSet{ID: onboardLicence, Label: "Licence", Placeholder: "No licence for now", Value: val.Licence,
			Choices: licences, Style: ChoiceCompact}, onboardLicence)
	} else {
		body = append(body, TextBlock{Text: "No licence has free units: the helpdesk can assign one later.", Subtle: true, Wrap: true})
		if msg := v.Errors[onboardLicence]; msg != "" {
			body = append(body, errorText(msg))
		}
	}
	if len(v.Groups) > 0 {
		field(InputChoiceSet{ID: onboardGroups, Label: "Groups", Value: strings.Join(val.Groups, ","),
			Choices: v.Groups, IsMultiSelect: true, Style: ChoiceExpanded}, onboardGroups)
	}
	phone := "true"
	if val.NoSmartphone {
		phone = "false"
	}
	field(InputToggle{ID: onboardHasSmartphone, Label: "Smartphone",
		Title: "The new hire has a smartphone for Microsoft Authenticator (switch off: they get a FIDO2 security key instead)",
		Value: phone, ValueOn: "true", ValueOff: "false"}, onboardHasSmartphone)
	field(InputText{ID: onboardNotes, Label: "Notes for the approvers", Value: val.Notes, MaxLength: 2000,
		IsMultiline: true}, onboardNotes)

	return Card{Body: body, Actions: []Action{Execute{Title: "Send request", Verb: OnboardSubmitVerb,
		Data: onboardSubmitData{Verb: OnboardSubmitVerb, RequestID: v.RequestID,
			SuggestedDisplayName: v.SuggestedDisplayName, SuggestedMailNickname: v.SuggestedMailNickname}, Style: "positive"}}}
}

// pickedPerson is the people picker's initial value: id if a choice names that
// person. Teams shows a pre-selected person by the title of the choice with their
// object id, so an id no choice names is left out rather than shown bare.
func pickedPerson(id string, people []Choice) string {
	if slices.ContainsFunc(people, func(c Choice) bool { return strings.EqualFold(c.Value, id) }) {
		return id
	}
	return ""
}

func isOnboardInput(id string) bool {
	switch id {
	case onboardGivenName, onboardSurname, onboardDisplayName, onboardMailNickname, onboardDomain,
		onboardJobTitle, onboardDepartment, onboardOfficeLocation, onboardUsageLocation, onboardStartDate,
		onboardManager, onboardLicence, onboardGroups, onboardHasSmartphone, onboardNotes:
		return true
	}
	return false
}

// errorText is a validation message in the attention colour. A RichText, because
// messages may quote what the user typed.
func errorText(msg string) Element {
	return RichText{Runs: []TextRun{{Text: msg, Color: "Attention"}}, Spacing: "Small"}
}

func licenceTitle(l LicenceOption) string {
	if l.Free <= 0 {
		return l.Name + " (none free)"
	}
	return l.Name + " (" + strconv.Itoa(l.Free) + " free)"
}

// The verbs of the buttons on an onboarding request's card (bot/onboard registers them).
const (
	OnboardApproveVerb = "onboard.approve"
	OnboardRejectVerb  = "onboard.reject"
	OnboardRetryVerb   = "onboard.retry"
	OnboardRepostVerb  = "onboard.repost"
	OnboardCancelVerb  = "onboard.cancel"
)

// OnboardMaxReason is the longest reason, in characters, an approver may give.
const OnboardMaxReason = 500

// onboardReasonInput is the id of the approval card's reason input, and so the key its
// value has in OnboardRequestData.
const onboardReasonInput = "reason"

// OnboardRequestData is the data of the buttons on an onboarding request's card: the
// request they act on. It comes back from the client, so bot/onboard reads it with
// bot.Decode and checks the id (and the reason) before it acts.
type OnboardRequestData struct {
	Verb      string `json:"verb"` // repeated so an Action.Submit fallback routes too
	RequestID string `json:"requestId"`
	// Reason is what the approver typed in the approval card's reason input: the
	// client merges the input's value into Approve's and Reject's data under its id
	// (onboardReasonInput). Never set by tapbot.
	Reason string `json:"reason,omitempty"`
}

// OnboardButtons says which buttons an onboarding request's card has.
type OnboardButtons int8

// The button sets of a request's card.
const (
	OnboardNoButtons OnboardButtons = iota
	// OnboardDecide: Approve and Reject, with a reason input; approvers, while the
	// request waits for them.
	OnboardDecide
	// OnboardRetry: Retry; approvers, once creating the account has failed.
	OnboardRetry
	// OnboardUnposted: "Send to approvers again" and "Cancel request"; the requester,
	// when no approver could be shown the request.
	OnboardUnposted
)

// OnboardSummaryView is what the read-only card of a submitted request shows.
type OnboardSummaryView struct {
	RequestID   string
	Status      string // tapbot's wording, e.g. "Waiting for approval"
	RequestedBy string // the requester's name
	Submitted   time.Time
	Values      OnboardValues
	ManagerName string   // the manager's name; "" shows Values.Manager
	LicenceName string   // the SKU's name; "" shows Values.Licence
	GroupNames  []string // the groups' names; nil shows Values.Groups
	Buttons     OnboardButtons
	Times       Times // ViewerTimes: the card is updated on tapbot's initiative, for several readers
}

// OnboardSummary shows a submitted onboarding request, read-only but for its Buttons,
// whose data (OnboardRequestData) names the request. Everything the requester typed
// (and names from the directory) is shown literally, in RichText runs.
func OnboardSummary(v OnboardSummaryView) Card {
	val := v.Values
	body := []Element{
		TextBlock{Text: "Onboarding request", Size: "Medium", Weight: "Bolder", Wrap: true},
	}
	if v.Status != "" {
		body = append(body, RichText{Runs: []TextRun{{Text: v.Status, Weight: "Bolder"}}, Spacing: "None"})
	}
	if v.RequestedBy != "" {
		body = append(body, RichText{Runs: []TextRun{{Text: "Requested by ", Subtle: true}, {Text: v.RequestedBy}}})
	}
	if !v.Submitted.IsZero() {
		body = append(body, TextBlock{Text: "Submitted " + v.Times.At(v.Submitted), Subtle: true, Wrap: true, Spacing: "None"})
	}

	upn := val.MailNickname
	if val.Domain != "" {
		upn += "@" + val.Domain
	}
	manager := v.ManagerName
	if manager == "" {
		manager = val.Manager
	}
	licence := v.LicenceName
	if licence == "" {
		licence = val.Licence
	}
	groups := v.GroupNames
	if groups == nil {
		groups = val.Groups
	}
	phone := "Yes: Microsoft Authenticator"
	if val.NoSmartphone {
		phone = "No: a FIDO2 security key"
	}
	rows := []struct{ label, value string }{
		{"Name", strings.TrimSpace(val.GivenName + " " + val.Surname)},
		{"Display name", val.DisplayName},
		{"Sign-in name", upn},
		{"Job title", val.JobTitle},
		{"Department", val.Department},
		{"Office location", val.OfficeLocation},
		{"Usage location", val.UsageLocation},
		{"Start date", val.StartDate},
		{"Manager", manager},
		{"Licence", licence},
		{"Groups", strings.Join(groups, ", ")},
		{"Smartphone", phone},
		{"Notes", val.Notes},
	}
	for i, r := range rows {
		if r.value == "" {
			continue
		}
		spacing := "Small"
		if i == 0 {
			spacing = "Medium"
		}
		body = append(body, RichText{Runs: []TextRun{{Text: r.label + ": ", Weight: "Bolder"}, {Text: r.value}}, Spacing: spacing})
	}
	if v.RequestID != "" {
		body = append(body, RichText{Runs: []TextRun{{Text: "Request " + v.RequestID, Subtle: true, Size: "Small"}}, Spacing: "Medium"})
	}
	button := func(title, verb, style string) Action {
		return Execute{Title: title, Verb: verb, Data: OnboardRequestData{Verb: verb, RequestID: v.RequestID}, Style: style}
	}
	var actions []Action
	switch v.Buttons {
	case OnboardDecide:
		body = append(body, InputText{ID: onboardReasonInput, Label: "Reason (shown to the requester if you reject)", MaxLength: OnboardMaxReason})
		actions = []Action{button("Approve", OnboardApproveVerb, "positive"), button("Reject", OnboardRejectVerb, "destructive")}
	case OnboardRetry:
		actions = []Action{button("Retry", OnboardRetryVerb, "positive")}
	case OnboardUnposted:
		actions = []Action{button("Send to approvers again", OnboardRepostVerb, "positive"), button("Cancel request", OnboardCancelVerb, "destructive")}
	}
	return Card{Body: body, Actions: actions}
}
