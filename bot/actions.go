package bot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/tapbot/tapbot/cards"
	"go.uber.org/zap"
)

// ActionFunc handles a card action (Action.Execute or Action.Submit) with verb's data.
// A non-nil card replaces the card the action came from.
type ActionFunc func(ctx context.Context, t *Turn, data map[string]any) (*cards.Card, error)

// HandleAction registers fn for a card action verb. Cards built by tapbot put the verb
// in Action.Execute's verb and, for Action.Submit, in data.verb.
func (h *Handler) HandleAction(verb string, fn ActionFunc) {
	if _, dup := h.actions[verb]; dup {
		panic("bot: action registered twice: " + verb)
	}
	h.actions[verb] = fn
}

// invokeResponse is the body of the HTTP answer to an adaptiveCard/action invoke:
// Teams shows Value (a card replacing the old one, a message, or an error).
type invokeResponse struct {
	StatusCode int    `json:"statusCode"`
	Type       string `json:"type"`
	Value      any    `json:"value"`
}

type invokeError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func invokeFailure(status int, code, msg string) invokeResponse {
	return invokeResponse{StatusCode: status, Type: "application/vnd.microsoft.error", Value: invokeError{code, msg}}
}

// onInvoke answers Action.Execute in the response body, which the library's
// ProcessActivity cannot do. Other invokes are not implemented (501, as the Bot
// Framework SDKs answer).
func (h *Handler) onInvoke(ctx context.Context, t *Turn) (int, any) {
	if t.in.Name != "adaptiveCard/action" {
		t.log.Debug("invoke not implemented", zap.String("name", t.in.Name))
		return http.StatusNotImplemented, nil
	}
	action, _ := t.in.Value["action"].(map[string]any)
	verb, _ := action["verb"].(string)
	data, _ := action["data"].(map[string]any)
	fn, ok := h.actions[verb]
	if !ok {
		t.log.Warn("unknown card action", zap.String("verb", verb))
		return http.StatusOK, invokeFailure(http.StatusBadRequest, "BadRequest", "This card action is not supported.")
	}
	card, err := fn(ctx, t, data)
	if err != nil {
		t.log.Error("card action failed", zap.String("verb", verb), zap.Error(err))
		return http.StatusOK, invokeFailure(http.StatusInternalServerError, "InternalError", "Sorry, that failed. Reference: "+t.requestID)
	}
	if card == nil {
		return http.StatusOK, invokeResponse{StatusCode: http.StatusOK, Type: "application/vnd.microsoft.activity.message", Value: "Done."}
	}
	return http.StatusOK, invokeResponse{StatusCode: http.StatusOK, Type: cards.ContentType, Value: card}
}

// onSubmit handles Action.Submit, which arrives as a message whose value holds the
// card's data. A returned card replaces the message the card was in.
func (h *Handler) onSubmit(ctx context.Context, t *Turn) {
	verb, _ := t.in.Value["verb"].(string)
	fn, ok := h.actions[verb]
	if !ok {
		t.log.Warn("unknown card submit", zap.String("verb", verb))
		_ = t.ReplyText(ctx, "That card is no longer active. Type /help to start again.")
		return
	}
	card, err := fn(ctx, t, t.in.Value)
	if err != nil {
		t.log.Error("card submit failed", zap.String("verb", verb), zap.Error(err))
		_ = t.ReplyText(ctx, "Sorry, that failed. Reference: "+t.requestID)
		return
	}
	if card == nil || t.in.ReplyToID == "" {
		return
	}
	raw, err := json.Marshal(card)
	if err != nil {
		t.log.Error("encode card", zap.Error(err))
		return
	}
	a := t.outgoing(CardActivity(raw))
	if err := h.sender.UpdateActivity(ctx, t.in.ServiceURL, t.in.Conversation.ID, t.in.ReplyToID, a); err != nil {
		t.log.Error("update card failed", zap.Error(err))
	}
}

// Decode reads a card action's data into the payload type T the card was built with:
// the one way flows read what a card sends back. The data is the client's, so T's
// fields are all the handler may trust it to carry, and the handler still validates
// them. Unknown fields are ignored; a value of the wrong type is an error.
func Decode[T any](data map[string]any) (T, error) {
	var v T
	raw, err := json.Marshal(data)
	if err != nil {
		return v, fmt.Errorf("card data: %w", err)
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, fmt.Errorf("card data: %w", err)
	}
	return v, nil
}
