package onboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/internal/every"
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
		run, ours := f.jobRunner(j.Kind)
		if !ours {
			// Not ours: release it at once for its own runner.
			_ = f.store.RescheduleJob(ctx, j.ID, j.DueAt)
			continue
		}
		if err := run(ctx, j); err != nil {
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

// jobRunner returns the function that runs a job of kind.
func (f *Flow) jobRunner(kind string) (func(context.Context, store.Job) error, bool) {
	switch kind {
	case KindStartDay:
		return f.startDay, true
	case KindJoiner:
		return f.takeOn, true
	case KindJoinerStartDay:
		return f.joinerStartDay, true
	}
	return nil, false
}

// RunJobs calls RunDueJobs every interval until ctx ends, and resumes provisioning
// that was interrupted without being recorded as failed.
func (f *Flow) RunJobs(ctx context.Context, interval time.Duration) {
	every.Tick(ctx, interval, func(ctx context.Context, _ int) { f.RunOnce(ctx) })
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
	return f.announce(ctx, hire{RequestID: req.ID, Attempt: j.Attempts, UserID: req.UserID, UPN: rec.Request.UPN(),
		DisplayName: rec.Request.DisplayName, ManagerID: rec.ManagerID, ManagerName: rec.ManagerName,
		Start: req.StartDate, SecurityKey: rec.Request.NeedsSecurityKey()})
}

// hire is a new hire to announce on the start day, from an /onboard request or a
// joiner.
type hire struct {
	RequestID   string
	Attempt     int // of the start-day job: a new pass intent per attempt
	UserID, UPN string
	DisplayName string
	ManagerID   string
	ManagerName string
	Start       time.Time // the start date (its calendar day counts)
	SecurityKey bool
}

// announce tells the helpdesk channel that h starts today. With
// TAPBOT_STARTDAY_TAP_TO=manager the manager gets the pass in their 1:1 chat and the
// channel a note without it; when that cannot be, the channel gets the Issue TAP card
// saying why.
func (f *Flow) announce(ctx context.Context, h hire) error {
	ref, err := f.store.Reference(ctx, f.cfg.HelpdeskConversation)
	if err != nil {
		return fmt.Errorf("helpdesk conversation: %w", err)
	}
	c := conv{serviceURL: ref.ServiceURL, id: ref.ConversationID, tenantID: ref.TenantID, botID: ref.BotID}
	var why string
	if f.cfg.StartDayTAPTo == StartDayTAPToManager {
		note, reason := f.passToManager(ctx, h, ref.TenantID)
		if reason == "" {
			a := c.activity(schema.Activity{Type: schema.Message, Text: note, TextFormat: schema.PLAIN})
			if _, err := f.msg.SendToConversation(ctx, c.serviceURL, c.id, a); err != nil {
				// The pass is with the manager; a retry would only find it exists.
				f.log.Error("start-day note to the helpdesk failed", zap.String("request", h.RequestID), zap.Error(err))
			}
			return nil
		}
		why = reason
	}
	if _, err := f.msg.SendToConversation(ctx, c.serviceURL, c.id, c.activity(cardActivity(f.startDayCard(h, why)))); err != nil {
		return fmt.Errorf("post start-day card: %w", err)
	}
	f.audit(ctx, store.AuditEntry{RequestID: h.RequestID, TargetID: h.UserID, TargetUPN: h.UPN,
		Action: store.ActionOnboardStartDay, Outcome: store.OutcomeAllowed})
	return nil
}

// passToManager issues the start-day pass to the manager's 1:1 chat. It returns the
// helpdesk's note (no value) or, when no pass went out, why in words.
func (f *Flow) passToManager(ctx context.Context, h hire, tenantID string) (note, why string) {
	entry := store.AuditEntry{RequestID: h.RequestID, RequesterID: store.RequesterTapbot, TargetID: h.UserID, TargetUPN: h.UPN,
		Action: store.ActionOnboardStartDayPass}
	notSent := func(outcome store.Outcome, reason, text string) (string, string) {
		entry.Outcome, entry.Reason = outcome, reason
		f.audit(ctx, entry)
		return "", text
	}
	if h.ManagerID == "" || f.cfg.Passes == nil {
		return notSent(store.OutcomeRefused, "no_manager", h.DisplayName+" has no manager in Entra ID, so the pass could not go to one.")
	}
	manager := h.ManagerName
	if manager == "" {
		manager = "The manager"
	}
	ref, err := f.store.PersonalReference(ctx, tenantID, h.ManagerID)
	if errors.Is(err, store.ErrNotFound) {
		return notSent(store.OutcomeRefused, "manager_no_chat", manager+" has no 1:1 chat with tapbot yet (they have never opened it), so the pass could not go to them.")
	}
	if err != nil {
		return notSent(store.OutcomeFailed, "manager_chat_lookup", "tapbot could not look up the manager's chat.")
	}
	day := h.Start.In(f.cfg.Location)
	start := time.Date(day.Year(), day.Month(), day.Day(), f.cfg.StartDayTAPAt.Hour, f.cfg.StartDayTAPAt.Minute, 0, 0, f.cfg.Location)
	if !start.After(f.cfg.Now()) {
		start = time.Time{} // the hour has passed (a late run): valid at once
	}
	created, err := f.cfg.Passes.IssueScheduled(ctx, bot.ScheduledPass{
		RequestID: fmt.Sprintf("%s:pass:%d", h.RequestID, h.Attempt), UserID: h.UserID,
		UPN: h.UPN, Lifetime: f.cfg.StartDayTAPLifetime, Start: start,
		To: ref, Reason: "start-day pass for the manager " + h.ManagerID,
	})
	if err != nil {
		return notSent(store.OutcomeFailed, "not_issued", "The pass for "+manager+" was not issued: "+strings.TrimPrefix(err.Error(), bot.ErrPassNotIssued.Error()+": "))
	}
	entry.Outcome, entry.MethodID, entry.Expires, entry.Reason = store.OutcomeAllowed, created.ID, created.Expires(), "manager "+h.ManagerID
	f.audit(ctx, entry)
	valid := "now"
	if !start.IsZero() {
		valid = "from " + cards.StartText(start)
	}
	return fmt.Sprintf("New hire %s (%s) starts today. tapbot sent their Temporary Access Pass to %s in a private chat, valid %s until %s. Nobody else sees it.",
		h.DisplayName, h.UPN, manager, valid, cards.StartText(created.Expires().In(f.cfg.Location))), ""
}

func (f *Flow) startDayCard(h hire, why string) cards.Card {
	path := "Microsoft Authenticator on their phone, then Windows Hello"
	if h.SecurityKey {
		path = "a FIDO2 security key (no smartphone), then Windows Hello"
	}
	body := []cards.Element{
		cards.RichText{Runs: []cards.TextRun{{Text: "New hire " + h.DisplayName + " starts today", Size: "Medium", Weight: "Bolder"}}},
		cards.RichText{Runs: []cards.TextRun{{Text: "Sign-in name: ", Weight: "Bolder"}, {Text: h.UPN}}},
		cards.RichText{Runs: []cards.TextRun{{Text: "Manager: ", Weight: "Bolder"}, {Text: h.ManagerName}}},
		cards.RichText{Runs: []cards.TextRun{{Text: "Sets up: ", Weight: "Bolder"}, {Text: path}}},
	}
	if why != "" {
		body = append(body, cards.RichText{Runs: []cards.TextRun{{Text: "Not sent to the manager: ", Weight: "Bolder"}, {Text: why}}})
	}
	body = append(body, cards.TextBlock{Text: "Issue TAP sends a Temporary Access Pass privately to whoever clicks it (helpdesk only).", Subtle: true, Wrap: true})
	return cards.Card{
		Body: body,
		// The TAP flow's own button: every /tap check runs for whoever clicks, the
		// lifetime is the tenant policy's default, and the pass goes to their 1:1 chat.
		Actions: []cards.Action{cards.Execute{Title: "Issue TAP", Verb: cards.VerbIssueTAP, Style: "positive", Data: cards.IssueTAPData{
			User: h.UPN, Reason: "start day, " + h.RequestID, Nonce: cards.NewNonce(),
		}}},
	}
}

// RunOnce is one round of RunJobs: resume interrupted provisioning, find joiners,
// run due jobs.
func (f *Flow) RunOnce(ctx context.Context) {
	f.resumeStale(ctx)
	f.discoverJoiners(ctx)
	if n, err := f.RunDueJobs(ctx); err != nil {
		f.log.Error("onboarding jobs failed", zap.Error(err))
	} else if n > 0 {
		f.log.Info("onboarding jobs done", zap.Int("count", n))
	}
}
