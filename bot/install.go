package bot

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/infracloudio/msbotbuilder-go/core/activity"
	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

const welcomeText = "Hi, I'm tapbot. I help the helpdesk issue Temporary Access Passes and guide new hires to a passwordless start. Type /help to see what I can do here."

// onInstall stores the conversation reference when the bot is added to a personal chat,
// group chat or team (so it can message there later), and says hello once.
func (h *Handler) onInstall(ctx context.Context, t *Turn) error {
	a := t.in.Activity
	if a.Type == schema.InstallationUpdate && a.Action != "add" && a.Action != "add-upgrade" {
		return nil // removals: keep the reference; audit rows still point at it
	}
	// Teams announces an install twice: a conversationUpdate naming the bot among the
	// members added, and an installationUpdate. Both save the reference; only the
	// first greets, so the new user gets one hello.
	botAdded := false
	for _, m := range a.MembersAdded {
		if m.ID == a.Recipient.ID {
			botAdded = true
		}
	}
	if a.Type == schema.ConversationUpdate && !botAdded && len(a.MembersAdded) == 0 {
		return nil // renames and the like carry nothing to keep
	}
	if err := h.saveReference(ctx, t); err != nil {
		return err
	}
	if botAdded && a.Type == schema.ConversationUpdate {
		if err := t.ReplyText(ctx, welcomeText); err != nil {
			t.log.Warn("welcome message failed", zap.Error(err))
		}
		h.announceInstall(t)
	}
	return nil
}

// OnPersonalInstall registers fn to run, after the answer, when a user adds tapbot to
// their personal chat (their first Teams sign-in with the app pre-installed): what
// waited for a way to reach them, such as a new hire's checklist, goes out at once
// instead of at the next background run.
func (h *Handler) OnPersonalInstall(fn func(ctx context.Context, userAADObjectID string)) {
	h.installed = append(h.installed, fn)
}

// announceInstall runs the personal-install hooks once per install: only for the
// conversationUpdate that also greets, not for Teams' second announcement.
func (h *Handler) announceInstall(t *Turn) {
	user := t.in.From.AadObjectID
	if t.scope != store.ScopePersonal || user == "" || len(h.installed) == 0 {
		return
	}
	t.Later(func(ctx context.Context) {
		for _, fn := range h.installed {
			fn(ctx, user)
		}
	})
}

// rememberConversation saves the reference of a conversation the first time this
// process sees a message in it, so users who never triggered an install event (the
// app was pre-installed) can still be reached privately later.
func (h *Handler) rememberConversation(ctx context.Context, t *Turn) {
	if _, ok := h.seen.Load(t.in.Conversation.ID); ok {
		return
	}
	if err := h.saveReference(ctx, t); err != nil {
		t.log.Error("saving conversation reference failed", zap.Error(err))
		return
	}
	h.seen.Store(t.in.Conversation.ID, struct{}{})
}

func (h *Handler) saveReference(ctx context.Context, t *Turn) error {
	a := t.in.Activity
	ref := activity.GetCoversationReference(a)
	ref.ActivityID = "" // a reference is for new messages, not replies to this one
	raw, err := json.Marshal(ref)
	if err != nil {
		return fmt.Errorf("encode reference: %w", err)
	}
	tenant := a.Conversation.TenantID
	if tenant == "" {
		tenant = channelDataString(a, "tenant", "id")
	}
	r := store.Reference{
		ConversationID: a.Conversation.ID,
		Scope:          t.scope,
		TenantID:       tenant,
		TeamID:         channelDataString(a, "team", "id"),
		ServiceURL:     a.ServiceURL,
		BotID:          a.Recipient.ID,
		Raw:            raw,
	}
	if t.scope == store.ScopePersonal {
		r.UserAADObjectID = a.From.AadObjectID
	}
	if err := h.refs.SaveReference(ctx, r); err != nil {
		return fmt.Errorf("save reference: %w", err)
	}
	// A message in a channel arrives in its thread ("19:…@thread.tacv2;messageid=…");
	// posting a new message to the channel needs the channel's own id. Keep that too,
	// so a channel the bot was added to before tapbot stored references becomes
	// reachable (e.g. for approval cards) after its first @mention.
	if ch := channelDataString(a, "channel", "id"); t.scope == store.ScopeChannel && ch != "" && ch != r.ConversationID {
		ref.Conversation.ID = ch
		if r.Raw, err = json.Marshal(ref); err != nil {
			return fmt.Errorf("encode reference: %w", err)
		}
		r.ConversationID = ch
		if err := h.refs.SaveReference(ctx, r); err != nil {
			return fmt.Errorf("save channel reference: %w", err)
		}
	}
	t.log.Info("conversation reference saved", zap.String("scope", string(t.scope)),
		zap.String("conversation_id", a.Conversation.ID))
	return nil
}
