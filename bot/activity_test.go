package bot

import (
	"testing"

	"github.com/tapbot/tapbot/bot/botauth"
	"github.com/tapbot/tapbot/bot/command"
	"github.com/tapbot/tapbot/internal/store"
)

func TestScopeOf(t *testing.T) {
	tests := []struct {
		body string
		want store.Scope
	}{
		{`{"type":"message","conversation":{"conversationType":"personal"}}`, store.ScopePersonal},
		{`{"type":"message","conversation":{"conversationType":"groupChat","isGroup":true}}`, store.ScopeGroupChat},
		{`{"type":"message","conversation":{"conversationType":"channel","isGroup":true}}`, store.ScopeChannel},
		{`{"type":"message","conversation":{"isGroup":true}}`, store.ScopeGroupChat},
		{`{"type":"message","conversation":{}}`, store.ScopePersonal},
	}
	for _, tt := range tests {
		in, err := decodeActivity([]byte(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		if got := scopeOf(in.Activity); got != tt.want {
			t.Errorf("%s: scope %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestMentionsDecoded(t *testing.T) {
	in, err := decodeActivity([]byte(`{"type":"message","entities":[
		{"type":"mention","text":"<at>tapbot</at>","mentioned":{"id":"28:bot","name":"tapbot"}},
		{"type":"clientInfo","locale":"en-US"},
		{"type":"mention","text":"<at>x</at>"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	ms := in.mentions()
	if len(ms) != 1 || ms[0] != (command.Mention{Text: "<at>tapbot</at>", MentionedID: "28:bot"}) {
		t.Fatalf("mentions %+v", ms)
	}
}

// FuzzDecodeActivity feeds arbitrary bodies through everything the endpoint does with
// an activity before any I/O: decoding, scope, tenant, mentions and command parsing.
func FuzzDecodeActivity(f *testing.F) {
	seeds := []string{
		`{"type":"message","text":"<at>tapbot</at> help","entities":[{"type":"mention","text":"<at>tapbot</at>","mentioned":{"id":"28:b"}}],"recipient":{"id":"28:b"},"conversation":{"conversationType":"channel","tenantId":"t"},"channelData":{"tenant":{"id":"t"},"team":{"id":"19:x"}}}`,
		`{"type":"invoke","name":"adaptiveCard/action","value":{"action":{"type":"Action.Execute","verb":"v","data":{"a":1}}}}`,
		`{"type":"message","value":{"verb":"x"},"replyToId":"1"}`,
		`{"type":"conversationUpdate","membersAdded":[{"id":"28:b"}],"channelData":{"tenant":"not-an-object"}}`,
		`{"type":"message","timestamp":"not a time"}`,
		`{"type":"message","entities":[{"type":"mention","mentioned":null}]}`,
		`[]`, `null`, `{"type":""}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := decodeActivity(body)
		if err != nil {
			if err.Error() != "malformed activity JSON" && err.Error() != "activity has no type" {
				t.Fatalf("error text not the fixed public message: %v", err)
			}
			return
		}
		if in.Type == "" {
			t.Fatal("accepted an activity without a type")
		}
		_ = scopeOf(in.Activity)
		_, _ = botauth.ActivityTenant(in.Activity)
		_ = channelDataString(in.Activity, "team", "id")
		c := command.Parse(in.Text, in.mentions(), in.Recipient.ID)
		_ = c.Name
	})
}
