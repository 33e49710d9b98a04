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
	action := "onboard.reject"
	if approve {
		action = "onboard.approve"
	}
	from := t.Activity().From.AadObjectID
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
	refuse := func(code, msg string) (*cards.Card, error) {
		entry.Outcome, entry.Reason = "refused", code
		f.audit(ctx, entry)
		t.Log().Info("onboarding decision refused", zap.String("request", id), zap.String("reason", code))
		card := f.summary(req, rec, true)
		card.Body = append([]cards.Element{cards.RichText{Runs: []cards.TextRun{{Text: msg, Color: "Attention"}}}}, card.Body...)
		return &card, nil
	}
	approver, err := f.isApprover(ctx, from)
	if err != nil {
		return nil, err
	}
	if !approver {
		return refuse("not_approver", "Only members of the onboarding approvers group can approve or reject requests.")
	}
	if strings.EqualFold(from, req.RequesterID) {
		return refuse("self_approval", "You asked for this account, so another approver must decide.")
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
		entry.Outcome, entry.Reason = "refused", "already_decided"
		f.audit(ctx, entry)
		cur, _ := decodeRecord(updated)
		card := f.summary(updated, cur, true)
		card.Body = append([]cards.Element{cards.TextBlock{Text: "This request was already decided.", Subtle: true, Wrap: true}}, card.Body...)
		return &card, nil
	}
	if err != nil {
		return nil, fmt.Errorf("record decision: %w", err)
	}
	entry.Outcome = "allowed"
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
	entry := store.AuditEntry{RequestID: id, RequesterID: from, TargetID: req.UserID, TargetUPN: rec.Request.UPN(), Action: "onboard.retry"}
	approver, err := f.isApprover(ctx, from)
	if err != nil {
		return nil, err
	}
	if !approver {
		entry.Outcome, entry.Reason = "refused", "not_approver"
		f.audit(ctx, entry)
		card := f.summary(req, rec, true)
		card.Body = append([]cards.Element{cards.RichText{Runs: []cards.TextRun{{Text: "Only members of the onboarding approvers group can retry.", Color: "Attention"}}}}, card.Body...)
		return &card, nil
	}
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
	entry.Outcome = "allowed"
	f.audit(ctx, entry)
	t.Later(func(ctx context.Context) { f.Provision(ctx, id, t.RequestID()) })
	card := f.summary(updated, rec, true)
	return &card, nil
}
