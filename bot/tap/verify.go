package tap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// Calling the helpdesk while posing as an employee is the documented way to get a
// sign-in credential reset, and a pass is exactly such a credential. For an account
// that is already in use, tapbot asks a second person before it issues one: the
// account holder, their manager, or another helpdesk member (TAPBOT_TAP_VERIFY).

// notSignIn are registered methods that do not make an account established: every
// account has a password, a Temporary Access Pass is what is being issued, and an
// email method serves self-service password reset only, never sign-in.
var notSignIn = map[string]bool{"password": true, "temporaryAccessPass": true, "email": true}

// Established decides whether a pass for t waits for a second person. An account
// is established when it is older than after, or its age is unknown (fail closed);
// a younger one is a new hire while tapbot's onboarding of it is unfinished, and
// otherwise established once it has registered any sign-in method.
func Established(t graph.Target, now time.Time, after time.Duration, onboarding bool) bool {
	created := t.User.CreatedDateTime
	if created.IsZero() || !now.Before(created.Add(after)) {
		return true
	}
	if onboarding {
		return false
	}
	for _, m := range t.Methods {
		if !notSignIn[m.Type] {
			return true
		}
	}
	return false
}

// MayAnswer decides whether clicker may answer confirmation c: never the requester;
// on the target and manager paths only the person asked; on the helpdesk path any
// helpdesk member.
func MayAnswer(c store.TAPConfirmation, clicker string, clickerIsHelpdesk bool) *Refusal {
	switch {
	case strings.EqualFold(clicker, c.RequesterID):
		return refuse("self_confirmation", "You asked for this pass, so you can't confirm it. Someone else has to.")
	case c.Path == store.PathHelpdesk && !clickerIsHelpdesk:
		return refuse("not_confirmer", "Only another member of the helpdesk can confirm this pass.")
	case c.Path != store.PathHelpdesk && !strings.EqualFold(clicker, c.ConfirmerID):
		return refuse("not_confirmer", "This question is for someone else: only they can answer it.")
	}
	return nil
}

// ParseVerify reads TAPBOT_TAP_VERIFY: "off", or paths in order of preference.
func ParseVerify(s string) ([]store.ConfirmPath, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "off") {
		return nil, nil
	}
	var out []store.ConfirmPath
	for _, p := range strings.Split(s, ",") {
		path := store.ConfirmPath(strings.ToLower(strings.TrimSpace(p)))
		switch path {
		case store.PathTarget, store.PathManager, store.PathHelpdesk:
		default:
			return nil, fmt.Errorf("%q is not target, manager or helpdesk (or use off)", p)
		}
		for _, seen := range out {
			if seen == path {
				return nil, fmt.Errorf("%q is named twice", p)
			}
		}
		out = append(out, path)
	}
	return out, nil
}

// needsSecond reports whether a pass for target waits for a second person.
func (f *Flow) needsSecond(ctx context.Context, target graph.Target) (bool, error) {
	if len(f.cfg.Verify) == 0 {
		return false, nil
	}
	onboarding := false
	switch c, err := f.store.Checklist(ctx, target.User.ID); {
	case err == nil:
		onboarding = c.DoneAt.IsZero()
	case !errors.Is(err, store.ErrNotFound):
		return false, fmt.Errorf("read checklist: %w", err)
	}
	return Established(target, f.cfg.Now(), f.cfg.VerifyAfter, onboarding), nil
}

// confirmer is who a question goes to and where.
type confirmer struct {
	path store.ConfirmPath
	id   string // empty on the helpdesk path
	who  string // for the requester: "Nina (the account holder)"
	to   refOutlet
}

// findConfirmer takes the first path of TAPBOT_TAP_VERIFY that reaches someone.
func (f *Flow) findConfirmer(ctx context.Context, is issuance, target graph.User) (confirmer, bool) {
	for _, p := range f.cfg.Verify {
		if c, ok := f.reach(ctx, is, target, p); ok {
			return c, true
		}
	}
	return confirmer{}, false
}

func (f *Flow) reach(ctx context.Context, is issuance, target graph.User, p store.ConfirmPath) (confirmer, bool) {
	personal := func(id string) (refOutlet, bool) {
		ref, err := f.store.PersonalReference(ctx, is.tenantID, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			is.log.Warn("reading a personal conversation failed", zap.Error(err))
		}
		return refOutlet{send: f.msg, ref: ref}, err == nil
	}
	switch p {
	case store.PathTarget:
		to, ok := personal(target.ID)
		return confirmer{path: p, id: target.ID, who: name(target) + " (the account holder)", to: to}, ok
	case store.PathManager:
		m, err := f.dir.Manager(ctx, target.ID)
		if err != nil {
			if !errors.Is(err, graph.ErrNotFound) {
				is.log.Warn("reading the manager failed; trying the next path", zap.Error(err))
			}
			return confirmer{}, false
		}
		if strings.EqualFold(m.ID, is.requesterID) {
			return confirmer{}, false // the requester can't confirm their own request
		}
		to, ok := personal(m.ID)
		return confirmer{path: p, id: m.ID, who: name(m) + " (the manager)", to: to}, ok
	case store.PathHelpdesk:
		if f.cfg.HelpdeskConversation == "" {
			return confirmer{}, false
		}
		ref, err := f.store.Reference(ctx, f.cfg.HelpdeskConversation)
		if err != nil {
			is.log.Warn("the helpdesk conversation is unknown", zap.Error(err))
			return confirmer{}, false
		}
		return confirmer{path: p, who: "another helpdesk member", to: refOutlet{send: f.msg, ref: ref}}, true
	}
	return confirmer{}, false
}

func name(u graph.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.UserPrincipalName
}

// confirmData is the data of the question's and the waiting card's buttons: the
// confirmation's random id, nothing the store does not hold itself.
type confirmData struct {
	ID string `json:"id"`
}

// askSecond stores a confirmation and asks the first reachable confirmer.
func (f *Flow) askSecond(ctx context.Context, r *report, ck checked) {
	is, target := r.is, ck.target.User
	if _, err := f.store.PersonalReference(ctx, is.tenantID, is.requesterID); err != nil {
		// The pass arrives later, sent to the requester's 1:1 chat: it must be known.
		r.refused(ctx, refuse("no_private_chat", "%s needs a second person's confirmation, and the pass then comes to our private chat, which I don't know yet. Say hello to me in a personal chat, then ask again.", target.UserPrincipalName))
		return
	}
	who, ok := f.findConfirmer(ctx, is, target)
	if !ok {
		r.refused(ctx, refuse("no_confirmer", "%s is an established account, so a second person must confirm the pass, but I can't reach anyone who may (%s). Ask an admin to check TAPBOT_TAP_VERIFY.", target.UserPrincipalName, joinPaths(f.cfg.Verify)))
		return
	}
	now := f.cfg.Now()
	c := store.TAPConfirmation{ID: cards.NewNonce(), RequestID: is.requestID, TenantID: is.tenantID, RequesterID: is.requesterID,
		TargetID: target.ID, TargetUPN: target.UserPrincipalName, Path: who.path, ConfirmerID: who.id,
		LifetimeMinutes: int(ck.grant.Lifetime / time.Minute), Once: ck.grant.Once, Replace: is.replace, Reason: is.req.Reason,
		State: store.ConfirmPending, CreatedAt: now, ExpiresAt: now.Add(f.cfg.VerifyTimeout),
		RequesterName: is.requesterName, Start: ck.grant.Start}
	switch err := f.store.CreateConfirmation(ctx, c); {
	case errors.Is(err, store.ErrConfirmationPending):
		r.refused(ctx, refuse("awaiting_confirmation", "A pass for %s is already waiting for a second person's confirmation.", target.UserPrincipalName))
		return
	case err != nil:
		r.failed(ctx, "confirmation", err)
		return
	}
	view := cards.ConfirmView{RequesterName: orSomeone(is.requesterName), TargetName: name(target), TargetUPN: target.UserPrincipalName,
		Reason: is.req.Reason, Start: c.Start, Expires: c.ExpiresAt, Data: confirmData{ID: c.ID}}
	question := map[store.ConfirmPath]func(cards.ConfirmView) cards.Card{
		store.PathTarget: cards.ConfirmTarget, store.PathManager: cards.ConfirmManager, store.PathHelpdesk: cards.ConfirmHelpdesk,
	}[who.path](view)
	qConv, qID, err := who.to.Private(ctx, question)
	if err != nil {
		f.closeUnasked(ctx, r.log, c)
		r.failed(ctx, "confirmation_not_sent", err)
		return
	}
	r.entry.Action, r.entry.Outcome, r.entry.Reason = store.ActionTAPConfirmAsk, store.OutcomeAllowed, string(who.path)
	_ = r.record(ctx, r.entry)
	r.log.Info("TAP waits for confirmation", zap.String("path", string(who.path)))
	waiting := cards.WaitingForConfirmation(name(target), target.UserPrincipalName, who.who, c.ExpiresAt, confirmData{ID: c.ID})
	wConv, wID, err := is.out.Private(ctx, waiting)
	if err != nil {
		r.log.Error("waiting card not delivered", zap.Error(err))
	}
	f.recordCards(ctx, r.log, c.ID, store.CardRef{ServiceURL: who.to.ServiceURL(), ConversationID: qConv, ActivityID: qID},
		store.CardRef{ServiceURL: is.out.ServiceURL(), ConversationID: wConv, ActivityID: wID})
	is.out.Note(ctx, fmt.Sprintf("A pass for %s waits for confirmation by %s. It comes to our private chat once confirmed.", target.UserPrincipalName, who.who))
}

// closeUnasked cancels a confirmation whose question never left.
func (f *Flow) closeUnasked(ctx context.Context, log *zap.Logger, c store.TAPConfirmation) {
	dctx, cancel := durable(ctx)
	defer cancel()
	if _, err := f.store.DecideConfirmation(dctx, c.ID, store.ConfirmCancelled, "", f.cfg.Now()); err != nil {
		log.Error("closing an unsent confirmation failed; it expires", zap.Error(err))
	}
}

func orSomeone(n string) string {
	if n == "" {
		return "Someone"
	}
	return n
}

func joinPaths(ps []store.ConfirmPath) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

// answer is a click on a confirmation card, read and checked.
type answer struct {
	c       store.TAPConfirmation
	clicker string
}

// readAnswer loads the confirmation a click names and checks the clicker's right to
// answer it before anything is decided (rights before the claim). A nil answer
// comes with the card to show instead.
func (f *Flow) readAnswer(ctx context.Context, t *bot.Turn, data map[string]any) (*answer, *cards.Card, error) {
	invalid := cards.Notice("That card is not valid", "Ask the helpdesk to start again.")
	d, err := bot.Decode[confirmData](data)
	if err != nil || d.ID == "" {
		return nil, &invalid, nil
	}
	c, err := f.store.Confirmation(ctx, d.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, &invalid, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read confirmation: %w", err)
	}
	if c.State != store.ConfirmPending {
		done := cards.Notice("Already answered", "This question was answered already, or it expired.")
		return nil, &done, nil
	}
	clicker := t.Activity().From.AadObjectID
	helpdesk := false
	if c.Path == store.PathHelpdesk {
		if helpdesk, err = f.isHelpdesk(ctx, clicker); err != nil {
			return nil, nil, fmt.Errorf("helpdesk check: %w", err)
		}
	}
	if r := MayAnswer(c, clicker, helpdesk); r != nil {
		_ = f.audit(ctx, confirmEntry(c, t.RequestID(), clicker, store.ActionTAPConfirm, store.OutcomeRefused, r.Code))
		t.Log().Warn("confirmation refused", zap.String("reason", r.Code))
		n := cards.Notice("You can't answer this", r.Message)
		return nil, &n, nil
	}
	return &answer{c: c, clicker: clicker}, nil, nil
}

func confirmEntry(c store.TAPConfirmation, requestID, by string, action store.Action, outcome store.Outcome, reason string) store.AuditEntry {
	return store.AuditEntry{RequestID: requestID, RequesterID: by, TargetID: c.TargetID, TargetUPN: c.TargetUPN,
		Action: action, Outcome: outcome, Reason: reason, Ticket: c.Reason}
}

// decide moves the confirmation; ok is false, with the card to show, when someone
// else decided first (a double click, a redelivery, another replica, the sweep).
func (f *Flow) decide(ctx context.Context, a *answer, state store.ConfirmState) (store.TAPConfirmation, *cards.Card, error) {
	c, err := f.store.DecideConfirmation(ctx, a.c.ID, state, a.clicker, f.cfg.Now())
	if errors.Is(err, store.ErrConflict) {
		done := cards.Notice("Already answered", "This question was answered already, or it expired.")
		return c, &done, nil
	}
	if err != nil {
		return c, nil, fmt.Errorf("decide confirmation: %w", err)
	}
	return c, nil, nil
}

// onConfirm: the first valid confirmation issues the pass to the requester.
func (f *Flow) onConfirm(ctx context.Context, t *bot.Turn, data map[string]any) (*cards.Card, error) {
	a, card, err := f.readAnswer(ctx, t, data)
	if a == nil {
		return card, err
	}
	if !f.cfg.Now().Before(a.c.ExpiresAt) {
		f.expire(ctx, a.c)
		n := cards.Notice("Expired", "This question expired. The helpdesk has to ask again.")
		return &n, nil
	}
	c, card, err := f.decide(ctx, a, store.ConfirmConfirmed)
	if card != nil || err != nil {
		return card, err
	}
	took := c.DecidedAt.Sub(c.CreatedAt).Round(time.Second)
	_ = f.audit(ctx, confirmEntry(c, c.RequestID, a.clicker, store.ActionTAPConfirm, store.OutcomeAllowed, fmt.Sprintf("%s %s", c.Path, took)))
	log := t.Log().With(zap.String("confirmation", c.ID), zap.String("path", string(c.Path)))
	log.Info("TAP confirmed", zap.Duration("took", took))
	clicked := t.Activity()
	t.Later(func(ctx context.Context) {
		// The pass first: the card update is cosmetic, and a throttled Connector
		// retries it for longer than the pass may wait.
		f.issueConfirmed(ctx, c, log)
		f.settleCards(ctx, log, c, clicked.Conversation.ID, clicked.ReplyToID)
	})
	n := cards.Notice("Confirmed", "Thank you. The pass goes to the helpdesk member who asked, in their private chat with me.")
	return &n, nil
}

// issueConfirmed runs every check again (the world may have changed while the
// question waited) and delivers to the requester, not to whoever confirmed.
func (f *Flow) issueConfirmed(ctx context.Context, c store.TAPConfirmation, log *zap.Logger) {
	ref, err := f.store.PersonalReference(ctx, c.TenantID, c.RequesterID)
	if err != nil {
		log.Error("the requester's private chat is unknown; no pass issued", zap.Error(err))
		_ = f.audit(ctx, confirmEntry(c, c.RequestID, c.RequesterID, store.ActionTAPCreate, store.OutcomeFailed, "requester_unreachable"))
		return
	}
	start := c.Start
	if !start.After(f.cfg.Now()) {
		start = time.Time{} // the answer came after the start: valid at once
	}
	f.run(ctx, issuance{requestID: c.RequestID, tenantID: c.TenantID, requesterID: c.RequesterID, requesterName: c.RequesterName,
		req:     Request{User: c.TargetID, Lifetime: time.Duration(c.LifetimeMinutes) * time.Minute, Start: start, Once: c.Once, Reason: c.Reason},
		replace: c.Replace, confirmed: &c, out: refOutlet{send: f.msg, ref: ref}, log: log})
}

// onDeny: "No, this wasn't me" or a manager's Deny. Someone may be posing as the
// account holder: refuse, and tell the security team.
func (f *Flow) onDeny(ctx context.Context, t *bot.Turn, data map[string]any) (*cards.Card, error) {
	a, card, err := f.readAnswer(ctx, t, data)
	if a == nil {
		return card, err
	}
	if a.c.Path == store.PathHelpdesk {
		n := cards.Notice("That card is not valid", "Ask the helpdesk to start again.")
		return &n, nil
	}
	c, card, err := f.decide(ctx, a, store.ConfirmDenied)
	if card != nil || err != nil {
		return card, err
	}
	_ = f.audit(ctx, confirmEntry(c, c.RequestID, a.clicker, store.ActionTAPDeny, store.OutcomeRefused, "suspected_social_engineering_"+string(c.Path)))
	t.Log().Warn("TAP denied: suspected social engineering", zap.String("confirmation", c.ID), zap.String("path", string(c.Path)))
	clicked := t.Activity()
	t.Later(func(ctx context.Context) {
		f.alert(ctx, c, t.Log()) // before the cosmetic card update, as in onConfirm
		f.settleCards(ctx, t.Log(), c, clicked.Conversation.ID, clicked.ReplyToID)
	})
	n := cards.Notice("Thank you: no pass was issued", "The security team has been told. If you didn't ask for a pass, someone may be posing as "+c.TargetUPN+".")
	return &n, nil
}

// alert tells the security channel and the requester about a denied request.
func (f *Flow) alert(ctx context.Context, c store.TAPConfirmation, log *zap.Logger) {
	who := map[store.ConfirmPath]string{store.PathTarget: "the account holder", store.PathManager: "the manager"}[c.Path]
	asker := c.RequesterID
	if c.RequesterName != "" {
		asker = fmt.Sprintf("%s (object id %s)", c.RequesterName, c.RequesterID)
	}
	text := fmt.Sprintf("Suspected social engineering: %s said no to a Temporary Access Pass for %s. Asked by %s at %s, reason given: %q. No pass was issued.",
		who, c.TargetUPN, asker, c.CreatedAt.UTC().Format(time.RFC3339), c.Reason)
	since := f.cfg.Now().Add(-24 * time.Hour)
	asked, _ := f.store.CountAudit(ctx, store.AuditFilter{Target: c.TargetID, Action: store.ActionTAPConfirmAsk, Since: since})
	denied, _ := f.store.CountAudit(ctx, store.AuditFilter{Target: c.TargetID, Action: store.ActionTAPDeny, Since: since})
	if asked > 1 || denied > 1 {
		text += fmt.Sprintf(" Repeated attempts: %d requests for a pass for %s in the last 24 hours, %d denied.", asked, c.TargetUPN, denied)
	}
	if f.cfg.SecurityConversation == "" {
		log.Error("no security conversation configured (TAPBOT_SECURITY_CONVERSATION): the alert goes to the log only", zap.String("alert", text))
	} else if ref, err := f.store.Reference(ctx, f.cfg.SecurityConversation); err != nil {
		log.Error("security alert not posted: the conversation is unknown", zap.String("alert", text), zap.Error(err))
	} else if err := (refOutlet{send: f.msg, ref: ref}).Text(ctx, text); err != nil {
		log.Error("security alert not posted", zap.String("alert", text), zap.Error(err))
	}
	f.tellRequester(ctx, c, log, fmt.Sprintf("%s said no to the pass for %s, so none was issued. The security team has been told.", capital(who), c.TargetUPN))
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// tellRequester sends the requester a text in their 1:1 chat.
func (f *Flow) tellRequester(ctx context.Context, c store.TAPConfirmation, log *zap.Logger, text string) {
	ref, err := f.store.PersonalReference(ctx, c.TenantID, c.RequesterID)
	if err == nil {
		err = refOutlet{send: f.msg, ref: ref}.Text(ctx, text)
	}
	if err != nil {
		log.Error("telling the requester failed", zap.Error(err))
	}
}

// onCancelConfirm: the requester withdraws the request.
func (f *Flow) onCancelConfirm(ctx context.Context, t *bot.Turn, data map[string]any) (*cards.Card, error) {
	invalid := cards.Notice("That card is not valid", "Start again with /tap.")
	d, err := bot.Decode[confirmData](data)
	if err != nil || d.ID == "" {
		return &invalid, nil
	}
	c, err := f.store.Confirmation(ctx, d.ID)
	if errors.Is(err, store.ErrNotFound) {
		return &invalid, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read confirmation: %w", err)
	}
	clicker := t.Activity().From.AadObjectID
	if !strings.EqualFold(clicker, c.RequesterID) {
		n := cards.Notice("You can't cancel this", "Only the person who asked for the pass can cancel it.")
		return &n, nil
	}
	c, card, err := f.decide(ctx, &answer{c: c, clicker: clicker}, store.ConfirmCancelled)
	if card != nil || err != nil {
		return card, err
	}
	_ = f.audit(ctx, confirmEntry(c, c.RequestID, clicker, store.ActionTAPConfirm, store.OutcomeRefused, "cancelled"))
	clicked := t.Activity()
	t.Later(func(ctx context.Context) { f.settleCards(ctx, t.Log(), c, clicked.Conversation.ID, clicked.ReplyToID) })
	n := cards.Notice("Cancelled", "No pass is issued for "+c.TargetUPN+". The question to the confirmer no longer acts.")
	return &n, nil
}

// expire closes one confirmation that ran out and tells the requester.
func (f *Flow) expire(ctx context.Context, c store.TAPConfirmation) bool {
	dctx, cancel := durable(ctx)
	defer cancel()
	decided, err := f.store.DecideConfirmation(dctx, c.ID, store.ConfirmExpired, "", f.cfg.Now())
	if err != nil {
		if !errors.Is(err, store.ErrConflict) {
			f.log.Error("expiring a confirmation failed", zap.String("confirmation", c.ID), zap.Error(err))
		}
		return false
	}
	c = decided
	_ = f.audit(dctx, confirmEntry(c, c.RequestID, c.RequesterID, store.ActionTAPConfirm, store.OutcomeRefused, "expired"))
	f.settleCards(dctx, f.log, c, "", "")
	f.tellRequester(dctx, c, f.log, fmt.Sprintf("Nobody confirmed the pass for %s in time, so none was issued. Run /tap %s again if it is still needed.", c.TargetUPN, c.TargetUPN))
	return true
}

// ExpireConfirmations closes every confirmation whose time ran out; RunRedactor
// calls it on each tick.
func (f *Flow) ExpireConfirmations(ctx context.Context) (int, error) {
	due, err := f.store.DueConfirmations(ctx, f.cfg.Now(), 100)
	if err != nil {
		return 0, fmt.Errorf("due confirmations: %w", err)
	}
	n := 0
	for _, c := range due {
		if f.expire(ctx, c) {
			n++
		}
	}
	return n, nil
}

// recordCards keeps where the two cards went, so that the decision can update them.
// A question answered before this ran (a fast click, another replica) is settled
// here instead; a failure only leaves the cards as they are.
func (f *Flow) recordCards(ctx context.Context, log *zap.Logger, id string, question, waiting store.CardRef) {
	c, err := f.store.RecordConfirmationCards(ctx, id, question, waiting)
	if err != nil {
		log.Warn("where the confirmation cards went was not recorded; they are not updated once it is decided", zap.Error(err))
		return
	}
	if c.State != store.ConfirmPending {
		f.settleCards(ctx, log, c, "", "")
	}
}

// settleCards replaces the confirmation's question and waiting cards with what was
// decided, so that neither keeps buttons that no longer act. The card clicked is left
// alone: the click's answer has replaced it already. Teams names it by the invoke's
// replyToId (clickedID); without one, by its conversation (in a channel the click's
// conversation id carries the thread, so it is not compared when the id is known).
func (f *Flow) settleCards(ctx context.Context, log *zap.Logger, c store.TAPConfirmation, clickedConv, clickedID string) {
	question, waiting := settledCards(c)
	clicked := func(ref store.CardRef) bool {
		if clickedID != "" {
			return ref.ActivityID == clickedID
		}
		return ref.ConversationID == clickedConv
	}
	for _, u := range []struct {
		ref  store.CardRef
		card cards.Card
	}{{c.Question, question}, {c.Waiting, waiting}} {
		if !u.ref.Posted() || clicked(u.ref) {
			continue
		}
		raw, err := json.Marshal(u.card)
		if err == nil {
			err = f.msg.UpdateActivity(ctx, u.ref.ServiceURL, u.ref.ConversationID, u.ref.ActivityID, bot.CardActivity(raw))
		}
		if err != nil {
			log.Warn("a confirmation card was not updated", zap.String("conversation", u.ref.ConversationID), zap.Error(err))
		}
	}
}

// settledCards are what the question and the waiting card say once c is decided.
func settledCards(c store.TAPConfirmation) (question, waiting cards.Card) {
	requester := orSomeone(c.RequesterName)
	switch c.State {
	case store.ConfirmConfirmed:
		return cards.Notice("Confirmed", "The pass for "+c.TargetUPN+" was confirmed and goes to "+requester+" in their private chat."),
			cards.Notice("Confirmed", "The pass for "+c.TargetUPN+" was confirmed. It comes to this chat.")
	case store.ConfirmDenied:
		return cards.Notice("Denied", "No pass was issued for "+c.TargetUPN+". The security team has been told."),
			cards.Notice("Not confirmed", "The pass for "+c.TargetUPN+" was denied, so none was issued. The security team has been told.")
	case store.ConfirmCancelled:
		return cards.Notice("Withdrawn", requester+" withdrew the request for a pass for "+c.TargetUPN+". There is nothing to answer."),
			cards.Notice("Cancelled", "No pass is issued for "+c.TargetUPN+".")
	}
	return cards.Notice("Expired", "Nobody answered in time, so no pass was issued for "+c.TargetUPN+"."),
		cards.Notice("Expired", "Nobody confirmed the pass for "+c.TargetUPN+" in time, so none was issued.")
}
