// Package connector is tapbot's outbound Bot Connector client: replies, proactive
// messages, updates, deletes and new 1:1 conversations. Its tokens come from azidentity
// (client secret, certificate, managed identity, workload identity) for the bot's own
// tenant, which the library's client cannot do: it only knows the deprecated
// multi-tenant token endpoint.
package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/infracloudio/msbotbuilder-go/connector/client"
	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/tapbot/tapbot/internal/every"
	"go.uber.org/zap"
)

// TokenSource yields a bearer token for the Bot Connector. A nil TokenSource means
// requests go out without one, which only local emulators accept.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
}

// Config configures a Client.
type Config struct {
	HTTPClient *http.Client
	Tokens     TokenSource
	// CheckServiceURL vets every serviceUrl before a request (and its token) goes there.
	CheckServiceURL func(*url.URL) error
	// MaxAttempts bounds tries per call, first included (default 4).
	MaxAttempts int
	// BaseBackoff is the first retry delay, doubled each time with jitter (default 250ms).
	BaseBackoff time.Duration
	// MaxBackoff caps any single wait, including one asked for by Retry-After (default 10s).
	MaxBackoff time.Duration
	// Sleep waits d or until ctx ends; tests replace it to run without real time.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client talks to the Bot Connector REST API. It is safe for concurrent use.
type Client struct {
	cfg Config
	log *zap.Logger
}

// The library's adapter and activity.Response can send through this client.
var _ client.Client = (*Client)(nil)

// New builds a Client.
func New(cfg Config, log *zap.Logger) (*Client, error) {
	if cfg.CheckServiceURL == nil {
		return nil, errors.New("connector: a serviceUrl check is required")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 20 * time.Second}
	}
	// CheckServiceURL vets only the URL we ask for; a redirect would carry the bearer
	// token (Go keeps Authorization for the same host on another port or scheme) to
	// a URL nobody checked. The Connector never redirects, so a 3xx is an error. A
	// copy, so that the caller's client keeps its own policy.
	hc := *cfg.HTTPClient
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	cfg.HTTPClient = &hc
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 4
	}
	if cfg.BaseBackoff <= 0 {
		cfg.BaseBackoff = 250 * time.Millisecond
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = 10 * time.Second
	}
	if cfg.Sleep == nil {
		cfg.Sleep = every.Sleep
	}
	return &Client{cfg: cfg, log: log}, nil
}

// Error is a failed Connector call. It carries the status and the connector's error
// code, never the request body or token.
type Error struct {
	Method, Path string
	Status       int
	Code         string
	Attempts     int
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("connector: %s %s: status %d", e.Method, e.Path, e.Status)
	if e.Code != "" {
		msg += " (" + e.Code + ")"
	}
	if e.Attempts > 1 {
		msg += fmt.Sprintf(" after %d attempts", e.Attempts)
	}
	return msg
}

// SendToConversation posts a new activity to a conversation and returns its id.
func (c *Client) SendToConversation(ctx context.Context, serviceURL, conversationID string, a schema.Activity) (string, error) {
	var res schema.ResourceResponse
	err := c.call(ctx, http.MethodPost, serviceURL, &res, wire(&a), "v3", "conversations", conversationID, "activities")
	return res.ID, err
}

// ReplyToActivity posts a with replyToId set and returns the new activity's id.
func (c *Client) ReplyToActivity(ctx context.Context, serviceURL, conversationID, replyToID string, a schema.Activity) (string, error) {
	a.ReplyToID = replyToID
	var res schema.ResourceResponse
	err := c.call(ctx, http.MethodPost, serviceURL, &res, wire(&a), "v3", "conversations", conversationID, "activities", replyToID)
	return res.ID, err
}

// UpdateActivity replaces a message the bot sent earlier (e.g. to redact a TAP).
func (c *Client) UpdateActivity(ctx context.Context, serviceURL, conversationID, activityID string, a schema.Activity) error {
	a.ID = activityID
	return c.call(ctx, http.MethodPut, serviceURL, nil, wire(&a), "v3", "conversations", conversationID, "activities", activityID)
}

// DeleteActivity removes a message the bot sent earlier.
func (c *Client) DeleteActivity(ctx context.Context, serviceURL, conversationID, activityID string) error {
	return c.call(ctx, http.MethodDelete, serviceURL, nil, nil, "v3", "conversations", conversationID, "activities", activityID)
}

// CreateConversation opens (or finds) a conversation, e.g. the 1:1 chat with a user
// that private delivery needs.
func (c *Client) CreateConversation(ctx context.Context, serviceURL string, p schema.ConversationParameters) (schema.ConversationResourceResponse, error) {
	body := conversationParameters{IsGroup: p.IsGroup, Bot: p.Bot, Members: p.Members, TopicName: p.TopicName,
		TenantID: p.TenantID, ChannelData: p.ChannelData}
	if p.Activity.Type != "" {
		w := wire(&p.Activity)
		body.Activity = &w
	}
	var res schema.ConversationResourceResponse
	err := c.call(ctx, http.MethodPost, serviceURL, &res, body, "v3", "conversations")
	return res, err
}

// Post implements client.Client for the library's activity.Response.
func (c *Client) Post(target url.URL, a schema.Activity) error {
	return c.do(context.Background(), http.MethodPost, &target, nil, wire(&a))
}

// Put implements client.Client.
func (c *Client) Put(target url.URL, a schema.Activity) error {
	return c.do(context.Background(), http.MethodPut, &target, nil, wire(&a))
}

// Delete implements client.Client.
func (c *Client) Delete(target url.URL, _ schema.Activity) error {
	return c.do(context.Background(), http.MethodDelete, &target, nil, nil)
}

func (c *Client) call(ctx context.Context, method, serviceURL string, out, body any, segments ...string) error {
	base, err := url.Parse(serviceURL)
	if err != nil {
		return fmt.Errorf("connector: serviceUrl: %w", err)
	}
	for _, s := range segments {
		if s == "" {
			return fmt.Errorf("connector: %s: empty path segment", method)
		}
	}
	// Conversation ids hold ':', '@' and ';' (19:abc@thread.tacv2;messageid=1), so each
	// segment is escaped on its own and the URL built from the escaped form.
	escaped := make([]string, len(segments))
	for i, s := range segments {
		escaped[i] = url.PathEscape(s)
	}
	target, err := url.Parse(strings.TrimSuffix(base.String(), "/") + "/" + strings.Join(escaped, "/"))
	if err != nil {
		return fmt.Errorf("connector: build URL: %w", err)
	}
	return c.do(ctx, method, target, out, body)
}

func (c *Client) do(ctx context.Context, method string, target *url.URL, out, body any) error {
	if err := c.cfg.CheckServiceURL(target); err != nil {
		return fmt.Errorf("connector: refusing serviceUrl: %w", err)
	}
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("connector: encode %s body: %w", method, err)
		}
	}
	// Only calls that cannot duplicate a message are retried after a failure whose
	// outcome is unknown; 429 and 503 say the request was not processed, so any
	// method may retry those.
	idempotent := method == http.MethodPut || method == http.MethodDelete
	path := target.EscapedPath()
	for attempt := 1; ; attempt++ {
		status, code, retryAfter, err := c.once(ctx, method, target, payload, out)
		if err == nil && status < 300 {
			return nil
		}
		retryable := status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable ||
			(idempotent && (err != nil || status >= 500))
		if !retryable || attempt >= c.cfg.MaxAttempts || ctx.Err() != nil {
			if err != nil {
				return fmt.Errorf("connector: %s %s after %d attempts: %w", method, path, attempt, err)
			}
			return &Error{Method: method, Path: path, Status: status, Code: code, Attempts: attempt}
		}
		wait := c.backoff(attempt, retryAfter)
		c.log.Warn("connector call failed; retrying",
			zap.String("method", method), zap.String("path", path), zap.Int("status", status),
			zap.Int("attempt", attempt), zap.Duration("wait", wait), zap.NamedError("cause", err))
		if err := c.cfg.Sleep(ctx, wait); err != nil {
			return fmt.Errorf("connector: %s %s: %w", method, path, err)
		}
	}
}

// once makes one HTTP exchange. It returns the status, the connector's error code,
// any Retry-After, and a transport error.
func (c *Client) once(ctx context.Context, method string, target *url.URL, payload []byte, out any) (int, string, time.Duration, error) {
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, target.String(), rd)
	if err != nil {
		return 0, "", 0, err
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	if c.cfg.Tokens != nil {
		tok, err := c.cfg.Tokens.Token(ctx)
		if err != nil {
			return 0, "", 0, fmt.Errorf("get connector token: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, "", 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, "", 0, err
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		_ = json.Unmarshal(data, &e) // the code is a nicety; the status says enough
		if resp.StatusCode < 400 {
			e.Error.Code = "redirect_refused"
		}
		return resp.StatusCode, e.Error.Code, parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), nil
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, "", 0, fmt.Errorf("decode response: %w", err)
		}
	}
	return resp.StatusCode, "", 0, nil
}

func (c *Client) backoff(attempt int, retryAfter time.Duration) time.Duration {
	wait := retryAfter
	if wait <= 0 {
		base := c.cfg.BaseBackoff << (attempt - 1)
		// Full jitter keeps many replicas from retrying in lockstep.
		wait = base/2 + rand.N(base/2+1)
	}
	return min(wait, c.cfg.MaxBackoff)
}

// parseRetryAfter reads delta-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
