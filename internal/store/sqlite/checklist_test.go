package sqlite

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tapbot/tapbot/internal/store"
)

func TestOpenMigratesVersion3DatabaseKeepingOnboarding(t *testing.T) {
	s := openMigratedFrom(t, 3,
		`INSERT INTO onboard_requests (id, state, requester_id, requester_upn, form, decider_id, decision, user_id,
			step, error, start_date, version, created_at, updated_at)
			VALUES ('onb-1', 'provisioning', 'm', 'm@contoso.com', '{"upn":"ada@contoso.com"}', 'd', 'ok', 'u-ada',
			'user', '', '2024-02-01T00:00:00.000000000Z', 4, '2024-01-02T03:04:05.000000006Z', '2024-01-02T04:04:05.000000000Z')`,
		`INSERT INTO onboard_requests (id, state, requester_id, requester_upn, form, decider_id, decision, user_id,
			step, error, start_date, version, created_at, updated_at)
			VALUES ('onb-2', 'submitted', 'm', '', NULL, '', '', '', '', '', NULL, 1, '2024-01-03T03:04:05.000000000Z', '2024-01-03T03:04:05.000000000Z')`,
		`INSERT INTO jobs (id, kind, payload, due_at, attempts, lease_until, done_at)
			VALUES ('j', 'onboard.startday', '{}', '2024-02-01T08:00:00.000000000Z', 0, NULL, NULL)`,
	)
	ctx := t.Context()
	r, err := s.Onboard(ctx, "onb-1")
	if err != nil {
		t.Fatalf("Onboard after migrating: %v", err)
	}
	if r.State != store.OnboardProvisioning || r.Version != 4 || r.UserID != "u-ada" || string(r.Form) != `{"upn":"ada@contoso.com"}` ||
		!r.CreatedAt.Equal(time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)) || !r.StartDate.Equal(time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("onboarding request after migrating = %+v, want it provisioning at version 4, user u-ada, its form, created 2024-01-02T03:04:05.000000006Z, starting 2024-02-01", r)
	}
	rs, err := s.Onboards(ctx, store.OnboardFilter{})
	if err != nil || len(rs) != 2 || rs[0].ID != "onb-2" || rs[1].ID != "onb-1" {
		t.Errorf("Onboards after migrating = %v, %v; want onb-2, onb-1", rs, err)
	}
	// Onboarding still updates from the migrated version.
	r.State, r.Step = store.OnboardDone, "licence"
	if got, err := s.UpdateOnboard(ctx, r); err != nil || got.Version != 5 {
		t.Errorf("UpdateOnboard after migrating = version %d, %v; want 5", got.Version, err)
	}
	if js, err := s.ClaimJobs(ctx, time.Date(2024, 2, 1, 9, 0, 0, 0, time.UTC), time.Minute, 0); len(js) != 1 || err != nil {
		t.Errorf("ClaimJobs after migrating = %v, %v; want j", js, err)
	}
	// And the new table works.
	if err := s.CreateChecklist(ctx, store.Checklist{UserID: "u-ada", RequestID: "onb-1"}); err != nil {
		t.Fatalf("CreateChecklist after migrating: %v", err)
	}
	if cs, err := s.OpenChecklists(ctx, 0); err != nil || len(cs) != 1 || cs[0].UserID != "u-ada" || cs[0].Version != 1 {
		t.Errorf("OpenChecklists after migrating = %v, %v; want u-ada at version 1", cs, err)
	}
}

func TestChecklistTimesStampFromClockAsFixedWidthUTCText(t *testing.T) {
	s, now, text := openClocked(t)
	const want = "2024-03-04T04:06:07.800000000Z" // now, as the store keeps it
	ctx := t.Context()

	if err := s.CreateChecklist(ctx, store.Checklist{UserID: "u1"}); err != nil {
		t.Fatalf("CreateChecklist: %v", err)
	}
	for _, col := range []string{"started_at", "updated_at"} {
		if got := text(`SELECT ` + col + ` FROM checklists`); got.String != want {
			t.Errorf("checklists.%s = %q, want %q", col, got.String, want)
		}
	}
	if got := text(`SELECT done_at FROM checklists`); got.Valid {
		t.Errorf("checklists.done_at of an open checklist = %q, want NULL", got.String)
	}
	c, err := s.Checklist(ctx, "u1")
	if err != nil {
		t.Fatalf("Checklist: %v", err)
	}
	*now = now.Add(time.Hour)
	c.UpdatedAt, c.DoneAt = time.Time{}, time.Date(2024, 3, 4, 7, 0, 0, 0, time.FixedZone("+02", 7200))
	if _, err := s.UpdateChecklist(ctx, c); err != nil {
		t.Fatalf("UpdateChecklist: %v", err)
	}
	if got, want := text(`SELECT updated_at FROM checklists`), "2024-03-04T05:06:07.800000000Z"; got.String != want {
		t.Errorf("checklists.updated_at after update = %q, want %q", got.String, want)
	}
	if got := text(`SELECT started_at FROM checklists`); got.String != want {
		t.Errorf("checklists.started_at after update = %q, want %q", got.String, want)
	}
	if got, want := text(`SELECT done_at FROM checklists`), "2024-03-04T05:00:00.000000000Z"; got.String != want {
		t.Errorf("checklists.done_at = %q, want %q", got.String, want)
	}
}

func TestChecklistDoneAtCannotBeClearedInTheDatabase(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	if err := s.CreateChecklist(ctx, store.Checklist{UserID: "u1", DoneAt: time.Now()}); err != nil {
		t.Fatalf("CreateChecklist: %v", err)
	}
	_, err := s.db.ExecContext(ctx, `UPDATE checklists SET done_at = NULL`)
	if err == nil || !strings.Contains(err.Error(), "checklist done_at cannot be cleared") {
		t.Errorf("clearing done_at: err = %v, want the trigger's refusal", err)
	}
}

func TestChecklistQueriesUseIndexes(t *testing.T) {
	s := openTemp(t)
	plan := queryPlan(t, s.db, openChecklistsQuery, 100)
	if !strings.Contains(plan, "USING INDEX checklists_open") {
		t.Errorf("query plan:\n%s\nwant it to use checklists_open", plan)
	}
	if strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("query plan:\n%s\nwant no sort step", plan)
	}
}

func TestChecklistUseAfterCloseFails(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "tapbot.db"))
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx := t.Context()
	c := store.Checklist{UserID: "u1", Version: 1}
	checks := map[string]error{}
	checks["CreateChecklist"] = s.CreateChecklist(ctx, c)
	_, checks["Checklist"] = s.Checklist(ctx, c.UserID)
	_, checks["UpdateChecklist"] = s.UpdateChecklist(ctx, c)
	_, checks["OpenChecklists"] = s.OpenChecklists(ctx, 0)
	for name, err := range checks {
		if err == nil || errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
			t.Errorf("%s after Close: err = %v, want a store error", name, err)
		}
	}
}
