package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/bot/botauth"
	"github.com/tapbot/tapbot/graph"
	checks "github.com/tapbot/tapbot/internal/doctor"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

const (
	tenantID = "7a1c4e2b-5d3f-4b8a-9c6e-2f1d0b3a4c5e"
	admins   = "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d40006"
	newHires = "0e5a1d2b-1c4f-4e8a-9d3b-a1b2c3d40003"
	ines     = "cccccccc-cccc-4ccc-8ccc-cccccccccccc" // an admin
	hana     = "11111111-1111-4111-8111-111111111111" // not an admin
)

// directory is a tenant with one admin and a group whose name is markdown.
type directory struct {
	mu      sync.Mutex
	tap     graph.TAPPolicy
	calls   []string
	failErr error
}

func (d *directory) record(s string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, s)
}

func (d *directory) TAPPolicy(context.Context) (graph.TAPPolicy, error) {
	d.record("TAPPolicy")
	return d.tap, nil
}
func (d *directory) AuthenticatorPolicy(context.Context) (graph.AuthenticatorPolicy, error) {
	d.record("AuthenticatorPolicy")
	return graph.AuthenticatorPolicy{Enabled: true, Targets: []graph.AuthenticatorTarget{{ID: graph.AllUsers, Mode: graph.AuthenticatorAny}}}, nil
}
func (d *directory) Group(_ context.Context, id string) (graph.Group, error) {
	d.record("Group")
	return graph.Group{ID: id, DisplayName: "*New* [hires](https://evil.example) <at>x</at>"}, nil
}
func (d *directory) GrantedRoles(context.Context) ([]string, error) {
	d.record("GrantedRoles")
	return checks.RequiredNames(checks.Config{}), nil
}
func (d *directory) WHfBEnrollments(context.Context) ([]graph.WHfBEnrollment, error) {
	d.record("WHfBEnrollments")
	return nil, nil
}
func (d *directory) AutopilotProfiles(context.Context) ([]graph.AutopilotProfile, error) {
	d.record("AutopilotProfiles")
	return nil, nil
}
func (d *directory) CheckMemberGroups(_ context.Context, userID string, groupIDs []string) ([]string, error) {
	d.record("CheckMemberGroups")
	if d.failErr != nil {
		return nil, d.failErr
	}
	if userID == ines && slices.Contains(groupIDs, admins) {
		return []string{admins}, nil
	}
	return nil, nil
}

// sender records what the bot sends.
type sender struct {
	mu   sync.Mutex
	sent []schema.Activity
}

func (s *sender) ReplyToActivity(_ context.Context, _, _, _ string, a schema.Activity) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, a)
	return "reply-1", nil
}
func (s *sender) CreateConversation(context.Context, string, schema.ConversationParameters) (schema.ConversationResourceResponse, error) {
	return schema.ConversationResourceResponse{}, errors.New("doctor never opens a chat")
}
func (s *sender) SendToConversation(context.Context, string, string, schema.Activity) (string, error) {
	return "", nil
}
func (s *sender) UpdateActivity(context.Context, string, string, string, schema.Activity) error {
	return nil
}

type refs struct{}

func (refs) SaveReference(context.Context, store.Reference) error   { return nil }
func (refs) Claim(context.Context, string, time.Time) (bool, error) { return true, nil }

type env struct {
	h   *bot.Handler
	dir *directory
	out *sender
}

func newEnv(t *testing.T, cfg Config) *env {
	t.Helper()
	e := &env{dir: &directory{tap: graph.TAPPolicy{Enabled: false, DefaultLifetime: time.Hour, MinLifetime: time.Hour, MaxLifetime: 8 * time.Hour,
		IncludeTargets: []string{graph.AllUsers}}}, out: &sender{}}
	e.h = bot.New(bot.Config{}, botauth.DevValidator{TenantID: tenantID}, e.out, refs{}, bot.NewMetrics(prometheus.NewRegistry()), zap.NewNop())
	New(cfg, e.dir, zap.NewNop()).Register(e.h)
	return e
}

// say posts a message from a user and waits for the background work.
func (e *env) say(t *testing.T, from, conversationType, text string) []schema.Activity {
	t.Helper()
	a := map[string]any{
		"type": "message", "id": "act-1", "serviceUrl": "https://smba.example/", "channelId": "msteams", "text": text,
		"from":         map[string]any{"id": "29:" + from, "aadObjectId": from},
		"recipient":    map[string]any{"id": "28:bot"},
		"conversation": map[string]any{"id": "a:1", "conversationType": conversationType, "tenantId": tenantID},
		"channelData":  map[string]any{"tenant": map[string]any{"id": tenantID}},
	}
	raw, _ := json.Marshal(a)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/api/messages", bytes.NewReader(raw)))
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200", rec.Code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.h.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	e.out.mu.Lock()
	defer e.out.mu.Unlock()
	out := e.out.sent
	e.out.sent = nil
	return out
}

func cardOf(t *testing.T, a schema.Activity) string {
	t.Helper()
	if len(a.Attachments) != 1 {
		t.Fatalf("activity = %+v, want one card attachment", a)
	}
	raw, err := json.Marshal(a.Attachments[0].Content)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func TestDoctorForAdmins(t *testing.T) {
	cfg := Config{AdminGroups: []string{admins}, Check: checks.Config{
		AppID: "8f0c2a1e-3b4d-4e5f-9a6b-7c8d9e0f1a2b", TenantID: tenantID,
		HelpdeskGroups: []string{admins}, OnboardingGroups: []string{newHires},
	}}
	e := newEnv(t, cfg)

	out := e.say(t, ines, "personal", "/doctor")
	if len(out) != 1 {
		t.Fatalf("sent %+v, want one activity", out)
	}
	card := cardOf(t, out[0])
	for _, want := range []string{"Tenant check", "1 problem", "✗", "Temporary Access Pass", "disabled", "Fix: Enable it", "tapbot doctor --fix", "on the server", "never changes it from Teams"} {
		if !strings.Contains(card, want) {
			t.Errorf("card = %s, want it to contain %q", card, want)
		}
	}
	// Never an action that would change the tenant from Teams.
	if strings.Contains(card, `"actions"`) || strings.Contains(card, "Action.") {
		t.Errorf("card = %s, want no actions", card)
	}
	// The group's name from Graph is only ever in RichText runs, never in markdown.
	var c struct {
		Body []struct {
			Type    string `json:"type"`
			Text    string `json:"text"`
			Inlines []struct {
				Text string `json:"text"`
			} `json:"inlines"`
		} `json:"body"`
	}
	if err := json.Unmarshal([]byte(card), &c); err != nil {
		t.Fatal(err)
	}
	inRuns := false
	for _, el := range c.Body {
		if strings.Contains(el.Text, "evil.example") {
			t.Errorf("%s text = %q, want Graph text only in RichText runs", el.Type, el.Text)
		}
		for _, r := range el.Inlines {
			inRuns = inRuns || strings.Contains(r.Text, "*New* [hires](https://evil.example)")
		}
	}
	if !inRuns {
		t.Errorf("card = %s, want a run with the group name literally: %q", card, "*New* [hires](https://evil.example)")
	}
	if e.dir.tap.Enabled {
		t.Error("/doctor enabled the TAP policy, want the tenant unchanged")
	}
}

func TestDoctorRefusals(t *testing.T) {
	cfg := Config{AdminGroups: []string{admins}}
	e := newEnv(t, cfg)
	if out := e.say(t, hana, "personal", "doctor"); len(out) != 1 || out[0].Text != msgNotAdmin {
		t.Errorf("non-admin: sent %+v, want one message %q", out, msgNotAdmin)
	}
	if slices.Contains(e.dir.calls, "TAPPolicy") {
		t.Errorf("a non-admin's /doctor made Graph calls %v, want no TAPPolicy read", e.dir.calls)
	}
	if out := e.say(t, ines, "channel", "/doctor"); len(out) != 1 || !strings.Contains(out[0].Text, "can't be used in this channel") {
		t.Errorf("channel: sent %+v, want one message with %q", out, "can't be used in this channel")
	}
	if out := e.say(t, ines, "groupChat", "/doctor"); len(out) != 1 || !strings.Contains(out[0].Text, "can't be used in this group chat") {
		t.Errorf("group chat: sent %+v, want one message with %q", out, "can't be used in this group chat")
	}
	if out := e.say(t, ines, "personal", "/doctor --fix"); len(out) != 1 || out[0].Text != msgUsage {
		t.Errorf("arguments: sent %+v, want one message %q", out, msgUsage)
	}
	if out := e.say(t, "", "personal", "/doctor"); len(out) != 1 || out[0].Text != msgNotAdmin {
		t.Errorf("no object id: sent %+v, want one message %q", out, msgNotAdmin)
	}

	e.dir.failErr = &graph.Error{Status: 503}
	if out := e.say(t, ines, "personal", "/doctor"); len(out) != 1 || !strings.Contains(out[0].Text, "busy or unavailable") {
		t.Errorf("Graph down: sent %+v, want one message with %q", out, "busy or unavailable")
	}

	off := newEnv(t, Config{})
	if out := off.say(t, ines, "personal", "/doctor"); len(out) != 1 || out[0].Text != msgOff {
		t.Errorf("no admin group: sent %+v, want one message %q", out, msgOff)
	}
	if len(off.dir.calls) != 0 {
		t.Errorf("/doctor off made Graph calls %v, want none", off.dir.calls)
	}
}

func TestCard(t *testing.T) {
	r := checks.Report{Items: []checks.Item{
		{ID: "a", Title: "A", Status: checks.OK, Detail: "fine"},
		{ID: "b", Title: "B", Status: checks.Warn, Detail: "hmm", Fix: "do b"},
		{ID: "c", Title: "C", Status: checks.Fail, Detail: "bad", Fix: "do c"},
		{ID: "d", Title: "D", Status: checks.Fail, Detail: "bad too", Fix: "do d"},
	}}
	raw, err := json.Marshal(Card(r))
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	for _, want := range []string{"2 problems, 1 warning, 1 check passed.", `"text":"✓ "`, `"color":"Good"`, `"text":"! "`, `"color":"Warning"`,
		`"text":"✗ "`, `"color":"Attention"`, "Fix: do b", "Fix: do c", `"version":"1.5"`} {
		if !strings.Contains(s, want) {
			t.Errorf("card = %s, want it to contain %q", s, want)
		}
	}
	if strings.Contains(s, "Fix: \"") || strings.Count(s, "Fix:") != 3 {
		t.Errorf("card = %s, want 3 fix lines, none empty", s)
	}
	if (checks.Report{}).Summary() != "Nothing was checked." || checks.Fail.Mark() != "✗" || checks.Warn.Mark() != "!" || checks.OK.Mark() != "✓" {
		t.Errorf("Summary() = %q, marks %q %q %q; want %q, ✗ ! ✓", (checks.Report{}).Summary(), checks.Fail.Mark(), checks.Warn.Mark(), checks.OK.Mark(), "Nothing was checked.")
	}
}
