package graph

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestExplain(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&Error{Status: 403, Code: "Authorization_RequestDenied", Message: "secret detail"}, "tapbot doctor"},
		{fmt.Errorf("create: %w", &Error{Status: 429}), "busy or unavailable"},
		{&Error{Status: 503}, "busy or unavailable"},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), "too long"},
		{errors.New("boom"), "Something went wrong"},
	}
	for _, tt := range tests {
		got := Explain(tt.err)
		if !strings.Contains(got, tt.want) || strings.Contains(got, "secret detail") {
			t.Errorf("Explain(%v) = %q, want it to mention %q and no Graph detail", tt.err, got, tt.want)
		}
	}
}
