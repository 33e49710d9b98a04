package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/tapbot/tapbot/internal/store"
)

// confirmTests are the suite's checks of passes waiting for a second person: one
// pending question per target, one decision however often asked, and the expiry
// sweep's query.
var confirmTests = []test{
	{"ConfirmationRoundTrip", testConfirmationRoundTrip},
	{"ConfirmationOnePendingPerTarget", testConfirmationOnePendingPerTarget},
	{"ConfirmationDecidedOnce", testConfirmationDecidedOnce},
	{"ConcurrentDecisions", testConcurrentDecisions},
	{"DueConfirmations", testDueConfirmations},
	{"InvalidConfirmation", testInvalidConfirmation},
	{"ConfirmationCards", testConfirmationCards},
}

func confirmation(id, target string, created time.Time) store.TAPConfirmation {
	return store.TAPConfirmation{ID: id, RequestID: "req-" + id, TenantID: "tenant", RequesterID: "R1",
		TargetID: target, TargetUPN: target + "@contoso.com", Path: store.PathManager, ConfirmerID: "M1",
		LifetimeMinutes: 60, Once: true, Replace: true, Reason: "ticket 42", State: store.ConfirmPending,
		CreatedAt: created, ExpiresAt: created.Add(15 * time.Minute), RequesterName: "Hana Helpdesk",
		Start: created.Add(24 * time.Hour)}
}

func createConfirmation(t *testing.T, s store.Store, c store.TAPConfirmation) {
	t.Helper()
	if err := s.CreateConfirmation(t.Context(), c); err != nil {
		t.Fatalf("CreateConfirmation(%s): %v", c.ID, err)
	}
}

func testConfirmationRoundTrip(t *testing.T, s store.Store) {
	want := confirmation("c1", "T1", micro)
	createConfirmation(t, s, want)
	got, err := s.Confirmation(t.Context(), "c1")
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) || !got.Start.Equal(want.Start) || !got.DecidedAt.IsZero() {
		t.Errorf("times (created, expires, start, decided) = %v %v %v %v, want %v %v %v and none",
			got.CreatedAt, got.ExpiresAt, got.Start, got.DecidedAt, want.CreatedAt, want.ExpiresAt, want.Start)
	}
	got.CreatedAt, got.ExpiresAt, got.Start = want.CreatedAt, want.ExpiresAt, want.Start
	if got != want {
		t.Errorf("Confirmation = %+v\nwant %+v", got, want)
	}
	if _, err := s.Confirmation(t.Context(), "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown id: %v, want ErrNotFound", err)
	}
	if err := s.CreateConfirmation(t.Context(), confirmation("c1", "T2", micro)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("id in use: %v, want ErrConflict", err)
	}
}

func testConfirmationOnePendingPerTarget(t *testing.T, s store.Store) {
	createConfirmation(t, s, confirmation("c1", "T1", micro))
	if err := s.CreateConfirmation(t.Context(), confirmation("c2", "T1", micro)); !errors.Is(err, store.ErrConfirmationPending) {
		t.Fatalf("second pending for T1: %v, want ErrConfirmationPending", err)
	}
	createConfirmation(t, s, confirmation("c3", "T2", micro)) // another target is free
	if _, err := s.DecideConfirmation(t.Context(), "c1", store.ConfirmCancelled, "R1", micro.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	createConfirmation(t, s, confirmation("c2", "T1", micro.Add(2*time.Minute))) // decided frees the target
}

func testConfirmationDecidedOnce(t *testing.T, s store.Store) {
	createConfirmation(t, s, confirmation("c1", "T1", micro))
	at := micro.Add(3 * time.Minute)
	got, err := s.DecideConfirmation(t.Context(), "c1", store.ConfirmConfirmed, "M1", at)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != store.ConfirmConfirmed || got.DecidedBy != "M1" || !got.DecidedAt.Equal(at) || got.TargetID != "T1" {
		t.Errorf("DecideConfirmation = %+v, want c1 for T1 confirmed by M1 at %v", got, at)
	}
	for _, state := range []store.ConfirmState{store.ConfirmConfirmed, store.ConfirmDenied, store.ConfirmExpired} {
		if _, err := s.DecideConfirmation(t.Context(), "c1", state, "X", at); !errors.Is(err, store.ErrConflict) {
			t.Errorf("second decision %s: %v, want ErrConflict", state, err)
		}
	}
	if _, err := s.DecideConfirmation(t.Context(), "nope", store.ConfirmDenied, "X", at); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown id: %v, want ErrNotFound", err)
	}
	if _, err := s.DecideConfirmation(t.Context(), "c1", store.ConfirmPending, "X", at); !errors.Is(err, store.ErrInvalidConfirmation) {
		t.Errorf("back to pending: %v, want ErrInvalidConfirmation", err)
	}
	if c, _ := s.Confirmation(t.Context(), "c1"); c.State != store.ConfirmConfirmed || c.DecidedBy != "M1" {
		t.Errorf("after refused decisions Confirmation = %+v, want it still confirmed by M1", c)
	}
}

// testConcurrentDecisions: a double click, a redelivery and a second replica race;
// exactly one decision wins.
func testConcurrentDecisions(t *testing.T, s store.Store) {
	createConfirmation(t, s, confirmation("c1", "T1", micro))
	won := contend(t, func(w int) (store.TAPConfirmation, error) {
		return s.DecideConfirmation(t.Context(), "c1", store.ConfirmConfirmed, fmt.Sprint("M", w), micro.Add(time.Minute))
	})
	if len(won) != 1 {
		t.Errorf("%d decisions won, want 1", len(won))
	}
}

func testDueConfirmations(t *testing.T, s store.Store) {
	createConfirmation(t, s, confirmation("late", "T1", micro.Add(time.Minute)))
	createConfirmation(t, s, confirmation("early", "T2", micro))
	createConfirmation(t, s, confirmation("decided", "T3", micro))
	if _, err := s.DecideConfirmation(t.Context(), "decided", store.ConfirmDenied, "M1", micro); err != nil {
		t.Fatal(err)
	}
	ids := func(now time.Time, limit int) string {
		t.Helper()
		cs, err := s.DueConfirmations(t.Context(), now, limit)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.ID)
		}
		return fmt.Sprint(out)
	}
	expiry := 15 * time.Minute
	for _, tc := range []struct {
		now   time.Time
		limit int
		want  string
	}{
		{micro.Add(expiry - time.Second), 10, "[]"},
		{micro.Add(expiry), 10, "[early]"}, // at ExpiresAt it is due
		{micro.Add(expiry + time.Minute), 10, "[early late]"},
		{micro.Add(expiry + time.Minute), 1, "[early]"},
	} {
		if got := ids(tc.now, tc.limit); got != tc.want {
			t.Errorf("DueConfirmations(%v, %d) = %s, want %s", tc.now, tc.limit, got, tc.want)
		}
	}
}

func testInvalidConfirmation(t *testing.T, s store.Store) {
	bad := []func(c *store.TAPConfirmation){
		func(c *store.TAPConfirmation) { c.ID = "" },
		func(c *store.TAPConfirmation) { c.TargetID = "" },
		func(c *store.TAPConfirmation) { c.RequesterID = "" },
		func(c *store.TAPConfirmation) { c.Path = "friend" },
		func(c *store.TAPConfirmation) { c.State = store.ConfirmConfirmed },
		func(c *store.TAPConfirmation) { c.ExpiresAt = time.Time{} },
		func(c *store.TAPConfirmation) { c.Reason = "bad\x00" },
		func(c *store.TAPConfirmation) { c.RequesterName = "bad\x00" },
		func(c *store.TAPConfirmation) { c.Start = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		func(c *store.TAPConfirmation) { c.Question.ActivityID = "bad\x00" },
	}
	for i, mutate := range bad {
		c := confirmation(fmt.Sprint("c", i), "T1", micro)
		mutate(&c)
		if err := s.CreateConfirmation(t.Context(), c); !errors.Is(err, store.ErrInvalidConfirmation) {
			t.Errorf("case %d: %v, want ErrInvalidConfirmation", i, err)
		}
	}
}

// testConfirmationCards: where the two cards went is recorded in any state, and
// returned with the confirmation as it stands, so that a question answered before
// its cards were recorded still gets them updated. A pass to start at once keeps a
// zero start.
func testConfirmationCards(t *testing.T, s store.Store) {
	c := confirmation("c1", "T1", micro)
	c.Start = time.Time{}
	createConfirmation(t, s, c)
	question := store.CardRef{ServiceURL: "https://smba.example/emea/", ConversationID: "a:1max", ActivityID: "1:q"}
	waiting := store.CardRef{ServiceURL: "https://smba.example/emea/", ConversationID: "a:1hana", ActivityID: "1:w"}
	if _, err := s.DecideConfirmation(t.Context(), "c1", store.ConfirmConfirmed, "M1", micro.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	got, err := s.RecordConfirmationCards(t.Context(), "c1", question, waiting)
	if err != nil {
		t.Fatalf("RecordConfirmationCards after the decision: %v, want nil", err)
	}
	if got.Question != question || got.Waiting != waiting || got.State != store.ConfirmConfirmed || !got.Start.IsZero() {
		t.Errorf("RecordConfirmationCards = %+v, want cards %+v and %+v, state confirmed, no start", got, question, waiting)
	}
	if again, err := s.Confirmation(t.Context(), "c1"); err != nil || again.Question != question || again.Waiting != waiting {
		t.Errorf("Confirmation after recording = %+v, %v; want cards %+v and %+v", again, err, question, waiting)
	}
	if _, err := s.RecordConfirmationCards(t.Context(), "nope", question, waiting); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("RecordConfirmationCards(unknown id) = %v, want ErrNotFound", err)
	}
	bad := store.CardRef{ConversationID: "a:1\x00"}
	if _, err := s.RecordConfirmationCards(t.Context(), "c1", bad, waiting); !errors.Is(err, store.ErrInvalidConfirmation) {
		t.Errorf("RecordConfirmationCards(NUL in a conversation id) = %v, want ErrInvalidConfirmation", err)
	}
}
