package tap

import (
	"context"
	"fmt"

	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// IssueScheduled runs every /tap check on the target with tapbot as requester (no
// helpdesk rights are needed: nobody asked) and creates and delivers the pass
// through the same durable path as /tap. An existing pass is never replaced.
func (f *Flow) IssueScheduled(ctx context.Context, p bot.ScheduledPass) (graph.TAP, error) {
	log := f.log.With(zap.String("request_id", p.RequestID), zap.String("target_id", p.UserID), zap.String("requester", store.RequesterTapbot))
	entry := store.AuditEntry{RequestID: p.RequestID, RequesterID: store.RequesterTapbot, TargetID: p.UserID,
		Action: store.ActionTAPCreate, Ticket: p.Reason}
	notIssued := func(outcome store.Outcome, reason, text string) (graph.TAP, error) {
		entry.Outcome, entry.Reason = outcome, reason
		_ = f.recordDurably(ctx, entry)
		return graph.TAP{}, fmt.Errorf("%w: %s", bot.ErrPassNotIssued, text)
	}
	if p.To.Scope != store.ScopePersonal {
		return notIssued(store.OutcomeRefused, "not_personal", "the recipient's conversation is not a 1:1 chat")
	}
	policy, err := f.tapPolicy(ctx)
	if err != nil {
		return notIssued(store.OutcomeFailed, "policy", graph.Explain(err))
	}
	viewed := f.cfg.Now()
	target, err := f.dir.Target(ctx, p.UserID, groupsToCheck(f.cfg.Rules, policy))
	if err != nil {
		return notIssued(store.OutcomeFailed, "lookup", graph.Explain(err))
	}
	entry.TargetUPN = target.User.UserPrincipalName
	grant, refusal := Check(store.RequesterTapbot, target, policy, Request{User: p.UPN, Lifetime: p.Lifetime, Start: p.Start}, f.cfg.Rules)
	if refusal != nil {
		return notIssued(store.OutcomeRefused, refusal.Code, refusal.Message)
	}
	if _, exists := Existing(target.TAPs, f.cfg.Now()); exists {
		return notIssued(store.OutcomeRefused, "exists", target.User.UserPrincipalName+" already has a pass; tapbot does not replace it on its own")
	}
	// No PerHour: tapbot is the requester of record for every joiner (see order).
	o := order{RequestID: p.RequestID, RequesterID: store.RequesterTapbot, Target: target.User, Grant: grant,
		Reason: p.Reason, StartNote: f.startNote(grant.Start, nil), Viewed: viewed,
		To: outletRecipient{refOutlet{send: f.msg, ref: p.To}},
		// Nobody asked in a turn, so the reader's zone is unknown: Teams writes the
		// times in the manager's own.
		Times: cards.ViewerTimes()}
	created, stop := f.mint(ctx, log, o, entry)
	switch {
	case stop == nil:
		return created, nil
	case stop.refusal != nil:
		return notIssued(store.OutcomeRefused, stop.refusal.Code, stop.refusal.Message)
	case stop.step != "":
		return notIssued(store.OutcomeFailed, stop.step, graph.Explain(stop.err))
	}
	// mint audited and cleaned up already.
	return graph.TAP{}, fmt.Errorf("%w: the pass could not be delivered or recorded, so it was deleted again", bot.ErrPassNotIssued)
}
