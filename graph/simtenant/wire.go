package simtenant

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"time"

	"github.com/tapbot/tapbot/graph"
)

// jsonContentType is what Graph answers JSON with.
const jsonContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// errorDateLayout is the innerError date format Graph uses: no zone, no fraction
// (documented examples: "2025-02-13T10:17:05"). kiota's JSON parser reads it.
const errorDateLayout = "2006-01-02T15:04:05"

// newGUID returns a random (version 4) GUID string, the shape of every Entra object id.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// graphTime formats a DateTimeOffset as Graph does: UTC, "Z", fraction only when set.
func graphTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// reply is a handler's answer, written either as an HTTP response or as one item of a
// $batch response: the same handlers serve both.
type reply struct {
	status int
	body   any               // marshalled as JSON; nil means no body (204)
	header map[string]string // extra headers, e.g. Retry-After
	err    *graph.Error      // set for error answers; status comes from it
}

func ok(body any) reply      { return reply{status: http.StatusOK, body: body} }
func created(body any) reply { return reply{status: http.StatusCreated, body: body} }
func noContent() reply       { return reply{status: http.StatusNoContent} }
func fail(err *graph.Error) reply {
	return reply{status: err.Status, err: err}
}

func gerr(status int, code, format string, args ...any) *graph.Error {
	return &graph.Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// errorBody is Graph's error envelope (see "Microsoft Graph error responses and
// resource types").
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code       string     `json:"code"`
	Message    string     `json:"message"`
	InnerError innerError `json:"innerError"`
}

type innerError struct {
	Date            string `json:"date"`
	RequestID       string `json:"request-id"`
	ClientRequestID string `json:"client-request-id,omitempty"`
}

func newErrorBody(e *graph.Error, now time.Time, requestID, clientRequestID string) errorBody {
	return errorBody{Error: errorDetail{
		Code:    e.Code,
		Message: e.Message,
		InnerError: innerError{
			Date:            now.UTC().Format(errorDateLayout),
			RequestID:       requestID,
			ClientRequestID: clientRequestID,
		},
	}}
}

// The errors several handlers share, with Graph's codes and messages.

// errNotFound is what the directory answers for an unknown user id or UPN.
func errNotFound(ref string) *graph.Error {
	return gerr(http.StatusNotFound, "Request_ResourceNotFound",
		"Resource '%s' does not exist or one of its queried reference-property objects are not present.", ref)
}

// errSegment is OData's answer for a path it cannot route.
func errSegment(seg string) *graph.Error {
	return gerr(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '%s'.", seg)
}

// errMethod is the answer for a known path and an unsupported verb (documented in the
// JSON batching article's example response).
func errMethod() *graph.Error {
	return gerr(http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
}

// errBody is the answer for a body that is not the JSON the resource expects. Graph's
// exact text varies by service; this one is representative.
func errBody(detail string) *graph.Error {
	return gerr(http.StatusBadRequest, "BadRequest", "Invalid request body: %s", detail)
}
