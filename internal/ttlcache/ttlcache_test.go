package ttlcache

import (
	"errors"
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := New[string, int](time.Minute, 2, func() time.Time { return now })
	calls := 0
	fetch := func(v int, err error) func() (int, error) {
		return func() (int, error) { calls++; return v, err }
	}
	steps := []struct {
		name      string
		advance   time.Duration
		key       string
		fetch     func() (int, error)
		want      int
		wantErr   bool
		wantCalls int
	}{
		{"miss fetches", 0, "a", fetch(1, nil), 1, false, 1},
		{"hit does not", 30 * time.Second, "a", fetch(2, nil), 1, false, 1},
		{"expiry fetches again", 31 * time.Second, "a", fetch(3, nil), 3, false, 2},
		{"errors are not kept", 0, "b", fetch(0, errors.New("graph down")), 0, true, 3},
		{"so the next load asks again", 0, "b", fetch(4, nil), 4, false, 4},
		{"a full cache starts over", 0, "c", fetch(5, nil), 5, false, 5},
		{"and forgot the others", 0, "a", fetch(6, nil), 6, false, 6},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		got, err := c.Load(s.key, s.fetch)
		if got != s.want || (err != nil) != s.wantErr || calls != s.wantCalls {
			t.Fatalf("%s: Load = %d, %v after %d fetches; want %d, error %v, %d fetches", s.name, got, err, calls, s.want, s.wantErr, s.wantCalls)
		}
	}
}
