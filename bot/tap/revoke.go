package tap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/bot/command"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/every"
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
	if len(c.Args) != 1 {
		return t.ReplyText(ctx, "Tell me whose pass to revoke: /revoke user@contoso.com")
	}
	ref, err := command.ParseUser(c.Args[0])
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

// onStatus shows a user's account, pass (never its value) and registered methods.
func (f *Flow) onStatus(ctx context.Context, t *bot.Turn, c command.Command) error {
	if len(c.Args) != 1 {
		return t.ReplyText(ctx, "Tell me whose status to show: /status user@contoso.com")
	}
	ref, err := command.ParseUser(c.Args[0])
	if err != nil {
		return t.ReplyText(ctx, err.Error())
	}
	t.Later(func(ctx context.Context) {
		if err := f.status(ctx, t, ref); err != nil {
			t.Log().Error("status failed", zap.Error(err))
			_ = t.ReplyText(ctx, explain(err, t.RequestID()))
		}
	})
	return nil
}

func (f *Flow) status(ctx context.Context, t *bot.Turn, ref string) error {
	ok, err := f.isHelpdesk(ctx, t.Activity().From.AadObjectID)
	if err != nil {
		return err
	}
	if !ok {
		return t.ReplyText(ctx, "Only members of the helpdesk group can see a user's sign-in status.")
	}
	target, err := f.resolve(ctx, ref, nil)
	if errors.Is(err, graph.ErrNotFound) {
		return t.ReplyText(ctx, fmt.Sprintf("I can't find %s in this tenant.", ref))
	}
	if err != nil {
		return err
	}
	methods, err := f.dir.Methods(ctx, target.User.ID)
	if err != nil {
		return err
	}
	v := statusView(target, methods, f.cfg.Now(), t.Times())
	if c, err := f.store.Checklist(ctx, target.User.ID); err == nil {
		v.Methods = append(v.Methods, cards.Fact{Title: "Set-up checklist", Value: checklistSummary(c, v.Times)})
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return t.ReplyCard(ctx, cards.Status(v))
}

// checklistSummary counts the steps of a checklist's progress by state. The progress
// JSON is the checklist flow's; only the step states are read here.
func checklistSummary(c store.Checklist, times cards.Times) string {
	if !c.DoneAt.IsZero() {
		return "finished " + times.Date(c.DoneAt)
	}
	var p struct {
		Steps []struct {
			Status string `json:"status"`
		} `json:"steps"`
	}
	if json.Unmarshal(c.Progress, &p) != nil {
		return "started"
	}
	done, waiting := 0, 0
	for _, s := range p.Steps {
		switch s.Status {
		case "done":
			done++
		case "claimed":
			waiting++
		}
	}
	text := fmt.Sprintf("%d of %d steps done", done, len(p.Steps))
	if waiting > 0 {
		text += fmt.Sprintf(", %d waiting for confirmation", waiting)
	}
	if c.ConversationID == "" {
		text += "; not yet delivered (the hire hasn't opened Teams)"
	}
	return text
}

var methodNames = []struct{ typ, name string }{
	{"microsoftAuthenticator", "Microsoft Authenticator"},
	{"windowsHelloForBusiness", "Windows Hello for Business"},
	{"fido2", "FIDO2 security key"},
	{"phone", "Phone"},
}

// statusView words the status in the reader's times: every date on the card is
// written by the same Times.
func statusView(t graph.Target, methods []graph.Method, now time.Time, times cards.Times) cards.StatusView {
	v := cards.StatusView{DisplayName: t.User.DisplayName, UPN: t.User.UserPrincipalName,
		Enabled: t.User.AccountEnabled, Created: t.User.CreatedDateTime, TAP: "none", Times: times}
	if cur, ok := Existing(t.TAPs, now); ok {
		v.TAP = "present, valid until " + times.At(cur.Expires())
	}
	for _, m := range methodNames {
		state := "not registered"
		if m.typ == "microsoftAuthenticator" {
			state = authenticatorState(methods, times)
		} else {
			for _, have := range methods {
				if have.Type == m.typ {
					state = "registered"
					if !have.Created.IsZero() {
						state += " " + times.Date(have.Created)
					}
					break
				}
			}
		}
		v.Methods = append(v.Methods, cards.Fact{Title: m.name, Value: state})
	}
	return v
}

// authenticatorState tells phone sign-in from MFA only: Graph answers an
// Authenticator registered for push approvals only with a null createdDateTime
// (graph.Method.MFAOnly). Someone with only that cannot sign in without a password.
func authenticatorState(methods []graph.Method, times cards.Times) string {
	mfaOnly := false
	for _, m := range methods {
		switch {
		case m.Type != "microsoftAuthenticator":
		case !m.MFAOnly:
			state := "registered for phone sign-in"
			if !m.Created.IsZero() {
				state += " " + times.Date(m.Created)
			}
			return state
		default:
			mfaOnly = true
		}
	}
	if mfaOnly {
		return "registered for MFA approvals only: phone sign-in is off"
	}
	return "not registered"
}
