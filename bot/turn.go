package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/infracloudio/msbotbuilder-go/core/activity"
	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/internal/requestid"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// Turn is one authenticated activity being handled.
type Turn struct {
	h         *Handler
	in        inbound
	log       *zap.Logger
	scope     store.Scope
	requestID string
	later     bool // Later took over the turn's in-flight slot
}

// Activity returns the incoming activity.
func (t *Turn) Activity() schema.Activity { return t.in.Activity }

// Scope tells whether the activity came from a personal chat, a group chat or a channel.
func (t *Turn) Scope() store.Scope { return t.scope }

// Times writes times on cards for the sender: their zone and locale, or UTC.
func (t *Turn) Times() cards.Times { return t.in.times() }

// RequestID is the id of the HTTP request that carried the activity.
func (t *Turn) RequestID() string { return t.requestID }

// Log is the turn's logger (request id and activity type attached).
func (t *Turn) Log() *zap.Logger { return t.log }

// Reply answers in the conversation the activity came from, threaded under it.
func (t *Turn) Reply(ctx context.Context, a schema.Activity) (string, error) {
	a = t.outgoing(a)
	id, err := t.h.sender.ReplyToActivity(ctx, t.in.ServiceURL, t.in.Conversation.ID, t.in.ID, a)
	if err != nil {
		return "", fmt.Errorf("reply: %w", err)
	}
	return id, nil
}

// ReplyText answers with plain text.
func (t *Turn) ReplyText(ctx context.Context, text string) error {
	_, err := t.Reply(ctx, schema.Activity{Type: schema.Message, Text: text, TextFormat: schema.PLAIN})
	return err
}

// ReplyCard answers with an Adaptive Card.
func (t *Turn) ReplyCard(ctx context.Context, c cards.Card) error {
	raw, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("encode card: %w", err)
	}
	_, err = t.Reply(ctx, CardActivity(raw))
	return err
}

// SendPrivately posts card to the sender's personal (1:1) chat with the bot, creating
// that chat if the activity came from a group chat or channel, and returns the chat's
// and the message's ids. It is the one way tapbot sends a secret or anything else
// meant for one person: no group chat or channel is private.
func (t *Turn) SendPrivately(ctx context.Context, card cards.Card) (conv, id string, err error) {
	a := t.in.Activity
	tenant := a.Conversation.TenantID
	conv = a.Conversation.ID
	if t.scope != store.ScopePersonal {
		res, err := t.h.sender.CreateConversation(ctx, a.ServiceURL, schema.ConversationParameters{
			Bot: a.Recipient, Members: []schema.ChannelAccount{{ID: a.From.ID}}, TenantID: tenant,
			ChannelData: map[string]any{"tenant": map[string]any{"id": tenant}},
		})
		if err != nil {
			return "", "", fmt.Errorf("open 1:1 chat: %w", err)
		}
		conv = res.ID
	}
	raw, err := json.Marshal(card)
	if err != nil {
		return "", "", fmt.Errorf("encode card: %w", err)
	}
	out := CardActivity(raw)
	out.From, out.Recipient = a.Recipient, a.From
	out.Conversation = schema.ConversationAccount{ID: conv, ConversationType: "personal", TenantID: tenant}
	out.ChannelID, out.ServiceURL = a.ChannelID, a.ServiceURL
	if id, err = t.h.sender.SendToConversation(ctx, a.ServiceURL, conv, out); err != nil {
		return "", "", fmt.Errorf("send to 1:1 chat: %w", err)
	}
	return conv, id, nil
}

// NotePublicly tells a group chat or channel what happened (never the secret itself);
// in a personal chat it says nothing, since the private message is right there.
func (t *Turn) NotePublicly(ctx context.Context, text string) {
	if t.scope == store.ScopePersonal {
		return
	}
	if err := t.ReplyText(ctx, text); err != nil {
		t.log.Error("public note failed", zap.Error(err))
	}
}

// CardActivity wraps marshaled card JSON in a message activity.
func CardActivity(card json.RawMessage) schema.Activity {
	return schema.Activity{
		Type:        schema.Message,
		Attachments: []schema.Attachment{{ContentType: cards.ContentType, Content: card}},
	}
}

// outgoing addresses a reply: from the bot, to the user, in the same conversation.
func (t *Turn) outgoing(a schema.Activity) schema.Activity {
	if a.Type == "" {
		a.Type = schema.Message
	}
	a.From = t.in.Recipient
	a.Recipient = t.in.From
	a.Conversation = t.in.Conversation
	a.ChannelID = t.in.ChannelID
	a.ServiceURL = t.in.ServiceURL
	return a
}

// Later acknowledges the activity now and runs fn after the HTTP answer has gone, for
// work that may outlast Teams' deadline (about 15 s for messages, less for invokes).
// fn gets a context that survives the request, carries its request id, and is bounded
// by the background timeout and by Shutdown.
//
// The first Later of a turn inherits the turn's place among the activities in
// flight (Config.MaxInFlight) and frees it when done.
func (t *Turn) Later(fn func(ctx context.Context)) {
	h := t.h
	owns := !t.later // a second Later in one turn runs without a slot of its own
	t.later = true
	h.bg.Add(1)
	go func() {
		defer h.bg.Done()
		if owns {
			defer func() { <-h.slots }()
		}
		ctx, cancel := context.WithTimeout(h.bgCtx, h.cfg.BackgroundTimeout)
		defer cancel()
		ctx = requestid.With(ctx, t.requestID)
		defer func() {
			if p := recover(); p != nil {
				t.log.Error("background work panicked", zap.Any("panic", p), zap.Stack("stack"))
			}
		}()
		start := time.Now()
		fn(ctx)
		t.log.Debug("background work done", zap.Duration("took", time.Since(start)))
	}()
}

// Addressed fills in where a proactive activity goes (conversation, channel, service
// URL, from the bot, to the user) from a stored conversation reference. Connectors —
// Teams and the Agents Playground alike — refuse activities without them.
func Addressed(a schema.Activity, r store.Reference) schema.Activity {
	var ref schema.ConversationReference
	if json.Unmarshal(r.Raw, &ref) != nil || ref.Conversation.ID == "" {
		ref = schema.ConversationReference{
			Bot:          schema.ChannelAccount{ID: r.BotID},
			Conversation: schema.ConversationAccount{ID: r.ConversationID, TenantID: r.TenantID},
			ChannelID:    "msteams", ServiceURL: r.ServiceURL,
		}
	}
	ref.ActivityID = "" // a new message, not a reply
	return activity.ApplyConversationReference(a, ref, false)
}
