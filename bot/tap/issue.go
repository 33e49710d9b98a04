package tap

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/bot/command"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

var everywhere = []store.Scope{store.ScopePersonal, store.ScopeGroupChat, store.ScopeChannel}

// Register adds the flow's commands and card actions to the bot.
func (f *Flow) Register(h *bot.Handler) {
	h.HandleCommand(bot.Command{
		Name: "tap", Usage: "/tap user [lifetime] [once] [reason]", Scopes: everywhere,
		Description: "Create a Temporary Access Pass (helpdesk). It is sent to you privately.",
		Run:         f.onTap,
	})
	h.HandleCommand(bot.Command{
		Name: "revoke", Usage: "/revoke user", Scopes: everywhere,
		Description: "Delete the user's Temporary Access Pass (helpdesk).",
		Run:         f.onRevokeCommand,
	})
	h.HandleCommand(bot.Command{
		Name: "status", Usage: "/status user", Scopes: everywhere,
		Description: "Show the user's account, pass and sign-in methods (helpdesk).",
		Run:         f.onStatus,
	})
	h.HandleAction(verbReplace, f.onReplace)
	h.HandleAction(verbCancel, f.onCancel)
	h.HandleAction(cards.VerbIssueTAP, f.onIssue)
	h.HandleAction(verbRevoke, f.onRevokeAction)
	h.HandleAction(cards.VerbConfirmTAP, f.onConfirm)
	h.HandleAction(cards.VerbDenyTAP, f.onDeny)
	h.HandleAction(cards.VerbCancelConfirmTAP, f.onCancelConfirm)
}

const (
	verbReplace = "tap.replace"
	verbRevoke  = "tap.revoke"
	verbCancel  = "tap.cancel"
)

// onTap parses at once (so typos get an immediate answer) and does the Graph work
// after acknowledging, since it can outlast Teams' deadline.
func (f *Flow) onTap(ctx context.Context, t *bot.Turn, c command.Command) error {
	req, err := ParseRequestIn(c.Args, f.zone(t))
	if err == nil {
		err = f.checkStart(req)
	}
	if err != nil {
		var u *UsageError
		if errors.As(err, &u) {
			return t.ReplyText(ctx, u.Msg)
		}
		return err
	}
	t.Later(func(ctx context.Context) { f.issue(ctx, t, req, false) })
	return nil
}

// issuance is one request for a pass as the steps after the checks need it, whoever
// clicked last: the requester of record, their words, and where the outcome goes.
type issuance struct {
	requestID     string
	tenantID      string
	requesterID   string
	requesterName string
	req           Request
	replace       bool // the requester agreed to replace an existing pass
	// confirmed is set when a second person confirmed a pass for an established
	// account: it is not asked again, and nothing may be replaced that was not
	// agreed to when it was asked.
	confirmed *store.TAPConfirmation
	out       outlet
	log       *zap.Logger
}

// issue runs /tap for the turn's sender. replace is true when the requester has
// approved replacing an existing TAP.
func (f *Flow) issue(ctx context.Context, t *bot.Turn, req Request, replace bool) {
	a := t.Activity()
	f.run(ctx, issuance{requestID: t.RequestID(), tenantID: a.Conversation.TenantID, requesterID: a.From.AadObjectID,
		requesterName: a.From.Name, req: req, replace: replace, out: turnOutlet{t}, log: t.Log()})
}

// report audits and answers one issuance's outcome.
type report struct {
	f     *Flow
	is    issuance
	log   *zap.Logger
	entry store.AuditEntry
}

func (r *report) answer(ctx context.Context, text string) {
	dctx, cancel := durable(ctx)
	defer cancel()
	if err := r.is.out.Text(dctx, text); err != nil {
		r.log.Error("reply failed", zap.Error(err))
	}
}

func (r *report) record(ctx context.Context, e store.AuditEntry) error {
	dctx, cancel := durable(ctx)
	defer cancel()
	return r.f.audit(dctx, e)
}

func (r *report) refused(ctx context.Context, ref *Refusal) {
	r.entry.Outcome, r.entry.Reason = store.OutcomeRefused, ref.Code
	_ = r.record(ctx, r.entry)
	r.log.Info("TAP refused", zap.String("reason", ref.Code))
	r.answer(ctx, ref.Message)
}

func (r *report) failed(ctx context.Context, what string, err error) {
	r.entry.Outcome, r.entry.Reason = store.OutcomeFailed, what
	_ = r.record(ctx, r.entry)
	r.log.Error("TAP failed", zap.String("step", what), zap.Error(err))
	r.answer(ctx, explain(err, r.is.requestID))
}

// run runs every check and, if all pass, creates the TAP and delivers it privately,
// or, for an established account, asks a second person first (verify.go).
//
// No pass may exist that the audit log does not know, that was not delivered to the
// requester's 1:1 chat, or that a check should have stopped. So before Graph is asked,
// a durable intent claims the target (one pass at a time per user, across processes)
// and the requester's hourly slot, atomically; the intent is closed only when the
// delivery is recorded, or the pass deleted again. Whatever a crash, a kill or a
// shutdown leaves open, reconciliation (ReconcileAbandoned) deletes. Audit rows and
// clean-up run on a context that cancellation cannot cut short (durable).
func (f *Flow) run(ctx context.Context, is issuance) {
	r := &report{f: f, is: is, log: is.log.With(zap.String("target", is.req.User)), entry: store.AuditEntry{
		RequestID: is.requestID, RequesterID: is.requesterID, TargetUPN: is.req.User,
		Action: store.ActionTAPCreate, Ticket: is.req.Reason,
	}}
	ck, ok := f.checks(ctx, r)
	if !ok {
		return
	}
	if current, exists := Existing(ck.target.TAPs, f.cfg.Now()); exists && !is.replace {
		if is.confirmed != nil {
			u := ck.target.User.UserPrincipalName
			r.refused(ctx, refuse("issued_meanwhile", "Someone issued a pass for %s while the confirmation was pending. Run /tap again if it should be replaced.", u))
			return
		}
		f.askReplace(ctx, r, ck, current)
		return
	}
	if is.confirmed == nil {
		second, err := f.needsSecond(ctx, ck.target)
		if err != nil {
			r.failed(ctx, "verify_check", err)
			return
		}
		if second {
			f.askSecond(ctx, r, ck)
			return
		}
	}
	f.create(ctx, r, ck)
}

// checked is what the checks found out and allow.
type checked struct {
	target graph.Target
	grant  Grant
	viewed time.Time // the target's passes were read after this instant
}

// checks runs every check for the requester and target; on a refusal or failure it
// has answered and audited, and reports false.
func (f *Flow) checks(ctx context.Context, r *report) (checked, bool) {
	is := r.is
	ok, err := f.isHelpdesk(ctx, is.requesterID)
	if err != nil {
		r.failed(ctx, "helpdesk_check", err)
		return checked{}, false
	}
	if !ok {
		r.refused(ctx, refuse("not_helpdesk", "Only members of the helpdesk group can create Temporary Access Passes."))
		return checked{}, false
	}
	if f.cfg.RequireReason && is.req.Reason == "" {
		r.refused(ctx, refuse("reason_required", "Add a reason or ticket number: /tap %s [lifetime] [once] ticket 4711", is.req.User))
		return checked{}, false
	}
	policy, err := f.tapPolicy(ctx)
	if err != nil {
		r.failed(ctx, "policy", err)
		return checked{}, false
	}
	// The target's passes are read after this instant; a pass issued by anyone
	// after it makes that view stale (see BeginTAP in create).
	viewed := f.cfg.Now()
	target, err := f.resolve(ctx, is.req.User, groupsToCheck(f.cfg.Rules, policy))
	if errors.Is(err, graph.ErrNotFound) {
		r.refused(ctx, refuse("not_found", "I can't find %s in this tenant.", is.req.User))
		return checked{}, false
	}
	if err != nil {
		r.failed(ctx, "lookup", err)
		return checked{}, false
	}
	r.entry.TargetID, r.entry.TargetUPN = target.User.ID, target.User.UserPrincipalName
	grant, refusal := Check(is.requesterID, target, policy, is.req, f.cfg.Rules)
	if refusal != nil {
		r.refused(ctx, refusal)
		return checked{}, false
	}
	if is.confirmed != nil {
		// /tap checked the start when it parsed it; a confirmed request comes from the
		// store, and runs that check again like every other. (issueConfirmed has made
		// a start that passed meanwhile zero, so only the limit ahead can refuse.)
		if err := f.checkStart(is.req); err != nil {
			r.refused(ctx, refuse("start_out_of_range", "%s", err)) // a UsageError: its text is the answer
			return checked{}, false
		}
	}
	return checked{target: target, grant: grant, viewed: viewed}, true
}

// askReplace asks the requester, privately, whether to replace the target's pass.
func (f *Flow) askReplace(ctx context.Context, r *report, ck checked, current graph.TAP) {
	is, u := r.is, ck.target.User
	r.entry.Outcome, r.entry.Reason = store.OutcomeRefused, store.ReasonNeedsConfirmation
	_ = r.record(ctx, r.entry)
	data := replaceData{User: u.UserPrincipalName, LifetimeMinutes: int(ck.grant.Lifetime / time.Minute),
		Start: is.req.Start, Once: is.req.Once, Reason: is.req.Reason, Nonce: is.requestID}
	card := cards.ConfirmReplace(u.DisplayName, u.UserPrincipalName, current.Expires(), data,
		cancelData{User: data.User, Nonce: data.Nonce}, is.out.Times())
	if _, _, err := is.out.Private(ctx, card); err != nil {
		r.log.Error("confirmation card not delivered", zap.Error(err))
		r.answer(ctx, "I couldn't reach you in a private chat. Open a personal chat with me and try again.")
		return
	}
	is.out.Note(ctx, fmt.Sprintf("%s already has a pass. I've asked you privately whether to replace it.", u.UserPrincipalName))
}

// create is the creation half (mint): intent → Graph → audit → the requester's 1:1
// chat → done, whoever clicked last.
func (f *Flow) create(ctx context.Context, r *report, ck checked) {
	is := r.is
	o := order{RequestID: is.requestID, RequesterID: is.requesterID, Target: ck.target.User, Grant: ck.grant,
		Reason: is.req.Reason, StartNote: f.startNote(is.req.Start, nil), Viewed: ck.viewed, Replacing: is.replace,
		To: outletRecipient{is.out}, Times: is.out.Times(), PerHour: f.cfg.MaxPerHour}
	if _, stop := f.mint(ctx, r.log, o, r.entry); stop != nil {
		switch {
		case stop.refusal != nil:
			r.refused(ctx, stop.refusal)
		case stop.step != "":
			r.failed(ctx, stop.step, stop.err)
		case stop.said != "":
			r.answer(ctx, stop.said)
		}
		return
	}
	is.out.Note(ctx, fmt.Sprintf("I've sent you the pass for %s in our private chat.", ck.target.User.UserPrincipalName))
}

// markCreated records the method id on the intent, so that reconciliation deletes
// exactly this pass should tapbot stop before the delivery is recorded.
func (f *Flow) markCreated(ctx context.Context, in store.TAPIntent) error {
	dctx, cancel := durable(ctx)
	defer cancel()
	return f.store.TAPCreated(dctx, in.ID, in.MethodID, f.cfg.Now())
}

// abandon undoes a pass tapbot created but could not record, audit or hand over:
// it deletes the pass, audits why, and closes the intent. If the delete fails the
// intent stays open, so reconciliation tries again.
func (f *Flow) abandon(ctx context.Context, log *zap.Logger, in store.TAPIntent, e store.AuditEntry, reason string, cause error) {
	dctx, cancel := durable(ctx)
	defer cancel()
	log.Error("TAP not completed; deleting it", zap.String("reason", reason), zap.Error(cause))
	deleted := f.undo(dctx, log, in.TargetID, in.MethodID)
	e.Action, e.Outcome, e.Reason = store.ActionTAPCreate, store.OutcomeFailed, reason
	_ = f.audit(dctx, e)
	if deleted {
		f.endIntent(dctx, log, in.ID, store.IntentUndone)
	}
}

// endIntent closes an intent this request owns. ErrIntentState means reconciliation
// closed it already.
func (f *Flow) endIntent(ctx context.Context, log *zap.Logger, id string, state store.IntentState) {
	dctx, cancel := durable(ctx)
	defer cancel()
	if err := f.store.EndTAP(dctx, id, state, f.cfg.Now()); err != nil && !errors.Is(err, store.ErrIntentState) {
		log.Error("closing the TAP intent failed; reconciliation will", zap.Error(err))
	}
}

// undo deletes a TAP tapbot just created but could not hand over or record. It
// reports whether the pass is gone.
func (f *Flow) undo(ctx context.Context, log *zap.Logger, userID, methodID string) bool {
	if err := f.dir.DeleteTAP(ctx, userID, methodID); err != nil && !errors.Is(err, graph.ErrNotFound) {
		log.Error("could not delete an undelivered TAP: reconciliation retries; or revoke it in the Entra admin center",
			zap.String("user_id", userID), zap.String("method_id", methodID), zap.Error(err))
		return false
	}
	return true
}

// replaceData is the Replace button's data. It comes back from the client, so it is
// re-validated and every check runs again before anything is replaced.
type replaceData struct {
	User            string    `json:"user"`
	LifetimeMinutes int       `json:"lifetimeMinutes"`
	Start           time.Time `json:"start,omitzero"`
	Once            bool      `json:"once"`
	Reason          string    `json:"reason,omitempty"`
	Nonce           string    `json:"nonce"`
}

// cancelData is the Cancel button's data on the replace question: the same nonce as
// Replace, so that whichever is clicked first wins and the other does nothing.
type cancelData struct {
	User  string `json:"user"`
	Nonce string `json:"nonce"`
}

// questionUser checks what both buttons of the replace question carry: the nonce that
// lets one of them act, once, and the user. ok is false when the card is not valid.
func questionUser(user, nonce string) (string, bool) {
	if nonce == "" {
		return "", false
	}
	u, err := command.ParseUser(user)
	return u, err == nil
}

// onCancel answers the Cancel button: the existing pass stays, and the Replace
// button of the same card no longer acts.
func (f *Flow) onCancel(ctx context.Context, t *bot.Turn, data map[string]any) (*cards.Card, error) {
	d, err := bot.Decode[cancelData](data)
	user, ok := questionUser(d.User, d.Nonce)
	if err != nil || !ok {
		invalid := cards.Notice("That card is not valid", "Start again with /tap.")
		return &invalid, nil
	}
	first, err := f.store.Claim(ctx, verbReplace+":"+d.Nonce, f.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("claim cancel: %w", err)
	}
	if !first {
		c := cards.Notice("Already answered", "This question was already answered.")
		return &c, nil
	}
	a := t.Activity()
	_ = f.audit(ctx, store.AuditEntry{RequestID: t.RequestID(), RequesterID: a.From.AadObjectID, TargetUPN: user,
		Action: store.ActionTAPCreate, Outcome: store.OutcomeRefused, Reason: store.ReasonCancelled})
	c := cards.Notice("Cancelled", "The existing pass of "+user+" stays as it is. Nothing was created.")
	return &c, nil
}

func (f *Flow) onReplace(ctx context.Context, t *bot.Turn, data map[string]any) (*cards.Card, error) {
	d, err := bot.Decode[replaceData](data)
	user, ok := questionUser(d.User, d.Nonce)
	lifetime := time.Duration(d.LifetimeMinutes) * time.Minute
	if err != nil || !ok || lifetime < MinLifetime || lifetime > MaxLifetime || len([]rune(d.Reason)) > maxReason {
		invalid := cards.Notice("That card is not valid", "Start again with /tap.")
		return &invalid, nil
	}
	// Teams redelivers invokes on timeouts and people double-click: one replacement.
	first, err := f.store.Claim(ctx, verbReplace+":"+d.Nonce, f.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("claim replace: %w", err)
	}
	if !first {
		c := cards.Notice("Already on its way", "This replacement was already requested.")
		return &c, nil
	}
	req := Request{User: user, Lifetime: lifetime, Start: d.Start, Once: d.Once, Reason: d.Reason}
	if err := f.checkStart(req); err != nil {
		c := cards.Notice("The start time has passed", "Start again with /tap.")
		return &c, nil
	}
	t.Later(func(ctx context.Context) { f.issue(ctx, t, req, true) })
	c := cards.Notice("Replacing the pass", "The new pass for "+user+" will arrive here in a moment.")
	return &c, nil
}

// onIssue runs every /tap check for the clicker, exactly as /tap would: an existing
// pass still needs the Replace confirmation.
func (f *Flow) onIssue(ctx context.Context, t *bot.Turn, data map[string]any) (*cards.Card, error) {
	invalid := cards.Notice("That card is not valid", "Use /tap user@contoso.com instead.")
	d, err := bot.Decode[cards.IssueTAPData](data)
	if err != nil || d.Nonce == "" || len([]rune(d.Reason)) > maxReason {
		return &invalid, nil
	}
	user, err := command.ParseUser(d.User)
	if err != nil {
		return &invalid, nil
	}
	// Rights before the claim: otherwise anyone who can see the card (or guess its
	// data) could spend its nonce and leave the helpdesk a dead button.
	requester := t.Activity().From.AadObjectID
	ok, err := f.isHelpdesk(ctx, requester)
	if err != nil {
		return nil, fmt.Errorf("helpdesk check: %w", err)
	}
	if !ok {
		_ = f.audit(ctx, store.AuditEntry{RequestID: t.RequestID(), RequesterID: requester, TargetUPN: user,
			Action: store.ActionTAPCreate, Outcome: store.OutcomeRefused, Reason: "not_helpdesk", Ticket: d.Reason})
		c := cards.Notice("Helpdesk only", "Only members of the helpdesk group can issue Temporary Access Passes.")
		return &c, nil
	}
	first, err := f.store.Claim(ctx, cards.VerbIssueTAP+":"+d.Nonce, f.cfg.Now())
	if err != nil {
		return nil, fmt.Errorf("claim issue: %w", err)
	}
	if first {
		t.Later(func(ctx context.Context) { f.issue(ctx, t, Request{User: user, Reason: d.Reason}, false) })
	}
	if card := f.stuckCard(ctx, t, d); card != nil {
		return card, nil
	}
	if !first {
		c := cards.Notice("Already issued", "A pass was already requested from this card. Use /status "+user+" to see it.")
		return &c, nil
	}
	c := cards.Notice("Creating the pass", "The pass for "+user+" will arrive in your private chat with me in a moment.")
	return &c, nil
}

// stuckCard is the stuck card the button sits on, rebuilt with who is handling it; nil
// for other cards, or if it cannot be rebuilt (the pass is on its way regardless, so
// the notice answers then). The pass itself goes only to the clicker's private chat.
func (f *Flow) stuckCard(ctx context.Context, t *bot.Turn, d cards.IssueTAPData) *cards.Card {
	if f.stuck == nil {
		return nil
	}
	who := t.Activity().From.Name
	if who == "" {
		who = "Someone from the helpdesk"
	}
	card, err := f.stuck.StuckCard(ctx, d, who)
	if err != nil {
		t.Log().Warn("stuck card not rebuilt", zap.Error(err))
	}
	return card
}
