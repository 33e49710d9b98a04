package cards

import "time"

// AuditView is the /audit card: a compact table of audit rows in tapbot's words.
type AuditView struct {
	Title   string
	Filters string // what the rows were selected by, e.g. "since 7 days · tap.revoke"; "" for none
	Summary string // counts by outcome, e.g. "3 issued, 1 refused"
	Rows    []AuditRow
	Times   Times
	More    bool // more rows matched than the card shows
}

// AuditRow is one line of the audit table. Every field is shown literally: names and
// tickets are people's text.
type AuditRow struct {
	Time    time.Time
	By      string // who acted: a name, or "tapbot" for its own jobs
	Action  string // e.g. "tap.create"
	User    string // whom it was about (UPN)
	Outcome string // in words, e.g. "refused: privileged role"
	Ticket  string
}

// Audit lists audit rows as a table: when, who, what, for whom, how it ended.
func Audit(v AuditView) Card {
	body := []Element{TextBlock{Text: v.Title, Size: "Medium", Weight: "Bolder", Wrap: true}}
	if v.Filters != "" {
		body = append(body, RichText{Runs: []TextRun{{Text: v.Filters, Subtle: true, Size: "Small"}}, Spacing: "None"})
	}
	if len(v.Rows) == 0 {
		return Card{Body: append(body, TextBlock{Text: "No entries.", Subtle: true})}
	}
	if v.Summary != "" {
		body = append(body, RichText{Runs: []TextRun{{Text: v.Summary}}, Spacing: "Small"})
	}
	table := Table{Columns: []int{3, 2, 2, 3, 3}, Header: true, Spacing: "Small",
		Rows: []TableRow{headerRow("When", "By", "Action", "User", "Outcome")}}
	for _, r := range v.Rows {
		outcome := []TextRun{{Text: r.Outcome, Size: "Small"}}
		if r.Ticket != "" {
			outcome = append(outcome, TextRun{Text: " — " + r.Ticket, Subtle: true, Size: "Small"})
		}
		table.Rows = append(table.Rows, TableRow{Cells: []TableCell{
			smallCell(v.Times.At(r.Time)), smallCell(r.By), smallCell(r.Action), smallCell(r.User),
			{Items: []Element{RichText{Runs: outcome}}},
		}})
	}
	body = append(body, table)
	if v.More {
		body = append(body, TextBlock{Text: "Older entries: narrow the filters, or run `tapbot audit` on the server.", Subtle: true, Wrap: true, Size: "Small"})
	}
	return Card{Body: body}
}

func headerRow(titles ...string) TableRow {
	cells := make([]TableCell, len(titles))
	for i, t := range titles {
		cells[i] = TableCell{Items: []Element{TextBlock{Text: t, Weight: "Bolder", Size: "Small", Wrap: true}}}
	}
	return TableRow{Cells: cells}
}

// smallCell shows text literally (RichText: names and UPNs are never markdown).
func smallCell(text string) TableCell {
	return TableCell{Items: []Element{RichText{Runs: []TextRun{{Text: text, Size: "Small"}}}}}
}
