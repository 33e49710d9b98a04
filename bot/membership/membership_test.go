package membership

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"
)

type fakeDir struct {
	calls   int
	members map[string][]string // user → groups
	err     error
}

func (f *fakeDir) CheckMemberGroups(_ context.Context, user string, groups []string) ([]string, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	var in []string
	for _, g := range groups {
		if slices.Contains(f.members[user], g) {
			in = append(in, g)
		}
	}
	return in, nil
}

func TestIsMemberCachesBriefly(t *testing.T) {
	dir := &fakeDir{members: map[string][]string{"hana": {"helpdesk"}}}
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	c := New(dir, time.Minute, func() time.Time { return now })
	ctx := context.Background()
	for range 3 {
		if ok, err := c.IsMember(ctx, "hana", []string{"helpdesk"}); !ok || err != nil {
			t.Fatalf("IsMember(hana, helpdesk) = %v, %v; want true, nil", ok, err)
		}
	}
	if dir.calls != 1 {
		t.Fatalf("%d Graph calls for three checks, want 1", dir.calls)
	}
	if ok, _ := c.IsMember(ctx, "hana", []string{"auditors"}); ok {
		t.Fatal("membership of another group set leaked from the cache")
	}
	// Removed from the group: effective once the entry expires.
	dir.members["hana"] = nil
	now = now.Add(61 * time.Second)
	if ok, _ := c.IsMember(ctx, "hana", []string{"helpdesk"}); ok {
		t.Fatal("stale membership after the cache expired")
	}
}

func TestIsMemberEdges(t *testing.T) {
	dir := &fakeDir{err: errors.New("graph down")}
	c := New(dir, 0, nil)
	if ok, err := c.IsMember(context.Background(), "", []string{"g"}); ok || err != nil || dir.calls != 0 {
		t.Fatal("empty user asked Graph or was a member")
	}
	if ok, err := c.IsMember(context.Background(), "u", nil); ok || err != nil || dir.calls != 0 {
		t.Fatal("no groups asked Graph or was a member")
	}
	if _, err := c.IsMember(context.Background(), "u", []string{"g"}); err == nil {
		t.Fatal("Graph error swallowed")
	}
	if ok, _ := c.IsMember(context.Background(), "u", []string{"g"}); ok || dir.calls != 2 {
		t.Fatal("an error was cached")
	}
}
