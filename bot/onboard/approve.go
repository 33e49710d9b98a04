package onboard

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// maxReason is the longest reason an approver may give, in characters: the reason
// input's limit.
const maxReason = cards.OnboardMaxReason

// errNotSubmitted gives up a decision on a request that is no longer waiting.
var errNotSubmitted = errors.New("onboard: request already decided")

// readButton reads the data of a button on a request's card: the request id, and the
// reason an approver typed, made one line. The data is the client's: a malformed id,
// a value of the wrong type, or a reason too long or with control or
// direction-changing characters makes ok false.
func readButton(data map[string]any) (d cards.OnboardRequestData, ok bool) {
	d, err := bot.Decode[cards.OnboardRequestData](data)
	if err != nil || !requestIDRE.MatchString(d.RequestID) || len(d.Reason) > 4*maxReason {
		return cards.OnboardRequestData{}, false
	}
	d.Reason = line(d.Reason)
	if len([]rune(d.Reason)) > maxReason || hasUnsafeRunes(d.Reason) {
		return cards.OnboardRequestData{}, false
	}
	return d, true
}

// onDecide handles Approve and Reject. Only approvers may decide, never the
// requester; the compare-and-set from submitted makes double clicks and concurrent
// approvers have one effect. The answer card replaces the clicked one.
func (f *Flow) onDecide(ctx context.Context, t *bot.Turn, data map[string]any, approve bool) (*cards.Card, error) {
	d, ok := readButton(data)
	if !ok {
		return notice("That card is not valid", "The request id or reason is malformed."), nil
	}
	id, reason := d.RequestID, d.Reason
	action := store.ActionOnboardReject
	if approve {
		action = store.ActionOnboardApprove
	}
	from := t.Activity().From.AadObjectID
	req, rec, answer, err := f.approverRequest(ctx, t, store.AuditEntry{RequestID: id, RequesterID: from, Action: action, Ticket: reason},
		"Only members of the onboarding approvers group can approve or reject requests.")
	if answer != nil || err != nil {
		return answer, err
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
	d, ok := readButton(data)
	if !ok {
		return notice("That card is not valid", "The request id is malformed."), nil
	}
	id := d.RequestID
	from := t.Activity().From.AadObjectID
	req, rec, answer, err := f.approverRequest(ctx, t, store.AuditEntry{RequestID: id, RequesterID: from, Action: store.ActionOnboardRetry},
		"Only members of the onboarding approvers group can retry.")
	if answer != nil || err != nil {
		return answer, err
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

// approverRequest reads the request an approvers' button names (entry.RequestID) for
// an approver, or answers with a card instead: msg alone to someone outside the
// approvers group, or that the request is unknown. The membership check comes before
// the request is read: the clicked card's data names a request, and a non-approver
// must learn nothing about it, not even whether it exists (the card may have been
// forwarded, or the data forged).
func (f *Flow) approverRequest(ctx context.Context, t *bot.Turn, entry store.AuditEntry, msg string) (store.OnboardRequest, record, *cards.Card, error) {
	approver, err := f.isApprover(ctx, entry.RequesterID)
	if err != nil {
		return store.OnboardRequest{}, record{}, nil, err
	}
	if !approver {
		entry.Outcome, entry.Reason = store.OutcomeRefused, "not_approver"
		f.audit(ctx, entry)
		t.Log().Info("onboarding action refused", zap.String("request", entry.RequestID), zap.String("action", string(entry.Action)), zap.String("reason", "not_approver"))
		return store.OnboardRequest{}, record{}, notice("Not allowed", msg), nil
	}
	req, err := f.store.Onboard(ctx, entry.RequestID)
	if errors.Is(err, store.ErrNotFound) {
		return req, record{}, notice("Unknown request", "I have no onboarding request "+entry.RequestID+"."), nil
	}
	if err != nil {
		return req, record{}, nil, fmt.Errorf("read request: %w", err)
	}
	rec, err := decodeRecord(req)
	return req, rec, nil, err
}
