package tap

import (
	"context"
	"encoding/json"
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
	h.HandleCommand(bot.Command{
		Name: "audit", Usage: "/audit [user]", Scopes: everywhere,
		Description: "Show recent TAP decisions (auditors). Sent to you privately.",
		Run:         f.onAudit,
	})
	h.HandleAction(verbReplace, f.onReplace)
	h.HandleAction(verbCancel, f.onCancel)
	h.HandleAction(cards.VerbIssueTAP, f.onIssue)
	h.HandleAction(verbRevoke, f.onRevokeAction)
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

// issue runs every check and, if all pass, creates the TAP and delivers it privately.
// confirmed is true when the requester has approved replacing an existing TAP.
//
// No pass may exist that the audit log does not know, that was not delivered to the
// requester's 1:1 chat, or that a check should have stopped. So before Graph is asked,
// a durable intent claims the target (one pass at a time per user, across processes)
// and the requester's hourly slot, atomically; the intent is closed only when the
// delivery is recorded, or the pass deleted again. Whatever a crash, a kill or a
// shutdown leaves open, reconciliation (ReconcileAbandoned) deletes. Audit rows and
// clean-up run on a context that cancellation cannot cut short (durable).
func (f *Flow) issue(ctx context.Context, t *bot.Turn, req Request, confirmed bool) {
	a := t.Activity()
	log := t.Log().With(zap.String("target", req.User))
	entry := store.AuditEntry{
		RequestID: t.RequestID(), RequesterID: a.From.AadObjectID, TargetUPN: req.User,
		Action: store.ActionTAPCreate, Ticket: req.Reason,
	}
	answer := func(text string) {
		dctx, cancel := durable(ctx)
		defer cancel()
		if err := t.ReplyText(dctx, text); err != nil {
			log.Error("reply failed", zap.Error(err))
		}
	}
	record := func(e store.AuditEntry) error {
		dctx, cancel := durable(ctx)
		defer cancel()
		return f.audit(dctx, e)
	}
	refused := func(r *Refusal) {
		entry.Outcome, entry.Reason = store.OutcomeRefused, r.Code
		_ = record(entry)
		log.Info("TAP refused", zap.String("reason", r.Code))
		answer(r.Message)
	}
	failed := func(what string, err error) {
		entry.Outcome, entry.Reason = store.OutcomeFailed, what
		_ = record(entry)
		log.Error("TAP failed", zap.String("step", what), zap.Error(err))
		answer(explain(err, t.RequestID()))
	}

	ok, err := f.isHelpdesk(ctx, a.From.AadObjectID)
	if err != nil {
		failed("helpdesk_check", err)
		return
	}
	if !ok {
		refused(refuse("not_helpdesk", "Only members of the helpdesk group can create Temporary Access Passes."))
		return
	}
	if f.cfg.RequireReason && req.Reason == "" {
		refused(refuse("reason_required", "Add a reason or ticket number: /tap %s [lifetime] [once] ticket 4711", req.User))
		return
	}
	policy, err := f.tapPolicy(ctx)
	if err != nil {
		failed("policy", err)
		return
	}
	// The target's passes are read after this instant; a pass issued by anyone
	// after it makes that view stale (see BeginTAP below).
	viewed := f.cfg.Now()
	target, err := f.resolve(ctx, req.User, groupsToCheck(f.cfg.Rules, policy))
	if errors.Is(err, graph.ErrNotFound) {
		refused(refuse("not_found", "I can't find %s in this tenant.", req.User))
		return
	}
	if err != nil {
		failed("lookup", err)
		return
	}
	entry.TargetID, entry.TargetUPN = target.User.ID, target.User.UserPrincipalName
	grant, refusal := Check(a.From.AadObjectID, target, policy, req, f.cfg.Rules)
	if refusal != nil {
		refused(refusal)
		return
	}
	now := f.cfg.Now()
	if current, exists := Existing(target.TAPs, now); exists && !confirmed {
		entry.Outcome, entry.Reason = store.OutcomeRefused, "needs_confirmation"
		_ = record(entry)
		data := replaceData{User: target.User.UserPrincipalName, LifetimeMinutes: int(grant.Lifetime / time.Minute),
			Start: req.Start, Once: req.Once, Reason: req.Reason, Nonce: t.RequestID()}
		card := cards.ConfirmReplace(target.User.DisplayName, target.User.UserPrincipalName, current.Expires(), data,
			cancelData{User: data.User, Nonce: data.Nonce})
		if _, _, err := t.SendPrivately(ctx, card); err != nil {
			log.Error("confirmation card not delivered", zap.Error(err))
			answer("I couldn't reach you in a private chat. Open a personal chat with me and try again.")
			return
		}
		t.NotePublicly(ctx, fmt.Sprintf("%s already has a pass. I've asked you privately whether to replace it.", target.User.UserPrincipalName))
		return
	}

	to := order{RequestID: t.RequestID(), RequesterID: a.From.AadObjectID, Target: target.User, Grant: grant,
		Reason: req.Reason, StartNote: f.startNote(req.Start, t), Viewed: viewed, Replacing: confirmed, To: turnRecipient{t}, PerHour: f.cfg.MaxPerHour}
	if _, stop := f.mint(ctx, log, to, entry); stop != nil {
		switch {
		case stop.refusal != nil:
			refused(stop.refusal)
		case stop.step != "":
			failed(stop.step, stop.err)
		case stop.said != "":
			answer(stop.said)
		}
		return
	}
	t.NotePublicly(ctx, fmt.Sprintf("I've sent you the pass for %s in our private chat.", target.User.UserPrincipalName))
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

// onCancel answers the Cancel button: the existing pass stays, and the Replace
// button of the same card no longer acts.
func (f *Flow) onCancel(ctx context.Context, t *bot.Turn, data map[string]any) (*cards.Card, error) {
	var d cancelData
	if err := remarshal(data, &d); err != nil || d.Nonce == "" {
		c := cards.Notice("That card is not valid", "Start again with /tap.")
		return &c, nil
	}
	user, err := command.ParseUser(d.User)
	if err != nil {
		c := cards.Notice("That card is not valid", "Start again with /tap.")
		return &c, nil
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
		Action: store.ActionTAPCreate, Outcome: store.OutcomeRefused, Reason: "cancelled"})
	c := cards.Notice("Cancelled", "The existing pass of "+user+" stays as it is. Nothing was created.")
	return &c, nil
}

func (f *Flow) onReplace(ctx context.Context, t *bot.Turn, data map[string]any) (*cards.Card, error) {
	var d replaceData
	if err := remarshal(data, &d); err != nil || d.Nonce == "" {
		c := cards.Notice("That card is not valid", "Start again with /tap.")
		return &c, nil
	}
	user, err := command.ParseUser(d.User)
	if err != nil {
		c := cards.Notice("That card is not valid", "Start again with /tap.")
		return &c, nil
	}
	lifetime := time.Duration(d.LifetimeMinutes) * time.Minute
	if lifetime < MinLifetime || lifetime > MaxLifetime || len([]rune(d.Reason)) > maxReason {
		c := cards.Notice("That card is not valid", "Start again with /tap.")
		return &c, nil
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
	var d cards.IssueTAPData
	invalid := cards.Notice("That card is not valid", "Use /tap user@contoso.com instead.")
	if err := remarshal(data, &d); err != nil || d.Nonce == "" || len([]rune(d.Reason)) > maxReason {
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
	if !first {
		c := cards.Notice("Already issued", "A pass was already requested from this card. Use /status "+user+" to see it.")
		return &c, nil
	}
	t.Later(func(ctx context.Context) { f.issue(ctx, t, Request{User: user, Reason: d.Reason}, false) })
	c := cards.Notice("Creating the pass", "The pass for "+user+" will arrive in your private chat with me in a moment.")
	return &c, nil
}

func remarshal(in map[string]any, out any) error {
	raw, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}
