package tap

import (
	"context"
	"errors"
	"fmt"

	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/bot/command"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// revokeData is the Revoke button's data: ids only, never the pass. It comes back
// from the client and may be forged, so it only points at a stored delivery; who the
// pass belongs to is read from the store and Graph, never from here. (Cards sent
// before this change also carry "upn", which is ignored.)
type revokeData struct {
	UserID   string `json:"userId"`
	MethodID string `json:"methodId"`
}

// revokeRefusal is what a helpdesk member is told when a revocation would touch a
// protected account, by CheckTarget's refusal code.
func revokeRefusal(upn string, r *Refusal) string {
	return fmt.Sprintf("tapbot doesn't revoke the pass of %s: it is a privileged or protected account (%s). "+
		"A Privileged Authentication Administrator can delete it in the Entra admin center.", upn, r.Code)
}

// onRevokeAction handles the Revoke button on a TAP card. The answer card replaces
// the one clicked, so the value disappears at once.
func (f *Flow) onRevokeAction(ctx context.Context, t *bot.Turn, data map[string]any) (*cards.Card, error) {
	d, err := bot.Decode[revokeData](data)
	if err != nil || d.UserID == "" || d.MethodID == "" {
		c := cards.Notice("That card is not valid", "Use /revoke user instead.")
		return &c, nil
	}
	a := t.Activity()
	entry := store.AuditEntry{RequestID: t.RequestID(), RequesterID: a.From.AadObjectID, TargetID: d.UserID,
		Action: store.ActionTAPRevoke, MethodID: d.MethodID}
	notice := func(outcome store.Outcome, reason, title, text string) (*cards.Card, error) {
		entry.Outcome, entry.Reason = outcome, reason
		_ = f.audit(ctx, entry)
		t.Log().Info("revoke refused", zap.String("reason", reason))
		c := cards.Notice(title, text)
		return &c, nil
	}
	ok, err := f.isHelpdesk(ctx, a.From.AadObjectID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return notice(store.OutcomeRefused, "not_helpdesk", "Not allowed", "Only members of the helpdesk group can revoke passes.")
	}
	delivery, found, err := f.openDelivery(ctx, d.UserID, d.MethodID)
	if err != nil {
		return nil, err
	}
	if !found {
		// Not a pass tapbot delivered and still shows: the card is stale or forged.
		return notice(store.OutcomeRefused, "no_open_delivery", "Nothing to revoke from this card",
			"This card matches no pass I have delivered and not yet removed. Use /revoke user instead.")
	}
	entry.TargetUPN = delivery.TargetUPN
	target, refusal, err := f.protectedTarget(ctx, d.UserID)
	if errors.Is(err, graph.ErrNotFound) {
		return notice(store.OutcomeRefused, "not_found", "User not found", "I can't find the user of this pass in the tenant any more.")
	}
	if err != nil {
		entry.Outcome, entry.Reason = store.OutcomeFailed, "lookup"
		_ = f.audit(ctx, entry)
		return nil, fmt.Errorf("look up revoke target: %w", err)
	}
	entry.TargetUPN = target.User.UserPrincipalName
	if refusal != nil {
		return notice(store.OutcomeRefused, refusal.Code, "Not allowed", revokeRefusal(target.User.UserPrincipalName, refusal))
	}
	if err := f.dir.DeleteTAP(ctx, d.UserID, d.MethodID); err != nil && !errors.Is(err, graph.ErrNotFound) {
		entry.Outcome, entry.Reason = store.OutcomeFailed, "delete"
		_ = f.audit(ctx, entry)
		return nil, fmt.Errorf("delete TAP: %w", err)
	}
	entry.Outcome = store.OutcomeAllowed
	_ = f.audit(ctx, entry)
	f.redactOpen(ctx, t.Log(), d.UserID, store.RedactRevoked)
	c := cards.RedactedTAP("", target.User.UserPrincipalName, f.cfg.Now(), redactionText[store.RedactRevoked], t.Times())
	return &c, nil
}

// openDelivery finds the unredacted delivery of a target's pass by method id.
func (f *Flow) openDelivery(ctx context.Context, userID, methodID string) (store.Delivery, bool, error) {
	open, err := f.store.OpenDeliveries(ctx, userID)
	if err != nil {
		return store.Delivery{}, false, fmt.Errorf("open deliveries: %w", err)
	}
	for _, d := range open {
		if d.MethodID == methodID {
			return d, true, nil
		}
	}
	return store.Delivery{}, false, nil
}

// protectedTarget looks the user up in Graph with what CheckTarget needs, and returns
// its refusal if the account is one tapbot must not act on.
func (f *Flow) protectedTarget(ctx context.Context, ref string) (graph.Target, *Refusal, error) {
	target, err := f.resolve(ctx, ref, groupsToCheck(f.cfg.Rules, graph.TAPPolicy{}))
	if err != nil {
		return graph.Target{}, nil, err
	}
	return target, CheckTarget(target, f.cfg.Rules), nil
}

// onRevokeCommand deletes every TAP of a user.
func (f *Flow) onRevokeCommand(ctx context.Context, t *bot.Turn, c command.Command) error {
	ref, err := parseUserArg(c.Args, "Tell me whose pass to revoke: /revoke user@contoso.com")
	if err != nil {
		return t.ReplyText(ctx, err.Error())
	}
	t.Later(func(ctx context.Context) {
		a := t.Activity()
		entry := store.AuditEntry{RequestID: t.RequestID(), RequesterID: a.From.AadObjectID, TargetUPN: ref, Action: store.ActionTAPRevoke}
		text, outcome, reason := f.revokeAll(ctx, t, ref, &entry)
		entry.Outcome, entry.Reason = outcome, reason
		_ = f.audit(ctx, entry)
		if err := t.ReplyText(ctx, text); err != nil {
			t.Log().Error("reply failed", zap.Error(err))
		}
	})
	return nil
}

func (f *Flow) revokeAll(ctx context.Context, t *bot.Turn, ref string, entry *store.AuditEntry) (text string, outcome store.Outcome, reason string) {
	ok, err := f.isHelpdesk(ctx, entry.RequesterID)
	if err != nil {
		t.Log().Error("helpdesk check failed", zap.Error(err))
		return explain(err, t.RequestID()), store.OutcomeFailed, "helpdesk_check"
	}
	if !ok {
		return "Only members of the helpdesk group can revoke passes.", store.OutcomeRefused, "not_helpdesk"
	}
	target, refusal, err := f.protectedTarget(ctx, ref)
	if errors.Is(err, graph.ErrNotFound) {
		return fmt.Sprintf("I can't find %s in this tenant.", ref), store.OutcomeRefused, "not_found"
	}
	if err != nil {
		t.Log().Error("lookup failed", zap.Error(err))
		return explain(err, t.RequestID()), store.OutcomeFailed, "lookup"
	}
	entry.TargetID, entry.TargetUPN = target.User.ID, target.User.UserPrincipalName
	if refusal != nil {
		return revokeRefusal(target.User.UserPrincipalName, refusal), store.OutcomeRefused, refusal.Code
	}
	deleted := 0
	for _, tp := range target.TAPs {
		if err := f.dir.DeleteTAP(ctx, target.User.ID, tp.ID); err != nil && !errors.Is(err, graph.ErrNotFound) {
			t.Log().Error("delete TAP failed", zap.Error(err))
			return explain(err, t.RequestID()), store.OutcomeFailed, "delete"
		}
		entry.MethodID = tp.ID
		deleted++
	}
	f.redactOpen(ctx, t.Log(), target.User.ID, store.RedactRevoked)
	if deleted == 0 {
		return fmt.Sprintf("%s has no Temporary Access Pass.", target.User.UserPrincipalName), store.OutcomeAllowed, "none_present"
	}
	return fmt.Sprintf("Revoked the Temporary Access Pass of %s.", target.User.UserPrincipalName), store.OutcomeAllowed, ""
}
