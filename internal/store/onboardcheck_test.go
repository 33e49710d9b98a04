package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCanTransition(t *testing.T) {
	const (
		sub  = OnboardSubmitted
		rej  = OnboardRejected
		app  = OnboardApproved
		prov = OnboardProvisioning
		fail = OnboardFailed
		done = OnboardDone
	)
	// Every pair of states, so that a transition added to the code without being
	// added here fails.
	allowed := map[string][]string{
		sub:  {sub, app, rej},
		rej:  {rej},
		app:  {app, prov},
		prov: {prov, fail, done},
		fail: {fail, prov},
		done: {done},
	}
	states := []string{sub, rej, app, prov, fail, done}
	for _, from := range states {
		for _, to := range states {
			want := false
			for _, a := range allowed[from] {
				want = want || a == to
			}
			if got := CanTransition(from, to); got != want {
				t.Errorf("CanTransition(%q, %q) = %v, want %v", from, to, got, want)
			}
		}
	}
	for _, tc := range [][2]string{
		{"", ""}, {"", sub}, {sub, ""}, {"unknown", "unknown"}, {sub, "Approved"}, {"Submitted", app}, {done, "archived"},
	} {
		if CanTransition(tc[0], tc[1]) {
			t.Errorf("CanTransition(%q, %q) = true, want false", tc[0], tc[1])
		}
	}
}

func TestOnboardRequestNormalize(t *testing.T) {
	valid := OnboardRequest{ID: "req-1", State: OnboardSubmitted, RequesterID: "r", Version: 1}
	tests := []struct {
		name    string
		mutate  func(r *OnboardRequest)
		wantErr string // "" means valid
	}{
		{"minimal", func(r *OnboardRequest) {}, ""},
		{"every field", func(r *OnboardRequest) {
			*r = OnboardRequest{ID: "req-1", State: OnboardProvisioning, RequesterID: "r", RequesterUPN: "m@contoso.com",
				Form: []byte("{}"), DeciderID: "d", Decision: "ok", UserID: "u", Step: "groups", Error: "graph: 503",
				StartDate: time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC), Version: 3,
				CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2025, 1, 2, 0, 0, 0, 0, time.UTC)}
		}, ""},
		{"longest id", func(r *OnboardRequest) { r.ID = strings.Repeat("é", MaxIDLen) }, ""},
		{"largest form", func(r *OnboardRequest) { r.Form = make([]byte, MaxFormLen) }, ""},
		{"empty id", func(r *OnboardRequest) { r.ID = "" }, "store: invalid onboarding request: empty id"},
		{"unknown state", func(r *OnboardRequest) { r.State = "pending" },
			`store: invalid onboarding request "req-1": unknown state "pending"`},
		{"empty state", func(r *OnboardRequest) { r.State = "" }, `store: invalid onboarding request "req-1": unknown state ""`},
		{"empty requester", func(r *OnboardRequest) { r.RequesterID = "" },
			`store: invalid onboarding request "req-1": empty requester id`},
		{"id too long", func(r *OnboardRequest) { r.ID = strings.Repeat("x", MaxIDLen+1) },
			`is longer than 256 characters`},
		{"upn too long", func(r *OnboardRequest) { r.RequesterUPN = strings.Repeat("x", MaxUPNLen+1) },
			`store: invalid onboarding request "req-1": requester upn is longer than 320 characters`},
		{"decider not UTF-8", func(r *OnboardRequest) { r.DeciderID = "d\xff" },
			`store: invalid onboarding request "req-1": decider id is not valid UTF-8 without NUL`},
		{"user id with NUL", func(r *OnboardRequest) { r.UserID = "u\x00" },
			`store: invalid onboarding request "req-1": user id is not valid UTF-8 without NUL`},
		{"step with a space", func(r *OnboardRequest) { r.Step = "add groups" },
			`store: invalid onboarding request "req-1": step "add groups": contains a space or control character`},
		{"form too large", func(r *OnboardRequest) { r.Form = make([]byte, MaxFormLen+1) },
			`store: invalid onboarding request "req-1": form of 65537 bytes is longer than 65536`},
		{"negative version", func(r *OnboardRequest) { r.Version = -1 },
			`store: invalid onboarding request "req-1": negative version -1`},
		{"start date after year 9999", func(r *OnboardRequest) { r.StartDate = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
			`store: invalid onboarding request "req-1": start date 10000-01-01 00:00:00 +0000 UTC is outside years 1-9999`},
		{"created before year 1", func(r *OnboardRequest) { r.CreatedAt = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC) },
			"created at"},
		{"updated after year 9999", func(r *OnboardRequest) { r.UpdatedAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
			"updated at"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := valid
			tc.mutate(&r)
			got, err := r.Normalize()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Normalize() = %v, want nil", err)
				}
				if got.ID != r.ID || got.Version != r.Version || got.State != r.State {
					t.Errorf("Normalize() = %+v, want %+v", got, r)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Normalize() = %v, want an error containing %q", err, tc.wantErr)
			}
			if !errors.Is(err, ErrInvalidOnboard) {
				t.Errorf("Normalize() = %v, does not wrap ErrInvalidOnboard", err)
			}
		})
	}
}

func TestOnboardRequestNormalizeCutsText(t *testing.T) {
	r := OnboardRequest{ID: "req-1", State: OnboardFailed, RequesterID: "r", Version: 1,
		Decision: strings.Repeat("é", MaxReasonLen+1), Error: "a\xffb\x00c"}
	got, err := r.Normalize()
	if err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	if want := strings.Repeat("é", MaxReasonLen-1) + Ellipsis; got.Decision != want {
		t.Errorf("Decision = %d runes, want %d cut with an ellipsis", len([]rune(got.Decision)), MaxReasonLen)
	}
	if want := "a\uFFFDb\uFFFDc"; got.Error != want {
		t.Errorf("Error = %q, want %q", got.Error, want)
	}
}

func TestOnboardRequestNormalizeCreateAndUpdate(t *testing.T) {
	r := OnboardRequest{ID: "req-1", State: OnboardSubmitted, RequesterID: "r"}
	for _, v := range []int{0, 1, 7} {
		r.Version = v
		got, err := r.NormalizeCreate(time.Time{})
		if err != nil || got.Version != 1 {
			t.Errorf("NormalizeCreate(version %d) = version %d, %v; want version 1", v, got.Version, err)
		}
	}
	for _, state := range []string{OnboardApproved, OnboardRejected, OnboardProvisioning, OnboardFailed, OnboardDone} {
		r := r
		r.State = state
		if _, err := r.NormalizeCreate(time.Time{}); !errors.Is(err, ErrInvalidOnboard) {
			t.Errorf("NormalizeCreate(%s) = %v, want ErrInvalidOnboard", state, err)
		}
	}
	r.Version = 0
	if _, err := r.NormalizeUpdate(time.Time{}); err == nil || !errors.Is(err, ErrInvalidOnboard) || !strings.Contains(err.Error(), "version 0") {
		t.Errorf("NormalizeUpdate(version 0) = %v, want ErrInvalidOnboard naming the version", err)
	}
	r.Version = 4
	if got, err := r.NormalizeUpdate(time.Time{}); err != nil || got.Version != 4 {
		t.Errorf("NormalizeUpdate(version 4) = version %d, %v; want 4 unchanged", got.Version, err)
	}
	r.State = "bogus"
	if _, err := r.NormalizeUpdate(time.Time{}); !errors.Is(err, ErrInvalidOnboard) {
		t.Errorf("NormalizeUpdate(bogus state) = %v, want ErrInvalidOnboard", err)
	}
}

func TestOnboardFilterValidate(t *testing.T) {
	for _, f := range []OnboardFilter{{}, {RequesterID: "r", Limit: -1}, {States: []string{OnboardSubmitted, OnboardFailed, OnboardSubmitted}}} {
		if err := f.Validate(); err != nil {
			t.Errorf("%+v: Validate() = %v, want nil", f, err)
		}
	}
	for _, f := range []OnboardFilter{{States: []string{"Submitted"}}, {States: []string{OnboardDone, ""}}} {
		if err := f.Validate(); !errors.Is(err, ErrInvalidOnboardFilter) {
			t.Errorf("%+v: Validate() = %v, want ErrInvalidOnboardFilter", f, err)
		}
	}
}

func TestJobValidate(t *testing.T) {
	valid := Job{ID: "onboard.startday:req-1", Kind: "onboard.startday", DueAt: time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC)}
	tests := []struct {
		name    string
		mutate  func(j *Job)
		wantErr string // "" means valid
	}{
		{"valid", func(j *Job) {}, ""},
		{"zero due means now", func(j *Job) { j.DueAt = time.Time{} }, ""},
		{"attempts and done are ignored", func(j *Job) { j.Attempts, j.DoneAt = -3, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, ""},
		{"longest id", func(j *Job) { j.ID = strings.Repeat("x", MaxJobIDLen) }, ""},
		{"largest payload", func(j *Job) { j.Payload = make([]byte, MaxPayloadLen) }, ""},
		{"empty id", func(j *Job) { j.ID = "" }, "store: invalid job: empty id"},
		{"id too long", func(j *Job) { j.ID = strings.Repeat("x", MaxJobIDLen+1) }, "store: invalid job: id of 1025 bytes is longer than 1024"},
		{"id not UTF-8", func(j *Job) { j.ID = "j\xff" }, `store: invalid job "j\xff": id is not valid UTF-8 without NUL`},
		{"empty kind", func(j *Job) { j.Kind = "" }, `store: invalid job "onboard.startday:req-1": kind "": empty`},
		{"kind with a space", func(j *Job) { j.Kind = "start day" }, "contains a space"},
		{"payload too large", func(j *Job) { j.Payload = make([]byte, MaxPayloadLen+1) }, "payload of 65537 bytes"},
		{"due after year 9999", func(j *Job) { j.DueAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "outside years 1-9999"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j := valid
			tc.mutate(&j)
			err := j.Validate()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tc.wantErr)
			}
			if !errors.Is(err, ErrInvalidJob) {
				t.Errorf("Validate() = %v, does not wrap ErrInvalidJob", err)
			}
		})
	}
}

func TestValidateClaimJobs(t *testing.T) {
	now := time.Date(2025, 1, 6, 8, 0, 0, 0, time.UTC)
	last := time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		now   time.Time
		lease time.Duration
		ok    bool
	}{
		{"valid", now, time.Minute, true},
		{"zero now", time.Time{}, time.Hour, true},
		{"lease ends in year 9999", last, 30 * time.Minute, true},
		{"zero lease", now, 0, false},
		{"negative lease", now, -time.Second, false},
		{"lease ends after year 9999", last, 2 * time.Hour, false},
		{"now after year 9999", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Minute, false},
	} {
		err := ValidateClaimJobs(tc.now, tc.lease)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalidJob)) {
			t.Errorf("%s: ValidateClaimJobs(%v, %v) = %v, want ok %v", tc.name, tc.now, tc.lease, err, tc.ok)
		}
	}
	if err := ValidateJobTime("j", time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, ErrInvalidJob) {
		t.Errorf("ValidateJobTime(year 0) = %v, want ErrInvalidJob", err)
	}
	if err := ValidateJobTime("j", time.Time{}); err != nil {
		t.Errorf("ValidateJobTime(zero) = %v, want nil", err)
	}
}
