package store

import (
	"strings"
	"testing"
	"time"
)

// bareTimes is a Times that hands out the time fields themselves.
type bareTimes struct{}

func (bareTimes) Time(t *time.Time) any { return t }
func (bareTimes) Null(t *time.Time) any { return t }

func TestFieldsMatchColumns(t *testing.T) {
	for _, tc := range []struct {
		columns string
		fields  []any
	}{
		{ReferenceColumns, new(Reference).Fields(bareTimes{})},
		{AuditColumns, new(AuditEntry).Fields(bareTimes{})},
		{DeliveryColumns, new(Delivery).Fields(bareTimes{})},
		{ClaimColumns, new(ClaimRow).Fields(bareTimes{})},
		{OnboardColumns, new(OnboardRequest).Fields(bareTimes{})},
		{JobColumns, new(Job).Fields(bareTimes{})},
		{JobRowColumns, new(JobRow).Fields(bareTimes{})},
		{ChecklistColumns, new(Checklist).Fields(bareTimes{})},
		{IntentColumns, new(TAPIntent).Fields(bareTimes{})},
		{IntentRowColumns, new(IntentRow).Fields(bareTimes{})},
		{ConfirmColumns, new(TAPConfirmation).Fields(bareTimes{})},
	} {
		if n := len(strings.Split(tc.columns, ",")); n != len(tc.fields) {
			t.Errorf("%d fields for the %d columns %s, want as many", len(tc.fields), n, strings.Join(strings.Fields(tc.columns), " "))
		}
	}
}

func TestSetExcluded(t *testing.T) {
	got := SetExcluded("id, a,\n\t\tb", "id")
	if want := "a = excluded.a, b = excluded.b"; got != want {
		t.Errorf("SetExcluded = %q, want %q", got, want)
	}
}
