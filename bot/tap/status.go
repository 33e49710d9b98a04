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
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// onStatus shows a user's account, pass (never its value) and registered methods.
func (f *Flow) onStatus(ctx context.Context, t *bot.Turn, c command.Command) error {
	ref, err := parseUserArg(c.Args, "Tell me whose status to show: /status user@contoso.com")
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
