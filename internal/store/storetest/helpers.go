package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapbot/tapbot/internal/store"
)

// differ collects how a record got differs from the one wanted, field by field.
type differ []string

// field notes a field whose got and want print differently.
func (d *differ) field(name string, got, want any) {
	if fmt.Sprint(got) != fmt.Sprint(want) {
		*d = append(*d, fmt.Sprintf("%s = %q, want %q", name, got, want))
	}
}

// time notes a time field that timeDiff finds wrong.
func (d *differ) time(name string, got, want time.Time) {
	if td := timeDiff(name, got, want); td != "" {
		*d = append(*d, td)
	}
}

// String is every difference noted, or "" if there is none.
func (d differ) String() string { return strings.Join(d, "; ") }

// timeDiff describes how got differs from want, or returns "" if it does not. Zero
// must stay zero.
func timeDiff(name string, got, want time.Time) string {
	if want.IsZero() || got.IsZero() {
		if got.IsZero() != want.IsZero() {
			return fmt.Sprintf("%s = %v, want %v", name, got, want)
		}
		return ""
	}
	if delta := got.Sub(want).Abs(); delta >= timeTolerance {
		return fmt.Sprintf("%s = %v, want %v (off by %v)", name, got, want, delta)
	}
	if loc := got.Location(); loc != time.UTC {
		return fmt.Sprintf("%s location = %v, want UTC", name, loc)
	}
	return ""
}

// keys lists the key of each of xs, in order: the ids of a list call's result.
func keys[T, K any](xs []T, key func(T) K) []K {
	out := make([]K, len(xs))
	for i, x := range xs {
		out[i] = key(x)
	}
	return out
}

// must returns the value of a call, or ends the test with the call's error; what
// and args name the call ("Checklist(%q)", id).
func must[T any](v T, err error) func(t *testing.T, what string, args ...any) T {
	return func(t *testing.T, what string, args ...any) T {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", fmt.Sprintf(what, args...), err)
		}
		return v
	}
}

// contend runs f from contenders goroutines released together, f(w) for the w-th,
// and returns what the calls that succeeded returned. A call refused with
// store.ErrConflict lost the race; any other error fails the test.
func contend[T any](t *testing.T, f func(w int) (T, error)) []T {
	t.Helper()
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		mu      sync.Mutex
		winners []T
	)
	for w := range contenders {
		wg.Go(func() {
			<-start
			v, err := f(w)
			if errors.Is(err, store.ErrConflict) {
				return
			}
			if err != nil {
				t.Errorf("contender %d: %v", w, err)
				return
			}
			mu.Lock()
			winners = append(winners, v)
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return winners
}
