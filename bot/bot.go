// Package bot is tapbot's Bot Framework endpoint: it authenticates what Teams posts to
// /api/messages, decodes the activity, routes it (commands, card actions, installs) and
// answers within Teams' deadlines, finishing slow work proactively.
package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/infracloudio/msbotbuilder-go/connector/auth"
	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/tapbot/tapbot/bot/botauth"
	"github.com/tapbot/tapbot/internal/requestid"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// DefaultMaxBodyBytes bounds a request body. Real activities are a few KiB; card
// submissions with long notes stay well under this.
const DefaultMaxBodyBytes = 256 << 10

// Sender sends activities through the Bot Connector.
type Sender interface {
	CreateConversation(ctx context.Context, serviceURL string, p schema.ConversationParameters) (schema.ConversationResourceResponse, error)
	ReplyToActivity(ctx context.Context, serviceURL, conversationID, replyToID string, a schema.Activity) (string, error)
	SendToConversation(ctx context.Context, serviceURL, conversationID string, a schema.Activity) (string, error)
	UpdateActivity(ctx context.Context, serviceURL, conversationID, activityID string, a schema.Activity) error
}

// References stores conversation references for later proactive messages, and
// claims activity ids so that an activity Teams delivers twice acts once.
type References interface {
	SaveReference(ctx context.Context, r store.Reference) error
	Claim(ctx context.Context, key string, at time.Time) (bool, error)
}

// Config configures a Handler.
type Config struct {
	MaxBodyBytes int64
	// BackgroundTimeout bounds work finished after the HTTP answer (default 2m).
	BackgroundTimeout time.Duration
	// InlineTimeout bounds the work done before the HTTP answer, replies included,
	// well inside the ~15 s Teams waits (default 10s): a slow Connector must not
	// hold requests, and their goroutines, open for its retries.
	InlineTimeout time.Duration
	// MaxInFlight bounds the activities being handled at once, background work
	// included (default 256). Past it tapbot answers 503 with Retry-After at once
	// instead of piling up goroutines; Teams retries.
	MaxInFlight int
}

// Handler is the /api/messages endpoint. Create it with New, register flows on it, then
// serve it. Call Shutdown to wait for background work.
type Handler struct {
	cfg       Config
	validator auth.TokenValidator
	sender    Sender
	refs      References
	log       *zap.Logger
	metrics   *Metrics

	commands map[string]Command
	order    []string // registration order, for /help
	actions  map[string]ActionFunc
	// installed run when a user adds tapbot to their personal chat (OnPersonalInstall).
	installed []func(ctx context.Context, userAADObjectID string)

	helpOnce sync.Once
	help     map[store.Scope]json.RawMessage
	helpErr  error

	seen sync.Map // conversation ids whose reference this process already saved

	bg       sync.WaitGroup
	bgCtx    context.Context
	bgCancel context.CancelFunc

	// slots holds a token per activity being handled; Later hands its turn's token
	// to the background goroutine, which returns it when done.
	slots chan struct{}
}

// New builds the endpoint. validator is botauth.Validator in production and
// botauth.DevValidator only in local dev mode.
func New(cfg Config, validator auth.TokenValidator, sender Sender, refs References, metrics *Metrics, log *zap.Logger) *Handler {
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.BackgroundTimeout <= 0 {
		cfg.BackgroundTimeout = 2 * time.Minute
	}
	if cfg.InlineTimeout <= 0 {
		cfg.InlineTimeout = 10 * time.Second
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 256
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Handler{
		cfg: cfg, validator: validator, sender: sender, refs: refs, log: log, metrics: metrics,
		commands: map[string]Command{}, actions: map[string]ActionFunc{},
		bgCtx: ctx, bgCancel: cancel, slots: make(chan struct{}, cfg.MaxInFlight),
	}
	h.registerHelp()
	return h
}

// ServeHTTP handles one activity.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ctx := r.Context()
	if requestid.From(ctx) == "" {
		// Request ids key audit rows and deliveries; never run a turn without one.
		ctx = requestid.With(ctx, requestid.New())
	}
	log := h.log.With(zap.String("request_id", requestid.From(ctx)))

	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.metrics.rejected("too_large")
			log.Warn("activity rejected: body too large", zap.Int64("limit", tooBig.Limit))
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "could not read body", http.StatusBadRequest)
		return
	}
	in, err := decodeActivity(body)
	if err != nil {
		h.metrics.rejected("malformed")
		log.Warn("activity rejected", zap.String("reason", err.Error()))
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := checkTeams(in.Activity); err != nil {
		h.metrics.rejected("not_teams")
		log.Warn("activity rejected: not from Microsoft Teams", zap.String("channel_id", in.ChannelID),
			zap.String("conversation_type", in.Conversation.ConversationType))
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	if _, err := h.validator.AuthenticateRequest(ctx, in.Activity, r.Header.Get("Authorization"), nil, ""); err != nil {
		h.authFailed(w, log, in.Activity, err)
		return
	}

	select {
	case h.slots <- struct{}{}:
	default:
		h.metrics.rejected("overloaded")
		log.Warn("activity shed: too many in flight", zap.Int("max_in_flight", h.cfg.MaxInFlight))
		w.Header().Set("Retry-After", "1")
		http.Error(w, "busy, retry later", http.StatusServiceUnavailable)
		return
	}
	scope, _ := scopeOf(in.Activity) // checkTeams refused an activity without one
	t := &Turn{h: h, in: in, log: log.With(zap.String("activity_type", string(in.Type))),
		scope: scope, requestID: requestid.From(ctx)}
	defer func() {
		if !t.later {
			<-h.slots
		}
	}()
	ictx, cancel := context.WithTimeout(ctx, h.cfg.InlineTimeout)
	defer cancel()
	status, resp := h.route(ictx, t)
	h.metrics.activity(string(in.Type), status)
	if resp == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(resp)
}

func (h *Handler) authFailed(w http.ResponseWriter, log *zap.Logger, a schema.Activity, err error) {
	if errors.Is(err, botauth.ErrKeysUnavailable) {
		h.metrics.rejected("keys_unavailable")
		log.Error("activity not authenticated: signing keys unavailable")
		w.Header().Set("Retry-After", "5")
		http.Error(w, "authentication temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	h.metrics.rejected("unauthorized")
	// The reason names the failed check; the token itself is never logged.
	log.Warn("activity rejected: unauthorized", zap.Error(err),
		zap.String("channel_id", a.ChannelID), zap.String("service_url", a.ServiceURL))
	http.Error(w, "unauthorized", http.StatusUnauthorized)
}

// route dispatches by activity type. It returns the HTTP status and, for invokes, the
// body Teams reads the answer from.
func (h *Handler) route(ctx context.Context, t *Turn) (int, any) {
	switch t.in.Type {
	case schema.Message:
		h.rememberConversation(ctx, t)
		if len(t.in.Value) > 0 && t.in.Text == "" {
			if status, first := h.firstDelivery(ctx, t); !first {
				return status, nil
			}
			h.onSubmit(ctx, t)
			return http.StatusOK, nil
		}
		return h.onMessage(ctx, t), nil
	case schema.Invoke:
		if status, first := h.firstDelivery(ctx, t); !first {
			if status == http.StatusOK {
				return status, invokeResponse{StatusCode: http.StatusOK, Type: "application/vnd.microsoft.activity.message", Value: "Already handled."}
			}
			return status, nil
		}
		return h.onInvoke(ctx, t)
	case schema.ConversationUpdate, schema.InstallationUpdate:
		if err := h.onInstall(ctx, t); err != nil {
			// Teams redelivers on 5xx, and the reference must not be lost.
			t.log.Error("saving conversation reference failed", zap.Error(err))
			return http.StatusInternalServerError, nil
		}
		return http.StatusOK, nil
	default:
		t.log.Debug("activity type ignored")
		return http.StatusOK, nil
	}
}

// firstDelivery claims the activity's id in the store, so that an activity Teams
// delivers again (it does on timeouts, and a retrying client may send one many times
// at once) has its effects once, across restarts and replicas. A redelivery is
// acknowledged with 200 and nothing else. If the store cannot say, the answer is 503:
// Teams retries later, rather than tapbot acting twice. The key is a hash, since the
// ids are the sender's and of any length.
func (h *Handler) firstDelivery(ctx context.Context, t *Turn) (int, bool) {
	if t.in.ID == "" {
		return http.StatusOK, true // Teams always sets one; nothing to deduplicate on
	}
	sum := sha256.Sum256([]byte(t.in.Conversation.ID + "\x00" + t.in.ID))
	first, err := h.refs.Claim(ctx, "activity:"+hex.EncodeToString(sum[:]), time.Time{})
	if err != nil {
		t.log.Error("activity id not claimed; asking Teams to retry", zap.Error(err))
		return http.StatusServiceUnavailable, false
	}
	if !first {
		h.metrics.rejected("redelivered")
		t.log.Info("activity redelivered; already handled", zap.String("activity_id", t.in.ID))
		return http.StatusOK, false
	}
	return http.StatusOK, true
}

// Shutdown cancels background work still running after ctx ends and waits for it.
func (h *Handler) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() { h.bg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		h.bgCancel()
		<-done
		return ctx.Err()
	}
}
