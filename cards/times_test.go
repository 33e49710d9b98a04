package cards

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestTimesAt(t *testing.T) {
	at := time.Date(2026, time.March, 2, 8, 30, 0, 0, time.UTC)
	load := func(name string) *time.Location {
		loc, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	for _, tt := range []struct {
		name  string
		times Times
		want  string
	}{
		{"no zone is UTC, named", Times{}, "2026-03-02 08:30 UTC"},
		{"US English", ReaderTimes(load("America/New_York"), "en-US"), "Mar 2, 2026, 3:30 AM EST"},
		{"British English", ReaderTimes(load("Europe/London"), "en-GB"), "2 Mar 2026, 08:30 GMT"},
		{"German", ReaderTimes(load("Europe/Berlin"), "de-DE"), "02.03.2026 09:30 CET"},
		{"French", ReaderTimes(load("Europe/Paris"), "fr-FR"), "02/03/2026 09:30 CET"},
		{"unknown locale is ISO", ReaderTimes(load("Asia/Tokyo"), "ja-JP"), "2026-03-02 17:30 JST"},
		{"a zone without an abbreviation is named", ReaderTimes(load("Asia/Dubai"), ""), "2026-03-02 12:30 Asia/Dubai (UTC+04:00)"},
		{"viewer's own zone", ViewerTimes(), "{{DATE(2026-03-02T08:30:00Z, SHORT)}} {{TIME(2026-03-02T08:30:00Z)}} (your time)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.times.At(at); got != tt.want {
				t.Errorf("At = %q, want %q", got, tt.want)
			}
		})
	}
	if got := ReaderTimes(load("Europe/Berlin"), "de-DE").Date(at); got != "02.03.2026" {
		t.Errorf("Date = %q, want %q", got, "02.03.2026")
	}
	if got := (Times{}).At(time.Time{}); got != "unknown" {
		t.Errorf("At(time.Time{}) = %q, want %q", got, "unknown")
	}
}

func TestTableJSON(t *testing.T) {
	raw, err := json.Marshal(Table{Columns: []int{1, 2}, Header: true, Rows: []TableRow{{Cells: []TableCell{{Items: []Element{TextBlock{Text: "a"}}}, {}}}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"type":"Table"`, `"columns":[{"width":1},{"width":2}]`, `"type":"TableRow"`, `"type":"TableCell"`, `"items":[]`, `"firstRowAsHeader":true`, `"showGridLines":false`} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("table = %s, want it to contain %s", raw, want)
		}
	}
}
