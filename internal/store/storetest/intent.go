package storetest

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tapbot/tapbot/internal/store"
)

// intentTests are the suite's checks of TAP intents: the per-target claim, the
// atomic rate limit, the state machine and the reconciliation query.
var intentTests = []test{
	{"IntentRoundTrip", testIntentRoundTrip},
	{"IntentOnePerTarget", testIntentOnePerTarget},
	{"IntentRateLimit", testIntentRateLimit},
	{"IntentTargetChanged", testIntentTargetChanged},
	{"IntentStateMachine", testIntentStateMachine},
	{"IntentCompleteIsAtomic", testIntentCompleteIsAtomic},
	{"AbandonedTAPs", testAbandonedTAPs},
	{"TakeOverTAP", testTakeOverTAP},
	{"ConcurrentTakeOverTAP", testConcurrentTakeOverTAP},
	{"InvalidIntent", testInvalidIntent},
	{"ConcurrentBeginOneTarget", testConcurrentBeginOneTarget},
	{"ConcurrentBeginRateLimit", testConcurrentBeginRateLimit},
}

func intent(id, target, requester string, started time.Time) store.TAPIntent {
	return store.TAPIntent{ID: id, TargetID: target, TargetUPN: target + "@contoso.com", RequesterID: requester,
		StartedAt: started, LeaseUntil: started.Add(2 * time.Minute)}
}

func begin(t *testing.T, s store.Store, i store.TAPIntent, lim store.TAPLimits) {
	t.Helper()
	if err := s.BeginTAP(t.Context(), i, lim); err != nil {
		t.Fatalf("BeginTAP(%s for %s): %v", i.ID, i.TargetID, err)
	}
}

func getIntent(t *testing.T, s store.Store, id string) store.TAPIntent {
	t.Helper()
	return must(s.TAPIntent(t.Context(), id))(t, "TAPIntent(%s)", id)
}

func testIntentRoundTrip(t *testing.T, s store.Store) {
	want := intent("i1", "T1", "R1", micro)
	begin(t, s, want, store.TAPLimits{})
	got := getIntent(t, s, "i1")
	if got.TargetID != "T1" || got.TargetUPN != "T1@contoso.com" || got.RequesterID != "R1" || got.State != store.IntentPending || got.MethodID != "" {
		t.Errorf("TAPIntent = %+v, want pending %+v", got, want)
	}
	if !got.StartedAt.Equal(want.StartedAt) || !got.LeaseUntil.Equal(want.LeaseUntil) {
		t.Errorf("times: started %v lease %v, want %v and %v", got.StartedAt, got.LeaseUntil, want.StartedAt, want.LeaseUntil)
	}
	if _, err := s.TAPIntent(t.Context(), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("TAPIntent(unknown): err = %v, want ErrNotFound", err)
	}
	if err := s.BeginTAP(t.Context(), intent("i1", "T2", "R1", micro), store.TAPLimits{}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("BeginTAP with an id in use: err = %v, want ErrConflict", err)
	}
}

func testIntentOnePerTarget(t *testing.T, s store.Store) {
	begin(t, s, intent("a", "T1", "R1", base), store.TAPLimits{})
	if err := s.BeginTAP(t.Context(), intent("b", "T1", "R2", base), store.TAPLimits{}); !errors.Is(err, store.ErrTargetBusy) {
		t.Fatalf("second intent for a pending target: err = %v, want ErrTargetBusy", err)
	}
	begin(t, s, intent("c", "T2", "R2", base), store.TAPLimits{}) // another target is free
	if err := s.TAPCreated(t.Context(), "a", "m1", base); err != nil {
		t.Fatal(err)
	}
	if err := s.BeginTAP(t.Context(), intent("d", "T1", "R2", base), store.TAPLimits{}); !errors.Is(err, store.ErrTargetBusy) {
		t.Fatalf("second intent for a created target: err = %v, want ErrTargetBusy", err)
	}
	if err := s.EndTAP(t.Context(), "a", store.IntentUndone, base); err != nil {
		t.Fatal(err)
	}
	begin(t, s, intent("e", "T1", "R2", base), store.TAPLimits{}) // closed intents free the target
	if _, err := s.TAPIntent(t.Context(), "b"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused BeginTAP wrote its intent: err = %v", err)
	}
}

func testIntentRateLimit(t *testing.T, s store.Store) {
	lim := store.TAPLimits{MaxPerRequester: 2, Since: base.Add(-time.Hour)}
	begin(t, s, intent("old", "T0", "R1", base.Add(-2*time.Hour)), store.TAPLimits{}) // before Since: not counted
	begin(t, s, intent("a", "T1", "R1", base), lim)
	begin(t, s, intent("f", "T2", "R1", base), lim)
	if err := s.EndTAP(t.Context(), "f", store.IntentFailed, base); err != nil { // Graph refused: not counted
		t.Fatal(err)
	}
	begin(t, s, intent("b", "T3", "R1", base), lim)
	if err := s.BeginTAP(t.Context(), intent("c", "T4", "R1", base), lim); !errors.Is(err, store.ErrRateLimited) {
		t.Fatalf("third counted intent in the window: err = %v, want ErrRateLimited", err)
	}
	begin(t, s, intent("d", "T4", "R2", base), lim) // another requester has their own count
	if err := s.EndTAP(t.Context(), "a", store.IntentUndone, base); err != nil {
		t.Fatal(err)
	}
	// An undone pass was created all the same: it still counts.
	if err := s.BeginTAP(t.Context(), intent("e", "T5", "R1", base), lim); !errors.Is(err, store.ErrRateLimited) {
		t.Fatalf("after an undone intent: err = %v, want ErrRateLimited", err)
	}
}

func testIntentTargetChanged(t *testing.T, s store.Store) {
	begin(t, s, intent("a", "T1", "R1", base), store.TAPLimits{})
	created := base.Add(time.Second)
	if err := s.TAPCreated(t.Context(), "a", "m1", created); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteTAP(t.Context(), "a", delivery("a", "T1", base.Add(time.Hour)), created); err != nil {
		t.Fatal(err)
	}
	// Someone who looked at T1's passes before the pass was created has a stale view.
	stale := store.TAPLimits{ChangedSince: created.Add(-time.Millisecond)}
	if err := s.BeginTAP(t.Context(), intent("b", "T1", "R2", base), stale); !errors.Is(err, store.ErrTargetChanged) {
		t.Fatalf("view older than the last pass: err = %v, want ErrTargetChanged", err)
	}
	begin(t, s, intent("c", "T1", "R2", base), store.TAPLimits{ChangedSince: created.Add(time.Millisecond)})
	if err := s.EndTAP(t.Context(), "c", store.IntentUndone, base); err != nil {
		t.Fatal(err)
	}
	begin(t, s, intent("d", "T2", "R2", base), stale) // another target is unaffected
}

func testIntentStateMachine(t *testing.T, s store.Store) {
	begin(t, s, intent("a", "T1", "R1", base), store.TAPLimits{})
	if err := s.CompleteTAP(t.Context(), "a", delivery("a", "T1", base.Add(time.Hour)), base); !errors.Is(err, store.ErrIntentState) {
		t.Errorf("CompleteTAP on a pending intent: err = %v, want ErrIntentState", err)
	}
	if err := s.TAPCreated(t.Context(), "a", "m1", base); err != nil {
		t.Fatalf("TAPCreated: %v", err)
	}
	if err := s.TAPCreated(t.Context(), "a", "m2", base); !errors.Is(err, store.ErrIntentState) {
		t.Errorf("TAPCreated twice: err = %v, want ErrIntentState", err)
	}
	if got := getIntent(t, s, "a"); got.State != store.IntentCreated || got.MethodID != "m1" {
		t.Errorf("after TAPCreated: state %s method %q, want created m1", got.State, got.MethodID)
	}
	if err := s.CompleteTAP(t.Context(), "a", delivery("a", "T1", base.Add(time.Hour)), base); err != nil {
		t.Fatalf("CompleteTAP: %v", err)
	}
	if got := getIntent(t, s, "a"); got.State != store.IntentDone {
		t.Errorf("after CompleteTAP: state %s, want done", got.State)
	}
	for _, st := range []store.IntentState{store.IntentFailed, store.IntentUndone} {
		if err := s.EndTAP(t.Context(), "a", st, base); !errors.Is(err, store.ErrIntentState) {
			t.Errorf("EndTAP(%s) on a done intent: err = %v, want ErrIntentState", st, err)
		}
	}
	for _, st := range []store.IntentState{store.IntentPending, store.IntentCreated, store.IntentDone, "bogus"} {
		if err := s.EndTAP(t.Context(), "a", st, base); !errors.Is(err, store.ErrInvalidIntent) {
			t.Errorf("EndTAP(%s): err = %v, want ErrInvalidIntent", st, err)
		}
	}
	if err := s.TAPCreated(t.Context(), "nope", "m", base); !errors.Is(err, store.ErrIntentState) {
		t.Errorf("TAPCreated on an unknown intent: err = %v, want ErrIntentState", err)
	}
	if err := s.TAPCreated(t.Context(), "a", "", base); !errors.Is(err, store.ErrInvalidIntent) {
		t.Errorf("TAPCreated without a method id: err = %v, want ErrInvalidIntent", err)
	}
}

// testIntentCompleteIsAtomic: a completion that cannot close the intent (it was
// reconciled meanwhile) saves no delivery either.
func testIntentCompleteIsAtomic(t *testing.T, s store.Store) {
	begin(t, s, intent("a", "T1", "R1", base), store.TAPLimits{})
	if err := s.TAPCreated(t.Context(), "a", "m1", base); err != nil {
		t.Fatal(err)
	}
	if err := s.EndTAP(t.Context(), "a", store.IntentUndone, base); err != nil {
		t.Fatal(err)
	}
	if err := s.CompleteTAP(t.Context(), "a", delivery("a", "T1", base.Add(time.Hour)), base); !errors.Is(err, store.ErrIntentState) {
		t.Fatalf("CompleteTAP after reconciliation: err = %v, want ErrIntentState", err)
	}
	if ds := openDeliveries(t, s, "T1"); len(ds) != 0 {
		t.Errorf("OpenDeliveries after the refused completion = %v, want none (it saved its delivery)", deliveryIDs(ds))
	}
}

func testAbandonedTAPs(t *testing.T, s store.Store) {
	for i, target := range []string{"T1", "T2", "T3", "T4"} {
		in := intent(fmt.Sprintf("i%d", i), target, "R1", base)
		in.LeaseUntil = base.Add(time.Duration(4-i) * time.Minute) // i3 ends first
		begin(t, s, in, store.TAPLimits{})
	}
	if err := s.TAPCreated(t.Context(), "i2", "m2", base); err != nil {
		t.Fatal(err)
	}
	if err := s.EndTAP(t.Context(), "i3", store.IntentFailed, base); err != nil {
		t.Fatal(err)
	}
	ids := func(is []store.TAPIntent) []string {
		var out []string
		for _, i := range is {
			out = append(out, i.ID)
		}
		return out
	}
	got, err := s.AbandonedTAPs(t.Context(), base.Add(3*time.Minute+time.Second), 10)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids(got)) != "[i2 i1]" {
		t.Errorf("AbandonedTAPs = %v, want [i2 i1] (open, lease over, oldest lease first)", ids(got))
	}
	if got[0].State != store.IntentCreated || got[0].MethodID != "m2" {
		t.Errorf("abandoned i2 = %+v, want created with m2", got[0])
	}
	if got, _ := s.AbandonedTAPs(t.Context(), base.Add(3*time.Minute+time.Second), 1); fmt.Sprint(ids(got)) != "[i2]" {
		t.Errorf("AbandonedTAPs(limit 1) = %v, want [i2]", ids(got))
	}
	if got, _ := s.AbandonedTAPs(t.Context(), base, 10); len(got) != 0 {
		t.Errorf("AbandonedTAPs before any lease ended = %v, want none", ids(got))
	}
}

func testInvalidIntent(t *testing.T, s store.Store) {
	good := intent("a", "T1", "R1", base)
	for name, mutate := range map[string]func(*store.TAPIntent){
		"no id":        func(i *store.TAPIntent) { i.ID = "" },
		"no target":    func(i *store.TAPIntent) { i.TargetID = "" },
		"no requester": func(i *store.TAPIntent) { i.RequesterID = "" },
		"no lease":     func(i *store.TAPIntent) { i.LeaseUntil = time.Time{} },
		"year 10000":   func(i *store.TAPIntent) { i.LeaseUntil = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
	} {
		in := good
		mutate(&in)
		if err := s.BeginTAP(t.Context(), in, store.TAPLimits{}); !errors.Is(err, store.ErrInvalidIntent) {
			t.Errorf("%s: err = %v, want ErrInvalidIntent", name, err)
		}
	}
	begin(t, s, good, store.TAPLimits{}) // nothing invalid held the target
}

func testConcurrentBeginOneTarget(t *testing.T, s store.Store) {
	var n atomic.Int64
	won := race(t, func() (bool, error) {
		err := s.BeginTAP(t.Context(), intent(fmt.Sprintf("i%d", n.Add(1)), "T1", "R1", base), store.TAPLimits{})
		if errors.Is(err, store.ErrTargetBusy) {
			return false, nil
		}
		return err == nil, err
	})
	if won != 1 {
		t.Errorf("%d of %d concurrent BeginTAP for one target succeeded, want exactly 1", won, contenders)
	}
}

func testConcurrentBeginRateLimit(t *testing.T, s store.Store) {
	const limit = 3
	var n atomic.Int64
	lim := store.TAPLimits{MaxPerRequester: limit, Since: base.Add(-time.Hour)}
	won := race(t, func() (bool, error) {
		i := n.Add(1)
		err := s.BeginTAP(t.Context(), intent(fmt.Sprintf("i%d", i), fmt.Sprintf("T%d", i), "R1", base), lim)
		if errors.Is(err, store.ErrRateLimited) {
			return false, nil
		}
		return err == nil, err
	})
	if won != limit {
		t.Errorf("%d of %d concurrent BeginTAP by one requester succeeded, want the limit %d", won, contenders, limit)
	}
}

func testTakeOverTAP(t *testing.T, s store.Store) {
	in := intent("a", "T1", "R1", base) // lease until base+2m
	begin(t, s, in, store.TAPLimits{})
	take := func(now time.Time) bool {
		t.Helper()
		ok, err := s.TakeOverTAP(t.Context(), "a", now, now.Add(5*time.Minute))
		if err != nil {
			t.Fatalf("TakeOverTAP: %v", err)
		}
		return ok
	}
	if take(base.Add(time.Minute)) {
		t.Error("took over an intent whose lease runs")
	}
	later := base.Add(3 * time.Minute)
	if !take(later) {
		t.Fatal("could not take over an abandoned intent")
	}
	if got := getIntent(t, s, "a"); got.LeaseUntil.Sub(later.Add(5*time.Minute)).Abs() > timeTolerance {
		t.Errorf("lease after take-over = %v, want %v", got.LeaseUntil, later.Add(5*time.Minute))
	}
	if take(later.Add(time.Minute)) {
		t.Error("took over an intent another caller holds now")
	}
	if got, _ := s.AbandonedTAPs(t.Context(), later.Add(time.Minute), 10); len(got) != 0 {
		t.Errorf("AbandonedTAPs after the take-over = %v, want none", got)
	}
	if err := s.EndTAP(t.Context(), "a", store.IntentUndone, later); err != nil {
		t.Fatal(err)
	}
	if take(later.Add(time.Hour)) {
		t.Error("took over a closed intent")
	}
	if ok, err := s.TakeOverTAP(t.Context(), "nope", later, later); ok || err != nil {
		t.Errorf("TakeOverTAP(unknown) = %v, %v; want false, nil", ok, err)
	}
}

func testConcurrentTakeOverTAP(t *testing.T, s store.Store) {
	begin(t, s, intent("a", "T1", "R1", base), store.TAPLimits{})
	now := base.Add(time.Hour)
	won := race(t, func() (bool, error) { return s.TakeOverTAP(t.Context(), "a", now, now.Add(5*time.Minute)) })
	if won != 1 {
		t.Errorf("%d of %d concurrent TakeOverTAP calls won, want exactly 1", won, contenders)
	}
}
