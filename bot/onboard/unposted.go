package onboard

import (
	"context"
	"errors"
	"fmt"

	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// errNotUnposted: the request is no longer a submitted one whose approval card is
// missing (posted meanwhile, cancelled, or a second click on the same button).
var errNotUnposted = errors.New("onboard: approval card not missing")

// markUnposted records that no approver can see the request, so that /requests offers
// its requester to post it again or cancel it.
func (f *Flow) markUnposted(ctx context.Context, id string) {
	_, err := f.mutate(ctx, id, func(r *store.OnboardRequest) error {
		rec, err := decodeRecord(*r)
		if err != nil {
			return err
		}
		rec.ApprovalUnposted = true
		r.Form = rec.encode()
		return nil
	})
	if err != nil {
		f.log.Error("unposted approval card not recorded", zap.String("request", id), zap.Error(err))
	}
}

// onUnposted answers the requester's "Send to approvers again" (repost) and "Cancel
// request" on a request whose approval card could not be posted. Each acts once: the
// compare-and-set clears the mark, and a second click finds it gone.
func (f *Flow) onUnposted(ctx context.Context, t *bot.Turn, data map[string]any, repost bool) (*cards.Card, error) {
	d, ok := readButton(data)
	if !ok {
		return notice("That card is not valid", "The request id is malformed."), nil
	}
	id := d.RequestID
	from := t.Activity().From.AadObjectID
	req, err := f.store.Onboard(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && req.RequesterID != from) {
		// Only the requester acts here; others learn nothing about the request.
		return notice("That card is not valid", "Only the person who asked can send a request again or cancel it."), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read request: %w", err)
	}
	entry := store.AuditEntry{RequestID: id, RequesterID: from, Action: store.ActionOnboardCancel}
	if repost {
		entry.Action = store.ActionOnboardRepost
	}
	updated, err := f.mutate(ctx, id, func(r *store.OnboardRequest) error {
		rec, err := decodeRecord(*r)
		if err != nil {
			return err
		}
		if r.State != store.OnboardSubmitted || !rec.ApprovalUnposted {
			return errNotUnposted
		}
		rec.ApprovalUnposted = false
		r.Form = rec.encode()
		if !repost {
			r.State, r.DeciderID, r.Decision = store.OnboardRejected, from, "cancelled by the requester"
		}
		return nil
	})
	if err != nil && !errors.Is(err, errNotUnposted) {
		return nil, fmt.Errorf("claim %s: %w", entry.Action, err)
	}
	rec, derr := decodeRecord(updated)
	if derr != nil {
		return nil, derr
	}
	entry.TargetUPN = rec.Request.UPN()
	note := "I'm sending it to the approvers again."
	switch {
	case errors.Is(err, errNotUnposted):
		note = "This request is not waiting for that any more."
	case repost:
		entry.Outcome = store.OutcomeAllowed
		f.audit(ctx, entry)
		t.Later(func(ctx context.Context) { f.postApproval(ctx, id) })
	default:
		entry.Outcome = store.OutcomeAllowed
		f.audit(ctx, entry)
		note = "Request cancelled."
	}
	card := f.summary(updated, rec, false)
	card.Body = append([]cards.Element{cards.TextBlock{Text: note, Subtle: true, Wrap: true}}, card.Body...)
	return &card, nil
}
