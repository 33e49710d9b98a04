package bftest

import (
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

const (
	connectorPrefix = "/connector/"
	// maxConnectorBody bounds a recorded body. Teams itself rejects messages over
	// about 28 KiB; this only stops a runaway client from filling memory.
	maxConnectorBody = 4 << 20
)

// ConnectorCall is one accepted Bot Connector request.
type ConnectorCall struct {
	Method string
	// Path is relative to ServiceURL and unescaped, e.g.
	// "v3/conversations/a:1conv/activities".
	Path           string
	ConversationID string // "" for create-conversation
	// ActivityID is the activity in the URL: the replyToId of a reply (POST), the
	// activity updated (PUT) or deleted (DELETE); "" for a plain send.
	ActivityID    string
	Authorization string // the Authorization header as sent
	// Body is the request body, gunzipped if it came with Content-Encoding: gzip.
	Body []byte
	// ResponseID is the id the fake answered with: the new activity's id, or the new
	// conversation's id for create-conversation; for DELETE, "".
	ResponseID string
}

type connector struct {
	mu    sync.Mutex
	calls []ConnectorCall
	// notify is closed (and replaced) whenever accepted grows while someone waits,
	// so WaitCalls blocks on a channel instead of polling.
	notify   chan struct{}
	waiters  atomic.Int32
	accepted atomic.Int64
	rejected atomic.Int64
	ids      atomic.Int64 // generated activity ids
	convs    atomic.Int64 // generated conversation ids
	fail     failBudget
}

func (cn *connector) init() { cn.notify = make(chan struct{}) }

// wake releases WaitCalls waiters so they re-check the count. Callers hold mu.
func (cn *connector) wake() {
	close(cn.notify)
	cn.notify = make(chan struct{})
}

// Calls returns a copy of the accepted connector calls, oldest first. Empty in
// DiscardConnector mode. The Body slices are shared; do not modify them.
func (c *Cloud) Calls() []ConnectorCall {
	c.connector.mu.Lock()
	defer c.connector.mu.Unlock()
	return append([]ConnectorCall(nil), c.connector.calls...)
}

// CallCount counts accepted connector calls (those answered 2xx), in both modes.
func (c *Cloud) CallCount() int64 { return c.connector.accepted.Load() }

// RejectedCalls counts connector requests answered with an error: injected by
// FailNext, refused for a missing or unknown token (RequireToken), unknown routes
// and unreadable bodies. They are not in Calls.
func (c *Cloud) RejectedCalls() int64 { return c.connector.rejected.Load() }

// WaitCalls blocks until at least n calls have been accepted or ctx is done, and
// returns Calls() (so, in DiscardConnector mode, an empty slice). On ctx's end it
// returns the calls so far with ctx's error, which makes for a useful failure message.
func (c *Cloud) WaitCalls(ctx context.Context, n int) ([]ConnectorCall, error) {
	cn := &c.connector
	cn.waiters.Add(1)
	defer cn.waiters.Add(-1)
	for {
		// Take the channel before checking the count: a call accepted after the
		// check closes this very channel, so no wake-up is lost.
		cn.mu.Lock()
		ch := cn.notify
		cn.mu.Unlock()
		if cn.accepted.Load() >= int64(n) {
			return c.Calls(), nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return c.Calls(), ctx.Err()
		}
	}
}

// FailNext makes the next n connector requests fail with status (typically 429 or
// 503) and, if retryAfter is not "", a Retry-After header with that value. n = 0
// disarms.
func (c *Cloud) FailNext(n, status int, retryAfter string) {
	c.connector.fail.arm(n, status, retryAfter)
}

// Reset forgets recorded connector calls, zeroes CallCount and RejectedCalls and
// disarms FailNext. Generated ids keep counting so they stay unique.
func (c *Cloud) Reset() {
	cn := &c.connector
	cn.fail.arm(0, 0, "")
	cn.mu.Lock()
	defer cn.mu.Unlock()
	cn.calls = nil
	cn.accepted.Store(0)
	cn.rejected.Store(0)
	cn.wake()
}

type route int

const (
	routeNone route = iota
	routeCreateConversation
	routeSend
	routeReply
	routeUpdate
	routeDelete
)

// parseRoute maps a request to a connector operation. It splits the escaped path so
// that ids containing escaped slashes or other reserved characters (Teams ids
// contain ':', '@' and ';') come out whole, then unescapes each segment.
func parseRoute(r *http.Request) (rt route, convID, activityID, path string) {
	rel := strings.TrimPrefix(r.URL.EscapedPath(), connectorPrefix)
	segs := strings.Split(rel, "/")
	for i, s := range segs {
		u, err := url.PathUnescape(s)
		if err != nil {
			return routeNone, "", "", ""
		}
		segs[i] = u
	}
	if len(segs) < 2 || segs[0] != "v3" || segs[1] != "conversations" {
		return routeNone, "", "", ""
	}
	path = strings.Join(segs, "/")
	switch {
	case len(segs) == 2 && r.Method == http.MethodPost:
		return routeCreateConversation, "", "", path
	case len(segs) == 4 && segs[3] == "activities" && segs[2] != "" && r.Method == http.MethodPost:
		return routeSend, segs[2], "", path
	case len(segs) == 5 && segs[3] == "activities" && segs[2] != "" && segs[4] != "":
		switch r.Method {
		case http.MethodPost:
			return routeReply, segs[2], segs[4], path
		case http.MethodPut:
			return routeUpdate, segs[2], segs[4], path
		case http.MethodDelete:
			return routeDelete, segs[2], segs[4], path
		}
	}
	return routeNone, "", "", ""
}

// serveConnector is on the benchmark's hot path: in DiscardConnector mode an accepted
// call costs a route parse, a few atomics and one small response.
func (c *Cloud) serveConnector(w http.ResponseWriter, r *http.Request) {
	cn := &c.connector
	rt, convID, activityID, path := parseRoute(r)
	if rt == routeNone {
		cn.rejected.Add(1)
		drain(r)
		connectorError(w, http.StatusNotFound, "BadSyntax", "bftest: no such Bot Connector operation: "+r.Method+" "+r.URL.Path)
		return
	}
	auth := r.Header.Get("Authorization")
	if c.opts.RequireToken && !c.validToken(auth) {
		cn.rejected.Add(1)
		drain(r)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Authorization has been denied for this request."})
		return
	}
	if status, retryAfter, fail := cn.fail.take(); fail {
		cn.rejected.Add(1)
		drain(r)
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		connectorError(w, status, "ServiceError", "bftest: injected failure (FailNext)")
		return
	}

	var body []byte
	if c.opts.DiscardConnector {
		drain(r)
	} else {
		var err error
		if body, err = readBody(r); err != nil {
			cn.rejected.Add(1)
			connectorError(w, http.StatusBadRequest, "BadArgument", "bftest: read body: "+err.Error())
			return
		}
	}

	call := ConnectorCall{
		Method: r.Method, Path: path, ConversationID: convID, ActivityID: activityID,
		Authorization: auth, Body: body,
	}
	status := http.StatusCreated
	var resp []byte
	switch rt {
	case routeCreateConversation:
		call.ResponseID = "a:new-" + strconv.FormatInt(cn.convs.Add(1), 10)
		resp = []byte(`{"id":` + strconv.Quote(call.ResponseID) +
			`,"activityId":"act-` + strconv.FormatInt(cn.ids.Add(1), 10) +
			`","serviceUrl":` + strconv.Quote(c.ServiceURL()) + `}`)
	case routeDelete:
		status, resp = http.StatusOK, nil
	default:
		if rt == routeUpdate {
			status = http.StatusOK
			call.ResponseID = activityID
		} else {
			call.ResponseID = "act-" + strconv.FormatInt(cn.ids.Add(1), 10)
		}
		resp = append(append([]byte(`{"id":`), strconv.Quote(call.ResponseID)...), '}')
	}

	// Record before answering: once the client has its response, Calls() shows it.
	if c.opts.DiscardConnector {
		cn.accepted.Add(1)
		if cn.waiters.Load() > 0 {
			cn.mu.Lock()
			cn.wake()
			cn.mu.Unlock()
		}
	} else {
		cn.mu.Lock()
		cn.calls = append(cn.calls, call)
		cn.accepted.Add(1)
		cn.wake()
		cn.mu.Unlock()
	}

	if resp == nil {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(resp)
}

// readBody reads the whole body, gunzipping it when the client compressed it.
func readBody(r *http.Request) ([]byte, error) {
	var src io.Reader = io.LimitReader(r.Body, maxConnectorBody+1)
	if strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "gzip") {
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, err
		}
		defer zr.Close()
		src = io.LimitReader(zr, maxConnectorBody+1)
	}
	b, err := io.ReadAll(src)
	if err != nil {
		return nil, err
	}
	if len(b) > maxConnectorBody {
		return nil, errors.New("body larger than 4 MiB")
	}
	return b, nil
}

// drain reads what is left of the body so the connection can be reused.
func drain(r *http.Request) { io.Copy(io.Discard, io.LimitReader(r.Body, maxConnectorBody)) }

// connectorError answers in the Bot Connector's error shape.
func connectorError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
