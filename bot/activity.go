package bot

import (
	"encoding/json"
	"fmt"

	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/tapbot/tapbot/bot/command"
	"github.com/tapbot/tapbot/internal/store"
)

// inbound is an activity as Teams sends it. The library's schema.Entity keeps only an
// entity's type, dropping the mention fields, so the entities are decoded here in the
// same pass (the outer field shadows the embedded one).
type inbound struct {
	schema.Activity
	Entities []entity `json:"entities,omitempty"`
}

type entity struct {
	Type      string                 `json:"type"`
	Text      string                 `json:"text,omitempty"`
	Mentioned *schema.ChannelAccount `json:"mentioned,omitempty"`
}

// decodeActivity parses a request body. Errors say what is wrong in general terms only:
// the body is attacker-controlled and the message goes back to the caller.
func decodeActivity(body []byte) (inbound, error) {
	var in inbound
	if err := json.Unmarshal(body, &in); err != nil {
		return inbound{}, fmt.Errorf("malformed activity JSON")
	}
	if in.Type == "" {
		return inbound{}, fmt.Errorf("activity has no type")
	}
	return in, nil
}

func (in inbound) mentions() []command.Mention {
	var ms []command.Mention
	for _, e := range in.Entities {
		if e.Type == "mention" && e.Mentioned != nil {
			ms = append(ms, command.Mention{Text: e.Text, MentionedID: e.Mentioned.ID})
		}
	}
	return ms
}

// scopeOf tells where a conversation lives. Teams names it in conversationType; older
// payloads only say isGroup.
func scopeOf(a schema.Activity) store.Scope {
	switch a.Conversation.ConversationType {
	case "channel":
		return store.ScopeChannel
	case "groupChat":
		return store.ScopeGroupChat
	case "personal":
		return store.ScopePersonal
	}
	if a.Conversation.IsGroup {
		return store.ScopeGroupChat
	}
	return store.ScopePersonal
}

// channelDataString reads channelData.<obj>.<field>, e.g. team.id.
func channelDataString(a schema.Activity, obj, field string) string {
	m, ok := a.ChannelData[obj].(map[string]any)
	if !ok {
		return ""
	}
	s, _ := m[field].(string)
	return s
}
