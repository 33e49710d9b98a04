package bot

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/tapbot/tapbot/bot/command"
	"github.com/tapbot/tapbot/cards"
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
	// clientInfo entities: the Teams client's IANA time zone and locale.
	Timezone string `json:"timezone,omitempty"`
	Locale   string `json:"locale,omitempty"`
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

// times is how the sender reads time: the activity's localTimezone and locale, else
// its clientInfo entity's timezone and locale (Teams sends either, depending on the
// client). An unknown or missing zone is UTC; cards name whichever zone they use.
func (in inbound) times() cards.Times {
	zone, locale := in.LocalTimezone, in.Locale
	for _, e := range in.Entities {
		if e.Type == "clientInfo" {
			zone, locale = cmp.Or(zone, e.Timezone), cmp.Or(locale, e.Locale)
		}
	}
	if zone == "" || zone == "Local" || len(zone) > 64 {
		return cards.ReaderTimes(time.UTC, locale)
	}
	// LoadLocation refuses paths ("..", a leading '/'): the name is the sender's.
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	return cards.ReaderTimes(loc, locale)
}

// errNotTeams is the public answer to an activity that did not come from Microsoft
// Teams. It says no more than that: the sender is untrusted.
var errNotTeams = errors.New("only Microsoft Teams activities are accepted")

// checkTeams refuses, before anything else reads the activity, whatever Microsoft
// Teams would not have sent: another channel (a Direct Line or Web Chat client writes
// its own from, channelData and conversation, and could otherwise reach the TAP flow),
// a conversation without a tenant or whose tenant disagrees with channelData's, or one
// that does not name its type. A missing type is never taken for "personal": the 1:1
// rule for passes rests on it.
func checkTeams(a schema.Activity) error {
	if a.ChannelID != teamsChannel {
		return errNotTeams
	}
	convTenant := a.Conversation.TenantID
	var dataTenant string
	if t, ok := a.ChannelData["tenant"].(map[string]any); ok {
		dataTenant, _ = t["id"].(string)
	}
	if convTenant == "" || dataTenant == "" || !strings.EqualFold(convTenant, dataTenant) {
		return errNotTeams
	}
	if _, ok := scopeOf(a); !ok {
		return errNotTeams
	}
	return nil
}

// teamsChannel is the channelId of every activity Microsoft Teams sends.
const teamsChannel = "msteams"

// scopeOf tells where a conversation lives, from the conversationType Teams always
// sends. ok is false when it is missing or unknown.
func scopeOf(a schema.Activity) (store.Scope, bool) {
	switch a.Conversation.ConversationType {
	case "channel":
		return store.ScopeChannel, true
	case "groupChat":
		return store.ScopeGroupChat, true
	case "personal":
		return store.ScopePersonal, true
	}
	return "", false
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
