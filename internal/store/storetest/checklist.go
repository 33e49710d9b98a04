package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tapbot/tapbot/internal/store"
)

// checklistTests are the suite's checks of checklists.
var checklistTests = []test{
	{"ChecklistRoundTrip", testChecklistRoundTrip},
	{"ChecklistStampsZeroTimes", testChecklistStampsZeroTimes},
	{"CreateChecklistTwice", testCreateChecklistTwice},
	{"InvalidChecklist", testInvalidChecklist},
	{"ChecklistNotFound", testChecklistNotFound},
	{"UpdateChecklistCompareAndSet", testUpdateChecklistCompareAndSet},
	{"ConcurrentUpdateChecklist", testConcurrentUpdateChecklist},
	{"ChecklistDoneAtStays", testChecklistDoneAtStays},
	{"OpenChecklists", testOpenChecklists},
	{"OpenChecklistsLimit", testOpenChecklistsLimit},
}

func checklist(userID string, started time.Time) store.Checklist {
	return store.Checklist{
		UserID:    userID,
		UserUPN:   userID + "@contoso.com",
		RequestID: "onb-" + userID,
		ManagerID: "m1",
		Progress:  []byte(`{"steps":{"authenticator":false}}`),
		StartedAt: started,
		UpdatedAt: started,
	}
}

func createChecklist(t *testing.T, s store.Store, c store.Checklist) {
	t.Helper()
	if err := s.CreateChecklist(t.Context(), c); err != nil {
		t.Fatalf("CreateChecklist(%q): %v", c.UserID, err)
	}
}

func getChecklist(t *testing.T, s store.Store, userID string) store.Checklist {
	t.Helper()
	return must(s.Checklist(t.Context(), userID))(t, "Checklist(%q)", userID)
}

func updateChecklist(t *testing.T, s store.Store, c store.Checklist) store.Checklist {
	t.Helper()
	return must(s.UpdateChecklist(t.Context(), c))(t, "UpdateChecklist(%q, version %d)", c.UserID, c.Version)
}

func openChecklists(t *testing.T, s store.Store, limit int) []store.Checklist {
	t.Helper()
	return must(s.OpenChecklists(t.Context(), limit))(t, "OpenChecklists(%d)", limit)
}

func checklistIDs(cs []store.Checklist) []string {
	return keys(cs, func(c store.Checklist) string { return c.UserID })
}

// checklistDiff describes how got differs from want, or returns "" if it does not.
func checklistDiff(got, want store.Checklist) string {
	var d differ
	d.field("UserID", got.UserID, want.UserID)
	d.field("UserUPN", got.UserUPN, want.UserUPN)
	d.field("RequestID", got.RequestID, want.RequestID)
	d.field("ManagerID", got.ManagerID, want.ManagerID)
	d.field("NoSmartphone", got.NoSmartphone, want.NoSmartphone)
	d.field("ConversationID", got.ConversationID, want.ConversationID)
	d.field("ActivityID", got.ActivityID, want.ActivityID)
	d.field("Progress", string(got.Progress), string(want.Progress))
	d.field("Version", got.Version, want.Version)
	d.time("StartedAt", got.StartedAt, want.StartedAt)
	d.time("UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	d.time("DoneAt", got.DoneAt, want.DoneAt)
	return d.String()
}

func testChecklistRoundTrip(t *testing.T, s store.Store) {
	kolkata := time.FixedZone("IST", 5*3600+1800)
	full := store.Checklist{
		UserID:         "00000000-0000-0000-0000-00000000000e",
		UserUPN:        "Zoë.O'Brien@contoso.com",
		RequestID:      "onb-01HZX",
		ManagerID:      "00000000-0000-0000-0000-00000000000a",
		NoSmartphone:   true,
		ConversationID: "a:1Hk-personal_chat;messageid=1",
		ActivityID:     "1716966000000",
		// Progress is opaque bytes to the store: NUL, invalid UTF-8 and non-ASCII too.
		Progress:  []byte("{\"key\":\"Zoë \u2603\"}\x00\xff\xfe"),
		StartedAt: base.In(kolkata),
		UpdatedAt: base.Add(time.Minute).In(kolkata),
		DoneAt:    base.Add(time.Hour).In(kolkata),
		Version:   9, // ignored: a new checklist is at version 1
	}
	minimal := store.Checklist{UserID: "u-minimal", StartedAt: base, UpdatedAt: base}
	for _, c := range []store.Checklist{full, minimal} {
		createChecklist(t, s, c)
	}
	full.Version, minimal.Version = 1, 1
	for _, want := range []store.Checklist{full, minimal} {
		if d := checklistDiff(getChecklist(t, s, want.UserID), want); d != "" {
			t.Errorf("Checklist(%q) after create (got vs want): %s", want.UserID, d)
		}
	}

	// An update writes every field but the user id and the start time.
	next := store.Checklist{
		UserID:         minimal.UserID,
		UserUPN:        "new.hire@contoso.com",
		RequestID:      "chk-turn-2",
		ManagerID:      "m2",
		NoSmartphone:   true,
		ConversationID: "a:conv",
		ActivityID:     "act-2",
		Progress:       []byte(`{"v":2}`),
		StartedAt:      base.Add(-time.Hour), // ignored
		UpdatedAt:      base.Add(2 * time.Minute).In(kolkata),
		DoneAt:         base.Add(3 * time.Minute),
		Version:        1,
	}
	got := updateChecklist(t, s, next)
	want := next
	want.StartedAt, want.Version = minimal.StartedAt, 2
	if d := checklistDiff(got, want); d != "" {
		t.Errorf("UpdateChecklist returned (got vs want): %s", d)
	}
	if d := checklistDiff(getChecklist(t, s, minimal.UserID), want); d != "" {
		t.Errorf("Checklist after update (got vs want): %s", d)
	}
	// Every field can go back to its zero value but DoneAt (see ChecklistDoneAtStays).
	back := store.Checklist{UserID: full.UserID, UpdatedAt: base.Add(4 * time.Minute), DoneAt: full.DoneAt, Version: 1}
	want = back
	want.StartedAt, want.Version = full.StartedAt, 2
	if d := checklistDiff(updateChecklist(t, s, back), want); d != "" {
		t.Errorf("UpdateChecklist to zero values returned (got vs want): %s", d)
	}
	if d := checklistDiff(getChecklist(t, s, full.UserID), want); d != "" {
		t.Errorf("Checklist after update to zero values (got vs want): %s", d)
	}
}

func testChecklistStampsZeroTimes(t *testing.T, s store.Store) {
	c := checklist("u1", time.Time{})
	before := time.Now()
	createChecklist(t, s, c)
	after := time.Now()
	got := getChecklist(t, s, "u1")
	inRange := func(name string, v time.Time) {
		if v.Before(before.Add(-timeTolerance)) || v.After(after.Add(timeTolerance)) {
			t.Errorf("%s = %v, want between %v and %v", name, v, before, after)
		}
	}
	inRange("StartedAt", got.StartedAt)
	if !got.UpdatedAt.Equal(got.StartedAt) {
		t.Errorf("UpdatedAt = %v, want StartedAt %v", got.UpdatedAt, got.StartedAt)
	}
	if !got.DoneAt.IsZero() {
		t.Errorf("DoneAt = %v, want zero", got.DoneAt)
	}

	// A given StartedAt with a zero UpdatedAt: UpdatedAt becomes StartedAt.
	c = checklist("u2", base)
	c.UpdatedAt = time.Time{}
	createChecklist(t, s, c)
	if d := timeDiff("UpdatedAt", getChecklist(t, s, "u2").UpdatedAt, base); d != "" {
		t.Error(d)
	}

	// An update with a zero UpdatedAt is stamped now.
	r := getChecklist(t, s, "u2")
	r.UpdatedAt = time.Time{}
	before = time.Now()
	got = updateChecklist(t, s, r)
	after = time.Now()
	inRange("UpdatedAt after update", got.UpdatedAt)
	if d := timeDiff("StartedAt", got.StartedAt, base); d != "" {
		t.Error(d)
	}
}

func testCreateChecklistTwice(t *testing.T, s store.Store) {
	first := checklist("u1", base)
	createChecklist(t, s, first)
	second := checklist("u1", base.Add(time.Hour))
	second.ManagerID, second.Progress = "m2", []byte(`{"other":true}`)
	if err := s.CreateChecklist(t.Context(), second); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second CreateChecklist: err = %v, want ErrConflict", err)
	}
	first.Version = 1
	if d := checklistDiff(getChecklist(t, s, "u1"), first); d != "" {
		t.Errorf("Checklist after a refused create (got vs want): %s", d)
	}

	// Concurrent creates for one user: exactly one wins.
	for r := range 5 {
		id := fmt.Sprintf("race-%d", r)
		won := len(contend(t, func(w int) (store.Checklist, error) {
			c := checklist(id, base)
			c.ManagerID = fmt.Sprintf("m%d", w)
			return c, s.CreateChecklist(t.Context(), c)
		}))
		if won != 1 {
			t.Errorf("round %d: %d of %d concurrent CreateChecklist calls succeeded, want exactly 1", r, won, contenders)
		}
	}
}

func testInvalidChecklist(t *testing.T, s store.Store) {
	valid := checklist("u1", base)
	tooLate := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		mutate func(c *store.Checklist)
	}{
		{"empty user id", func(c *store.Checklist) { c.UserID = "" }},
		{"user id with a space", func(c *store.Checklist) { c.UserID = "u 1" }},
		{"user id with a newline", func(c *store.Checklist) { c.UserID = "u1\n" }},
		{"user id with NUL", func(c *store.Checklist) { c.UserID = "u\x001" }},
		{"user id not UTF-8", func(c *store.Checklist) { c.UserID = "u\xff" }},
		{"user id too long", func(c *store.Checklist) { c.UserID = strings.Repeat("u", store.MaxIDLen+1) }},
		{"upn too long", func(c *store.Checklist) { c.UserUPN = strings.Repeat("a", store.MaxUPNLen+1) }},
		{"upn with NUL", func(c *store.Checklist) { c.UserUPN = "a\x00@contoso.com" }},
		{"request id too long", func(c *store.Checklist) { c.RequestID = strings.Repeat("r", store.MaxIDLen+1) }},
		{"manager id not UTF-8", func(c *store.Checklist) { c.ManagerID = "m\xfe" }},
		{"conversation id too long", func(c *store.Checklist) {
			c.ConversationID = strings.Repeat("c", store.MaxConversationIDLen+1)
		}},
		{"activity id with NUL", func(c *store.Checklist) { c.ActivityID = "\x00" }},
		{"progress too long", func(c *store.Checklist) { c.Progress = make([]byte, store.MaxProgressLen+1) }},
		{"started after 9999", func(c *store.Checklist) { c.StartedAt = tooLate }},
		{"updated before year 1", func(c *store.Checklist) { c.UpdatedAt = time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC) }},
		{"done after 9999", func(c *store.Checklist) { c.DoneAt = tooLate }},
		{"negative version", func(c *store.Checklist) { c.Version = -1 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid
			tc.mutate(&c)
			if err := s.CreateChecklist(t.Context(), c); !errors.Is(err, store.ErrInvalidChecklist) {
				t.Fatalf("CreateChecklist: err = %v, want ErrInvalidChecklist", err)
			}
			if _, err := s.Checklist(t.Context(), c.UserID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("after a refused create, Checklist(%q): err = %v, want ErrNotFound", c.UserID, err)
			}
		})
	}
	// At the limits, it is accepted.
	edge := valid
	edge.UserID = strings.Repeat("é", store.MaxIDLen)
	edge.UserUPN = strings.Repeat("é", store.MaxUPNLen)
	edge.ConversationID = strings.Repeat("c", store.MaxConversationIDLen)
	edge.Progress = make([]byte, store.MaxProgressLen)
	createChecklist(t, s, edge)
	edge.Version = 1
	if d := checklistDiff(getChecklist(t, s, edge.UserID), edge); d != "" {
		t.Errorf("Checklist at the limits (got vs want): %s", d)
	}

	// An update is checked the same way, and must carry a version as read.
	createChecklist(t, s, valid)
	stored := getChecklist(t, s, valid.UserID)
	for name, mutate := range map[string]func(c *store.Checklist){
		"progress too long": func(c *store.Checklist) { c.Progress = make([]byte, store.MaxProgressLen+1) },
		"done after 9999":   func(c *store.Checklist) { c.DoneAt = tooLate },
		"version 0":         func(c *store.Checklist) { c.Version = 0 },
	} {
		c := stored
		mutate(&c)
		if got, err := s.UpdateChecklist(t.Context(), c); !errors.Is(err, store.ErrInvalidChecklist) {
			t.Errorf("UpdateChecklist with %s = version %d, %v; want ErrInvalidChecklist", name, got.Version, err)
		}
	}
	if d := checklistDiff(getChecklist(t, s, valid.UserID), stored); d != "" {
		t.Errorf("Checklist after refused updates (got vs want): %s", d)
	}
}

func testChecklistNotFound(t *testing.T, s store.Store) {
	createChecklist(t, s, checklist("u1", base))
	for _, id := range []string{"u2", "U1", "u1 ", ""} {
		if _, err := s.Checklist(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Checklist(%q): err = %v, want ErrNotFound", id, err)
		}
	}
	c := checklist("u2", base)
	c.Version = 1
	if got, err := s.UpdateChecklist(t.Context(), c); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateChecklist of an unknown user = version %d, %v; want ErrNotFound", got.Version, err)
	}
	if _, err := s.Checklist(t.Context(), "u2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateChecklist of an unknown user created it: err = %v", err)
	}
}

func testUpdateChecklistCompareAndSet(t *testing.T, s store.Store) {
	createChecklist(t, s, checklist("u1", base))
	v1 := getChecklist(t, s, "u1")
	if v1.Version != 1 {
		t.Fatalf("Version after create = %d, want 1", v1.Version)
	}
	step := v1
	step.Progress, step.UpdatedAt = []byte(`{"steps":{"authenticator":true}}`), base.Add(time.Minute)
	v2 := updateChecklist(t, s, step)
	if v2.Version != 2 {
		t.Fatalf("UpdateChecklist = version %d, want 2", v2.Version)
	}
	for name, c := range map[string]store.Checklist{
		"same update twice": step,
		"stale version": func() store.Checklist {
			c := v1
			c.ActivityID = "other"
			return c
		}(),
		"version from the future": func() store.Checklist {
			c := v2
			c.Version = 3
			return c
		}(),
	} {
		if got, err := s.UpdateChecklist(t.Context(), c); !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: UpdateChecklist = version %d, %v; want ErrConflict", name, got.Version, err)
		}
	}
	if d := checklistDiff(getChecklist(t, s, "u1"), v2); d != "" {
		t.Errorf("Checklist after refused updates (got vs want): %s", d)
	}
	// From the version just returned, updates go on; each one counts.
	c := v2
	for i := range 3 {
		c.ActivityID = fmt.Sprint("act-", i)
		c = updateChecklist(t, s, c)
		if want := 3 + i; c.Version != want {
			t.Errorf("update %d: Version = %d, want %d", i, c.Version, want)
		}
	}
	if d := checklistDiff(getChecklist(t, s, "u1"), c); d != "" {
		t.Errorf("Checklist after UpdateChecklist (got) vs what UpdateChecklist returned (want): %s", d)
	}
}

func testConcurrentUpdateChecklist(t *testing.T, s store.Store) {
	const rounds = 5
	for round := range rounds {
		id := fmt.Sprintf("u%d", round)
		createChecklist(t, s, checklist(id, base))
		read := getChecklist(t, s, id)
		winners := contend(t, func(w int) (store.Checklist, error) {
			c := read
			c.Progress = fmt.Appendf(nil, `{"by":%d}`, w)
			c.NoSmartphone = w%2 == 1
			return s.UpdateChecklist(t.Context(), c)
		})
		if len(winners) != 1 {
			t.Errorf("round %d: %d of %d concurrent updates from one version succeeded, want exactly 1", round, len(winners), contenders)
			continue
		}
		if winners[0].Version != 2 {
			t.Errorf("round %d: winner at version %d, want 2", round, winners[0].Version)
		}
		if d := checklistDiff(getChecklist(t, s, id), winners[0]); d != "" {
			t.Errorf("round %d: Checklist (got) vs the winning update (want): %s", round, d)
		}
	}
}

func testChecklistDoneAtStays(t *testing.T, s store.Store) {
	createChecklist(t, s, checklist("u1", base))
	c := getChecklist(t, s, "u1")
	done := base.Add(time.Hour)
	c.DoneAt = done
	c = updateChecklist(t, s, c)
	if d := timeDiff("DoneAt", c.DoneAt, done); d != "" {
		t.Fatalf("UpdateChecklist marking done (got vs want): %s", d)
	}
	// Clearing DoneAt does not clear it; the rest of the update is written.
	c.DoneAt, c.Progress = time.Time{}, []byte(`{"reopened":true}`)
	got := updateChecklist(t, s, c)
	want := c
	want.DoneAt, want.Version = done, c.Version+1
	if d := checklistDiff(got, want); d != "" {
		t.Errorf("UpdateChecklist with a zero DoneAt returned (got vs want): %s", d)
	}
	if d := checklistDiff(getChecklist(t, s, "u1"), want); d != "" {
		t.Errorf("Checklist after an update with a zero DoneAt (got vs want): %s", d)
	}
	// Nor does a later DoneAt move it: the first completion stays.
	got.DoneAt = done.Add(time.Hour)
	got = updateChecklist(t, s, got)
	if d := timeDiff("DoneAt", got.DoneAt, done); d != "" {
		t.Errorf("UpdateChecklist after a second completion (got vs want): %s", d)
	}
	if cs := openChecklists(t, s, 0); len(cs) != 0 {
		t.Errorf("OpenChecklists = %v, want none: the checklist stays done", checklistIDs(cs))
	}

	// A checklist created done stays done too.
	d := checklist("u2", base)
	d.DoneAt = done
	createChecklist(t, s, d)
	c = getChecklist(t, s, "u2")
	c.DoneAt = time.Time{}
	if got := updateChecklist(t, s, c); got.DoneAt.IsZero() {
		t.Error("a checklist created done was cleared by an update")
	}
}

func testOpenChecklists(t *testing.T, s store.Store) {
	minus5 := time.FixedZone("-05", -5*3600)
	h := func(n float64) time.Time { return base.Add(time.Duration(n * float64(time.Hour))) }
	whole := base.Truncate(time.Second)
	for _, c := range []struct {
		id      string
		started time.Time
		done    bool
	}{
		{"c1", h(0), false},
		{"c2", h(1), true},
		{"c3", h(2), false},
		// Started at the same time as c3: ties go by user id.
		{"c0", h(2), false},
		// A later instant whose wall clock reads earlier.
		{"c4", h(2.5).In(minus5), false},
		{"c5", h(-1), true},
		// A whole second against a fraction of it.
		{"c6", whole.Add(-time.Hour).Add(100 * time.Millisecond), false},
		{"c7", whole.Add(-time.Hour), false},
	} {
		ch := checklist(c.id, c.started)
		createChecklist(t, s, ch)
		if c.done {
			r := getChecklist(t, s, c.id)
			r.DoneAt = c.started.Add(time.Minute)
			updateChecklist(t, s, r)
		}
	}
	want := []string{"c7", "c6", "c1", "c0", "c3", "c4"}
	got := openChecklists(t, s, 0)
	if !slices.Equal(checklistIDs(got), want) {
		t.Errorf("OpenChecklists ids = %v, want %v", checklistIDs(got), want)
	}
	for _, n := range []int{1, 2, 5, 6, 7} {
		if got := openChecklists(t, s, n); !slices.Equal(checklistIDs(got), want[:min(n, len(want))]) {
			t.Errorf("OpenChecklists(%d) ids = %v, want %v", n, checklistIDs(got), want[:min(n, len(want))])
		}
	}
	// The checklists come back whole.
	if len(got) > 0 {
		if d := checklistDiff(got[0], getChecklist(t, s, got[0].UserID)); d != "" {
			t.Error(d)
		}
	}
	// Finishing one takes it off the list.
	r := getChecklist(t, s, "c1")
	r.DoneAt = h(3)
	updateChecklist(t, s, r)
	want = slices.DeleteFunc(want, func(id string) bool { return id == "c1" })
	if got := openChecklists(t, s, 0); !slices.Equal(checklistIDs(got), want) {
		t.Errorf("OpenChecklists after finishing c1 = %v, want %v", checklistIDs(got), want)
	}
}

func testOpenChecklistsLimit(t *testing.T, s store.Store) {
	const n = store.DefaultLimit + 10
	for i := range n {
		createChecklist(t, s, checklist(fmt.Sprintf("u%03d", i), base.Add(time.Duration(i)*time.Second)))
	}
	for _, tc := range []struct{ limit, want int }{{0, store.DefaultLimit}, {-1, store.DefaultLimit}, {1, 1}, {n + 1, n}, {store.MaxLimit + 1, n}} {
		got := openChecklists(t, s, tc.limit)
		if len(got) != tc.want {
			t.Errorf("OpenChecklists(%d) returned %d, want %d", tc.limit, len(got), tc.want)
			continue
		}
		if got[0].UserID != "u000" || got[len(got)-1].UserID != fmt.Sprintf("u%03d", tc.want-1) {
			t.Errorf("OpenChecklists(%d) = %s…%s, want the oldest first", tc.limit, got[0].UserID, got[len(got)-1].UserID)
		}
	}
}
