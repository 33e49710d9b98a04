package cards

import "encoding/json"

// Inputs and layout elements for forms. Every property written here exists in the
// Adaptive Card schema 1.5 (label, isRequired and errorMessage since 1.3, regex since
// 1.3, the "filtered" choice style since 1.5), except the people picker's
// "choices.data", a Teams extension documented below.
//
// isRequired, regex and maxLength are checked by the client before it submits, and
// errorMessage is shown only when that client-side check fails. The bot validates
// everything again on the server (the data comes back from the client and is not
// trusted) and shows its own messages as text beside the field.

// InputText is an Input.Text.
type InputText struct {
	ID           string
	Label        string
	Placeholder  string
	Value        string
	MaxLength    int // a hint: some clients ignore it
	IsMultiline  bool
	IsRequired   bool
	ErrorMessage string
	Regex        string // checked by the client; the server checks again
	Style        string // "", text, tel, url, email (never password: tapbot collects no secret)
}

func (InputText) isElement() {}

// MarshalJSON implements json.Marshaler.
func (in InputText) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type         string `json:"type"`
		ID           string `json:"id"`
		Label        string `json:"label,omitempty"`
		Placeholder  string `json:"placeholder,omitempty"`
		Value        string `json:"value,omitempty"`
		MaxLength    int    `json:"maxLength,omitempty"`
		IsMultiline  bool   `json:"isMultiline,omitempty"`
		IsRequired   bool   `json:"isRequired,omitempty"`
		ErrorMessage string `json:"errorMessage,omitempty"`
		Regex        string `json:"regex,omitempty"`
		Style        string `json:"style,omitempty"`
	}{"Input.Text", in.ID, in.Label, in.Placeholder, in.Value, in.MaxLength, in.IsMultiline,
		in.IsRequired, in.ErrorMessage, in.Regex, in.Style})
}

// InputDate is an Input.Date. Value and Min are dates as YYYY-MM-DD.
type InputDate struct {
	ID           string
	Label        string
	Value        string
	Min          string // a hint: some clients ignore it
	IsRequired   bool
	ErrorMessage string
}

func (InputDate) isElement() {}

// MarshalJSON implements json.Marshaler.
func (in InputDate) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type         string `json:"type"`
		ID           string `json:"id"`
		Label        string `json:"label,omitempty"`
		Value        string `json:"value,omitempty"`
		Min          string `json:"min,omitempty"`
		IsRequired   bool   `json:"isRequired,omitempty"`
		ErrorMessage string `json:"errorMessage,omitempty"`
	}{"Input.Date", in.ID, in.Label, in.Value, in.Min, in.IsRequired, in.ErrorMessage})
}

// Choice is one option of an InputChoiceSet. Value must not contain a comma: a
// multi-select choice set submits its values joined by commas.
type Choice struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

// Choice set styles.
const (
	ChoiceCompact  = "compact"  // a drop-down
	ChoiceExpanded = "expanded" // radio buttons, or check boxes when multi-select
	ChoiceFiltered = "filtered" // a drop-down with type-to-filter (schema 1.5)
)

// peopleDataset is the Teams people picker's data set searching the whole organisation.
const peopleDataset = "graph.microsoft.com/users"

// InputChoiceSet is an Input.ChoiceSet.
//
// With PeoplePicker, Teams turns it into its people picker: the user searches the
// organisation's directory, and the submitted value is the chosen user's Entra object
// id (ids joined by commas with IsMultiSelect). Value pre-selects people by object id;
// Choices add people (Title: name, Value: object id) to the search results. Teams
// searches the whole organisation only in the bot's 1:1 chat, dialogs and tabs. The
// property ("choices.data" with a Data.Query on the dataset graph.microsoft.com/users)
// is a Teams extension outside the 1.5 schema: other hosts ignore it and show a plain
// choice set of Choices, so always include the people the form should offer there.
type InputChoiceSet struct {
	ID            string
	Label         string
	Placeholder   string // shown by compact single-select sets with nothing chosen
	Value         string // for multi-select: values joined by commas
	Choices       []Choice
	IsMultiSelect bool
	Style         string // "", ChoiceCompact, ChoiceExpanded, ChoiceFiltered
	IsRequired    bool
	ErrorMessage  string
	PeoplePicker  bool
}

func (InputChoiceSet) isElement() {}

type dataQuery struct {
	Type    string `json:"type"`
	Dataset string `json:"dataset"`
}

// MarshalJSON implements json.Marshaler.
func (in InputChoiceSet) MarshalJSON() ([]byte, error) {
	choices := in.Choices
	if choices == nil {
		choices = []Choice{}
	}
	var data *dataQuery
	if in.PeoplePicker {
		data = &dataQuery{Type: "Data.Query", Dataset: peopleDataset}
	}
	return json.Marshal(struct {
		Type          string     `json:"type"`
		ID            string     `json:"id"`
		Label         string     `json:"label,omitempty"`
		Placeholder   string     `json:"placeholder,omitempty"`
		Value         string     `json:"value,omitempty"`
		Choices       []Choice   `json:"choices"`
		Data          *dataQuery `json:"choices.data,omitempty"`
		IsMultiSelect bool       `json:"isMultiSelect,omitempty"`
		Style         string     `json:"style,omitempty"`
		IsRequired    bool       `json:"isRequired,omitempty"`
		ErrorMessage  string     `json:"errorMessage,omitempty"`
		Wrap          bool       `json:"wrap"`
	}{"Input.ChoiceSet", in.ID, in.Label, in.Placeholder, in.Value, choices, data, in.IsMultiSelect,
		in.Style, in.IsRequired, in.ErrorMessage, true})
}

// InputToggle is an Input.Toggle: it always submits ValueOn or ValueOff ("true" and
// "false" when empty).
type InputToggle struct {
	ID       string
	Label    string
	Title    string // the text beside the switch
	Value    string // ValueOn to start switched on
	ValueOn  string
	ValueOff string
}

func (InputToggle) isElement() {}

// MarshalJSON implements json.Marshaler.
func (in InputToggle) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type     string `json:"type"`
		ID       string `json:"id"`
		Label    string `json:"label,omitempty"`
		Title    string `json:"title"`
		Value    string `json:"value,omitempty"`
		ValueOn  string `json:"valueOn,omitempty"`
		ValueOff string `json:"valueOff,omitempty"`
		Wrap     bool   `json:"wrap"`
	}{"Input.Toggle", in.ID, in.Label, in.Title, in.Value, in.ValueOn, in.ValueOff, true})
}

// Container groups elements, optionally on a styled background.
type Container struct {
	Items   []Element
	Style   string // "", default, emphasis, good, attention, warning, accent
	Spacing string
}

func (Container) isElement() {}

// MarshalJSON implements json.Marshaler.
func (c Container) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type    string    `json:"type"`
		Items   []Element `json:"items"`
		Style   string    `json:"style,omitempty"`
		Spacing string    `json:"spacing,omitempty"`
	}{"Container", nonNil(c.Items), c.Style, c.Spacing})
}
