package onboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/bot/command"
	"github.com/tapbot/tapbot/cards"
	"slices"
	"strings"
	"time"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// Joiners are users HR-driven provisioning (Workday, SuccessFactors, API-driven
// inbound provisioning) created with an employeeHireDate: tapbot never saw an
// /onboard request for them. Each one in the joiner groups whose hire date falls in
// the look-ahead gets what an /onboard hire gets from the account step on: the
// start-day card or pass, the checklist and its reminders.
//
// Once per user, across restarts and replicas: finding a joiner schedules the job
// "joiner:<user id>", and ScheduleJob of an id that exists (done or not) does
// nothing. That job, run by whichever replica claims it, takes the joiner on.
const (
	KindJoiner         = "joiner.takeon"
	KindJoinerStartDay = "joiner.startday"
)

// joinerPayload is a joiner as found; ViaOnboard marks a user /onboard created (the
// job is done at once: that user has its own start-day job and checklist).
type joinerPayload struct {
	UserID      string    `json:"userId"`
	UPN         string    `json:"upn"`
	DisplayName string    `json:"displayName"`
	HireDate    time.Time `json:"hireDate"`
	ViaOnboard  bool      `json:"viaOnboard,omitempty"`
}

func joinerJobID(userID string) string { return KindJoiner + ":" + strings.ToLower(userID) }

// joinersOn reports whether discovery runs: joiner groups are configured.
func (f *Flow) joinersOn() bool { return len(f.cfg.JoinerGroups) > 0 }

// joinerGroups are the groups a joiner must be in (transitively).
func (f *Flow) joinerGroups() []string {
	out := slices.Clone(f.cfg.OnboardingGroups)
	for _, g := range f.cfg.JoinerGroups {
		if !slices.ContainsFunc(out, func(h string) bool { return strings.EqualFold(g, h) }) {
			out = append(out, g)
		}
	}
	return out
}

// Upcoming lists the users in the joiner groups whose hire date lies within the
// look-ahead, soonest first.
func (f *Flow) Upcoming(ctx context.Context) ([]graph.Joiner, error) {
	now := f.cfg.Now()
	all, err := f.dir.Joiners(ctx, now.Add(-24*time.Hour), now.Add(f.cfg.JoinerLookahead))
	if err != nil {
		return nil, fmt.Errorf("list joiners: %w", err)
	}
	groups := f.joinerGroups()
	var out []graph.Joiner
	for _, j := range all {
		// checkMemberGroups takes 20 ids at a time; tapbot's group lists are short.
		in, err := f.dir.CheckMemberGroups(ctx, j.ID, groups[:min(len(groups), 20)])
		if err != nil {
			return nil, fmt.Errorf("groups of joiner %s: %w", j.ID, err)
		}
		if len(in) > 0 {
			out = append(out, j)
		}
	}
	slices.SortFunc(out, func(a, b graph.Joiner) int { return a.HireDate.Compare(b.HireDate) })
	return out, nil
}

// discoverJoiners schedules the take-on of every upcoming joiner not seen before. It
// runs at most every JoinerInterval in this process; other replicas may run it too,
// which schedules nothing twice.
func (f *Flow) discoverJoiners(ctx context.Context) {
	now := f.cfg.Now()
	if !f.joinersOn() || now.Before(f.nextDiscovery) {
		return
	}
	f.nextDiscovery = now.Add(f.cfg.JoinerInterval)
	joiners, err := f.Upcoming(ctx)
	if err != nil {
		f.log.Error("joiner discovery failed; next round retries", zap.Error(err))
		return
	}
	for _, j := range joiners {
		payload, _ := json.Marshal(joinerPayload{UserID: j.ID, UPN: j.UserPrincipalName, DisplayName: j.DisplayName, HireDate: j.HireDate})
		if _, err := f.store.ScheduleJob(ctx, store.Job{ID: joinerJobID(j.ID), Kind: KindJoiner, Payload: payload, DueAt: now}); err != nil {
			f.log.Error("joiner not scheduled", zap.String("user", j.ID), zap.Error(err))
		}
	}
}

// markOnboarded records that /onboard took userID on, so that discovery, which will
// see its employeeHireDate, leaves it alone.
func (f *Flow) markOnboarded(ctx context.Context, log *zap.Logger, userID string) {
	payload, _ := json.Marshal(joinerPayload{UserID: userID, ViaOnboard: true})
	id, now := joinerJobID(userID), f.cfg.Now()
	// Scheduled and done at once: the id is taken, and no runner ever claims it.
	if _, err := f.store.ScheduleJob(ctx, store.Job{ID: id, Kind: KindJoiner, Payload: payload, DueAt: now}); err != nil {
		log.Error("onboarded user not marked; joiner discovery may announce it twice", zap.Error(err))
		return
	}
	if err := f.store.CompleteJob(ctx, id, now); err != nil {
		log.Error("onboarded user's mark not completed", zap.Error(err))
	}
}

// takeOn gives a joiner the start-day job and the checklist (with its reminders).
func (f *Flow) takeOn(ctx context.Context, j store.Job) error {
	var p joinerPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.UserID == "" {
		f.log.Error("joiner job with a bad payload dropped", zap.String("job", j.ID))
		return nil
	}
	manager, err := f.dir.Manager(ctx, p.UserID)
	if err != nil && !errors.Is(err, graph.ErrNotFound) {
		return fmt.Errorf("manager of %s: %w", p.UserID, err)
	}
	if f.cfg.HelpdeskConversation != "" {
		payload, _ := json.Marshal(p)
		due := f.startDayAt(p.HireDate.In(f.cfg.Location))
		if _, err := f.store.ScheduleJob(ctx, store.Job{ID: KindJoinerStartDay + ":" + strings.ToLower(p.UserID), Kind: KindJoinerStartDay, Payload: payload, DueAt: due}); err != nil {
			return fmt.Errorf("schedule start day: %w", err)
		}
	}
	if f.cfg.Checklist != nil {
		if err := f.cfg.Checklist.Begin(ctx, p.UserID, p.UPN, manager.ID, j.ID, false); err != nil {
			return fmt.Errorf("begin checklist: %w", err)
		}
	}
	f.audit(ctx, store.AuditEntry{RequestID: j.ID, RequesterID: store.RequesterTapbot, TargetID: p.UserID, TargetUPN: p.UPN,
		Action: store.ActionJoinerFound, Outcome: store.OutcomeAllowed, Reason: "hire_date_" + p.HireDate.In(f.cfg.Location).Format(dateLayout)})
	return nil
}

// joinerStartDay announces a joiner on the start day: the pass to the manager, or
// the helpdesk's Issue TAP card.
func (f *Flow) joinerStartDay(ctx context.Context, j store.Job) error {
	var p joinerPayload
	if err := json.Unmarshal(j.Payload, &p); err != nil || p.UserID == "" {
		f.log.Error("joiner start-day job with a bad payload dropped", zap.String("job", j.ID))
		return nil
	}
	u, err := f.dir.User(ctx, p.UserID)
	if errors.Is(err, graph.ErrNotFound) {
		return nil // gone before the start: nobody to announce
	}
	if err != nil {
		return err
	}
	manager, err := f.dir.Manager(ctx, p.UserID)
	if err != nil && !errors.Is(err, graph.ErrNotFound) {
		return fmt.Errorf("manager of %s: %w", p.UserID, err)
	}
	return f.announce(ctx, hire{RequestID: j.ID, UserID: u.ID, UPN: u.UserPrincipalName, DisplayName: u.DisplayName,
		ManagerID: manager.ID, ManagerName: manager.DisplayName, Start: p.HireDate})
}

// onJoiners is /joiners: the helpdesk's view of who an HR system created and starts
// soon, taken on by tapbot without anybody's request.
func (f *Flow) onJoiners(ctx context.Context, t *bot.Turn, _ command.Command) error {
	if !f.joinersOn() {
		return t.ReplyText(ctx, "Joiners are off: set TAPBOT_JOINER_GROUPS to the groups HR-created accounts join.")
	}
	t.Later(func(ctx context.Context) {
		if err := f.listJoiners(ctx, t); err != nil {
			t.Log().Error("/joiners failed", zap.Error(err))
			_ = t.ReplyText(ctx, "Sorry, I couldn't list the joiners. Reference: "+t.RequestID())
		}
	})
	return nil
}

func (f *Flow) listJoiners(ctx context.Context, t *bot.Turn) error {
	helpdesk, err := f.members.IsMember(ctx, t.Activity().From.AadObjectID, f.cfg.HelpdeskGroups)
	if err != nil {
		return err
	}
	if !helpdesk {
		return t.ReplyText(ctx, "Only members of the helpdesk group can list joiners.")
	}
	js, err := f.Upcoming(ctx)
	if err != nil {
		return err
	}
	rows := make([]cards.JoinerRow, len(js))
	for i, j := range js {
		rows[i] = cards.JoinerRow{Name: j.DisplayName, UPN: j.UserPrincipalName, Starts: j.HireDate}
	}
	days := int(f.cfg.JoinerLookahead / (24 * time.Hour))
	return t.ReplyCard(ctx, cards.Joiners(rows, fmt.Sprintf("%d days", days), t.Times()))
}
