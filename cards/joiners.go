package cards

import "time"

// JoinerRow is one upcoming joiner: an account an HR system created, starting soon.
type JoinerRow struct {
	Name, UPN string
	Starts    time.Time
}

// Joiners lists the upcoming joiners for the helpdesk, soonest first.
func Joiners(rows []JoinerRow, lookahead string, times Times) Card {
	body := []Element{TextBlock{Text: "Joiners starting within " + lookahead, Size: "Medium", Weight: "Bolder", Wrap: true}}
	if len(rows) == 0 {
		return Card{Body: append(body, TextBlock{Text: "Nobody.", Subtle: true})}
	}
	table := Table{Columns: []int{3, 4, 3}, Header: true, Spacing: "Small",
		Rows: []TableRow{headerRow("Name", "User", "Starts")}}
	for _, r := range rows {
		table.Rows = append(table.Rows, TableRow{Cells: []TableCell{smallCell(r.Name), smallCell(r.UPN), smallCell(times.Date(r.Starts))}})
	}
	body = append(body, table,
		TextBlock{Text: "Each gets the start-day card (or pass) and the set-up checklist once; nothing to do here.", Subtle: true, Wrap: true, Size: "Small"})
	return Card{Body: body}
}
