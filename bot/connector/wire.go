package connector

import (
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"
)

// wireActivity is how an activity goes on the wire. The library's schema.Activity has
// struct-typed fields without omitempty, so a plain marshal sends
// "expiration":"0001-01-01T00:00:00Z" (an activity expired before it was sent) and
// empty relatesTo/suggestedActions/semanticAction objects. These shadowing fields win
// over the embedded ones in encoding/json and are omitted when unset.
type wireActivity struct {
	*schema.Activity
	Timestamp        *time.Time                    `json:"timestamp,omitempty"`
	LocalTimestamp   *time.Time                    `json:"localTimestamp,omitempty"`
	Expiration       *time.Time                    `json:"expiration,omitempty"`
	SuggestedActions *schema.SuggestedActions      `json:"suggestedActions,omitempty"`
	RelatesTo        *schema.ConversationReference `json:"relatesTo,omitempty"`
	SemanticAction   *schema.SemanticAction        `json:"semanticAction,omitempty"`
}

func wire(a *schema.Activity) wireActivity {
	w := wireActivity{Activity: a}
	if !a.Timestamp.IsZero() {
		w.Timestamp = &a.Timestamp
	}
	if !a.LocalTimestamp.IsZero() {
		w.LocalTimestamp = &a.LocalTimestamp
	}
	if !a.Expiration.IsZero() {
		w.Expiration = &a.Expiration
	}
	if len(a.SuggestedActions.Actions) > 0 || len(a.SuggestedActions.To) > 0 {
		w.SuggestedActions = &a.SuggestedActions
	}
	if a.RelatesTo != (schema.ConversationReference{}) {
		w.RelatesTo = &a.RelatesTo
	}
	if a.SemanticAction.ID != "" {
		w.SemanticAction = &a.SemanticAction
	}
	return w
}

// conversationParameters is schema.ConversationParameters with the initial activity
// optional and wire-encoded.
type conversationParameters struct {
	IsGroup     bool                    `json:"isGroup"`
	Bot         schema.ChannelAccount   `json:"bot"`
	Members     []schema.ChannelAccount `json:"members,omitempty"`
	TopicName   string                  `json:"topicName,omitempty"`
	TenantID    string                  `json:"tenantId,omitempty"`
	Activity    *wireActivity           `json:"activity,omitempty"`
	ChannelData map[string]any          `json:"channelData,omitempty"`
}
