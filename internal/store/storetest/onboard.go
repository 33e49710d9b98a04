package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapbot/tapbot/internal/store"
)

// onboardTests are the suite's checks of onboarding requests and jobs.
var onboardTests = []test{
	{"OnboardRoundTrip", testOnboardRoundTrip},
	{"OnboardStampsZeroTimes", testOnboardStampsZeroTimes},
	{"CreateOnboardTwice", testCreateOnboardTwice},
	{"InvalidOnboard", testInvalidOnboard},
	{"OnboardNotFound", testOnboardNotFound},
	{"UpdateOnboardCompareAndSet", testUpdateOnboardCompareAndSet},
	{"ConcurrentUpdateOnboard", testConcurrentUpdateOnboard},
	{"OnboardTransitions", testOnboardTransitions},
	{"OnboardFilters", testOnboardFilters},
	{"OnboardsLimit", testOnboardsLimit},
	{"JobRoundTrip", testJobRoundTrip},
	{"ScheduleJobTwice", testScheduleJobTwice},
	{"InvalidJob", testInvalidJob},
	{"ClaimJobsDue", testClaimJobsDue},
	{"ClaimJobsZeroNow", testClaimJobsZeroNow},
	{"ClaimJobsLimit", testClaimJobsLimit},
	{"ClaimJobsLease", testClaimJobsLease},
	{"ConcurrentClaimJobs", testConcurrentClaimJobs},
	{"CompleteJob", testCompleteJob},
	{"RescheduleJob", testRescheduleJob},
}

// allowedTransitions is the state machine of onboard.go, written out here rather
// than taken from store.CanTransition so that the suite checks that too.
var allowedTransitions = map[string][]string{
	store.OnboardSubmitted:    {store.OnboardSubmitted, store.OnboardApproved, store.OnboardRejected},
	store.OnboardRejected:     {store.OnboardRejected},
	store.OnboardApproved:     {store.OnboardApproved, store.OnboardProvisioning},
	store.OnboardProvisioning: {store.OnboardProvisioning, store.OnboardFailed, store.OnboardDone},
	store.OnboardFailed:       {store.OnboardFailed, store.OnboardProvisioning},
	store.OnboardDone:         {store.OnboardDone},
}

// pathTo is the shortest way from submitted to each state.
var pathTo = map[string][]string{
	store.OnboardSubmitted:    nil,
	store.OnboardRejected:     {store.OnboardRejected},
	store.OnboardApproved:     {store.OnboardApproved},
	store.OnboardProvisioning: {store.OnboardApproved, store.OnboardProvisioning},
	store.OnboardFailed:       {store.OnboardApproved, store.OnboardProvisioning, store.OnboardFailed},
	store.OnboardDone:         {store.OnboardApproved, store.OnboardProvisioning, store.OnboardDone},
}

var onboardStates = []string{store.OnboardSubmitted, store.OnboardRejected, store.OnboardApproved,
	store.OnboardProvisioning, store.OnboardFailed, store.OnboardDone}

func onboardRequest(id, requester string, created time.Time) store.OnboardRequest {
	return store.OnboardRequest{
		ID:           id,
		State:        store.OnboardSubmitted,
		RequesterID:  requester,
		RequesterUPN: requester + "@contoso.com",
		Form:         []byte(`{"givenName":"Ada","surname":"Lovelace","upn":"ada@contoso.com"}`),
		StartDate:    created.Add(7 * 24 * time.Hour).Truncate(24 * time.Hour),
		CreatedAt:    created,
		UpdatedAt:    created,
	}
}

func createOnboard(t *testing.T, s store.Store, r store.OnboardRequest) {
	t.Helper()
	if err := s.CreateOnboard(t.Context(), r); err != nil {
		t.Fatalf("CreateOnboard(%q): %v", r.ID, err)
	}
}

func getOnboard(t *testing.T, s store.Store, id string) store.OnboardRequest {
	t.Helper()
	return must(s.Onboard(t.Context(), id))(t, "Onboard(%q)", id)
}

func updateOnboard(t *testing.T, s store.Store, r store.OnboardRequest) store.OnboardRequest {
	t.Helper()
	return must(s.UpdateOnboard(t.Context(), r))(t, "UpdateOnboard(%q, %s, version %d)", r.ID, r.State, r.Version)
}

// advance updates the stored request id to each of states in turn, and returns it
// as stored last.
func advance(t *testing.T, s store.Store, id string, states ...string) store.OnboardRequest {
	t.Helper()
	r := getOnboard(t, s, id)
	for _, st := range states {
		r.State = st
		r = updateOnboard(t, s, r)
	}
	return r
}

func onboards(t *testing.T, s store.Store, f store.OnboardFilter) []store.OnboardRequest {
	t.Helper()
	return must(s.Onboards(t.Context(), f))(t, "Onboards(%+v)", f)
}

func onboardIDs(rs []store.OnboardRequest) []string {
	return keys(rs, func(r store.OnboardRequest) string { return r.ID })
}

// onboardDiff describes how got differs from want, or returns "" if it does not.
func onboardDiff(got, want store.OnboardRequest) string {
	var d differ
	d.field("ID", got.ID, want.ID)
	d.field("State", got.State, want.State)
	d.field("RequesterID", got.RequesterID, want.RequesterID)
	d.field("RequesterUPN", got.RequesterUPN, want.RequesterUPN)
	d.field("Form", string(got.Form), string(want.Form))
	d.field("DeciderID", got.DeciderID, want.DeciderID)
	d.field("Decision", got.Decision, want.Decision)
	d.field("UserID", got.UserID, want.UserID)
	d.field("Step", got.Step, want.Step)
	d.field("Error", got.Error, want.Error)
	d.field("Version", got.Version, want.Version)
	d.time("StartDate", got.StartDate, want.StartDate)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	d.time("UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	return d.String()
}

func testOnboardRoundTrip(t *testing.T, s store.Store) {
	kolkata := time.FixedZone("IST", 5*3600+1800)
	full := store.OnboardRequest{
		ID:           "onb-01HZX",
		State:        store.OnboardSubmitted,
		RequesterID:  "00000000-0000-0000-0000-00000000000a",
		RequesterUPN: "Zoë.O'Brien@contoso.com",
		// Form is opaque bytes to the store: NUL, invalid UTF-8 and non-ASCII too.
		Form:      []byte("{\"givenName\":\"Zoë \u2603\"}\x00\xff\xfe"),
		DeciderID: "00000000-0000-0000-0000-00000000000d",
		Decision:  "looks right; \"urgent\"\nsecond line %_\\",
		UserID:    "00000000-0000-0000-0000-00000000000e",
		Step:      "user",
		Error:     "graph: 429 too many requests",
		StartDate: time.Date(2024, 6, 3, 0, 0, 0, 0, kolkata),
		Version:   9, // ignored: a new request is at version 1
		CreatedAt: base.In(kolkata),
		UpdatedAt: base.Add(time.Minute).In(kolkata),
	}
	minimal := store.OnboardRequest{ID: "onb-minimal", State: store.OnboardSubmitted, RequesterID: "r", CreatedAt: base, UpdatedAt: base}
	for _, r := range []store.OnboardRequest{full, minimal} {
		createOnboard(t, s, r)
	}
	full.Version, minimal.Version = 1, 1
	for _, want := range []store.OnboardRequest{full, minimal} {
		if d := onboardDiff(getOnboard(t, s, want.ID), want); d != "" {
			t.Errorf("Onboard(%q) after create (got vs want): %s", want.ID, d)
		}
	}

	// An update writes every field but the id and the creation time.
	next := store.OnboardRequest{
		ID:           full.ID,
		State:        store.OnboardApproved,
		RequesterID:  "00000000-0000-0000-0000-00000000000b",
		RequesterUPN: "someone.else@contoso.com",
		Form:         []byte(`{"v":2}`),
		DeciderID:    "00000000-0000-0000-0000-00000000000f",
		Decision:     "approved",
		UserID:       "",
		Step:         "",
		Error:        "",
		StartDate:    time.Time{},
		Version:      1,
		CreatedAt:    base.Add(-time.Hour), // ignored
		UpdatedAt:    base.Add(time.Hour),
	}
	got := updateOnboard(t, s, next)
	want := next
	want.Version, want.CreatedAt = 2, full.CreatedAt
	if d := onboardDiff(got, want); d != "" {
		t.Errorf("UpdateOnboard returned (got vs want): %s", d)
	}
	if d := onboardDiff(getOnboard(t, s, full.ID), want); d != "" {
		t.Errorf("Onboard after update (got vs want): %s", d)
	}
	if d := onboardDiff(getOnboard(t, s, minimal.ID), minimal); d != "" {
		t.Errorf("Onboard(%q) after updating another (got vs want): %s", minimal.ID, d)
	}
}

func testOnboardStampsZeroTimes(t *testing.T, s store.Store) {
	within := func(name string, got, before, after time.Time) {
		t.Helper()
		if got.Before(before.Add(-timeTolerance)) || got.After(after.Add(timeTolerance)) {
			t.Errorf("%s = %v, want between %v and %v", name, got, before, after)
		}
		if got.Location() != time.UTC {
			t.Errorf("%s location = %v, want UTC", name, got.Location())
		}
	}
	r := onboardRequest("onb-1", "m1", time.Time{})
	r.CreatedAt, r.UpdatedAt, r.StartDate = time.Time{}, time.Time{}, time.Time{}
	before := time.Now()
	createOnboard(t, s, r)
	after := time.Now()
	got := getOnboard(t, s, r.ID)
	within("CreatedAt", got.CreatedAt, before, after)
	if !got.UpdatedAt.Equal(got.CreatedAt) {
		t.Errorf("UpdatedAt = %v, want CreatedAt %v", got.UpdatedAt, got.CreatedAt)
	}
	if !got.StartDate.IsZero() {
		t.Errorf("StartDate = %v, want zero (not stamped)", got.StartDate)
	}

	created := got.CreatedAt
	got.State, got.UpdatedAt = store.OnboardApproved, time.Time{}
	before = time.Now()
	got = updateOnboard(t, s, got)
	after = time.Now()
	within("UpdatedAt after update", got.UpdatedAt, before, after)
	if !got.CreatedAt.Equal(created) {
		t.Errorf("CreatedAt after update = %v, want %v", got.CreatedAt, created)
	}

	// A given CreatedAt is kept, and is UpdatedAt too when that is zero.
	r = onboardRequest("onb-2", "m1", base)
	r.UpdatedAt = time.Time{}
	createOnboard(t, s, r)
	got = getOnboard(t, s, r.ID)
	if d := timeDiff("CreatedAt", got.CreatedAt, base) + timeDiff("UpdatedAt", got.UpdatedAt, base); d != "" {
		t.Error(d)
	}
}

func testCreateOnboardTwice(t *testing.T, s store.Store) {
	first := onboardRequest("onb-1", "m1", base)
	createOnboard(t, s, first)
	second := onboardRequest("onb-1", "m2", base.Add(time.Hour))
	second.Form = []byte(`{"redelivered":true}`)
	if err := s.CreateOnboard(t.Context(), second); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second CreateOnboard: err = %v, want ErrConflict", err)
	}
	// Not even once the request has moved on.
	advance(t, s, first.ID, store.OnboardApproved)
	if err := s.CreateOnboard(t.Context(), first); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("CreateOnboard of an approved request's id: err = %v, want ErrConflict", err)
	}
	want := first
	want.State, want.Version = store.OnboardApproved, 2
	got := getOnboard(t, s, first.ID)
	want.UpdatedAt = got.UpdatedAt
	if d := onboardDiff(got, want); d != "" {
		t.Errorf("Onboard after refused creates (got vs want): %s", d)
	}
	// Ids are compared exactly.
	for _, id := range []string{"ONB-1", "onb-1 ", "onb-10"} {
		createOnboard(t, s, onboardRequest(id, "m1", base))
	}

	// A submit redelivered while the first is being handled.
	const rounds = 5
	for r := range rounds {
		req := onboardRequest(fmt.Sprintf("onb-race-%d", r), "m1", base)
		won := race(t, func() (bool, error) {
			err := s.CreateOnboard(t.Context(), req)
			if errors.Is(err, store.ErrConflict) {
				return false, nil
			}
			return err == nil, err
		})
		if won != 1 {
			t.Errorf("round %d: %d of %d concurrent CreateOnboard calls succeeded, want exactly 1", r, won, contenders)
		}
	}
}

func testInvalidOnboard(t *testing.T, s store.Store) {
	valid := onboardRequest("onb-1", "m1", base)
	type invalid struct {
		name   string
		mutate func(r *store.OnboardRequest)
	}
	tests := []invalid{
		{"empty id", func(r *store.OnboardRequest) { r.ID = "" }},
		{"id too long", func(r *store.OnboardRequest) { r.ID = strings.Repeat("x", store.MaxIDLen+1) }},
		{"id not UTF-8", func(r *store.OnboardRequest) { r.ID = "onb-\xff" }},
		{"empty requester", func(r *store.OnboardRequest) { r.RequesterID = "" }},
		{"requester with NUL", func(r *store.OnboardRequest) { r.RequesterID = "m\x00" }},
		{"upn too long", func(r *store.OnboardRequest) { r.RequesterUPN = strings.Repeat("u", store.MaxUPNLen+1) }},
		{"user id not UTF-8", func(r *store.OnboardRequest) { r.UserID = "\xfe" }},
		{"step with a space", func(r *store.OnboardRequest) { r.Step = "add groups" }},
		{"form too large", func(r *store.OnboardRequest) { r.Form = make([]byte, store.MaxFormLen+1) }},
		{"start date after year 9999", func(r *store.OnboardRequest) { r.StartDate = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"created before year 1", func(r *store.OnboardRequest) { r.CreatedAt = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"unknown state", func(r *store.OnboardRequest) { r.State = "pending" }},
		{"state in wrong case", func(r *store.OnboardRequest) { r.State = "Submitted" }},
	}
	// Only a submitted request can be created, and an update must name the
	// version it read.
	createOnly := []invalid{
		{"approved", func(r *store.OnboardRequest) { r.State = store.OnboardApproved }},
		{"done", func(r *store.OnboardRequest) { r.State = store.OnboardDone }},
	}
	updateOnly := []invalid{
		{"version 0", func(r *store.OnboardRequest) { r.Version = 0 }},
		{"negative version", func(r *store.OnboardRequest) { r.Version = -1 }},
	}
	for _, tc := range append(slices.Clip(tests), createOnly...) {
		t.Run("create "+tc.name, func(t *testing.T) {
			r := valid
			tc.mutate(&r)
			if err := s.CreateOnboard(t.Context(), r); !errors.Is(err, store.ErrInvalidOnboard) {
				t.Fatalf("CreateOnboard: err = %v, want ErrInvalidOnboard", err)
			}
			if _, err := s.Onboard(t.Context(), r.ID); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("after a refused create, Onboard(%q): err = %v, want ErrNotFound", r.ID, err)
			}
		})
	}
	if got := onboards(t, s, store.OnboardFilter{}); len(got) != 0 {
		t.Fatalf("after refused creates, Onboards = %v, want none", onboardIDs(got))
	}

	createOnboard(t, s, valid)
	stored := getOnboard(t, s, valid.ID)
	for _, tc := range append(slices.Clip(tests), updateOnly...) {
		t.Run("update "+tc.name, func(t *testing.T) {
			r := stored
			r.State = store.OnboardApproved
			tc.mutate(&r)
			if _, err := s.UpdateOnboard(t.Context(), r); !errors.Is(err, store.ErrInvalidOnboard) {
				t.Fatalf("UpdateOnboard: err = %v, want ErrInvalidOnboard", err)
			}
			if d := onboardDiff(getOnboard(t, s, valid.ID), stored); d != "" {
				t.Errorf("Onboard after a refused update (got vs want): %s", d)
			}
		})
	}
	// Free text is cut, not refused: a long Graph error must not keep a failure
	// from being recorded.
	r := stored
	r.State, r.Decision, r.Error = store.OnboardApproved, strings.Repeat("d", 5000), "bad \xff byte"
	got := updateOnboard(t, s, r)
	if want := strings.Repeat("d", store.MaxReasonLen-1) + store.Ellipsis; got.Decision != want {
		t.Errorf("Decision of %d runes stored as %d runes, want it cut to %d", 5000, len([]rune(got.Decision)), store.MaxReasonLen)
	}
	if want := "bad \uFFFD byte"; got.Error != want {
		t.Errorf("Error = %q, want %q", got.Error, want)
	}
}

func testOnboardNotFound(t *testing.T, s store.Store) {
	createOnboard(t, s, onboardRequest("onb-1", "m1", base))
	for _, id := range []string{"onb-2", "ONB-1", "onb-1 ", ""} {
		if _, err := s.Onboard(t.Context(), id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Onboard(%q): err = %v, want ErrNotFound", id, err)
		}
	}
	r := onboardRequest("onb-2", "m1", base)
	r.Version = 1
	if _, err := s.UpdateOnboard(t.Context(), r); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateOnboard of an unknown id: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Onboard(t.Context(), r.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateOnboard of an unknown id created it: err = %v", err)
	}
}

func testUpdateOnboardCompareAndSet(t *testing.T, s store.Store) {
	createOnboard(t, s, onboardRequest("onb-1", "m1", base))
	v1 := getOnboard(t, s, "onb-1")
	if v1.Version != 1 {
		t.Fatalf("Version after create = %d, want 1", v1.Version)
	}

	approve := v1
	approve.State, approve.DeciderID, approve.Decision, approve.UpdatedAt = store.OnboardApproved, "approver-1", "ok", base.Add(time.Minute)
	v2 := updateOnboard(t, s, approve)
	if v2.Version != 2 || v2.State != store.OnboardApproved {
		t.Fatalf("UpdateOnboard = version %d, %s; want version 2, approved", v2.Version, v2.State)
	}

	// A second approver, or the same one clicking twice, holds version 1.
	for name, r := range map[string]store.OnboardRequest{
		"double click": approve,
		"reject from the same version": func() store.OnboardRequest {
			r := v1
			r.State, r.DeciderID, r.Decision = store.OnboardRejected, "approver-2", "no"
			return r
		}(),
		"version from the future": func() store.OnboardRequest {
			r := v2
			r.Version, r.Step = 3, "user"
			return r
		}(),
		"version far behind": func() store.OnboardRequest {
			r := v2
			r.Version = 1
			r.State = store.OnboardApproved
			return r
		}(),
	} {
		if got, err := s.UpdateOnboard(t.Context(), r); !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: UpdateOnboard = version %d, %v; want ErrConflict", name, got.Version, err)
		}
	}
	if d := onboardDiff(getOnboard(t, s, "onb-1"), v2); d != "" {
		t.Errorf("Onboard after refused updates (got vs want): %s", d)
	}

	// From the version just returned, progress goes on; each update counts.
	r := v2
	for i, step := range []string{"", "user", "manager"} {
		r.State, r.Step = store.OnboardProvisioning, step
		r = updateOnboard(t, s, r)
		if want := 3 + i; r.Version != want {
			t.Errorf("update %d: Version = %d, want %d", i, r.Version, want)
		}
	}
	if d := onboardDiff(getOnboard(t, s, "onb-1"), r); d != "" {
		t.Errorf("Onboard after UpdateOnboard (got) vs what UpdateOnboard returned (want): %s", d)
	}
}

func testConcurrentUpdateOnboard(t *testing.T, s store.Store) {
	const rounds = 10
	for round := range rounds {
		id := fmt.Sprintf("onb-%d", round)
		createOnboard(t, s, onboardRequest(id, "m1", base))
		read := getOnboard(t, s, id)
		// Half approve and half reject, all from the version they read.
		winners := contend(t, func(w int) (store.OnboardRequest, error) {
			r := read
			r.State, r.DeciderID = store.OnboardApproved, fmt.Sprintf("approver-%d", w)
			if w%2 == 1 {
				r.State = store.OnboardRejected
			}
			return s.UpdateOnboard(t.Context(), r)
		})
		if len(winners) != 1 {
			t.Errorf("round %d: %d of %d concurrent updates from one version succeeded, want exactly 1", round, len(winners), contenders)
			continue
		}
		// The stored request is the winner's, whole.
		if d := onboardDiff(getOnboard(t, s, id), winners[0]); d != "" {
			t.Errorf("round %d: Onboard (got) vs the winning update (want): %s", round, d)
		}
	}
}

func testOnboardTransitions(t *testing.T, s store.Store) {
	for _, from := range onboardStates {
		for _, to := range onboardStates {
			t.Run(from+"→"+to, func(t *testing.T) {
				id := "onb-" + from + "-" + to
				createOnboard(t, s, onboardRequest(id, "m1", base))
				before := advance(t, s, id, pathTo[from]...)
				r := before
				r.State, r.Step = to, "next"
				got, err := s.UpdateOnboard(t.Context(), r)
				if slices.Contains(allowedTransitions[from], to) {
					if err != nil {
						t.Fatalf("UpdateOnboard(%s → %s): %v, want it allowed", from, to, err)
					}
					if got.State != to || got.Version != before.Version+1 || got.Step != "next" {
						t.Errorf("UpdateOnboard(%s → %s) = %s, version %d, step %q; want %s, version %d, step next",
							from, to, got.State, got.Version, got.Step, to, before.Version+1)
					}
					return
				}
				if !errors.Is(err, store.ErrConflict) {
					t.Fatalf("UpdateOnboard(%s → %s): err = %v, want ErrConflict", from, to, err)
				}
				if d := onboardDiff(getOnboard(t, s, id), before); d != "" {
					t.Errorf("Onboard after a refused transition (got vs want): %s", d)
				}
			})
		}
	}
}

func testOnboardFilters(t *testing.T, s store.Store) {
	minus5 := time.FixedZone("-05", -5*3600)
	h := func(n float64) time.Time { return micro.Add(time.Duration(n * float64(time.Hour))) }
	for _, c := range []struct {
		id, requester string
		created       time.Time
		path          []string
	}{
		{"r1", "m1", h(0), nil},
		{"r2", "m1", h(1), pathTo[store.OnboardApproved]},
		{"r3", "m2", h(2), pathTo[store.OnboardRejected]},
		{"r4", "m1", h(3), pathTo[store.OnboardFailed]},
		// Created at the same time as r4: ties go by id, highest first.
		{"r5", "m2", h(3), nil},
		// A later instant whose wall clock reads earlier.
		{"r6", "m1", h(2.5).In(minus5), nil},
		{"r7", "m3", h(4), pathTo[store.OnboardDone]},
	} {
		createOnboard(t, s, onboardRequest(c.id, c.requester, c.created))
		advance(t, s, c.id, c.path...)
	}
	tests := []struct {
		name string
		f    store.OnboardFilter
		want []string // newest first
	}{
		{"none", store.OnboardFilter{}, []string{"r7", "r5", "r4", "r6", "r3", "r2", "r1"}},
		{"requester", store.OnboardFilter{RequesterID: "m1"}, []string{"r4", "r6", "r2", "r1"}},
		{"requester is exact", store.OnboardFilter{RequesterID: "M1"}, nil},
		{"unknown requester", store.OnboardFilter{RequesterID: "m9"}, nil},
		{"one state", store.OnboardFilter{States: []string{store.OnboardSubmitted}}, []string{"r5", "r6", "r1"}},
		{"states", store.OnboardFilter{States: []string{store.OnboardFailed, store.OnboardApproved}}, []string{"r4", "r2"}},
		{"repeated state", store.OnboardFilter{States: []string{store.OnboardDone, store.OnboardDone}}, []string{"r7"}},
		{"state nobody is in", store.OnboardFilter{States: []string{store.OnboardProvisioning}}, nil},
		{"requester and states", store.OnboardFilter{RequesterID: "m1", States: []string{store.OnboardSubmitted, store.OnboardFailed}},
			[]string{"r4", "r6", "r1"}},
		{"empty states", store.OnboardFilter{RequesterID: "m2", States: []string{}}, []string{"r5", "r3"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := onboards(t, s, tc.f); !slices.Equal(onboardIDs(got), tc.want) {
				t.Errorf("Onboards ids = %v, want %v", onboardIDs(got), tc.want)
			}
			// Limit keeps the newest.
			f := tc.f
			f.Limit = 2
			if got, want := onboards(t, s, f), tc.want[:min(2, len(tc.want))]; !slices.Equal(onboardIDs(got), want) {
				t.Errorf("Onboards with Limit 2: ids = %v, want %v", onboardIDs(got), want)
			}
		})
	}
	// The requests come back whole.
	got := onboards(t, s, store.OnboardFilter{States: []string{store.OnboardDone}})
	if len(got) != 1 {
		t.Fatalf("Onboards(done) = %v, want [r7]", onboardIDs(got))
	}
	if d := onboardDiff(got[0], getOnboard(t, s, "r7")); d != "" {
		t.Error(d)
	}

	for name, f := range map[string]store.OnboardFilter{
		"unknown state":       {States: []string{"pending"}},
		"state in wrong case": {States: []string{"Submitted"}},
		"empty state":         {States: []string{store.OnboardDone, ""}},
	} {
		if rs, err := s.Onboards(t.Context(), f); !errors.Is(err, store.ErrInvalidOnboardFilter) {
			t.Errorf("Onboards with %s = %d requests, %v; want ErrInvalidOnboardFilter", name, len(rs), err)
		}
	}
}

func testOnboardsLimit(t *testing.T, s store.Store) {
	const n = store.DefaultLimit + 10
	for i := range n {
		createOnboard(t, s, onboardRequest(fmt.Sprintf("r%03d", i), "m1", base.Add(time.Duration(i)*time.Second)))
	}
	for _, tc := range []struct{ limit, want int }{{0, store.DefaultLimit}, {-1, store.DefaultLimit}, {1, 1}, {n + 1, n}, {store.MaxLimit + 1, n}} {
		got := onboards(t, s, store.OnboardFilter{Limit: tc.limit})
		if len(got) != tc.want {
			t.Errorf("Onboards(Limit %d) returned %d, want %d", tc.limit, len(got), tc.want)
			continue
		}
		if got[0].ID != fmt.Sprintf("r%03d", n-1) || got[len(got)-1].ID != fmt.Sprintf("r%03d", n-tc.want) {
			t.Errorf("Onboards(Limit %d) = %s…%s, want the newest first", tc.limit, got[0].ID, got[len(got)-1].ID)
		}
	}
}

func job(id string, due time.Time) store.Job {
	return store.Job{ID: id, Kind: "onboard.startday", Payload: []byte(`{"request":"` + id + `"}`), DueAt: due}
}

func scheduleJob(t *testing.T, s store.Store, j store.Job) bool {
	t.Helper()
	return must(s.ScheduleJob(t.Context(), j))(t, "ScheduleJob(%q)", j.ID)
}

func claimJobs(t *testing.T, s store.Store, now time.Time, lease time.Duration, limit int) []store.Job {
	t.Helper()
	return must(s.ClaimJobs(t.Context(), now, lease, limit))(t, "ClaimJobs(%v, %v, %d)", now, lease, limit)
}

func completeJob(t *testing.T, s store.Store, id string, at time.Time) {
	t.Helper()
	if err := s.CompleteJob(t.Context(), id, at); err != nil {
		t.Fatalf("CompleteJob(%q): %v", id, err)
	}
}

func rescheduleJob(t *testing.T, s store.Store, id string, due time.Time) {
	t.Helper()
	if err := s.RescheduleJob(t.Context(), id, due); err != nil {
		t.Fatalf("RescheduleJob(%q): %v", id, err)
	}
}

func jobIDs(js []store.Job) []string {
	return keys(js, func(j store.Job) string { return j.ID })
}

func jobDiff(got, want store.Job) string {
	var d differ
	d.field("ID", got.ID, want.ID)
	d.field("Kind", got.Kind, want.Kind)
	d.field("Payload", string(got.Payload), string(want.Payload))
	d.field("Attempts", got.Attempts, want.Attempts)
	d.time("DueAt", got.DueAt, want.DueAt)
	d.time("DoneAt", got.DoneAt, want.DoneAt)
	return d.String()
}

// lease is the lease the job tests claim for, unless they say otherwise.
const lease = time.Minute

func testJobRoundTrip(t *testing.T, s store.Store) {
	kolkata := time.FixedZone("IST", 5*3600+1800)
	full := store.Job{
		ID:   "onboard.startday:onb-01HZX/é",
		Kind: "onboard.startday",
		// Opaque bytes: NUL and invalid UTF-8 too.
		Payload: []byte("{\"x\":\"é\u2603\"}\x00\xff"),
		DueAt:   base.In(kolkata),
		// Ignored: a new job has neither.
		Attempts: 5,
		DoneAt:   base,
	}
	minimal := store.Job{ID: "j", Kind: "k", DueAt: base.Add(time.Second)}
	for _, j := range []store.Job{full, minimal} {
		if !scheduleJob(t, s, j) {
			t.Fatalf("ScheduleJob(%q) = false, want true", j.ID)
		}
	}
	got := claimJobs(t, s, base.Add(time.Second), lease, 0)
	if len(got) != 2 {
		t.Fatalf("ClaimJobs = %v, want both jobs", jobIDs(got))
	}
	full.Attempts, full.DoneAt = 1, time.Time{}
	minimal.Attempts = 1
	for i, want := range []store.Job{full, minimal} {
		if d := jobDiff(got[i], want); d != "" {
			t.Errorf("ClaimJobs[%d] (got vs want): %s", i, d)
		}
	}
}

func testScheduleJobTwice(t *testing.T, s store.Store) {
	first := job("j1", base)
	if !scheduleJob(t, s, first) {
		t.Fatal("first ScheduleJob = false, want true")
	}
	second := store.Job{ID: "j1", Kind: "other.kind", Payload: []byte("2"), DueAt: base.Add(-time.Hour)}
	if scheduleJob(t, s, second) {
		t.Error("second ScheduleJob = true, want false")
	}
	got := claimJobs(t, s, base, lease, 0)
	first.Attempts = 1
	if len(got) != 1 || jobDiff(got[0], first) != "" {
		t.Fatalf("ClaimJobs = %+v, want only the first job, unchanged", got)
	}
	// Nor once it is claimed, or done: the job ran, and must not run again.
	if scheduleJob(t, s, first) {
		t.Error("ScheduleJob of a claimed job = true, want false")
	}
	completeJob(t, s, "j1", base)
	if scheduleJob(t, s, job("j1", base)) {
		t.Error("ScheduleJob of a done job = true, want false")
	}
	if got := claimJobs(t, s, base.Add(time.Hour), lease, 0); len(got) != 0 {
		t.Errorf("ClaimJobs after scheduling a done job's id again = %v, want none", jobIDs(got))
	}
	// Ids are compared exactly.
	for _, id := range []string{"J1", "j1 ", "j10"} {
		if !scheduleJob(t, s, job(id, base)) {
			t.Errorf("ScheduleJob(%q) = false, want true", id)
		}
	}

	const rounds = 5
	for r := range rounds {
		j := job(fmt.Sprintf("race-%d", r), base)
		if won := race(t, func() (bool, error) { return s.ScheduleJob(t.Context(), j) }); won != 1 {
			t.Errorf("round %d: %d of %d concurrent ScheduleJob calls reported true, want exactly 1", r, won, contenders)
		}
	}
}

func testInvalidJob(t *testing.T, s store.Store) {
	valid := job("j1", base)
	tests := []struct {
		name   string
		mutate func(j *store.Job)
	}{
		{"empty id", func(j *store.Job) { j.ID = "" }},
		{"id too long", func(j *store.Job) { j.ID = strings.Repeat("j", store.MaxJobIDLen+1) }},
		{"id with NUL", func(j *store.Job) { j.ID = "j\x00" }},
		{"id not UTF-8", func(j *store.Job) { j.ID = "j\xff" }},
		{"empty kind", func(j *store.Job) { j.Kind = "" }},
		{"kind with a space", func(j *store.Job) { j.Kind = "start day" }},
		{"kind too long", func(j *store.Job) { j.Kind = strings.Repeat("k", store.MaxActionLen+1) }},
		{"payload too large", func(j *store.Job) { j.Payload = make([]byte, store.MaxPayloadLen+1) }},
		{"due after year 9999", func(j *store.Job) { j.DueAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := valid
			tc.mutate(&j)
			if ok, err := s.ScheduleJob(t.Context(), j); ok || !errors.Is(err, store.ErrInvalidJob) {
				t.Fatalf("ScheduleJob = %v, %v; want false, ErrInvalidJob", ok, err)
			}
		})
	}
	if got := claimJobs(t, s, farFuture, lease, 0); len(got) != 0 {
		t.Errorf("after refused schedules, ClaimJobs = %v, want none", jobIDs(got))
	}

	scheduleJob(t, s, valid)
	year10000 := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		now   time.Time
		lease time.Duration
	}{
		"zero lease":                 {base, 0},
		"negative lease":             {base, -time.Minute},
		"now after year 9999":        {year10000, lease},
		"lease ends after year 9999": {time.Date(9999, 12, 31, 23, 59, 0, 0, time.UTC), time.Hour},
	} {
		if js, err := s.ClaimJobs(t.Context(), tc.now, tc.lease, 0); !errors.Is(err, store.ErrInvalidJob) {
			t.Errorf("ClaimJobs with %s = %v, %v; want ErrInvalidJob", name, jobIDs(js), err)
		}
	}
	if err := s.CompleteJob(t.Context(), valid.ID, year10000); !errors.Is(err, store.ErrInvalidJob) {
		t.Errorf("CompleteJob(year 10000): err = %v, want ErrInvalidJob", err)
	}
	if err := s.RescheduleJob(t.Context(), valid.ID, year10000); !errors.Is(err, store.ErrInvalidJob) {
		t.Errorf("RescheduleJob(year 10000): err = %v, want ErrInvalidJob", err)
	}
	// Refused calls changed nothing: the job is still there, due, unclaimed.
	got := claimJobs(t, s, base, lease, 0)
	if len(got) != 1 || got[0].Attempts != 1 || timeDiff("DueAt", got[0].DueAt, valid.DueAt) != "" {
		t.Errorf("after refused calls, ClaimJobs = %+v, want j1 at its first attempt", got)
	}
}

func testClaimJobsDue(t *testing.T, s store.Store) {
	now := micro
	for _, j := range []store.Job{
		job("late", now.Add(time.Hour)),
		job("now", now),
		job("tie-b", now.Add(-30*time.Minute)),
		job("after", now.Add(time.Microsecond)),
		job("early", now.Add(-time.Hour)),
		job("tie-a", now.Add(-30*time.Minute)),
		job("done", now.Add(-2*time.Hour)),
	} {
		scheduleJob(t, s, j)
	}
	completeJob(t, s, "done", now.Add(-2*time.Hour))
	minus5 := time.FixedZone("-05", -5*3600)
	// Each claim leases what it returns for longer than the test spans, so each
	// step sees only what earlier steps left.
	const long = 24 * time.Hour
	for _, step := range []struct {
		name  string
		now   time.Time
		limit int
		want  []string
	}{
		{"nothing due yet", now.Add(-3 * time.Hour), 0, nil},
		{"limit keeps the oldest", now.Add(-time.Microsecond), 2, []string{"early", "tie-a"}},
		{"the rest due before now", now.Add(-time.Microsecond), 0, []string{"tie-b"}},
		// Exactly now is due, whatever the zone; a microsecond later is not.
		{"boundary", now.In(minus5), 0, []string{"now"}},
		{"later", now.Add(time.Hour), 0, []string{"after", "late"}},
		{"all leased", now.Add(2 * time.Hour), 0, nil},
	} {
		got := claimJobs(t, s, step.now, long, step.limit)
		if !slices.Equal(jobIDs(got), step.want) {
			t.Errorf("%s: ClaimJobs(%v, limit %d) = %v, want %v", step.name, step.now, step.limit, jobIDs(got), step.want)
		}
		for _, j := range got {
			if j.Attempts != 1 || !j.DoneAt.IsZero() {
				t.Errorf("%s: claimed %s with Attempts %d, DoneAt %v; want 1, zero", step.name, j.ID, j.Attempts, j.DoneAt)
			}
		}
	}
}

func testClaimJobsZeroNow(t *testing.T, s store.Store) {
	now := time.Now()
	scheduleJob(t, s, job("past", now.Add(-time.Minute)))
	scheduleJob(t, s, job("future", now.Add(time.Hour)))
	scheduleJob(t, s, store.Job{ID: "unset", Kind: "k"}) // due now
	if got := claimJobs(t, s, time.Time{}, lease, 0); !slices.Equal(jobIDs(got), []string{"past", "unset"}) {
		t.Errorf("ClaimJobs(zero) = %v, want [past unset]: a zero now or DueAt means the store's clock", jobIDs(got))
	}
}

func testClaimJobsLimit(t *testing.T, s store.Store) {
	const n = store.DefaultLimit + 10
	for i := range n {
		scheduleJob(t, s, job(fmt.Sprintf("j%03d", i), base.Add(time.Duration(i)*time.Second)))
	}
	at := farFuture.Add(-24 * time.Hour)
	for _, tc := range []struct{ limit, want int }{{0, store.DefaultLimit}, {-5, store.DefaultLimit}, {n + 1, n}, {store.MaxLimit + 1, n}, {1, 1}} {
		at = at.Add(2 * lease) // every earlier lease has ended
		got := claimJobs(t, s, at, lease, tc.limit)
		if len(got) != tc.want {
			t.Errorf("ClaimJobs(limit %d) returned %d, want %d", tc.limit, len(got), tc.want)
			continue
		}
		if got[0].ID != "j000" || got[len(got)-1].ID != fmt.Sprintf("j%03d", tc.want-1) {
			t.Errorf("ClaimJobs(limit %d) = %s…%s, want the oldest first", tc.limit, got[0].ID, got[len(got)-1].ID)
		}
	}
}

func testClaimJobsLease(t *testing.T, s store.Store) {
	now := micro
	scheduleJob(t, s, job("j", now))
	scheduleJob(t, s, job("other", now.Add(time.Hour)))
	for _, step := range []struct {
		name     string
		at       time.Time
		want     []string
		attempts int
	}{
		{"first claim", now, []string{"j"}, 1},
		{"while leased", now.Add(lease / 2), nil, 0},
		{"just before the lease ends", now.Add(lease - time.Microsecond), nil, 0},
		// A lease ending at now is over.
		{"as the lease ends", now.Add(lease), []string{"j"}, 2},
		{"leased again", now.Add(lease + time.Second), nil, 0},
		{"third claim", now.Add(2*lease + time.Second), []string{"j"}, 3},
	} {
		got := claimJobs(t, s, step.at, lease, 0)
		if !slices.Equal(jobIDs(got), step.want) {
			t.Fatalf("%s: ClaimJobs = %v, want %v", step.name, jobIDs(got), step.want)
		}
		if len(got) == 1 && got[0].Attempts != step.attempts {
			t.Errorf("%s: Attempts = %d, want %d", step.name, got[0].Attempts, step.attempts)
		}
	}
}

func testConcurrentClaimJobs(t *testing.T, s store.Store) {
	const (
		n     = 200
		batch = 7
	)
	for i := range n {
		scheduleJob(t, s, job(fmt.Sprintf("j%03d", i), base.Add(time.Duration(i)*time.Millisecond)))
	}
	// Twice: all free, then all with their leases ended.
	for round, at := range []time.Time{base.Add(time.Second), base.Add(time.Second + lease)} {
		claimed := ClaimAll(t, s, at, batch)
		if len(claimed) != n {
			t.Errorf("round %d: %d jobs claimed in all, want %d", round, len(claimed), n)
		}
		for id, js := range claimed {
			if len(js) != 1 {
				t.Errorf("round %d: job %s claimed %d times while leased, want once", round, id, len(js))
			} else if want := round + 1; js[0].Attempts != want {
				t.Errorf("round %d: job %s at attempt %d, want %d", round, id, js[0].Attempts, want)
			}
		}
	}
}

// ClaimAll runs contenders goroutines that each call ClaimJobs(at, a minute,
// batch) on s (or, in turn, on s and more) until it returns nothing, and returns
// every claimed job by id: a backend that never hands out a job twice while
// leased has one claim per id. A goroutine also stops at the first job claimed
// twice, so that a backend that ignores leases fails rather than loops. Backend
// tests use it to race several stores on one database.
func ClaimAll(t *testing.T, s store.Store, at time.Time, batch int, more ...store.Store) map[string][]store.Job {
	t.Helper()
	var (
		wg      sync.WaitGroup
		start   = make(chan struct{})
		mu      sync.Mutex
		claimed = map[string][]store.Job{}
	)
	stores := append([]store.Store{s}, more...)
	for w := range contenders {
		st := stores[w%len(stores)]
		wg.Go(func() {
			<-start
			for {
				js, err := st.ClaimJobs(t.Context(), at, lease, batch)
				if err != nil {
					t.Errorf("ClaimJobs: %v", err)
					return
				}
				if len(js) == 0 {
					return
				}
				mu.Lock()
				twice := false
				for _, j := range js {
					claimed[j.ID] = append(claimed[j.ID], j)
					twice = twice || len(claimed[j.ID]) > 1
				}
				mu.Unlock()
				if twice {
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	return claimed
}

func testCompleteJob(t *testing.T, s store.Store) {
	scheduleJob(t, s, job("claimed", base))
	scheduleJob(t, s, job("unclaimed", base))
	scheduleJob(t, s, job("kept", base))
	claimJobs(t, s, base, lease, 1) // claimed
	completeJob(t, s, "claimed", base.Add(time.Second))
	completeJob(t, s, "claimed", base.Add(time.Hour)) // idempotent
	completeJob(t, s, "unclaimed", time.Time{})       // a zero time means now
	completeJob(t, s, "unclaimed", time.Time{})
	// Neither comes back, however late; the other job does.
	if got := claimJobs(t, s, farFuture, lease, 0); !slices.Equal(jobIDs(got), []string{"kept"}) {
		t.Errorf("ClaimJobs after completing two jobs = %v, want [kept]", jobIDs(got))
	}
	for _, id := range []string{"nope", "", "CLAIMED", "claimed "} {
		if err := s.CompleteJob(t.Context(), id, base); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("CompleteJob(%q): err = %v, want ErrNotFound", id, err)
		}
	}
	// Unknown ids did not become jobs.
	if got := claimJobs(t, s, farFuture.Add(time.Hour), lease, 0); !slices.Equal(jobIDs(got), []string{"kept"}) {
		t.Errorf("ClaimJobs = %v, want [kept]", jobIDs(got))
	}
}

func testRescheduleJob(t *testing.T, s store.Store) {
	now := micro
	scheduleJob(t, s, job("j", now))
	if got := claimJobs(t, s, now, time.Hour, 0); len(got) != 1 {
		t.Fatalf("ClaimJobs = %v, want [j]", jobIDs(got))
	}
	// A failed run backs off ten minutes: that frees the lease (an hour) too.
	rescheduleJob(t, s, "j", now.Add(10*time.Minute))
	if got := claimJobs(t, s, now.Add(10*time.Minute-time.Microsecond), time.Hour, 0); len(got) != 0 {
		t.Errorf("ClaimJobs before the new due time = %v, want none", jobIDs(got))
	}
	got := claimJobs(t, s, now.Add(10*time.Minute), time.Hour, 0)
	want := job("j", now.Add(10*time.Minute))
	want.Attempts = 2 // rescheduling keeps the count
	if len(got) != 1 || jobDiff(got[0], want) != "" {
		t.Fatalf("ClaimJobs at the new due time = %+v, want %+v", got, want)
	}
	// Rescheduled into the past, it is due at once, lease or not.
	rescheduleJob(t, s, "j", now)
	if got := claimJobs(t, s, now.Add(11*time.Minute), time.Hour, 0); len(got) != 1 || got[0].Attempts != 3 {
		t.Errorf("ClaimJobs after rescheduling into the past = %+v, want j at attempt 3", got)
	}
	// A zero time means now.
	rescheduleJob(t, s, "j", time.Time{})
	if got := claimJobs(t, s, time.Time{}, time.Hour, 0); len(got) != 1 {
		t.Errorf("ClaimJobs(zero) after RescheduleJob(zero) = %v, want [j]", jobIDs(got))
	}

	// Done jobs stay done: the lease ran out, another claimer ran the job, and
	// the first one's back-off comes too late.
	completeJob(t, s, "j", now.Add(12*time.Minute))
	if err := s.RescheduleJob(t.Context(), "j", now); !errors.Is(err, store.ErrConflict) {
		t.Errorf("RescheduleJob of a done job: err = %v, want ErrConflict", err)
	}
	if got := claimJobs(t, s, farFuture, time.Hour, 0); len(got) != 0 {
		t.Errorf("ClaimJobs after rescheduling a done job = %v, want none", jobIDs(got))
	}
	for _, id := range []string{"nope", "", "J"} {
		if err := s.RescheduleJob(t.Context(), id, now); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RescheduleJob(%q): err = %v, want ErrNotFound", id, err)
		}
	}
}
