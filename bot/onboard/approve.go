package onboard

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

const maxReason = 500

// errNotSubmitted gives up a decision on a request that is no longer waiting.
var errNotSubmitted = errors.New("onboard: request already decided")

// parseAction reads the request id (and reason) of an approval card's button.
func parseAction(data map[string]any) (id, reason string, ok bool) {
	id, _ = data[KeyRequestID].(string)
	if !requestIDRE.MatchString(id) {
		return "", "", false
	}
	if v, present := data[reasonInput]; present {
		s, isStr := v.(string)
		if !isStr || len(s) > 4*maxReason || !utf8.ValidString(s) {
			return "", "", false
		}
		reason = line(s)
		if len([]rune(reason)) > maxReason || hasUnsafeRunes(reason) {
			return "", "", false
		}
	}
	return id, reason, true
}

// onDecide handles Approve and Reject. Only approvers may decide, never the
// requester; the compare-and-set from submitted makes double clicks and concurrent
// approvers have one effect. The answer card replaces the clicked one.
func (f *Flow) onDecide(ctx context.Context, t *bot.Turn, data map[string]any, approve bool) (*cards.Card, error) {
	id, reason, ok := parseAction(data)
	if !ok {
		return notice("That card is not valid", "The request id or reason is malformed."), nil
	}
	action := store.ActionOnboardReject
	if approve {
		action = store.ActionOnboardApprove
	}
	from := t.Activity().From.AadObjectID
	if c, err := f.refuseNonApprover(ctx, t, store.AuditEntry{RequestID: id, RequesterID: from, Action: action, Ticket: reason},
		"Only members of the onboarding approvers group can approve or reject requests."); c != nil || err != nil {
		return c, err
	}
	req, err := f.store.Onboard(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return notice("Unknown request", "I have no onboarding request "+id+"."), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read request: %w", err)
	}
	rec, err := decodeRecord(req)
	if err != nil {
		return nil, err
	}
	entry := store.AuditEntry{RequestID: id, RequesterID: from, TargetUPN: rec.Request.UPN(), Action: action, Ticket: reason}
	if strings.EqualFold(from, req.RequesterID) {
		entry.Outcome, entry.Reason = store.OutcomeRefused, "self_approval"
		f.audit(ctx, entry)
		t.Log().Info("onboarding decision refused", zap.String("request", id), zap.String("reason", "self_approval"))
		card := f.summary(req, rec, true)
		card.Body = append([]cards.Element{cards.RichText{Runs: []cards.TextRun{{
			Text: "You asked for this account, so another approver must decide.", Color: "Attention"}}}}, card.Body...)
		return &card, nil
	}
	decider := t.Activity().From.Name
	if u, err := f.dir.User(ctx, from); err == nil && u.DisplayName != "" {
		decider = u.DisplayName
	}
	if decider == "" {
		decider = from
	}

	updated, err := f.mutate(ctx, id, func(r *store.OnboardRequest) error {
		if r.State != store.OnboardSubmitted {
			return errNotSubmitted
		}
		rec, err := decodeRecord(*r)
		if err != nil {
			return err
		}
		rec.DeciderName = decider
		r.Form = rec.encode()
		r.DeciderID, r.Decision = from, reason
		r.State = store.OnboardRejected
		if approve {
			r.State = store.OnboardApproved
		}
		return nil
	})
	if errors.Is(err, errNotSubmitted) {
		entry.Outcome, entry.Reason = store.OutcomeRefused, "already_decided"
		f.audit(ctx, entry)
		cur, _ := decodeRecord(updated)
		card := f.summary(updated, cur, true)
		card.Body = append([]cards.Element{cards.TextBlock{Text: "This request was already decided.", Subtle: true, Wrap: true}}, card.Body...)
		return &card, nil
	}
	if err != nil {
		return nil, fmt.Errorf("record decision: %w", err)
	}
	entry.Outcome = store.OutcomeAllowed
	f.audit(ctx, entry)
	rec, _ = decodeRecord(updated)
	t.Log().Info("onboarding decided", zap.String("request", id), zap.String("state", updated.State))
	t.Later(func(ctx context.Context) {
		f.refreshCards(ctx, updated, rec)
		if !approve {
			text := "Your onboarding request for " + rec.Request.DisplayName + " was rejected by " + decider + "."
			if reason != "" {
				text += " Reason: " + reason
			}
			f.tellRequester(ctx, rec, text)
			return
		}
		f.tellRequester(ctx, rec, "Your onboarding request for "+rec.Request.DisplayName+" was approved by "+decider+". I'm creating the account now.")
		f.Provision(ctx, id, t.RequestID())
	})
	card := f.summary(updated, rec, true)
	return &card, nil
}

// onRetry continues a failed provisioning from the step that failed (approvers only).
func (f *Flow) onRetry(ctx context.Context, t *bot.Turn, data map[string]any) (*cards.Card, error) {
	id, _, ok := parseAction(data)
	if !ok {
		return notice("That card is not valid", "The request id is malformed."), nil
	}
	from := t.Activity().From.AadObjectID
	if c, err := f.refuseNonApprover(ctx, t, store.AuditEntry{RequestID: id, RequesterID: from, Action: store.ActionOnboardRetry},
		"Only members of the onboarding approvers group can retry."); c != nil || err != nil {
		return c, err
	}
	req, err := f.store.Onboard(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return notice("Unknown request", "I have no onboarding request "+id+"."), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read request: %w", err)
	}
	rec, err := decodeRecord(req)
	if err != nil {
		return nil, err
	}
	entry := store.AuditEntry{RequestID: id, RequesterID: from, TargetID: req.UserID, TargetUPN: rec.Request.UPN(), Action: store.ActionOnboardRetry}
	// Claim the retry: failed → provisioning once, however often it is clicked.
	updated, err := f.mutate(ctx, id, func(r *store.OnboardRequest) error {
		if r.State != store.OnboardFailed {
			return errNotSubmitted
		}
		r.State, r.Error = store.OnboardProvisioning, ""
		return nil
	})
	if errors.Is(err, errNotSubmitted) {
		card := f.summary(updated, rec, true)
		card.Body = append([]cards.Element{cards.TextBlock{Text: "This request is not waiting for a retry.", Subtle: true, Wrap: true}}, card.Body...)
		return &card, nil
	}
	if err != nil {
		return nil, fmt.Errorf("claim retry: %w", err)
	}
	entry.Outcome = store.OutcomeAllowed
	f.audit(ctx, entry)
	t.Later(func(ctx context.Context) { f.Provision(ctx, id, t.RequestID()) })
	card := f.summary(updated, rec, true)
	return &card, nil
}

// refuseNonApprover answers a card action from someone outside the approvers group
// with msg alone, or returns nil when from is an approver. It runs before the request
// is read: the clicked card's data names a request, and a non-approver must learn
// nothing about it, not even whether it exists (the card may have been forwarded, or
// the data forged).
func (f *Flow) refuseNonApprover(ctx context.Context, t *bot.Turn, entry store.AuditEntry, msg string) (*cards.Card, error) {
	approver, err := f.isApprover(ctx, entry.RequesterID)
	if err != nil {
		return nil, err
	}
	if approver {
		return nil, nil
	}
	entry.Outcome, entry.Reason = store.OutcomeRefused, "not_approver"
	f.audit(ctx, entry)
	t.Log().Info("onboarding action refused", zap.String("request", entry.RequestID), zap.String("action", string(entry.Action)), zap.String("reason", "not_approver"))
	return notice("Not allowed", msg), nil
}
