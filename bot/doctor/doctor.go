// Package doctor is the /doctor command: it runs tapbot's tenant check
// (internal/doctor) for an administrator and answers with a card in their personal
// chat. It only reads: changing the tenant is `tapbot doctor --fix` on the server,
// where the person running it is an operator with shell access and the change is
// confirmed and audited, not a chat message that could be typed by anyone who gets
// hold of an admin's Teams session.
package doctor

import (
	"context"
	"errors"
	"fmt"

	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/bot/command"
	"github.com/tapbot/tapbot/graph"
	checks "github.com/tapbot/tapbot/internal/doctor"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// Directory is what /doctor needs from Microsoft Graph: what the check reads, and the
// membership test for the admin groups.
type Directory interface {
	checks.Reader
	CheckMemberGroups(ctx context.Context, userID string, groupIDs []string) ([]string, error)
}

// Config configures the flow.
type Config struct {
	AdminGroups []string      // members may run /doctor; none switches it off
	Check       checks.Config // what the tenant is checked against
}

// Flow is the /doctor command. Create it with New and register it on the bot.
type Flow struct {
	cfg Config
	dir Directory
	log *zap.Logger
}

// New builds the flow.
func New(cfg Config, dir Directory, log *zap.Logger) *Flow {
	if log == nil {
		log = zap.NewNop()
	}
	return &Flow{cfg: cfg, dir: dir, log: log}
}

// Register adds /doctor to the bot: personal chats only, since the findings describe
// the tenant's security set-up.
func (f *Flow) Register(h *bot.Handler) {
	h.HandleCommand(bot.Command{
		Name: "doctor", Usage: "/doctor", Scopes: []store.Scope{store.ScopePersonal},
		Description: "Check the tenant's set-up for tapbot (admins). Changes nothing.",
		Run:         f.onDoctor,
	})
}

// Replies that are not the report.
const (
	msgOff      = "No admin group is configured (TAPBOT_ADMIN_GROUPS), so /doctor is off here. Run `tapbot doctor` on the server."
	msgNotAdmin = "Only members of the admin group can run /doctor."
	msgUsage    = "Usage: /doctor (it takes no arguments)"
)

func (f *Flow) onDoctor(ctx context.Context, t *bot.Turn, c command.Command) error {
	if len(c.Args) > 0 {
		return t.ReplyText(ctx, msgUsage)
	}
	// The check makes a dozen Graph calls: answer Teams first.
	t.Later(func(ctx context.Context) {
		if err := f.run(ctx, t); err != nil {
			t.Log().Error("doctor failed", zap.Error(err))
			_ = t.ReplyText(ctx, explain(err, t.RequestID()))
		}
	})
	return nil
}

func (f *Flow) run(ctx context.Context, t *bot.Turn) error {
	if len(f.cfg.AdminGroups) == 0 {
		return t.ReplyText(ctx, msgOff)
	}
	requester := t.Activity().From.AadObjectID
	if requester == "" {
		return t.ReplyText(ctx, msgNotAdmin)
	}
	in, err := f.dir.CheckMemberGroups(ctx, requester, f.cfg.AdminGroups)
	if err != nil {
		return fmt.Errorf("check admin membership: %w", err)
	}
	if len(in) == 0 {
		t.Log().Info("doctor refused: not an admin", zap.String("requester", requester))
		return t.ReplyText(ctx, msgNotAdmin)
	}
	r := checks.Check(ctx, f.dir, f.cfg.Check)
	t.Log().Info("doctor ran", zap.String("requester", requester),
		zap.Int("ok", r.Count(checks.OK)), zap.Int("warn", r.Count(checks.Warn)), zap.Int("fail", r.Count(checks.Fail)))
	return t.ReplyCard(ctx, Card(r))
}

// explain words a failure for the admin; the details are in the log under the
// request id.
func explain(err error, requestID string) string {
	switch {
	case errors.Is(err, graph.ErrForbidden):
		return "tapbot's app lacks a Microsoft Graph permission to check your membership of the admin group (GroupMember.Read.All). Run `tapbot doctor` on the server. Reference: " + requestID
	case errors.Is(err, graph.ErrThrottled), errors.Is(err, graph.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return "Microsoft Graph is busy or unavailable right now. Try /doctor again in a minute. Reference: " + requestID
	}
	return "Sorry, /doctor failed. Reference: " + requestID
}
