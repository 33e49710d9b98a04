package audit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/bot/command"
	"github.com/tapbot/tapbot/bot/membership"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// Directory is what /audit needs from Microsoft Graph: the auditor check and names.
type Directory interface {
	Users
	CheckMemberGroups(ctx context.Context, userID string, groupIDs []string) ([]string, error)
}

// Store reads the audit log.
type Store interface {
	Audit(ctx context.Context, f store.AuditFilter) ([]store.AuditEntry, error)
}

// Config configures the flow.
type Config struct {
	AuditorGroups []string      // members may use /audit; none switches it off
	CacheTTL      time.Duration // membership and name cache (default 5m)
	Now           func() time.Time
}

// Flow is the /audit command. Create it with New and register it on the bot.
type Flow struct {
	cfg     Config
	store   Store
	members *membership.Checker
	names   *names
}

// rows is how many rows the card shows; `tapbot audit` on the server exports the rest.
const rows = 20

// New builds the flow.
func New(cfg Config, dir Directory, st Store) *Flow {
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 5 * time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Flow{cfg: cfg, store: st, members: membership.New(dir, cfg.CacheTTL, cfg.Now),
		names: &names{dir: dir, ttl: cfg.CacheTTL, now: cfg.Now, cache: map[string]cachedName{}}}
}

// Register adds /audit to the bot.
func (f *Flow) Register(h *bot.Handler) {
	h.HandleCommand(bot.Command{
		Name: "audit", Usage: "/audit [user] [since 7d] [action tap.revoke]",
		Scopes:      []store.Scope{store.ScopePersonal, store.ScopeGroupChat, store.ScopeChannel},
		Description: "Show recent TAP decisions (auditors). Sent to you privately.",
		Run:         f.onAudit,
	})
}

// onAudit reads the filters at once, so that a typo is answered before any Graph call.
func (f *Flow) onAudit(ctx context.Context, t *bot.Turn, c command.Command) error {
	times := t.Times()
	q, err := ParseQuery(c.Args, f.cfg.Now(), times.Location())
	var u *UsageError
	if errors.As(err, &u) {
		return t.ReplyText(ctx, u.Msg)
	}
	if err != nil {
		return err
	}
	t.Later(func(ctx context.Context) {
		if err := f.show(ctx, t, q, times); err != nil {
			t.Log().Error("audit view failed", zap.Error(err))
			_ = t.ReplyText(ctx, graph.Explain(err)+" Reference: "+t.RequestID())
		}
	})
	return nil
}

func (f *Flow) show(ctx context.Context, t *bot.Turn, q Query, times cards.Times) error {
	if len(f.cfg.AuditorGroups) == 0 {
		return t.ReplyText(ctx, "No auditor group is configured (TAPBOT_AUDITOR_GROUPS), so /audit is off. Use `tapbot audit` on the server.")
	}
	auditor, err := f.members.IsMember(ctx, t.Activity().From.AadObjectID, f.cfg.AuditorGroups)
	if err != nil {
		return err
	}
	if !auditor {
		return t.ReplyText(ctx, "Only members of the auditor group can read the audit log.")
	}
	entries, err := f.store.Audit(ctx, store.AuditFilter{Target: q.User, Action: q.Action, Since: q.Since, Limit: rows + 1})
	if err != nil {
		return fmt.Errorf("read audit: %w", err)
	}
	card := cards.Audit(f.view(ctx, q, entries, times))
	if t.Scope() == store.ScopePersonal {
		return t.ReplyCard(ctx, card)
	}
	if _, _, err := t.SendPrivately(ctx, card); err != nil {
		return err
	}
	t.NotePublicly(ctx, "I've sent you the audit entries in our private chat.")
	return nil
}

// view turns rows (newest first, up to rows+1) into the card's words and names.
func (f *Flow) view(ctx context.Context, q Query, entries []store.AuditEntry, times cards.Times) cards.AuditView {
	v := cards.AuditView{Title: "Audit log: latest entries", Filters: q.describe(), Times: times}
	if q.User != "" {
		v.Title = "Audit log for " + q.User
	}
	if len(entries) > rows {
		entries, v.More = entries[:rows], true
	}
	v.Summary = summary(entries)
	for _, e := range entries {
		v.Rows = append(v.Rows, cards.AuditRow{Time: e.Time, By: f.names.who(ctx, requester{e.RequesterID, e.RequesterUPN}),
			Action: string(e.Action), User: e.TargetUPN, Outcome: outcome(e), Ticket: e.Ticket})
	}
	return v
}
