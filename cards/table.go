package cards

import "encoding/json"

// Table is an Adaptive Card Table (schema 1.5): rows of cells in columns whose widths
// are relative weights. The first row is the header when Header is set.
type Table struct {
	Columns   []int // relative widths, one per column
	Rows      []TableRow
	Header    bool
	GridLines bool
	Spacing   string
}

// TableRow is one row of a Table.
type TableRow struct{ Cells []TableCell }

// TableCell holds the elements shown in one cell.
type TableCell struct{ Items []Element }

func (Table) isElement() {}

type tableColumn struct {
	Width int `json:"width"`
}

// MarshalJSON implements json.Marshaler. showGridLines is always written: the schema
// defaults it to true, which makes a compact list look like a spreadsheet.
func (t Table) MarshalJSON() ([]byte, error) {
	cols := make([]tableColumn, len(t.Columns))
	for i, w := range t.Columns {
		cols[i] = tableColumn{Width: w}
	}
	rows := t.Rows
	if rows == nil {
		rows = []TableRow{}
	}
	return json.Marshal(struct {
		Type             string        `json:"type"`
		Columns          []tableColumn `json:"columns"`
		Rows             []TableRow    `json:"rows"`
		FirstRowAsHeader bool          `json:"firstRowAsHeader"`
		ShowGridLines    bool          `json:"showGridLines"`
		Spacing          string        `json:"spacing,omitempty"`
	}{"Table", cols, rows, t.Header, t.GridLines, t.Spacing})
}

// MarshalJSON implements json.Marshaler.
func (r TableRow) MarshalJSON() ([]byte, error) {
	cells := r.Cells
	if cells == nil {
		cells = []TableCell{}
	}
	return json.Marshal(struct {
		Type  string      `json:"type"`
		Cells []TableCell `json:"cells"`
	}{"TableRow", cells})
}

// MarshalJSON implements json.Marshaler.
func (c TableCell) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Type  string    `json:"type"`
		Items []Element `json:"items"`
	}{"TableCell", nonNil(c.Items)})
}
