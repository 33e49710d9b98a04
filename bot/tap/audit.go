package tap

import (
	"context"
	"fmt"
	"strings"

	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/bot/command"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// auditRows is how many rows /audit shows; the CLI exports the rest.
const auditRows = 20

// onAudit shows recent TAP decisions to members of the auditor groups, privately: the
// log names people and reasons.
func (f *Flow) onAudit(ctx context.Context, t *bot.Turn, c command.Command) error {
	var target string
	if len(c.Args) > 1 {
		return t.ReplyText(ctx, "Usage: /audit [user@contoso.com]")
	}
	if len(c.Args) == 1 {
		ref, err := command.ParseUser(c.Args[0])
		if err != nil {
			return t.ReplyText(ctx, err.Error())
		}
		target = ref
	}
	t.Later(func(ctx context.Context) {
		if err := f.showAudit(ctx, t, target); err != nil {
			t.Log().Error("audit view failed", zap.Error(err))
			_ = t.ReplyText(ctx, explain(err, t.RequestID()))
		}
	})
	return nil
}

func (f *Flow) showAudit(ctx context.Context, t *bot.Turn, target string) error {
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
	rows, err := f.store.Audit(ctx, store.AuditFilter{Target: target, Limit: auditRows})
	if err != nil {
		return fmt.Errorf("read audit: %w", err)
	}
	view := make([]cards.AuditRow, len(rows))
	for i, r := range rows {
		summary := []string{string(r.Action), string(r.Outcome)}
		if r.Reason != "" {
			summary = append(summary, "("+r.Reason+")")
		}
		summary = append(summary, r.TargetUPN, "by", r.RequesterID)
		view[i] = cards.AuditRow{Time: r.Time, Summary: strings.Join(summary, " "), Ticket: r.Ticket}
	}
	title := "Audit log: latest entries"
	if target != "" {
		title = "Audit log for " + target
	}
	card := cards.Audit(title, view)
	if t.Scope() == store.ScopePersonal {
		return t.ReplyCard(ctx, card)
	}
	if _, _, err := t.SendPrivately(ctx, card); err != nil {
		return err
	}
	t.NotePublicly(ctx, "I've sent you the audit entries in our private chat.")
	return nil
}
