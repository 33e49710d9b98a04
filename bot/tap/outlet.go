package tap

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/internal/store"
)

// outlet is where the outcome of a pass goes: always the person who asked for it.
// For a /tap that is the turn's sender; for a pass a second person confirmed, the
// requester of record, reached in their 1:1 chat although someone else clicked.
type outlet interface {
	// Text answers the requester where they asked.
	Text(ctx context.Context, text string) error
	// Private posts card to the requester's 1:1 chat and says where it went.
	Private(ctx context.Context, card cards.Card) (conv, id string, err error)
	// Note tells a group chat or channel the requester asked in what happened.
	Note(ctx context.Context, text string)
	// ServiceURL is the connector endpoint of the requester's 1:1 chat.
	ServiceURL() string
	// Times is how cards write times for the requester.
	Times() cards.Times
}

// outletRecipient delivers a new pass through an outlet's private chat.
type outletRecipient struct{ out outlet }

func (r outletRecipient) Deliver(ctx context.Context, card cards.Card) (Posted, error) {
	if ro, ok := r.out.(refOutlet); ok && ro.ref.Scope != store.ScopePersonal {
		// Never into a group chat or channel: no message there is private.
		return Posted{}, fmt.Errorf("deliver pass: conversation %s is not a 1:1 chat", ro.ref.ConversationID)
	}
	conv, id, err := r.out.Private(ctx, card)
	if err != nil {
		return Posted{}, err
	}
	return Posted{ServiceURL: r.out.ServiceURL(), ConversationID: conv, ActivityID: id}, nil
}

// turnOutlet answers the turn's sender.
type turnOutlet struct{ t *bot.Turn }

func (o turnOutlet) Text(ctx context.Context, text string) error { return o.t.ReplyText(ctx, text) }
func (o turnOutlet) Private(ctx context.Context, c cards.Card) (string, string, error) {
	return o.t.SendPrivately(ctx, c)
}
func (o turnOutlet) Note(ctx context.Context, text string) { o.t.NotePublicly(ctx, text) }
func (o turnOutlet) ServiceURL() string                    { return o.t.Activity().ServiceURL }
func (o turnOutlet) Times() cards.Times                    { return o.t.Times() }

// Sender posts proactive messages through the Bot Connector.
type Sender interface {
	SendToConversation(ctx context.Context, serviceURL, conversationID string, a schema.Activity) (string, error)
}

// refOutlet reaches a person proactively through a stored 1:1 conversation
// reference: everything goes to that one chat, which is private.
type refOutlet struct {
	send Sender
	ref  store.Reference
}

func (o refOutlet) Text(ctx context.Context, text string) error {
	_, err := o.post(ctx, schema.Activity{Type: schema.Message, Text: text, TextFormat: schema.PLAIN})
	return err
}

func (o refOutlet) Private(ctx context.Context, c cards.Card) (string, string, error) {
	raw, err := json.Marshal(c)
	if err != nil {
		return "", "", fmt.Errorf("encode card: %w", err)
	}
	id, err := o.post(ctx, bot.CardActivity(raw))
	return o.ref.ConversationID, id, err
}

// Note says nothing: a proactive outlet is the 1:1 chat itself.
func (refOutlet) Note(context.Context, string) {}
func (o refOutlet) ServiceURL() string         { return o.ref.ServiceURL }

// Times: nobody asked in a turn, so the reader's zone is unknown and Teams writes
// the times in the reader's own.
func (refOutlet) Times() cards.Times { return cards.ViewerTimes() }

func (o refOutlet) post(ctx context.Context, a schema.Activity) (string, error) {
	id, err := o.send.SendToConversation(ctx, o.ref.ServiceURL, o.ref.ConversationID, bot.Addressed(a, o.ref))
	if err != nil {
		return "", fmt.Errorf("send to %s: %w", o.ref.ConversationID, err)
	}
	return id, nil
}
