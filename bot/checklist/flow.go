package checklist

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/bot/command"
	"github.com/tapbot/tapbot/bot/membership"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/every"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// Directory is what the checklist reads from Microsoft Graph.
type Directory interface {
	User(ctx context.Context, ref string) (graph.User, error)
	CheckMemberGroups(ctx context.Context, userID string, groupIDs []string) ([]string, error)
	Methods(ctx context.Context, userID string) ([]graph.Method, error)
	TAPs(ctx context.Context, userID string) ([]graph.TAP, error)
	RegisteredDevices(ctx context.Context, userID string) ([]graph.Device, error)
	InstallAppForUser(ctx context.Context, userID, catalogAppID string) (graph.AppInstallation, error)
}

// Messenger sends through the Bot Connector.
type Messenger interface {
	SendToConversation(ctx context.Context, serviceURL, conversationID string, a schema.Activity) (string, error)
	UpdateActivity(ctx context.Context, serviceURL, conversationID, activityID string, a schema.Activity) error
}

// Store is the durable state the checklist uses.
type Store interface {
	CreateChecklist(ctx context.Context, c store.Checklist) error
	Checklist(ctx context.Context, userID string) (store.Checklist, error)
	UpdateChecklist(ctx context.Context, c store.Checklist) (store.Checklist, error)
	OpenChecklists(ctx context.Context, limit int) ([]store.Checklist, error)
	PersonalReference(ctx context.Context, tenantID, userAADObjectID string) (store.Reference, error)
	Reference(ctx context.Context, conversationID string) (store.Reference, error)
	AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error)
	Claim(ctx context.Context, key string, at time.Time) (bool, error)
}

// Config configures the checklist flow.
type Config struct {
	TenantID             string
	HelpdeskGroups       []string // may start a checklist with /checklist
	HelpdeskConversation string   // where "I'm stuck" cards go
	// CatalogAppID is tapbot's id in the tenant's Teams app catalog: installing the app
	// for the hire lets the bot message them first. Empty: wait until they open it.
	CatalogAppID string
	Content      Content
	// RemindAfter is how long after the start an unfinished checklist nudges the hire,
	// and twice that, the manager (default 48h; negative turns reminders off).
	RemindAfter time.Duration
	// StuckInterval is how long one "I'm stuck" card per hire and step stands for
	// further presses, which update it instead of posting another (default 30m).
	StuckInterval time.Duration
	Now           func() time.Time
}

// Flow is the new hire's guided checklist.
type Flow struct {
	cfg     Config
	dir     Directory
	msg     Messenger
	store   Store
	log     *zap.Logger
	members *membership.Checker
}

// New builds the flow.
func New(cfg Config, dir Directory, msg Messenger, st Store, log *zap.Logger) *Flow {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if len(cfg.Content.Steps) == 0 {
		cfg.Content = DefaultContent()
	}
	if cfg.RemindAfter == 0 {
		cfg.RemindAfter = 48 * time.Hour
	}
	if cfg.StuckInterval <= 0 {
		cfg.StuckInterval = 30 * time.Minute
	}
	return &Flow{cfg: cfg, dir: dir, msg: msg, store: st, log: log, members: membership.New(dir, 0, cfg.Now)}
}

// Register adds /checklist and the card actions.
func (f *Flow) Register(h *bot.Handler) {
	h.HandleCommand(bot.Command{
		Name: "checklist", Usage: "/checklist user [nophone]",
		Scopes:      []store.Scope{store.ScopePersonal, store.ScopeGroupChat, store.ScopeChannel},
		Description: "Send a new hire the passwordless set-up checklist (helpdesk).",
		Run:         f.onChecklist,
	})
	h.HandleAction(cards.ChecklistRefreshVerb, f.onRefresh)
	h.HandleAction(cards.ChecklistClaimVerb, f.onClaim)
	h.HandleAction(cards.ChecklistStuckVerb, f.onStuck)
	h.OnPersonalInstall(f.onInstalled)
}

// onInstalled sends a waiting checklist as soon as its hire first opens tapbot in
// Teams, rather than at the next background run up to a minute later.
func (f *Flow) onInstalled(ctx context.Context, userID string) {
	_, err := f.deliver(ctx, userID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		f.log.Warn("checklist not delivered at install; the next run retries", zap.String("user", userID), zap.Error(err))
	}
}

// onChecklist starts a checklist for a user: it is sent as soon as tapbot can reach
// them (now if they have a chat with the bot, else after the app is installed for them
// and they open Teams).
func (f *Flow) onChecklist(ctx context.Context, t *bot.Turn, c command.Command) error {
	if len(c.Args) < 1 || len(c.Args) > 2 || (len(c.Args) == 2 && !strings.EqualFold(c.Args[1], "nophone")) {
		return t.ReplyText(ctx, "Usage: /checklist user@contoso.com [nophone]")
	}
	ref, err := command.ParseUser(c.Args[0])
	if err != nil {
		return t.ReplyText(ctx, err.Error())
	}
	noPhone := len(c.Args) == 2
	t.Later(func(ctx context.Context) {
		text, err := f.start(ctx, t, ref, noPhone)
		if err != nil {
			t.Log().Error("checklist start failed", zap.Error(err))
			text = graph.Explain(err) + " Reference: " + t.RequestID()
		}
		_ = t.ReplyText(ctx, text)
	})
	return nil
}

func (f *Flow) start(ctx context.Context, t *bot.Turn, ref string, noPhone bool) (string, error) {
	requester := t.Activity().From.AadObjectID
	ok, err := f.members.IsMember(ctx, requester, f.cfg.HelpdeskGroups)
	if err != nil {
		return "", err
	}
	if !ok {
		return "Only members of the helpdesk group can start a checklist.", nil
	}
	u, err := f.dir.User(ctx, ref)
	if errors.Is(err, graph.ErrNotFound) {
		return fmt.Sprintf("I can't find %s in this tenant.", ref), nil
	}
	if err != nil {
		return "", err
	}
	switch err := f.begin(ctx, u.ID, u.UserPrincipalName, "", t.RequestID(), requester, noPhone); {
	case errors.Is(err, store.ErrConflict):
		return fmt.Sprintf("%s already has a checklist.", u.UserPrincipalName), nil
	case err != nil:
		return "", err
	}
	c, err := f.store.Checklist(ctx, u.ID)
	if err != nil {
		return "", err
	}
	if c.ConversationID != "" {
		return fmt.Sprintf("I've sent %s the checklist.", u.UserPrincipalName), nil
	}
	return fmt.Sprintf("I'll send %s the checklist as soon as they open Teams.", u.UserPrincipalName), nil
}

// Begin starts the checklist of a user whose account onboarding just created; the
// manager gets a copy. A user who already has one keeps it.
func (f *Flow) Begin(ctx context.Context, userID, upn, managerID, requestID string, noSmartphone bool) error {
	err := f.begin(ctx, userID, upn, managerID, requestID, "", noSmartphone)
	if errors.Is(err, store.ErrConflict) {
		return nil
	}
	return err
}

// begin records the checklist, installs tapbot for the hire (so the bot may write
// first) and sends the card if the hire's chat is already known.
func (f *Flow) begin(ctx context.Context, userID, upn, managerID, requestID, requester string, noPhone bool) error {
	now := f.cfg.Now()
	p, err := json.Marshal(NewProgress(f.cfg.Content.Path(noPhone)))
	if err != nil {
		return err
	}
	c := store.Checklist{UserID: userID, UserUPN: upn, ManagerID: managerID, RequestID: requestID, NoSmartphone: noPhone,
		Progress: p, StartedAt: now, UpdatedAt: now}
	if err := f.store.CreateChecklist(ctx, c); err != nil {
		return fmt.Errorf("create checklist: %w", err)
	}
	f.audit(ctx, store.AuditEntry{RequestID: requestID, RequesterID: requester, TargetID: userID,
		TargetUPN: upn, Action: store.ActionChecklistStart, Outcome: store.OutcomeAllowed})
	if f.cfg.CatalogAppID != "" {
		if _, err := f.dir.InstallAppForUser(ctx, userID, f.cfg.CatalogAppID); err != nil {
			f.log.Warn("installing tapbot for the new hire failed; the checklist waits until they open it", zap.Error(err))
		}
	}
	_, err = f.deliver(ctx, userID)
	return err
}

// deliver sends the checklist card to the hire's 1:1 chat if tapbot knows it and has
// not sent it yet. It reports whether the card is (now) in the chat.
func (f *Flow) deliver(ctx context.Context, userID string) (bool, error) {
	c, err := f.store.Checklist(ctx, userID)
	if err != nil {
		return false, err
	}
	if c.ConversationID != "" {
		return true, nil
	}
	ref, err := f.store.PersonalReference(ctx, f.cfg.TenantID, userID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	c, _, err = f.check(ctx, c)
	if err != nil {
		return false, err
	}
	a, err := f.activity(c, ref)
	if err != nil {
		return false, err
	}
	id, err := f.msg.SendToConversation(ctx, ref.ServiceURL, ref.ConversationID, a)
	if err != nil {
		return false, fmt.Errorf("send checklist: %w", err)
	}
	if id == "" {
		// Delivered, but the connector gave no id: the card cannot be updated in place;
		// refreshing it (Action.Execute) still works.
		f.log.Warn("checklist card sent without an activity id", zap.String("user", c.UserID))
	}
	c.ConversationID, c.ActivityID, c.UpdatedAt = ref.ConversationID, id, f.cfg.Now()
	saved, err := f.store.UpdateChecklist(ctx, c)
	if err != nil {
		return true, fmt.Errorf("record checklist delivery: %w", err)
	}
	f.copyToManager(ctx, saved)
	return true, nil
}

// copyToManager shows the manager what their new hire sees, read-only, when the
// manager has a chat with the bot.
func (f *Flow) copyToManager(ctx context.Context, c store.Checklist) {
	if c.ManagerID == "" {
		return
	}
	ref, err := f.store.PersonalReference(ctx, f.cfg.TenantID, c.ManagerID)
	if err != nil {
		return // no chat with the manager yet; the copy is a courtesy
	}
	v, err := f.view(c, "")
	if err != nil {
		return
	}
	raw, err := json.Marshal(cards.ChecklistCopy(v))
	if err != nil {
		return
	}
	if _, err := f.msg.SendToConversation(ctx, ref.ServiceURL, ref.ConversationID, bot.Addressed(bot.CardActivity(raw), ref)); err != nil {
		f.log.Warn("manager's copy of the checklist not sent", zap.Error(err))
	}
}

// check asks Graph what the hire has set up and applies it to the progress. It
// reports whether anything changed.
func (f *Flow) check(ctx context.Context, c store.Checklist) (store.Checklist, bool, error) {
	p, err := decodeProgress(c)
	if err != nil {
		return c, false, err
	}
	methods, err := f.dir.Methods(ctx, c.UserID)
	if err != nil {
		return c, false, err
	}
	taps, err := f.dir.TAPs(ctx, c.UserID)
	if err != nil {
		return c, false, err
	}
	devices, err := f.dir.RegisteredDevices(ctx, c.UserID)
	if err != nil && !errors.Is(err, graph.ErrForbidden) {
		// Reading devices app-only is not documented as supported: without it the
		// laptop step is ticked by Windows Hello instead.
		return c, false, err
	}
	now := f.cfg.Now()
	next := Apply(p, EvidenceFrom(methods, taps, devices, now), now)
	changed := !sameProgress(p, next)
	if changed {
		raw, err := json.Marshal(next)
		if err != nil {
			return c, false, err
		}
		c.Progress = raw
		if Done(next) && c.DoneAt.IsZero() {
			c.DoneAt = now
		}
	}
	return c, changed, nil
}

func sameProgress(a, b Progress) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

func decodeProgress(c store.Checklist) (Progress, error) {
	var p Progress
	if err := json.Unmarshal(c.Progress, &p); err != nil {
		return Progress{}, fmt.Errorf("checklist of %s: decode progress: %w", c.UserID, err)
	}
	return p, nil
}

// view renders a checklist for its card.
func (f *Flow) view(c store.Checklist, refreshFor string) (cards.ChecklistView, error) {
	p, err := decodeProgress(c)
	if err != nil {
		return cards.ChecklistView{}, err
	}
	v := cards.ChecklistView{RequestID: c.RequestID, Times: cards.ViewerTimes(), Welcome: f.cfg.Content.Welcome, HireUPN: c.UserUPN,
		Current: Next(p), CheckedAt: c.UpdatedAt}
	if refreshFor != "" {
		v.RefreshUserIDs = []string{refreshFor}
	}
	for _, s := range p.Steps {
		text, _ := f.cfg.Content.Step(s.ID)
		links := make([]cards.ChecklistLink, len(text.Links))
		for i, l := range text.Links {
			links[i] = cards.ChecklistLink{Title: l.Title, URL: l.URL}
		}
		v.Steps = append(v.Steps, cards.ChecklistStep{ID: s.ID, Title: text.Title, Body: text.Body, Why: text.Why,
			Stuck: text.Stuck, Links: links, Status: cards.ChecklistStatus(s.Status), DoneAt: s.DoneAt})
	}
	return v, nil
}

func (f *Flow) card(c store.Checklist, refreshFor string) (cards.Card, error) {
	v, err := f.view(c, refreshFor)
	if err != nil {
		return cards.Card{}, err
	}
	card := cards.Checklist(v)
	r := cards.ChecklistRefresh(v)
	card.Refresh = &r
	return card, nil
}

func (f *Flow) activity(c store.Checklist, ref store.Reference) (schema.Activity, error) {
	var conv schema.ConversationReference
	_ = json.Unmarshal(ref.Raw, &conv) // best effort: the user id lets the card refresh itself
	card, err := f.card(c, conv.User.ID)
	if err != nil {
		return schema.Activity{}, err
	}
	raw, err := json.Marshal(card)
	if err != nil {
		return schema.Activity{}, err
	}
	a := bot.CardActivity(raw)
	a.Text = f.cfg.Content.Welcome
	return bot.Addressed(a, ref), nil
}

// ownChecklist returns the checklist of whoever pressed a button: only the hire acts
// on their own checklist, whatever the card's data says.
// It also returns the button's step.
func (f *Flow) ownChecklist(ctx context.Context, t *bot.Turn, data map[string]any) (store.Checklist, string, *cards.Card, error) {
	d, err := bot.Decode[cards.ChecklistData](data)
	if err != nil {
		n := cards.Notice("That card is not valid", "Your current checklist is in your chat with me.")
		return store.Checklist{}, "", &n, nil
	}
	c, err := f.store.Checklist(ctx, t.Activity().From.AadObjectID)
	if errors.Is(err, store.ErrNotFound) {
		n := cards.Notice("No checklist", "There is no set-up checklist for you.")
		return c, "", &n, nil
	}
	if err != nil {
		return c, "", nil, err
	}
	if d.RequestID != c.RequestID {
		n := cards.Notice("This card is out of date", "Your current checklist is in your chat with me.")
		return c, "", &n, nil
	}
	return c, d.Step, nil, nil
}

func (f *Flow) onRefresh(ctx context.Context, t *bot.Turn, data map[string]any) (*cards.Card, error) {
	c, _, answer, err := f.ownChecklist(ctx, t, data)
	if answer != nil || err != nil {
		return answer, err
	}
	c, changed, err := f.check(ctx, c)
	if err != nil {
		return nil, err
	}
	if changed {
		c.UpdatedAt = f.cfg.Now()
		if c, err = f.store.UpdateChecklist(ctx, c); err != nil {
			return nil, err
		}
	}
	card, err := f.card(c, t.Activity().From.ID)
	return &card, err
}

func (f *Flow) onClaim(ctx context.Context, t *bot.Turn, data map[string]any) (*cards.Card, error) {
	c, step, answer, err := f.ownChecklist(ctx, t, data)
	if answer != nil || err != nil {
		return answer, err
	}
	p, err := decodeProgress(c)
	if err != nil {
		return nil, err
	}
	next, err := Claim(p, step, f.cfg.Now())
	if errors.Is(err, ErrUnknownStep) {
		n := cards.Notice("Unknown step", "Refresh the checklist and try again.")
		return &n, nil
	}
	if err != nil {
		return nil, err
	}
	if c.Progress, err = json.Marshal(next); err != nil {
		return nil, err
	}
	c.UpdatedAt = f.cfg.Now()
	if c, err = f.store.UpdateChecklist(ctx, c); err != nil {
		return nil, err
	}
	card, err := f.card(c, t.Activity().From.ID)
	return &card, err
}

// onStuck tells the helpdesk channel who is stuck where and what Graph shows, with a
// button that issues a fresh pass through every /tap check.
func (f *Flow) onStuck(ctx context.Context, t *bot.Turn, data map[string]any) (*cards.Card, error) {
	c, step, answer, err := f.ownChecklist(ctx, t, data)
	if answer != nil || err != nil {
		return answer, err
	}
	if f.cfg.HelpdeskConversation == "" {
		n := cards.Notice("Call the helpdesk", "tapbot has no helpdesk channel configured: please call or message the helpdesk.")
		return &n, nil
	}
	text, ok := f.cfg.Content.Step(step)
	if !ok {
		n := cards.Notice("Unknown step", "Refresh the checklist and try again.")
		return &n, nil
	}
	p, err := decodeProgress(c)
	if err != nil {
		return nil, err
	}
	ref, err := f.store.Reference(ctx, f.cfg.HelpdeskConversation)
	if err != nil {
		return nil, fmt.Errorf("helpdesk conversation: %w", err)
	}
	i := slices.IndexFunc(p.Steps, func(s StepState) bool { return s.ID == step })
	if i < 0 {
		n := cards.Notice("Unknown step", "Refresh the checklist and try again.")
		return &n, nil
	}
	now := f.cfg.Now()
	knows := cards.Notice("The helpdesk already knows", "You told the helpdesk about this step a moment ago; I've reminded them. They will contact you; keep your phone at hand.")
	view := func(s StepState) cards.StuckView { return f.stuckView(c, p, text, s) }
	// One card per hire and step per interval, durably: the slot is taken in the
	// checklist (compare-and-set on its version) before the card is posted, so a
	// concurrent or repeated press finds it and updates that card instead.
	if s := p.Steps[i]; !s.StuckAt.IsZero() && now.Sub(s.StuckAt) < f.cfg.StuckInterval {
		s.StuckAgain, s.StuckLastAt = s.StuckAgain+1, now
		if s.StuckActivity != "" {
			if err := f.postStuck(ctx, ref, view(s), s.StuckActivity); err != nil {
				f.log.Warn("stuck card not updated", zap.String("user", c.UserID), zap.Error(err))
			} else if _, err := f.saveStep(ctx, c, p, i, s); err != nil && !errors.Is(err, store.ErrConflict) {
				return nil, err
			}
		}
		f.audit(ctx, store.AuditEntry{RequestID: t.RequestID(), RequesterID: c.UserID, TargetID: c.UserID, TargetUPN: c.UserUPN,
			Action: store.ActionChecklistStuck, Outcome: store.OutcomeRefused, Reason: "already_told: " + step})
		return &knows, nil
	}
	s := p.Steps[i]
	s.StuckAt, s.StuckActivity, s.StuckNonce, s.StuckAgain, s.StuckLastAt, s.StuckHandler = now, "", cards.NewNonce(), 0, time.Time{}, ""
	c, err = f.saveStep(ctx, c, p, i, s)
	if errors.Is(err, store.ErrConflict) {
		return &knows, nil // another press took the slot meanwhile
	}
	if err != nil {
		return nil, err
	}
	id, err := f.postStuckNew(ctx, ref, view(s))
	if err != nil {
		// Free the slot so that the next press tries again.
		if p, derr := decodeProgress(c); derr == nil {
			free := p.Steps[i]
			free.StuckAt, free.StuckActivity, free.StuckNonce = time.Time{}, "", ""
			if _, serr := f.saveStep(ctx, c, p, i, free); serr != nil {
				f.log.Warn("stuck slot not freed", zap.String("user", c.UserID), zap.Error(serr))
			}
		}
		return nil, fmt.Errorf("post stuck card: %w", err)
	}
	s.StuckActivity = id
	if p, err := decodeProgress(c); err == nil {
		if _, err := f.saveStep(ctx, c, p, i, s); err != nil {
			// The card is posted; later presses just can't update it and say so.
			f.log.Warn("stuck card id not recorded", zap.String("user", c.UserID), zap.Error(err))
		}
	}
	f.audit(ctx, store.AuditEntry{RequestID: t.RequestID(), RequesterID: c.UserID, TargetID: c.UserID, TargetUPN: c.UserUPN,
		Action: store.ActionChecklistStuck, Outcome: store.OutcomeAllowed, Reason: step})
	n := cards.Notice("The helpdesk knows", "I've told the helpdesk where you are stuck. They will contact you; keep your phone at hand.")
	return &n, nil
}

// stuckView is the helpdesk's card for step s of c's progress p.
func (f *Flow) stuckView(c store.Checklist, p Progress, text StepText, s StepState) cards.StuckView {
	var shows []string
	for _, st := range p.Steps {
		if st.Status != StatusTodo {
			t, _ := f.cfg.Content.Step(st.ID)
			shows = append(shows, t.Title+": "+string(st.Status))
		}
	}
	return cards.StuckView{Times: cards.ViewerTimes(), HireUPN: c.UserUPN, StepTitle: text.Title, Hint: text.Stuck, GraphShows: shows,
		At: s.StuckAt, Again: s.StuckAgain, LastAt: s.StuckLastAt, Handler: s.StuckHandler,
		IssueData: cards.IssueTAPData{User: c.UserUPN, Reason: "stuck at " + s.ID, Nonce: s.StuckNonce, Hire: c.UserID, Step: s.ID}}
}

// StuckCard rebuilds the stuck card whose "Issue new TAP" button carried d, saying
// who is handling it, and records the first handler on the step so that later
// updates of the card keep saying so. The TAP flow answers the button with it: the
// answer replaces the card for everyone in the channel, and a bare notice would take
// the hire's details and "Message them" away. nil when d matches no stuck card.
func (f *Flow) StuckCard(ctx context.Context, d cards.IssueTAPData, handler string) (*cards.Card, error) {
	if d.Hire == "" || d.Step == "" {
		return nil, nil
	}
	c, err := f.store.Checklist(ctx, d.Hire)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checklist: %w", err)
	}
	p, err := decodeProgress(c)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(p.Steps, func(s StepState) bool { return s.ID == d.Step })
	text, known := f.cfg.Content.Step(d.Step)
	// The nonce is the card's: an older card of the same step, or forged data, gets nothing.
	if i < 0 || !known || p.Steps[i].StuckNonce == "" || p.Steps[i].StuckNonce != d.Nonce {
		return nil, nil
	}
	s := p.Steps[i]
	if s.StuckHandler == "" {
		s.StuckHandler = handler
		// A conflict means the checklist moved on meanwhile; the card still shows the
		// handler, and the next press records it.
		if _, err := f.saveStep(ctx, c, p, i, s); err != nil && !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
	}
	card := cards.Stuck(f.stuckView(c, p, text, s))
	return &card, nil
}

// saveStep writes step i of p as s into c (compare-and-set on c.Version) and
// returns the stored checklist.
func (f *Flow) saveStep(ctx context.Context, c store.Checklist, p Progress, i int, s StepState) (store.Checklist, error) {
	p = p.clone()
	p.Steps[i] = s
	raw, err := json.Marshal(p)
	if err != nil {
		return c, err
	}
	c.Progress = raw
	return f.store.UpdateChecklist(ctx, c)
}

func (f *Flow) postStuckNew(ctx context.Context, ref store.Reference, v cards.StuckView) (string, error) {
	raw, err := json.Marshal(cards.Stuck(v))
	if err != nil {
		return "", err
	}
	return f.msg.SendToConversation(ctx, ref.ServiceURL, ref.ConversationID, bot.Addressed(bot.CardActivity(raw), ref))
}

func (f *Flow) postStuck(ctx context.Context, ref store.Reference, v cards.StuckView, activityID string) error {
	raw, err := json.Marshal(cards.Stuck(v))
	if err != nil {
		return err
	}
	return f.msg.UpdateActivity(ctx, ref.ServiceURL, ref.ConversationID, activityID, bot.Addressed(bot.CardActivity(raw), ref))
}

// RunChecks delivers checklists that could not be sent yet and updates the cards of
// open ones from Graph. It is durable: everything it needs is in the store.
func (f *Flow) RunChecks(ctx context.Context) error {
	open, err := f.store.OpenChecklists(ctx, 50)
	if err != nil {
		return fmt.Errorf("open checklists: %w", err)
	}
	for _, c := range open {
		if c.ConversationID == "" {
			if _, err := f.deliver(ctx, c.UserID); err != nil {
				f.log.Warn("checklist not delivered yet", zap.String("user", c.UserID), zap.Error(err))
			}
			continue
		}
		f.remind(ctx, c)
		next, changed, err := f.check(ctx, c)
		if err != nil {
			f.log.Warn("checklist check failed", zap.String("user", c.UserID), zap.Error(err))
			continue
		}
		if !changed {
			continue
		}
		next.UpdatedAt = f.cfg.Now()
		saved, err := f.store.UpdateChecklist(ctx, next)
		if err != nil {
			f.log.Warn("checklist not saved", zap.String("user", c.UserID), zap.Error(err))
			continue
		}
		ref, err := f.store.PersonalReference(ctx, f.cfg.TenantID, c.UserID)
		if err != nil || saved.ActivityID == "" {
			continue
		}
		a, err := f.activity(saved, ref)
		if err != nil {
			continue
		}
		if err := f.msg.UpdateActivity(ctx, ref.ServiceURL, saved.ConversationID, saved.ActivityID, a); err != nil {
			f.log.Warn("checklist card not updated", zap.String("user", c.UserID), zap.Error(err))
		}
	}
	return nil
}

// remind nudges the hire once after RemindAfter, and the manager once after twice
// that, while the checklist is unfinished. Claims make each nudge happen once, also
// across restarts and replicas.
func (f *Flow) remind(ctx context.Context, c store.Checklist) {
	if f.cfg.RemindAfter < 0 {
		return
	}
	p, err := decodeProgress(c)
	if err != nil {
		return
	}
	step, _ := f.cfg.Content.Step(Next(p))
	now := f.cfg.Now()
	send := func(key, userID, text string) {
		ref, err := f.store.PersonalReference(ctx, f.cfg.TenantID, userID)
		if err != nil {
			return // not reachable yet: try again next run, unclaimed
		}
		first, err := f.store.Claim(ctx, key, now)
		if err != nil || !first {
			return
		}
		a := bot.Addressed(schema.Activity{Type: schema.Message, Text: text, TextFormat: schema.PLAIN}, ref)
		if _, err := f.msg.SendToConversation(ctx, ref.ServiceURL, ref.ConversationID, a); err != nil {
			f.log.Warn("checklist reminder not sent", zap.String("key", key), zap.Error(err))
		}
	}
	if now.After(c.StartedAt.Add(f.cfg.RemindAfter)) {
		send("checklist.remind.hire:"+c.UserID, c.UserID,
			"A reminder: your sign-in set-up isn't finished yet. Next: "+step.Title+". If you're stuck, press \"I'm stuck\" on your checklist and the helpdesk will help.")
	}
	if c.ManagerID != "" && now.After(c.StartedAt.Add(2*f.cfg.RemindAfter)) {
		send("checklist.remind.manager:"+c.UserID, c.ManagerID,
			c.UserUPN+" hasn't finished the sign-in set-up yet (next step: "+step.Title+"). You may want to check in with them or the helpdesk.")
	}
}

// Run calls RunChecks every interval until ctx ends.
func (f *Flow) Run(ctx context.Context, interval time.Duration) {
	every.Tick(ctx, interval, func(ctx context.Context, _ int) {
		if err := f.RunChecks(ctx); err != nil {
			f.log.Error("checklist run failed", zap.Error(err))
		}
	})
}

func (f *Flow) audit(ctx context.Context, e store.AuditEntry) {
	if _, err := f.store.AppendAudit(ctx, e); err != nil {
		f.log.Error("audit append failed", zap.String("action", string(e.Action)), zap.Error(err))
	}
}
