package onboard

import (
	"context"
	"fmt"

	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/bot/command"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// maxListed bounds /requests' lists.
const maxListed = 10

// openStates are the states of requests that are not finished.
var openStates = []string{store.OnboardSubmitted, store.OnboardApproved, store.OnboardProvisioning, store.OnboardFailed}

// onRequests lists the requester's open requests and, for approvers, the pending
// ones, each as its card (with Approve and Reject for approvers).
func (f *Flow) onRequests(ctx context.Context, t *bot.Turn, _ command.Command) error {
	if f.off {
		return t.ReplyText(ctx, offText)
	}
	t.Later(func(ctx context.Context) {
		if err := f.listRequests(ctx, t); err != nil {
			t.Log().Error("/requests failed", zap.Error(err))
			_ = t.ReplyText(ctx, "Sorry, I couldn't list the requests. Reference: "+t.RequestID())
		}
	})
	return nil
}

func (f *Flow) listRequests(ctx context.Context, t *bot.Turn) error {
	from := t.Activity().From.AadObjectID
	mine, err := f.store.Onboards(ctx, store.OnboardFilter{RequesterID: from, States: openStates, Limit: maxListed})
	if err != nil {
		return fmt.Errorf("list own requests: %w", err)
	}
	approver, err := f.isApprover(ctx, from)
	if err != nil {
		return err
	}
	var pending []store.OnboardRequest
	if approver {
		if pending, err = f.store.Onboards(ctx, store.OnboardFilter{States: []string{store.OnboardSubmitted, store.OnboardFailed}, Limit: maxListed}); err != nil {
			return fmt.Errorf("list pending requests: %w", err)
		}
	}
	if len(mine) == 0 && len(pending) == 0 {
		text := "You have no open onboarding requests. Use /onboard to request an account for a new hire."
		if approver {
			text = "No onboarding requests are open, yours or waiting for approvers."
		}
		return t.ReplyText(ctx, text)
	}
	shown := map[string]bool{}
	if len(pending) > 0 {
		if err := t.ReplyText(ctx, fmt.Sprintf("%d request(s) waiting for an approver's decision or retry:", len(pending))); err != nil {
			return err
		}
		for _, r := range pending {
			rec, err := decodeRecord(r)
			if err != nil {
				return err
			}
			shown[r.ID] = true
			// The requester may not decide their own request: no buttons on theirs.
			if err := t.ReplyCard(ctx, f.summary(r, rec, r.RequesterID != from)); err != nil {
				return err
			}
		}
	}
	var own []store.OnboardRequest
	for _, r := range mine {
		if !shown[r.ID] {
			own = append(own, r)
		}
	}
	if len(own) > 0 {
		if err := t.ReplyText(ctx, fmt.Sprintf("Your %d open request(s):", len(own))); err != nil {
			return err
		}
		for _, r := range own {
			rec, err := decodeRecord(r)
			if err != nil {
				return err
			}
			if err := t.ReplyCard(ctx, f.summary(r, rec, false)); err != nil {
				return err
			}
		}
	}
	return nil
}
