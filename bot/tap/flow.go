package tap

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/tapbot/tapbot/bot/membership"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/store"
	"github.com/tapbot/tapbot/internal/ttlcache"
	"go.uber.org/zap"
)

// Directory is what the flow needs from Microsoft Graph.
type Directory interface {
	Target(ctx context.Context, ref string, groupIDs []string) (graph.Target, error)
	UserByMail(ctx context.Context, mail string) (graph.User, error)
	CheckMemberGroups(ctx context.Context, userID string, groupIDs []string) ([]string, error)
	TAPPolicy(ctx context.Context) (graph.TAPPolicy, error)
	CreateTAP(ctx context.Context, userID string, r graph.TAPRequest) (graph.TAP, error)
	DeleteTAP(ctx context.Context, userID, methodID string) error
	TAPs(ctx context.Context, userID string) ([]graph.TAP, error)
	Methods(ctx context.Context, userID string) ([]graph.Method, error)
	Manager(ctx context.Context, userID string) (graph.User, error)
}

// Messenger talks to the Bot Connector: a scheduled pass goes to a stored 1:1 chat,
// confirmations reach people proactively (Sender), and redaction replaces a delivered
// pass card. Delivery for an interactive /tap goes through bot.Turn.SendPrivately.
type Messenger interface {
	Sender
	UpdateActivity(ctx context.Context, serviceURL, conversationID, activityID string, a schema.Activity) error
}

// StuckCards rebuilds the card an "Issue new TAP" button sits on (the checklist's
// "I'm stuck" card) with who is handling it, or returns nil for any other card. The
// invoke's answer replaces that card for everyone who sees it, so answering with a
// notice would take the card's context away.
type StuckCards interface {
	StuckCard(ctx context.Context, d cards.IssueTAPData, handler string) (*cards.Card, error)
}

// Store is the durable state the flow writes.
type Store interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error)
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]store.Delivery, error)
	DeliveriesToCheck(ctx context.Context, now time.Time, limit int) ([]store.Delivery, error)
	MarkChecked(ctx context.Context, id string, at time.Time) error
	DeferRedaction(ctx context.Context, id string, next time.Time) (int, error)
	OpenDeliveries(ctx context.Context, targetID string) ([]store.Delivery, error)
	MarkRedacted(ctx context.Context, id string, at time.Time, reason string) (bool, error)
	Claim(ctx context.Context, key string, at time.Time) (bool, error)
	BeginTAP(ctx context.Context, i store.TAPIntent, lim store.TAPLimits) error
	TAPCreated(ctx context.Context, id, methodID string, at time.Time) error
	CompleteTAP(ctx context.Context, id string, d store.Delivery, at time.Time) error
	EndTAP(ctx context.Context, id string, state store.IntentState, at time.Time) error
	AbandonedTAPs(ctx context.Context, now time.Time, limit int) ([]store.TAPIntent, error)
	TakeOverTAP(ctx context.Context, id string, now, leaseUntil time.Time) (bool, error)
	Checklist(ctx context.Context, userID string) (store.Checklist, error)
	CountAudit(ctx context.Context, f store.AuditFilter) (int, error)
	PersonalReference(ctx context.Context, tenantID, userAADObjectID string) (store.Reference, error)
	Reference(ctx context.Context, conversationID string) (store.Reference, error)
	CreateConfirmation(ctx context.Context, c store.TAPConfirmation) error
	Confirmation(ctx context.Context, id string) (store.TAPConfirmation, error)
	DecideConfirmation(ctx context.Context, id string, state store.ConfirmState, by string, at time.Time) (store.TAPConfirmation, error)
	DueConfirmations(ctx context.Context, now time.Time, limit int) ([]store.TAPConfirmation, error)
	RecordConfirmationCards(ctx context.Context, id string, question, waiting store.CardRef) (store.TAPConfirmation, error)
}

// Config configures the flow.
type Config struct {
	HelpdeskGroups []string // members may use /tap, /revoke, /status
	Rules          Rules
	RequireReason  bool
	MaxPerHour     int           // TAPs one requester may create per hour (default 20)
	CacheTTL       time.Duration // helpdesk membership and TAP policy cache (default 5m)
	// IntentLease is how long a pass being issued holds its target before
	// reconciliation may take it for abandoned (default 5m). It must exceed the
	// time the flow's background work may take (bot.Config.BackgroundTimeout).
	IntentLease time.Duration
	// Location is the organisation's time zone (TAPBOT_TIMEZONE): start times of
	// passes are read in it when Teams does not say the requester's (default UTC).
	Location *time.Location
	// Verify lists who may confirm a pass for an established account, in order of
	// preference (TAPBOT_TAP_VERIFY); empty issues on one person's word.
	Verify []store.ConfirmPath
	// VerifyAfter: an account older than this is established (default 14 days).
	VerifyAfter time.Duration
	// VerifyTimeout: how long a question waits for its answer (default 15m).
	VerifyTimeout time.Duration
	// HelpdeskConversation is where a second helpdesk member is asked (a channel).
	HelpdeskConversation string
	// SecurityConversation gets an alert when a confirmation is denied (a channel).
	SecurityConversation string
	Now                  func() time.Time
}

// Flow is the TAP flow. Create it with New and register it on the bot.
type Flow struct {
	cfg   Config
	dir   Directory
	msg   Messenger
	store Store
	log   *zap.Logger

	members *membership.Checker
	stuck   StuckCards // nil: the Issue button is answered with a notice
	policy  *ttlcache.Cache[struct{}, graph.TAPPolicy]
}

// New builds the flow.
func New(cfg Config, dir Directory, msg Messenger, st Store, log *zap.Logger) (*Flow, error) {
	if len(cfg.HelpdeskGroups) == 0 {
		return nil, errors.New("tap: at least one helpdesk group is required")
	}
	if cfg.MaxPerHour <= 0 {
		cfg.MaxPerHour = 20
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 5 * time.Minute
	}
	if cfg.IntentLease <= 0 {
		cfg.IntentLease = 5 * time.Minute
	}
	if cfg.VerifyAfter <= 0 {
		cfg.VerifyAfter = 14 * 24 * time.Hour
	}
	if cfg.VerifyTimeout <= 0 {
		cfg.VerifyTimeout = 15 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	return &Flow{cfg: cfg, dir: dir, msg: msg, store: st, log: log,
		members: membership.New(dir, cfg.CacheTTL, cfg.Now),
		policy:  ttlcache.New[struct{}, graph.TAPPolicy](cfg.CacheTTL, 1, cfg.Now)}, nil
}

// AnswerIssueWith makes the answer to an "Issue new TAP" press the card it sits on,
// rebuilt by s. Call it before the bot serves.
func (f *Flow) AnswerIssueWith(s StuckCards) { f.stuck = s }

// isHelpdesk checks the requester's (transitive) membership of a helpdesk group,
// cached for CacheTTL: minutes, so that removing someone from the group takes effect
// quickly.
func (f *Flow) isHelpdesk(ctx context.Context, requesterID string) (bool, error) {
	return f.members.IsMember(ctx, requesterID, f.cfg.HelpdeskGroups)
}

func (f *Flow) tapPolicy(ctx context.Context) (graph.TAPPolicy, error) {
	return f.policy.Load(struct{}{}, func() (graph.TAPPolicy, error) {
		p, err := f.dir.TAPPolicy(ctx)
		if err != nil {
			return graph.TAPPolicy{}, fmt.Errorf("read TAP policy: %w", err)
		}
		return p, nil
	})
}

// resolve finds the target by UPN or object id, and by mail if that fails, returning
// everything the checks need. The first lookup is one Graph round trip.
func (f *Flow) resolve(ctx context.Context, ref string, groups []string) (graph.Target, error) {
	t, err := f.dir.Target(ctx, ref, groups)
	if errors.Is(err, graph.ErrNotFound) {
		u, merr := f.dir.UserByMail(ctx, ref)
		if merr != nil {
			if errors.Is(merr, graph.ErrNotFound) {
				return graph.Target{}, err
			}
			return graph.Target{}, merr
		}
		return f.dir.Target(ctx, u.ID, groups)
	}
	return t, err
}

// audit appends a row. A failure to audit is logged loudly; the caller decides
// whether the action may go on (issuing may not).
func (f *Flow) audit(ctx context.Context, e store.AuditEntry) error {
	if _, err := f.store.AppendAudit(ctx, e); err != nil {
		f.log.Error("audit append failed", zap.String("action", string(e.Action)), zap.String("outcome", string(e.Outcome)), zap.Error(err))
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// explain turns a Graph failure into words for the requester. The details stay in
// the log under the request id.
func explain(err error, requestID string) string {
	return graph.Explain(err) + " Nothing was changed. Reference: " + requestID
}
