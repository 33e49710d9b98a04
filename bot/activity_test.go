package bot

import (
	"testing"
	"time"

	"github.com/tapbot/tapbot/bot/botauth"
	"github.com/tapbot/tapbot/bot/command"
	"github.com/tapbot/tapbot/internal/store"
)

func TestScopeOf(t *testing.T) {
	tests := []struct {
		body string
		want store.Scope
		ok   bool
	}{
		{`{"type":"message","conversation":{"conversationType":"personal"}}`, store.ScopePersonal, true},
		{`{"type":"message","conversation":{"conversationType":"groupChat","isGroup":true}}`, store.ScopeGroupChat, true},
		{`{"type":"message","conversation":{"conversationType":"channel","isGroup":true}}`, store.ScopeChannel, true},
		// A missing or unknown type is never taken for personal.
		{`{"type":"message","conversation":{"isGroup":true}}`, "", false},
		{`{"type":"message","conversation":{}}`, "", false},
		{`{"type":"message","conversation":{"conversationType":"Personal"}}`, "", false},
	}
	for _, tt := range tests {
		in, err := decodeActivity([]byte(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := scopeOf(in.Activity); got != tt.want || ok != tt.ok {
			t.Errorf("%s: scope %q, %v, want %q, %v", tt.body, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCheckTeams(t *testing.T) {
	const teams = `"channelId":"msteams","conversation":{"id":"c","conversationType":"personal","tenantId":"T1"},"channelData":{"tenant":{"id":"T1"}}`
	tests := []struct {
		name string
		body string
		ok   bool
	}{
		{"teams", `{"type":"message",` + teams + `}`, true},
		{"tenant case differs", `{"type":"message","channelId":"msteams","conversation":{"conversationType":"channel","tenantId":"t1"},"channelData":{"tenant":{"id":"T1"}}}`, true},
		{"webchat", `{"type":"message","channelId":"webchat","conversation":{"id":"c","conversationType":"personal","tenantId":"T1"},"channelData":{"tenant":{"id":"T1"}}}`, false},
		{"directline", `{"type":"message","channelId":"directline","conversation":{"conversationType":"personal","tenantId":"T1"},"channelData":{"tenant":{"id":"T1"}}}`, false},
		{"no channel", `{"type":"message","conversation":{"conversationType":"personal","tenantId":"T1"},"channelData":{"tenant":{"id":"T1"}}}`, false},
		{"channel case", `{"type":"message","channelId":"MSTeams","conversation":{"conversationType":"personal","tenantId":"T1"},"channelData":{"tenant":{"id":"T1"}}}`, false},
		{"no conversation tenant", `{"type":"message","channelId":"msteams","conversation":{"conversationType":"personal"},"channelData":{"tenant":{"id":"T1"}}}`, false},
		{"no channelData tenant", `{"type":"message","channelId":"msteams","conversation":{"conversationType":"personal","tenantId":"T1"}}`, false},
		{"tenants differ", `{"type":"message","channelId":"msteams","conversation":{"conversationType":"personal","tenantId":"T2"},"channelData":{"tenant":{"id":"T1"}}}`, false},
		{"no conversation type", `{"type":"message","channelId":"msteams","conversation":{"tenantId":"T1"},"channelData":{"tenant":{"id":"T1"}}}`, false},
		{"isGroup only", `{"type":"message","channelId":"msteams","conversation":{"isGroup":true,"tenantId":"T1"},"channelData":{"tenant":{"id":"T1"}}}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := decodeActivity([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if err := checkTeams(in.Activity); (err == nil) != tt.ok {
				t.Errorf("checkTeams = %v, want ok %v", err, tt.ok)
			}
		})
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
		t.Fatalf("mentions = %+v, want only the one with a mentioned id: {<at>tapbot</at> 28:bot}", ms)
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
				t.Fatalf("decodeActivity error = %q, want one of the fixed public messages", err)
			}
			return
		}
		if in.Type == "" {
			t.Fatal("accepted an activity without a type, want an error")
		}
		_, _ = scopeOf(in.Activity)
		_ = checkTeams(in.Activity)
		_, _ = botauth.ActivityTenant(in.Activity)
		_ = channelDataString(in.Activity, "team", "id")
		c := command.Parse(in.Text, in.mentions(), in.Recipient.ID)
		_ = c.Name
	})
}

// The reader's zone and locale come from the activity, else its clientInfo entity;
// anything unknown is UTC, named.
func TestActivityTimes(t *testing.T) {
	at := time.Date(2026, time.March, 2, 8, 30, 0, 0, time.UTC)
	tests := []struct{ body, want string }{
		{`{"type":"message","localTimezone":"Europe/Berlin","locale":"de-DE"}`, "02.03.2026 09:30 CET"},
		{`{"type":"message","entities":[{"type":"clientInfo","timezone":"America/New_York","locale":"en-US"}]}`, "Mar 2, 2026, 3:30 AM EST"},
		{`{"type":"message","localTimezone":"Europe/Berlin","entities":[{"type":"clientInfo","timezone":"America/New_York","locale":"en-GB"}]}`, "2 Mar 2026, 09:30 CET"},
		{`{"type":"message"}`, "2026-03-02 08:30 UTC"},
		{`{"type":"message","localTimezone":"../../etc/passwd"}`, "2026-03-02 08:30 UTC"},
		{`{"type":"message","localTimezone":"Local","locale":"en-US"}`, "Mar 2, 2026, 8:30 AM UTC"},
	}
	for _, tt := range tests {
		in, err := decodeActivity([]byte(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		if got := in.times().At(at); got != tt.want {
			t.Errorf("%s: At = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestDecode(t *testing.T) {
	type payload struct {
		User  string `json:"user"`
		Count int    `json:"count"`
	}
	got, err := Decode[payload](map[string]any{"user": "nina@contoso.com", "count": 2.0, "extra": true})
	if err != nil || got != (payload{"nina@contoso.com", 2}) {
		t.Fatalf("Decode = %+v, %v; want {nina@contoso.com 2}, nil", got, err)
	}
	// The client's data is untrusted: a field of the wrong type is an error, not a zero.
	if _, err := Decode[payload](map[string]any{"user": 42}); err == nil {
		t.Fatal("Decode accepted a number for a string field, want an error")
	}
	if got, err := Decode[payload](nil); err != nil || got != (payload{}) {
		t.Fatalf("Decode(nil) = %+v, %v; want the zero payload, nil", got, err)
	}
}
