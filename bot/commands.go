package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/tapbot/tapbot/bot/command"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// Command is a chat command a flow registers.
type Command struct {
	Name        string // lower case, without '/'
	Usage       string // shown by /help, e.g. "/tap user [lifetime]"
	Description string
	Scopes      []store.Scope // where it may be used
	// ReadOnly commands change nothing and send nothing privately: a redelivered
	// one just answers again, so it skips activity-id deduplication and its store
	// write. Everything else is deduplicated.
	ReadOnly bool
	Run      func(ctx context.Context, t *Turn, c command.Command) error
}

// HandleCommand registers c. Registering a name twice is a programming error.
func (h *Handler) HandleCommand(c Command) {
	if _, dup := h.commands[c.Name]; dup {
		panic("bot: command registered twice: " + c.Name)
	}
	h.commands[c.Name] = c
	h.order = append(h.order, c.Name)
}

var allScopes = []store.Scope{store.ScopePersonal, store.ScopeGroupChat, store.ScopeChannel}

func (h *Handler) registerHelp() {
	h.HandleCommand(Command{
		Name: "help", Usage: "/help", Description: "List the commands you can use here.",
		Scopes: allScopes, ReadOnly: true,
		Run: func(ctx context.Context, t *Turn, _ command.Command) error {
			card, err := h.helpCard(t.Scope())
			if err != nil {
				return err
			}
			_, err = t.Reply(ctx, CardActivity(card))
			return err
		},
	})
}

var scopeLabels = map[store.Scope]string{
	store.ScopePersonal:  "in this personal chat",
	store.ScopeGroupChat: "in this group chat",
	store.ScopeChannel:   "in this channel",
}

// helpCard lists the commands registered for scope. The card depends only on the scope
// and the registrations, so it is built once per scope and reused.
func (h *Handler) helpCard(scope store.Scope) (json.RawMessage, error) {
	h.helpOnce.Do(func() {
		h.help = map[store.Scope]json.RawMessage{}
		for _, s := range allScopes {
			var lines []cards.CommandHelp
			for _, name := range h.order {
				c := h.commands[name]
				if slices.Contains(c.Scopes, s) {
					lines = append(lines, cards.CommandHelp{Usage: c.Usage, Description: c.Description})
				}
			}
			raw, err := json.Marshal(cards.Help(scopeLabels[s], lines))
			if err != nil {
				h.helpErr = fmt.Errorf("build help card: %w", err)
				return
			}
			h.help[s] = raw
		}
	})
	return h.help[scope], h.helpErr
}

// onMessage runs the command in a text message.
func (h *Handler) onMessage(ctx context.Context, t *Turn) int {
	c := command.Parse(t.in.Text, t.in.mentions(), t.in.Recipient.ID)
	cmd, ok := h.commands[c.Name]
	if ok && !cmd.ReadOnly && slices.Contains(cmd.Scopes, t.Scope()) {
		if status, first := h.firstDelivery(ctx, t); !first {
			return status
		}
	}
	if !ok || !slices.Contains(cmd.Scopes, t.Scope()) {
		t.log.Debug("not a command here", zap.String("command", c.Name))
		msg := "Type /help to see what I can do."
		if ok {
			msg = fmt.Sprintf("/%s can't be used %s. Type /help to see what works here.", c.Name, scopeLabels[t.Scope()])
		}
		if err := t.ReplyText(ctx, msg); err != nil {
			t.log.Error("reply failed", zap.Error(err))
		}
		return http.StatusOK
	}
	h.metrics.command(cmd.Name)
	if err := cmd.Run(ctx, t, c); err != nil {
		t.log.Error("command failed", zap.String("command", cmd.Name), zap.Error(err))
		// The user gets the request id to quote to whoever reads the logs, not the error.
		_ = t.ReplyText(ctx, fmt.Sprintf("Sorry, /%s failed. Reference: %s", cmd.Name, t.requestID))
	}
	return http.StatusOK
}
