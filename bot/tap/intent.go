package tap

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// durableTimeout bounds the work that must outlive a cancelled request: audit rows,
// undoing a pass, closing its intent.
const durableTimeout = 15 * time.Second

// createdSkew is how far Graph's createdDateTime of a pass may lie before the
// intent's start by clock differences: reconciliation of an intent whose pass's
// method id is unknown deletes the target's passes created after start − createdSkew
// that no recorded delivery holds.
const createdSkew = 5 * time.Minute

// durable returns a context that shutdown and request cancellation cannot cancel,
// bounded by its own timeout: audit rows and clean-up must finish even when the work
// that needed them was cut short.
func durable(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), durableTimeout)
}

// definite reports whether a failed CreateTAP certainly created nothing: Graph
// answered with a client error (refused, throttled before processing). A timeout, a
// reset connection, a cancelled context or a 5xx may have come after Graph created
// the pass.
func definite(err error) bool {
	var ge *graph.Error
	return errors.As(err, &ge) && ge.Status >= 400 && ge.Status < 500
}

// reconcile closes an intent whose outcome its owner could not see through: it
// deletes whatever pass the intent may have created that no recorded delivery holds,
// audits that, and ends the intent as undone. On an error the intent stays open and
// the next run tries again.
func (f *Flow) reconcile(ctx context.Context, in store.TAPIntent, why string) error {
	log := f.log.With(zap.String("intent", in.ID), zap.String("target_id", in.TargetID))
	deleted, err := f.deleteIntentPasses(ctx, in)
	if err != nil {
		return err
	}
	// What was deleted must be recorded even if shutdown cancels ctx now.
	ctx, cancel := durable(ctx)
	defer cancel()
	entry := store.AuditEntry{RequestID: in.ID, RequesterID: in.RequesterID, TargetID: in.TargetID, TargetUPN: in.TargetUPN,
		Action: store.ActionTAPReconcile, Outcome: store.OutcomeAllowed, Reason: why + "_nothing_created"}
	if len(deleted) > 0 {
		entry.Reason, entry.MethodID = why+"_deleted", deleted[0]
	}
	if err := f.audit(ctx, entry); err != nil {
		return err
	}
	if err := f.store.EndTAP(ctx, in.ID, store.IntentUndone, f.cfg.Now()); err != nil && !errors.Is(err, store.ErrIntentState) {
		return fmt.Errorf("close intent: %w", err)
	}
	log.Warn("unfinished pass reconciled", zap.String("why", why), zap.Strings("deleted_method_ids", deleted))
	return nil
}

// deleteIntentPasses deletes the pass an intent created: by method id once Graph
// told it, else every pass of the target created since the intent began (give or
// take createdSkew) that no recorded delivery holds.
func (f *Flow) deleteIntentPasses(ctx context.Context, in store.TAPIntent) ([]string, error) {
	var ids []string
	if in.MethodID != "" {
		ids = []string{in.MethodID}
	} else {
		taps, err := f.dir.TAPs(ctx, in.TargetID)
		if errors.Is(err, graph.ErrNotFound) {
			return nil, nil // the user is gone, and its passes with it
		}
		if err != nil {
			return nil, fmt.Errorf("list passes of %s: %w", in.TargetID, err)
		}
		open, err := f.store.OpenDeliveries(ctx, in.TargetID)
		if err != nil {
			return nil, fmt.Errorf("list deliveries of %s: %w", in.TargetID, err)
		}
		recorded := map[string]bool{}
		for _, d := range open {
			recorded[d.MethodID] = true
		}
		for _, tp := range taps {
			if !recorded[tp.ID] && !tp.Created.Before(in.StartedAt.Add(-createdSkew)) {
				ids = append(ids, tp.ID)
			}
		}
	}
	var deleted []string
	for _, id := range ids {
		err := f.dir.DeleteTAP(ctx, in.TargetID, id)
		if err != nil && !errors.Is(err, graph.ErrNotFound) {
			return deleted, fmt.Errorf("delete pass %s of %s: %w", id, in.TargetID, err)
		}
		if err == nil {
			deleted = append(deleted, id)
		}
	}
	return deleted, nil
}

// ReconcileAbandoned reconciles the open intents whose lease ended before now: their
// process stopped (crash, kill, shutdown cut short) between asking Graph for a pass
// and recording its delivery. With a store only this process can open (SQLite), the
// caller passes a time past every lease at start, since no other owner can be alive.
func (f *Flow) ReconcileAbandoned(ctx context.Context, now time.Time) (int, error) {
	abandoned, err := f.store.AbandonedTAPs(ctx, now, 50)
	if err != nil {
		return 0, fmt.Errorf("abandoned intents: %w", err)
	}
	done := 0
	for _, in := range abandoned {
		// Several replicas may see the same abandoned intent: one takes it over,
		// for a lease of its own, and reconciles it.
		mine, err := f.store.TakeOverTAP(ctx, in.ID, now, f.cfg.Now().Add(f.cfg.IntentLease))
		if err != nil {
			f.log.Error("taking over an unfinished pass failed; will retry", zap.String("intent", in.ID), zap.Error(err))
			continue
		}
		if !mine {
			continue
		}
		if err := f.reconcile(ctx, in, "abandoned"); err != nil {
			f.log.Error("reconciling an unfinished pass failed; will retry", zap.String("intent", in.ID), zap.Error(err))
			continue
		}
		done++
	}
	return done, nil
}
