package onboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// KindStartDay is the job that announces a new hire on the morning of the start date.
const KindStartDay = "onboard.startday"

type startDayPayload struct {
	RequestID string `json:"requestId"`
}

// startDayAt is StartDayHour on the start date in the organisation's time zone.
func (f *Flow) startDayAt(date time.Time) time.Time {
	return time.Date(date.Year(), date.Month(), date.Day(), f.cfg.StartDayHour, 0, 0, 0, f.cfg.Location)
}

// scheduleStartDay schedules the start-day card of a provisioned request (once: the
// job id is the request's).
func (f *Flow) scheduleStartDay(ctx context.Context, log *zap.Logger, req store.OnboardRequest) {
	if f.cfg.HelpdeskConversation == "" || req.StartDate.IsZero() {
		return
	}
	payload, _ := json.Marshal(startDayPayload{RequestID: req.ID})
	due := f.startDayAt(req.StartDate)
	if _, err := f.store.ScheduleJob(ctx, store.Job{ID: KindStartDay + ":" + req.ID, Kind: KindStartDay, Payload: payload, DueAt: due}); err != nil {
		log.Error("start-day card not scheduled", zap.Error(err))
	}
}

// RunDueJobs runs the onboarding jobs that are due and returns how many ran.
func (f *Flow) RunDueJobs(ctx context.Context) (int, error) {
	now := f.cfg.Now()
	jobs, err := f.store.ClaimJobs(ctx, now, 2*time.Minute, 20)
	if err != nil {
		return 0, fmt.Errorf("claim jobs: %w", err)
	}
	done := 0
	for _, j := range jobs {
		if j.Kind != KindStartDay {
			// Not ours: release it at once for its own runner.
			_ = f.store.RescheduleJob(ctx, j.ID, j.DueAt)
			continue
		}
		if err := f.startDay(ctx, j); err != nil {
			backoff := time.Duration(min(j.Attempts, 6)) * 5 * time.Minute
			f.log.Error("start-day card failed; will retry", zap.String("job", j.ID), zap.Duration("in", backoff), zap.Error(err))
			if err := f.store.RescheduleJob(ctx, j.ID, now.Add(backoff)); err != nil {
				f.log.Error("reschedule job", zap.String("job", j.ID), zap.Error(err))
			}
			continue
		}
		if err := f.store.CompleteJob(ctx, j.ID, now); err != nil {
			f.log.Error("complete job", zap.String("job", j.ID), zap.Error(err))
			continue
		}
		done++
	}
	return done, nil
}

// RunJobs calls RunDueJobs every interval until ctx ends, and resumes provisioning
// that was interrupted without being recorded as failed.
func (f *Flow) RunJobs(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		f.RunOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// startDay posts "New hire X starts today" with Issue TAP to the helpdesk.
func (f *Flow) startDay(ctx context.Context, j store.Job) error {
	var p startDayPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.RequestID == "" {
		f.log.Error("start-day job with a bad payload dropped", zap.String("job", j.ID))
		return nil
	}
	req, err := f.store.Onboard(ctx, p.RequestID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if req.State != store.OnboardDone {
		return nil // never provisioned: nobody to announce
	}
	rec, err := decodeRecord(req)
	if err != nil {
		return err
	}
	ref, err := f.store.Reference(ctx, f.cfg.HelpdeskConversation)
	if err != nil {
		return fmt.Errorf("helpdesk conversation: %w", err)
	}
	c := conv{serviceURL: ref.ServiceURL, id: ref.ConversationID, tenantID: ref.TenantID, botID: ref.BotID}
	if _, err := f.msg.SendToConversation(ctx, c.serviceURL, c.id, c.activity(cardActivity(f.startDayCard(req, rec)))); err != nil {
		return fmt.Errorf("post start-day card: %w", err)
	}
	f.audit(ctx, store.AuditEntry{RequestID: req.ID, TargetID: req.UserID, TargetUPN: rec.Request.UPN(),
		Action: store.ActionOnboardStartDay, Outcome: store.OutcomeAllowed})
	return nil
}

func (f *Flow) startDayCard(req store.OnboardRequest, rec record) cards.Card {
	r := rec.Request
	path := "Microsoft Authenticator on their phone, then Windows Hello"
	if r.NeedsSecurityKey() {
		path = "a FIDO2 security key (no smartphone), then Windows Hello"
	}
	return cards.Card{
		Body: []cards.Element{
			cards.RichText{Runs: []cards.TextRun{{Text: "New hire " + r.DisplayName + " starts today", Size: "Medium", Weight: "Bolder"}}},
			cards.RichText{Runs: []cards.TextRun{{Text: "Sign-in name: ", Weight: "Bolder"}, {Text: r.UPN()}}},
			cards.RichText{Runs: []cards.TextRun{{Text: "Manager: ", Weight: "Bolder"}, {Text: rec.ManagerName}}},
			cards.RichText{Runs: []cards.TextRun{{Text: "Sets up: ", Weight: "Bolder"}, {Text: path}}},
			cards.TextBlock{Text: "Issue TAP sends a Temporary Access Pass privately to whoever clicks it (helpdesk only).", Subtle: true, Wrap: true},
		},
		// The TAP flow's own button: every /tap check runs for whoever clicks, the
		// lifetime is the tenant policy's default, and the pass goes to their 1:1 chat.
		Actions: []cards.Action{cards.Execute{Title: "Issue TAP", Verb: cards.VerbIssueTAP, Style: "positive", Data: cards.IssueTAPData{
			User: r.UPN(), Reason: "start day, onboarding request " + req.ID, Nonce: cards.NewNonce(),
		}}},
	}
}

// RunOnce is one round of RunJobs: resume interrupted provisioning, run due jobs.
func (f *Flow) RunOnce(ctx context.Context) {
	f.resumeStale(ctx)
	if n, err := f.RunDueJobs(ctx); err != nil {
		f.log.Error("onboarding jobs failed", zap.Error(err))
	} else if n > 0 {
		f.log.Info("onboarding jobs done", zap.Int("count", n))
	}
}
