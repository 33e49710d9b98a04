// Package storetest is the conformance suite for store.Store backends. It is not a
// _test file so that each backend's tests can import it and run the same checks.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tapbot/tapbot/internal/store"
)

// test is one check of the suite, run on a new, empty store.
type test struct {
	name string
	run  func(t *testing.T, s store.Store)
}

// Run runs the suite. open must return a new, empty store on every call; Run
// closes it when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []test{
		{"SaveAndGet", testSaveAndGet},
		{"SaveStampsZeroUpdatedAt", testSaveStampsZeroUpdatedAt},
		{"UpsertReplaces", testUpsertReplaces},
		{"ReferenceNotFound", testReferenceNotFound},
		{"PersonalReference", testPersonalReference},
		{"InvalidReference", testInvalidReference},
		{"ConcurrentSave", testConcurrentSave},
		{"Ping", testPing},
	}
	tests = append(tests, tapTests...)
	tests = append(tests, onboardTests...)
	tests = append(tests, checklistTests...)
	tests = append(tests, intentTests...)
	tests = append(tests, confirmTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.run(t, s)
		})
	}
}

// timeTolerance is the precision a backend must keep: the suite's times carry
// nanoseconds, which some databases (PostgreSQL: microseconds) cannot.
const timeTolerance = time.Millisecond

var base = time.Date(2024, 5, 6, 7, 8, 9, 123456789, time.UTC)

func personal(id, tenant, user string, updated time.Time) store.Reference {
	return store.Reference{
		ConversationID:  id,
		Scope:           store.ScopePersonal,
		TenantID:        tenant,
		UserAADObjectID: user,
		ServiceURL:      "https://smba.trafficmanager.net/emea/",
		BotID:           "28:bot",
		Raw:             []byte(`{"conversation":{"id":"` + id + `"}}`),
		UpdatedAt:       updated,
	}
}

func save(t *testing.T, s store.Store, r store.Reference) {
	t.Helper()
	if err := s.SaveReference(t.Context(), r); err != nil {
		t.Fatalf("SaveReference(%q): %v", r.ConversationID, err)
	}
}

// diff describes how got differs from want, or returns "" if it does not.
func diff(got, want store.Reference) string {
	var d differ
	d.field("ConversationID", got.ConversationID, want.ConversationID)
	d.field("Scope", got.Scope, want.Scope)
	d.field("TenantID", got.TenantID, want.TenantID)
	d.field("UserAADObjectID", got.UserAADObjectID, want.UserAADObjectID)
	d.field("TeamID", got.TeamID, want.TeamID)
	d.field("ServiceURL", got.ServiceURL, want.ServiceURL)
	d.field("BotID", got.BotID, want.BotID)
	d.field("Raw", string(got.Raw), string(want.Raw))
	d.time("UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	return d.String()
}

func testSaveAndGet(t *testing.T, s store.Store) {
	// A zone other than UTC checks that the instant, not the wall clock, is kept.
	kolkata := time.FixedZone("IST", 5*3600+1800)
	tests := []store.Reference{
		{
			ConversationID:  "a:1personal",
			Scope:           store.ScopePersonal,
			TenantID:        "tenant-1",
			UserAADObjectID: "user-1",
			ServiceURL:      "https://smba.trafficmanager.net/emea/",
			BotID:           "28:bot",
			// Raw is opaque bytes to the store: NUL, invalid UTF-8 and non-ASCII too.
			Raw:       []byte("{\"x\":\"é\u2603\"}\x00\xff\xfe"),
			UpdatedAt: base.In(kolkata),
		},
		{
			ConversationID: "19:group@thread.v2",
			Scope:          store.ScopeGroupChat,
			TenantID:       "tenant-1",
			ServiceURL:     "https://smba.trafficmanager.net/amer/",
			BotID:          "28:bot",
			Raw:            []byte(`{"conversation":{"isGroup":true}}`),
			UpdatedAt:      base.Add(time.Hour),
		},
		{
			ConversationID: "19:channel@thread.tacv2;messageid=1",
			Scope:          store.ScopeChannel,
			TenantID:       "tenant-2",
			TeamID:         "19:team@thread.tacv2",
			ServiceURL:     "https://smba.trafficmanager.net/apac/",
			BotID:          "28:other-bot",
			Raw:            []byte(`{}`),
			UpdatedAt:      base.Add(-time.Hour),
		},
	}
	for _, want := range tests {
		save(t, s, want)
	}
	// Read back only after all saves, so one row cannot mask another.
	for _, want := range tests {
		t.Run(string(want.Scope), func(t *testing.T) {
			got, err := s.Reference(t.Context(), want.ConversationID)
			if err != nil {
				t.Fatalf("Reference(%q): %v", want.ConversationID, err)
			}
			if d := diff(got, want); d != "" {
				t.Error(d)
			}
		})
	}
}

func testSaveStampsZeroUpdatedAt(t *testing.T, s store.Store) {
	r := personal("a:zero", "tenant-1", "user-1", time.Time{})
	before := time.Now()
	save(t, s, r)
	after := time.Now()

	got, err := s.Reference(t.Context(), r.ConversationID)
	if err != nil {
		t.Fatalf("Reference: %v", err)
	}
	if got.UpdatedAt.Before(before.Add(-timeTolerance)) || got.UpdatedAt.After(after.Add(timeTolerance)) {
		t.Errorf("UpdatedAt = %v, want between %v and %v", got.UpdatedAt, before, after)
	}
}

func testUpsertReplaces(t *testing.T, s store.Store) {
	first := personal("a:1", "tenant-1", "user-1", base)
	// Every field changes, including the scope (so PersonalReference must stop
	// finding it) and a move backwards in time (the last write wins, not the newest).
	second := store.Reference{
		ConversationID: first.ConversationID,
		Scope:          store.ScopeChannel,
		TenantID:       "tenant-2",
		TeamID:         "19:team@thread.tacv2",
		ServiceURL:     "https://smba.trafficmanager.net/amer/",
		BotID:          "28:other-bot",
		Raw:            []byte(`{"v":2}`),
		UpdatedAt:      base.Add(-time.Hour),
	}
	save(t, s, first)
	save(t, s, second)

	got, err := s.Reference(t.Context(), first.ConversationID)
	if err != nil {
		t.Fatalf("Reference: %v", err)
	}
	if d := diff(got, second); d != "" {
		t.Errorf("Reference after upsert (got vs want): %s", d)
	}
	if _, err := s.PersonalReference(t.Context(), first.TenantID, first.UserAADObjectID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("PersonalReference of the replaced personal reference: err = %v, want ErrNotFound", err)
	}
}

func testReferenceNotFound(t *testing.T, s store.Store) {
	save(t, s, personal("a:1", "tenant-1", "user-1", base))
	for _, id := range []string{"a:2", "A:1", "a:1 ", ""} {
		_, err := s.Reference(t.Context(), id)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Reference(%q): err = %v, want ErrNotFound", id, err)
		}
	}
}

func testPersonalReference(t *testing.T, s store.Store) {
	minus5 := time.FixedZone("-05", -5*3600)
	newest := personal("a:t1u1-newest", "t1", "u1", base.Add(2*time.Hour))
	whole := base.Truncate(time.Second)
	refs := []store.Reference{
		personal("a:t1u1-old", "t1", "u1", base),
		newest,
		// Saved last but older: the newest by time must win, not by insertion.
		personal("a:t1u1-middle", "t1", "u1", base.Add(time.Hour)),
		// Newer, but not personal.
		{ConversationID: "19:group", Scope: store.ScopeGroupChat, TenantID: "t1", UserAADObjectID: "u1", UpdatedAt: base.Add(3 * time.Hour)},
		{ConversationID: "19:channel", Scope: store.ScopeChannel, TenantID: "t1", UserAADObjectID: "u1", TeamID: "19:team", UpdatedAt: base.Add(3 * time.Hour)},
		// Newer, but another tenant or another user.
		personal("a:t2u1", "t2", "u1", base.Add(4*time.Hour)),
		personal("a:t1u2", "t1", "u2", base.Add(5*time.Hour)),
		// Ordering traps for text timestamps: a whole second against a fraction
		// of it, and a later instant whose wall clock reads earlier.
		personal("a:t1u3-whole", "t1", "u3", whole),
		personal("a:t1u3-fraction", "t1", "u3", whole.Add(100*time.Millisecond)),
		personal("a:t1u4-utc", "t1", "u4", base),
		personal("a:t1u4-zoned", "t1", "u4", base.Add(time.Hour).In(minus5)),
		// Missing ids, so that empty lookups have something to wrongly match.
		personal("a:no-user", "t1", "", base),
		personal("a:no-tenant", "", "u1", base),
		personal("a:no-ids", "", "", base),
	}
	for _, r := range refs {
		save(t, s, r)
	}

	tests := []struct {
		name, tenant, user string
		want               string // conversation id; "" means ErrNotFound
	}{
		{"newest of user", "t1", "u1", newest.ConversationID},
		{"other tenant", "t2", "u1", "a:t2u1"},
		{"other user", "t1", "u2", "a:t1u2"},
		{"fraction after whole second", "t1", "u3", "a:t1u3-fraction"},
		{"compares instants not wall clocks", "t1", "u4", "a:t1u4-zoned"},
		{"unknown tenant", "t3", "u1", ""},
		{"unknown user", "t1", "u9", ""},
		{"empty user", "t1", "", ""},
		{"empty tenant", "", "u1", ""},
		{"empty ids", "", "", ""},
		{"case matters", "T1", "U1", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.PersonalReference(t.Context(), tc.tenant, tc.user)
			if tc.want == "" {
				if !errors.Is(err, store.ErrNotFound) {
					t.Errorf("PersonalReference(%q, %q) = %q, %v; want ErrNotFound", tc.tenant, tc.user, got.ConversationID, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("PersonalReference(%q, %q): %v", tc.tenant, tc.user, err)
			}
			if got.ConversationID != tc.want {
				t.Errorf("PersonalReference(%q, %q) = %q, want %q", tc.tenant, tc.user, got.ConversationID, tc.want)
			}
		})
	}
	// The result is the whole reference, not just its id.
	got, err := s.PersonalReference(t.Context(), "t1", "u1")
	if err != nil {
		t.Fatalf("PersonalReference: %v", err)
	}
	if d := diff(got, newest); d != "" {
		t.Error(d)
	}
}

func testInvalidReference(t *testing.T, s store.Store) {
	valid := personal("a:1", "tenant-1", "user-1", base)
	tests := []struct {
		name   string
		mutate func(r *store.Reference)
	}{
		{"empty conversation id", func(r *store.Reference) { r.ConversationID = "" }},
		{"empty scope", func(r *store.Reference) { r.Scope = "" }},
		{"unknown scope", func(r *store.Reference) { r.Scope = "meeting" }},
		{"scope in wrong case", func(r *store.Reference) { r.Scope = "Personal" }},
		{"year after 9999", func(r *store.Reference) { r.UpdatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"year before 1", func(r *store.Reference) { r.UpdatedAt = time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := valid
			tc.mutate(&r)
			err := s.SaveReference(t.Context(), r)
			if !errors.Is(err, store.ErrInvalidReference) {
				t.Fatalf("SaveReference: err = %v, want ErrInvalidReference", err)
			}
			if _, err := s.Reference(t.Context(), r.ConversationID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("after a refused save, Reference(%q): err = %v, want ErrNotFound", r.ConversationID, err)
			}
		})
	}
}

func testConcurrentSave(t *testing.T, s store.Store) {
	const (
		workers = 16
		each    = 20
	)
	id := func(w, i int) string { return fmt.Sprintf("a:w%d-%d", w, i) }
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				r := personal(id(w, i), "tenant-1", fmt.Sprintf("user-%d", w), base.Add(time.Duration(i)*time.Second))
				if err := s.SaveReference(t.Context(), r); err != nil {
					t.Errorf("SaveReference(%q): %v", r.ConversationID, err)
					return
				}
				// Every worker also fights over one row.
				shared := personal("a:shared", "tenant-1", "shared", base)
				shared.BotID = fmt.Sprint(w)
				if err := s.SaveReference(t.Context(), shared); err != nil {
					t.Errorf("SaveReference(shared): %v", err)
					return
				}
				// Reads run alongside the writes, and must see this worker's own.
				if got, err := s.PersonalReference(t.Context(), "tenant-1", r.UserAADObjectID); err != nil || got.ConversationID != r.ConversationID {
					t.Errorf("PersonalReference right after saving %q = %q, %v", r.ConversationID, got.ConversationID, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	for w := range workers {
		for i := range each {
			want := personal(id(w, i), "tenant-1", fmt.Sprintf("user-%d", w), base.Add(time.Duration(i)*time.Second))
			got, err := s.Reference(t.Context(), want.ConversationID)
			if err != nil {
				t.Errorf("Reference(%q): %v", want.ConversationID, err)
				continue
			}
			if d := diff(got, want); d != "" {
				t.Errorf("Reference(%q) (got vs want): %s", want.ConversationID, d)
			}
		}
	}
	if _, err := s.Reference(t.Context(), "a:shared"); err != nil {
		t.Errorf("Reference(shared): %v", err)
	}
}

func testPing(t *testing.T, s store.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	// /readyz bounds Ping with a deadline, so Ping must give up when told to.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.Ping(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Ping with a cancelled context: err = %v, want context.Canceled", err)
	}
}
