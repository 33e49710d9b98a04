package simtenant

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/tapbot/tapbot/graph"
)

// maxBatch is JSON batching's documented limit.
const maxBatch = 20

// batchItem is one request of a $batch, as "Combine multiple HTTP requests using JSON
// batching" documents it and as msgraph-sdk-go-core's BatchRequest writes it: body a
// JSON object (or a base64 string), headers a string map, dependsOn always present
// (often empty), body null for requests without one.
type batchItem struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

// errBatch is the refusal of a whole batch. Graph answers 400 for a malformed batch;
// the texts are the fake's.
func errBatch(format string, args ...any) reply {
	return fail(gerr(http.StatusBadRequest, "BadRequest", format, args...))
}

// batch answers POST /$batch: each item runs through the same handlers as a plain
// request and gets its own status, headers and body. The batch is one round trip.
func (s *Server) batch(c *call) reply {
	if c.batched {
		return fail(gerr(http.StatusBadRequest, "BadRequest", "A batch request cannot contain another batch."))
	}
	var in struct {
		Requests []batchItem `json:"requests"`
	}
	if err := json.Unmarshal(c.body, &in); err != nil || in.Requests == nil {
		return errBatch("Invalid batch payload format.")
	}
	if len(in.Requests) == 0 {
		return errBatch("Invalid batch payload format: the batch contains no requests.")
	}
	if len(in.Requests) > maxBatch {
		return errBatch("Invalid batch payload format: a batch can contain at most %d requests, this one has %d.", maxBatch, len(in.Requests))
	}
	index := map[string]int{}
	for i, it := range in.Requests {
		if it.ID == "" || it.Method == "" || it.URL == "" {
			return errBatch("Invalid batch payload format: request %d needs an id, a method and a url.", i)
		}
		// Ids are not case-sensitive and must be unique (documented).
		key := strings.ToLower(it.ID)
		if _, dup := index[key]; dup {
			return errBatch("Invalid batch payload format: request id '%s' is not unique.", it.ID)
		}
		index[key] = i
	}
	order, err := batchOrder(in.Requests, index)
	if err != nil {
		return fail(err)
	}
	status := make([]int, len(in.Requests))
	responses := make([]map[string]any, len(in.Requests))
	for _, i := range order {
		it := in.Requests[i]
		var rep reply
		if dep := failedDependency(it, index, status); dep != "" {
			// "If an individual request fails, any request that depends on that request
			// fails with status code 424 (Failed Dependency)."
			rep = fail(gerr(http.StatusFailedDependency, "FailedDependency", "The request depends on request '%s', which failed.", dep))
		} else {
			rep = s.runItem(c, it)
		}
		status[i] = rep.status
		responses[i] = s.itemResponse(it, rep)
	}
	return ok(map[string]any{"responses": responses})
}

// batchOrder runs items after those they depend on, otherwise in the order given.
func batchOrder(items []batchItem, index map[string]int) ([]int, *graph.Error) {
	for _, it := range items {
		for _, d := range it.DependsOn {
			if _, ok := index[strings.ToLower(d)]; !ok {
				return nil, gerr(http.StatusBadRequest, "BadRequest", "Invalid batch payload format: request '%s' depends on unknown request '%s'.", it.ID, d)
			}
		}
	}
	var order []int
	state := make([]int, len(items)) // 0 unvisited, 1 visiting, 2 done
	var visit func(i int) bool
	visit = func(i int) bool {
		switch state[i] {
		case 1:
			return false
		case 2:
			return true
		}
		state[i] = 1
		for _, d := range items[i].DependsOn {
			if !visit(index[strings.ToLower(d)]) {
				return false
			}
		}
		state[i] = 2
		order = append(order, i)
		return true
	}
	for i := range items {
		if !visit(i) {
			return nil, gerr(http.StatusBadRequest, "BadRequest", "Invalid batch payload format: the dependencies of request '%s' form a cycle.", items[i].ID)
		}
	}
	return order, nil
}

// failedDependency names the first dependency of it that failed, if any.
func failedDependency(it batchItem, index map[string]int, status []int) string {
	for _, d := range it.DependsOn {
		if status[index[strings.ToLower(d)]] >= 400 {
			return d
		}
	}
	return ""
}

// runItem executes one batch item through the router and records it.
func (s *Server) runItem(outer *call, it batchItem) reply {
	rep := s.itemReply(outer, it)
	path, query := "/v1.0", url.Values{}
	if u, err := url.Parse(it.URL); err == nil {
		path += "/" + strings.TrimPrefix(u.Path, "/")
		query = u.Query()
	}
	s.mu.Lock()
	s.batched = append(s.batched, Request{Method: strings.ToUpper(it.Method), Path: path, Query: query, Status: rep.status})
	s.mu.Unlock()
	return rep
}

func (s *Server) itemReply(outer *call, it batchItem) reply {
	u, err := url.Parse(it.URL)
	if err != nil || u.IsAbs() || u.Host != "" {
		// Item URLs are relative to the version root: "/users", not an absolute URL.
		return fail(gerr(http.StatusBadRequest, "BadRequest", "Invalid request URL '%s': batch request URLs must be relative.", it.URL))
	}
	body, e := itemBody(it)
	if e != nil {
		return fail(e)
	}
	c, e := newCall(it.Method, "/"+strings.TrimPrefix(u.EscapedPath(), "/"), u.RawQuery, body, outer.root)
	if e != nil {
		return fail(e)
	}
	c.batched = true
	c.roles, c.appID = outer.roles, outer.appID // the batch's token authorises each item
	for k, v := range it.Headers {
		if strings.EqualFold(k, "ConsistencyLevel") {
			c.consistency = v
		}
	}
	return s.dispatch(c)
}

// itemBody decodes an item's body: a JSON value, or a base64 string for other
// content. A body needs a Content-Type header (documented).
func itemBody(it batchItem) ([]byte, *graph.Error) {
	raw := bytes.TrimSpace(it.Body)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	hasType := false
	for k := range it.Headers {
		hasType = hasType || strings.EqualFold(k, "Content-Type")
	}
	if !hasType {
		return nil, gerr(http.StatusBadRequest, "BadRequest", "Content-Type header must be specified when a request body is supplied.")
	}
	if raw[0] != '"' {
		return raw, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, errBody("malformed JSON")
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errBody("the body is neither JSON nor base64")
}

// itemResponse is one entry of "responses". Header values are strings (msgraph-sdk-go
// reads them as such) and Content-Type is spelled as the SDK looks it up.
func (s *Server) itemResponse(it batchItem, rep reply) map[string]any {
	requestID := newGUID()
	headers := map[string]string{"Cache-Control": "no-cache"}
	for k, v := range rep.header {
		headers[k] = v
	}
	out := map[string]any{"id": it.ID, "status": rep.status, "headers": headers}
	if body := s.replyBody(rep, requestID, it.Headers["client-request-id"]); body != nil {
		headers["Content-Type"] = jsonContentType
		if rep.err != nil {
			headers["Content-Type"] = "application/json"
		}
		out["body"] = body
	}
	return out
}
