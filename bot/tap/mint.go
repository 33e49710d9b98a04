package tap

import (
	"context"
	"errors"
	"time"

	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// Recipient is the personal (1:1) chat a new pass goes to: the only place its value
// is ever written.
type Recipient interface {
	// Deliver posts card and says where it went, so that redaction can find it.
	Deliver(ctx context.Context, card cards.Card) (Posted, error)
}

// Posted is where a delivered card is.
type Posted struct{ ServiceURL, ConversationID, ActivityID string }

// order is a pass every check has allowed, ready to be created: for whom, as
// granted, for which requester of record, and where it goes.
type order struct {
	RequestID   string
	RequesterID string
	Target      graph.User
	Grant       Grant
	Reason      string
	StartNote   string    // cards.TAPView.StartNote
	Viewed      time.Time // the target's passes were read after this instant
	Replacing   bool      // the requester confirmed replacing the current pass
	To          Recipient
	Times       cards.Times // how the card writes times for its reader
	// PerHour bounds the passes RequesterID may create in an hour; 0 means no bound.
	// A person at /tap is bounded (a stolen account cannot mint passes in bulk);
	// tapbot's own schedule is not, since one requester of record stands for every
	// joiner and the joiners themselves bound it.
	PerHour int
}

// stopped says why mint created no pass, or took it back. Exactly one way applies:
// a refusal to audit and tell the requester, a failed step to audit and explain,
// or words for the requester after mint has audited and cleaned up itself.
type stopped struct {
	refusal *Refusal
	step    string
	err     error
	said    string
}

// mint is the creation half of issuing a pass, shared by /tap and the scheduled
// start-day pass: intent, create, audit, deliver, complete, with reconciliation on
// any failure. No pass may exist that the audit log does not know, that was not
// delivered to the recipient's 1:1 chat, or that a check should have stopped. So
// before Graph is asked, a durable intent claims the target (one pass at a time per
// user, across processes) and the requester's hourly slot, atomically; the intent is
// closed only when the delivery is recorded, or the pass deleted again. Whatever a
// crash, a kill or a shutdown leaves open, reconciliation (ReconcileAbandoned)
// deletes. Audit rows and clean-up run on a context that cancellation cannot cut
// short (durable). entry is the audit row so far; mint completes it.
func (f *Flow) mint(ctx context.Context, log *zap.Logger, o order, entry store.AuditEntry) (graph.TAP, *stopped) {
	now := f.cfg.Now()
	target := o.Target
	in := store.TAPIntent{ID: o.RequestID, TargetID: target.ID, TargetUPN: target.UserPrincipalName,
		RequesterID: o.RequesterID, StartedAt: now, LeaseUntil: now.Add(f.cfg.IntentLease)}
	err := f.store.BeginTAP(ctx, in, store.TAPLimits{MaxPerRequester: o.PerHour, Since: now.Add(-time.Hour), ChangedSince: o.Viewed})
	switch {
	case errors.Is(err, store.ErrTargetBusy):
		return graph.TAP{}, &stopped{refusal: refuse("in_progress", "A pass for %s is being issued right now. Wait a moment, then see /status %s.", target.UserPrincipalName, target.UserPrincipalName)}
	case errors.Is(err, store.ErrTargetChanged):
		return graph.TAP{}, &stopped{refusal: refuse("issued_meanwhile", "Someone issued a pass for %s a moment ago. Run /tap again if it should be replaced.", target.UserPrincipalName)}
	case errors.Is(err, store.ErrRateLimited):
		return graph.TAP{}, &stopped{refusal: refuse("rate_limited", "You have created %d passes in the last hour, the most tapbot allows. Ask a colleague, or wait a while.", o.PerHour)}
	case err != nil:
		return graph.TAP{}, &stopped{step: "intent", err: err}
	}

	created, err := f.dir.CreateTAP(ctx, target.ID, graph.TAPRequest{Start: o.Grant.Start, Lifetime: o.Grant.Lifetime, UsableOnce: o.Grant.Once})
	if err != nil && definite(err) {
		f.endIntent(ctx, log, in.ID, store.IntentFailed)
		return graph.TAP{}, &stopped{step: "create", err: err}
	}
	if err != nil {
		// Graph may have created the pass before the answer was lost: make sure none
		// is left, and say so rather than "nothing was changed".
		entry.Outcome, entry.Reason = store.OutcomeFailed, "create_unknown_outcome"
		f.recordDurably(ctx, entry)
		log.Error("TAP creation outcome unknown; reconciling", zap.Error(err))
		dctx, cancel := durable(ctx)
		defer cancel()
		if rerr := f.reconcile(dctx, in, "unknown_outcome"); rerr != nil {
			log.Error("reconciliation failed; the background run retries", zap.Error(rerr))
		}
		return graph.TAP{}, &stopped{said: "I couldn't tell whether Microsoft Graph created the pass, so I made sure none is left. Please try again. Reference: " + o.RequestID}
	}
	in.MethodID = created.ID
	entry.Outcome, entry.MethodID, entry.Expires = store.OutcomeAllowed, created.ID, created.Expires()
	// No TAP may exist that the audit log does not know about.
	if err := f.markCreated(ctx, in); err != nil {
		f.abandon(ctx, log, in, entry, "intent_not_recorded", err)
		return graph.TAP{}, &stopped{said: "I couldn't record the pass, so I deleted it again. Reference: " + o.RequestID}
	}
	if err := f.recordDurably(ctx, entry); err != nil {
		f.abandon(ctx, log, in, entry, "audit_failed", err)
		return graph.TAP{}, &stopped{said: "I couldn't record the pass in the audit log, so I deleted it again. Reference: " + o.RequestID}
	}
	if o.Replacing {
		// Graph deleted the previous pass when creating this one; its card must go too.
		f.redactOpen(ctx, log, target.ID, store.RedactReplaced)
	}
	card := cards.TAP(cards.TAPView{
		UserDisplayName: target.DisplayName, UserPrincipalName: target.UserPrincipalName,
		Value: created.Value.Reveal(), Start: created.Start, Expires: created.Expires(), UsableOnce: created.UsableOnce,
		StartNote: o.StartNote, Reason: o.Reason,
		RevokeData: revokeData{UserID: target.ID, MethodID: created.ID},
		Times:      o.Times,
	})
	at, err := o.To.Deliver(ctx, card)
	if err != nil {
		// Nobody has the pass (or, if the send's answer was lost, its card shows a
		// dead value): remove it rather than leave a live credential behind.
		f.abandon(ctx, log, in, entry, "delivery_failed", err)
		return graph.TAP{}, &stopped{said: "I couldn't reach you in a private chat, so I deleted the pass again. Open a personal chat with me and try again."}
	}
	d := store.Delivery{
		ID: o.RequestID, TargetID: target.ID, TargetUPN: target.UserPrincipalName, MethodID: created.ID,
		RequesterID: o.RequesterID, ServiceURL: at.ServiceURL, ConversationID: at.ConversationID, ActivityID: at.ActivityID,
		Expires: created.Expires(),
	}
	dctx, cancel := durable(ctx)
	defer cancel()
	if err := f.store.CompleteTAP(dctx, in.ID, d, f.cfg.Now()); err != nil {
		// Without the record the card would keep the pass visible forever: fail closed.
		f.abandon(ctx, log, in, entry, "delivery_not_recorded", err)
		_ = f.redact(dctx, d, store.RedactRevoked)
		return graph.TAP{}, &stopped{}
	}
	log.Info("TAP issued", zap.String("method_id", created.ID), zap.Time("start", created.Start), zap.Time("expires", created.Expires()))
	return created, nil
}

// recordDurably appends an audit row on a context cancellation cannot cut short.
func (f *Flow) recordDurably(ctx context.Context, e store.AuditEntry) error {
	dctx, cancel := durable(ctx)
	defer cancel()
	return f.audit(dctx, e)
}
