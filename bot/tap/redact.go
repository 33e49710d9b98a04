package tap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/every"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// redactOpen removes the value from every delivered card of a user's passes.
func (f *Flow) redactOpen(ctx context.Context, log *zap.Logger, userID, reason string) {
	open, err := f.store.OpenDeliveries(ctx, userID)
	if err != nil {
		log.Error("list deliveries to redact", zap.Error(err))
		return
	}
	for _, d := range open {
		if err := f.redact(ctx, d, reason); err != nil {
			log.Error("redaction failed; the expiry job retries", zap.String("delivery", d.ID), zap.Error(err))
		}
	}
}

// redactionText says on the card why the pass is gone, by store.Redact* reason.
var redactionText = map[string]string{
	store.RedactExpired:  "it expired",
	store.RedactRevoked:  "it was revoked",
	store.RedactReplaced: "it was replaced by a new pass",
	store.RedactUsed:     "it was used",
}

// Redaction back-off: a card whose update fails waits redactBackoff, doubled after
// each further failure up to maxRedactBackoff, and is given up after
// maxRedactAttempts (about three hours of trying), so that cards that can't be
// updated (the chat was deleted, the bot removed) never keep the others waiting.
const (
	redactBackoff     = time.Minute
	maxRedactBackoff  = time.Hour
	maxRedactAttempts = 8
)

// redact replaces a delivered TAP card with one without the value, then records it.
// The card is updated first: if that fails the delivery stays open and is retried.
// reason is one of the store.Redact* codes.
func (f *Flow) redact(ctx context.Context, d store.Delivery, reason string) error {
	raw, err := json.Marshal(cards.RedactedTAP("", d.TargetUPN, d.Expires, redactionText[reason], cards.ViewerTimes()))
	if err != nil {
		return err
	}
	out := bot.CardActivity(raw)
	if err := f.msg.UpdateActivity(ctx, d.ServiceURL, d.ConversationID, d.ActivityID, out); err != nil {
		f.redactFailed(ctx, d, reason, err)
		return fmt.Errorf("update card: %w", err)
	}
	first, err := f.store.MarkRedacted(ctx, d.ID, f.cfg.Now(), reason)
	if err != nil {
		return fmt.Errorf("mark redacted: %w", err)
	}
	if !first {
		return nil // another run (or replica) redacted it at the same time and audited it
	}
	_ = f.audit(ctx, store.AuditEntry{RequestID: d.ID, RequesterID: d.RequesterID, TargetID: d.TargetID,
		TargetUPN: d.TargetUPN, Action: store.ActionTAPRedact, Outcome: store.OutcomeAllowed, Reason: reason, MethodID: d.MethodID, Expires: d.Expires})
	return nil
}

// redactFailed records a failed card update of d: the delivery backs off, and after
// maxRedactAttempts it is closed as given up, with an error log and an audit row
// saying why, since its card may still show the value (until the pass expires).
func (f *Flow) redactFailed(ctx context.Context, d store.Delivery, reason string, cause error) {
	now := f.cfg.Now()
	wait := min(redactBackoff<<min(d.Attempts, 16), maxRedactBackoff)
	n, err := f.store.DeferRedaction(ctx, d.ID, now.Add(wait))
	if err != nil {
		f.log.Error("failed redaction not recorded", zap.String("delivery", d.ID), zap.Error(err))
		return
	}
	if n < maxRedactAttempts {
		return
	}
	if _, err := f.store.MarkRedacted(ctx, d.ID, now, store.RedactGaveUp); err != nil {
		f.log.Error("giving up redaction not recorded", zap.String("delivery", d.ID), zap.Error(err))
		return
	}
	f.log.Error("gave up removing a pass from its card; it may show until the pass expires",
		zap.String("delivery", d.ID), zap.String("target_id", d.TargetID), zap.String("method_id", d.MethodID),
		zap.String("redact_reason", reason), zap.Int("attempts", n), zap.Time("expires", d.Expires), zap.Error(cause))
	_ = f.audit(ctx, store.AuditEntry{RequestID: d.ID, RequesterID: d.RequesterID, TargetID: d.TargetID,
		TargetUPN: d.TargetUPN, Action: store.ActionTAPRedact, Outcome: store.OutcomeFailed, MethodID: d.MethodID, Expires: d.Expires,
		Reason: fmt.Sprintf("%s after %d attempts (%s): %v", store.RedactGaveUp, n, reason, cause)})
}

// RedactExpired removes the value from the cards of passes that have expired. It is
// durable: deliveries live in the store, so passes that expired while tapbot was down
// are redacted on the first run after start.
func (f *Flow) RedactExpired(ctx context.Context) (int, error) {
	due, err := f.store.DueDeliveries(ctx, f.cfg.Now(), 50)
	if err != nil {
		return 0, fmt.Errorf("due deliveries: %w", err)
	}
	done := 0
	for _, d := range due {
		if err := f.redact(ctx, d, store.RedactExpired); err != nil {
			f.log.Warn("redaction failed; will retry", zap.String("delivery", d.ID), zap.Error(err))
			continue
		}
		done++
	}
	return done, nil
}

// spentBatch bounds the Graph lookups of one RedactSpent run.
const spentBatch = 20

// RedactSpent removes the value of passes that stopped working before they expired:
// a one-time pass that was used, or a pass deleted outside tapbot (in the Entra admin
// center, or replaced by another tool). It asks Graph about at most spentBatch open
// deliveries, those checked least recently, so that successive runs go round all.
func (f *Flow) RedactSpent(ctx context.Context) (int, error) {
	now := f.cfg.Now()
	open, err := f.store.DeliveriesToCheck(ctx, now, spentBatch)
	if err != nil {
		return 0, fmt.Errorf("open deliveries: %w", err)
	}
	done := 0
	for _, d := range open {
		taps, err := f.dir.TAPs(ctx, d.TargetID)
		// Checked whatever Graph said, so that the next run starts with others.
		if merr := f.store.MarkChecked(ctx, d.ID, now); merr != nil {
			return done, fmt.Errorf("mark %s checked: %w", d.ID, merr)
		}
		if err != nil && !errors.Is(err, graph.ErrNotFound) {
			return done, fmt.Errorf("TAPs of %s: %w", d.TargetID, err)
		}
		reason := spentReason(d, taps)
		if reason == "" {
			continue
		}
		if err := f.redact(ctx, d, reason); err != nil {
			f.log.Warn("redaction failed; will retry", zap.String("delivery", d.ID), zap.Error(err))
			continue
		}
		done++
	}
	return done, nil
}

// spentReason says why a delivered pass stopped working before it expired, or ""
// if it still works. A pass that is gone while the user has another was replaced (a
// user has one pass at a time; creating one deletes the last), else revoked.
func spentReason(d store.Delivery, taps []graph.TAP) string {
	for _, tp := range taps {
		if tp.ID == d.MethodID {
			if tp.UsabilityReason == "OneTimeUsed" {
				return store.RedactUsed
			}
			return ""
		}
	}
	if len(taps) > 0 {
		return store.RedactReplaced
	}
	return store.RedactRevoked
}

// RunRedactor calls ReconcileAbandoned and RedactExpired every interval, and
// RedactSpent every fourth interval (it costs Graph requests), until ctx ends.
func (f *Flow) RunRedactor(ctx context.Context, interval time.Duration) {
	every.Tick(ctx, interval, func(ctx context.Context, tick int) {
		if n, err := f.ReconcileAbandoned(ctx, f.cfg.Now()); err != nil {
			f.log.Error("reconciling unfinished passes failed", zap.Error(err))
		} else if n > 0 {
			f.log.Warn("unfinished passes reconciled", zap.Int("count", n))
		}
		if n, err := f.RedactExpired(ctx); err != nil {
			f.log.Error("redaction run failed", zap.Error(err))
		} else if n > 0 {
			f.log.Info("expired passes redacted", zap.Int("count", n))
		}
		if n, err := f.ExpireConfirmations(ctx); err != nil {
			f.log.Error("expiring confirmations failed", zap.Error(err))
		} else if n > 0 {
			f.log.Info("unanswered confirmations expired", zap.Int("count", n))
		}
		if tick%4 == 0 {
			if n, err := f.RedactSpent(ctx); err != nil {
				f.log.Error("used-pass redaction failed", zap.Error(err))
			} else if n > 0 {
				f.log.Info("used or removed passes redacted", zap.Int("count", n))
			}
		}
	})
}
