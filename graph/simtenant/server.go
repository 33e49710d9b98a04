package simtenant

import (
	"bytes"
	"compress/gzip"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/tapbot/tapbot/graph"
)

// maxBody is Graph's request size limit (4 MB).
const maxBody = 4 << 20

// Server serves a Tenant over Graph's v1.0 wire format on a loopback TLS listener.
// Point a client at URL()+"/v1.0" and give it Client()'s transport or CertPool().
type Server struct {
	tenant *Tenant
	ts     *httptest.Server

	mu        sync.Mutex
	requests  []Request
	batched   []Request
	faults    []fault
	forbidden [][]string
	failing   []pathFault
}

// pathFault fails every request whose path matches segs.
type pathFault struct {
	segs   []string
	status int
}

// Request is one request the server answered: a top-level HTTP round trip, or one
// item of a $batch (see BatchedRequests).
type Request struct {
	Method string
	Path   string     // unescaped, e.g. /v1.0/users/nina@contoso.com
	Query  url.Values // decoded, e.g. Query.Get("$filter")
	Status int
}

type fault struct {
	status     int
	retryAfter string
}

// NewServer starts serving t. Close it when done.
func NewServer(t *Tenant) *Server {
	s := &Server{tenant: t}
	s.ts = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	// Clients that hang up mid-handshake (tests closing their transports) are not news.
	s.ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.ts.StartTLS()
	return s
}

// URL is the server's base URL, e.g. https://127.0.0.1:41234; Graph's v1.0 root is
// URL()+"/v1.0".
func (s *Server) URL() string { return s.ts.URL }

// Client is an HTTP client that trusts the server's certificate.
func (s *Server) Client() *http.Client { return s.ts.Client() }

// Certificate is the server's self-signed TLS certificate.
func (s *Server) Certificate() *x509.Certificate { return s.ts.Certificate() }

// CertPool holds the server's certificate, for clients built on their own transport.
func (s *Server) CertPool() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(s.ts.Certificate())
	return pool
}

// Tenant is the tenant being served.
func (s *Server) Tenant() *Tenant { return s.tenant }

// Close shuts the server down.
func (s *Server) Close() { s.ts.Close() }

// FailNext makes the next n HTTP round trips fail with status (429 and 503 are what
// Graph throttles and sheds load with) and, when retryAfter is not empty, a Retry-After
// header. Items inside a $batch are not affected: the round trip is.
func (s *Server) FailNext(n, status int, retryAfter string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults = append(s.faults, fault{status, retryAfter})
	}
}

// Forbid makes requests whose path (after /v1.0) starts with pattern answer 403
// Authorization_RequestDenied, as Graph does when the app lacks a permission. A "*"
// segment matches any one segment: Forbid("/users/*/authentication"). It applies to
// $batch items too.
func (s *Server) Forbid(pattern string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forbidden = append(s.forbidden, splitPattern(pattern))
}

// FailPath makes every request whose path (after /v1.0) starts with pattern answer
// status as Graph does when it throttles (429) or sheds load (503), until Reset.
// Patterns are as for Forbid. Unlike FailNext it applies to $batch items too, so a
// test can fail one step of a batch. Answers carry Retry-After: 0.
func (s *Server) FailPath(pattern string, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing = append(s.failing, pathFault{splitPattern(pattern), status})
}

func splitPattern(pattern string) []string {
	return strings.Split(strings.Trim(strings.ToLower(pattern), "/"), "/")
}

// Requests lists the HTTP round trips answered so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RequestCount is the number of HTTP round trips answered so far; a $batch is one.
func (s *Server) RequestCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

// BatchedRequests lists the items of the $batch requests answered so far.
func (s *Server) BatchedRequests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.batched...)
}

// Reset forgets the recorded requests, pending faults, failing and forbidden paths. The tenant
// is unchanged.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests, s.batched, s.faults, s.forbidden, s.failing = nil, nil, nil, nil, nil
}

// call is one request as the handlers see it, whether it came over HTTP or in a $batch.
type call struct {
	method  string
	segs    []string // path segments after /v1.0, unescaped
	path    string   // escaped path after /v1.0, for links
	query   url.Values
	body    []byte
	root    string // e.g. https://127.0.0.1:41234/v1.0, the root of links and contexts
	batched bool
	// consistency is the ConsistencyLevel request header: "eventual" with $count=true
	// makes a directory query an advanced query.
	consistency string
	// roles are the application permissions the caller's token grants, appID its app
	// id (permissions.go).
	roles []string
	appID string
	// beta: the request came to /beta, where the fake serves only what tapbot reads
	// there (devices.go).
	beta bool
}

// advanced reports whether the call is an advanced query: ConsistencyLevel: eventual
// and $count=true (https://learn.microsoft.com/en-us/graph/aad-advanced-queries).
func (c *call) advanced() bool {
	return strings.EqualFold(c.consistency, "eventual") && strings.EqualFold(c.query.Get("$count"), "true")
}

// context is an @odata.context URL.
func (c *call) context(fragment string) string { return c.root + "/$metadata#" + fragment }

// link repeats the call's request from the given offset: an @odata.nextLink.
func (c *call) link(offset int) string {
	q := url.Values{}
	for k, v := range c.query {
		q[k] = v
	}
	q.Set("$skiptoken", encodeSkipToken(offset))
	return c.root + c.path + "?" + encodeQuery(q)
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rep := s.handle(r)
	s.mu.Lock()
	s.requests = append(s.requests, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Status: rep.status})
	s.mu.Unlock()
	s.write(w, rep, r.Header.Get("client-request-id"))
}

func (s *Server) handle(r *http.Request) reply {
	// Graph authenticates before anything else, throttling included.
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		rep := fail(gerr(http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty."))
		rep.header = map[string]string{"WWW-Authenticate": `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`}
		return rep
	}
	s.mu.Lock()
	var f *fault
	if len(s.faults) > 0 {
		f = &s.faults[0]
		s.faults = s.faults[1:]
	}
	s.mu.Unlock()
	if f != nil {
		return faultReply(*f)
	}
	version, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	if version != "v1.0" && version != "beta" {
		return fail(gerr(http.StatusBadRequest, "BadRequest", "Invalid version: %s", version))
	}
	if rest != "" {
		rest = "/" + rest
	}
	body, rerr := readBody(r)
	if rerr != nil {
		return fail(rerr)
	}
	c, rerr := newCall(r.Method, rest, r.URL.RawQuery, body, "https://"+r.Host+"/"+version)
	if rerr != nil {
		return fail(rerr)
	}
	c.beta = version == "beta"
	c.consistency = r.Header.Get("ConsistencyLevel")
	if roles, appID, ok := tokenIdentity(strings.TrimSpace(token)); ok {
		c.roles, c.appID = roles, appID
	} else {
		s.tenant.mu.Lock()
		c.roles, c.appID = s.tenant.appRolesLocked(), s.tenant.appID
		s.tenant.mu.Unlock()
	}
	return s.dispatch(c)
}

// faultReply is Graph's answer when it throttles (the body documented in "Microsoft
// Graph throttling guidance") or is unavailable.
func faultReply(f fault) reply {
	var e *graph.Error
	switch f.status {
	case http.StatusTooManyRequests:
		e = gerr(f.status, "TooManyRequests", "Please retry again later.")
	case http.StatusServiceUnavailable:
		e = gerr(f.status, "serviceNotAvailable", "The service is temporarily unavailable. Please retry after the time in the Retry-After header.")
	default:
		e = gerr(f.status, "generalException", "An unspecified error has occurred.")
	}
	rep := fail(e)
	if f.retryAfter != "" {
		rep.header = map[string]string{"Retry-After": f.retryAfter}
	}
	return rep
}

// readBody reads the request body, decompressing it when the client gzipped it
// (msgraph-sdk-go's default middleware does).
func readBody(r *http.Request) ([]byte, *graph.Error) {
	var rd io.Reader = r.Body
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, gerr(http.StatusBadRequest, "BadRequest", "The request body is not valid gzip.")
		}
		defer zr.Close()
		rd = zr
	default:
		// 415 makes kiota's compression handler retry without compression.
		return nil, gerr(http.StatusUnsupportedMediaType, "UnsupportedMediaType", "Content-Encoding '%s' is not supported.", enc)
	}
	body, err := io.ReadAll(io.LimitReader(rd, maxBody+1))
	if err != nil {
		return nil, gerr(http.StatusBadRequest, "BadRequest", "The request body could not be read.")
	}
	if len(body) > maxBody {
		return nil, gerr(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body exceeds the maximum size of 4 MB.")
	}
	return body, nil
}

// newCall builds a call from a request's escaped path (after /v1.0) and raw query.
func newCall(method, escapedPath, rawQuery string, body []byte, root string) (*call, *graph.Error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return nil, gerr(http.StatusBadRequest, "BadRequest", "The query string is malformed.")
	}
	c := &call{method: strings.ToUpper(method), path: escapedPath, query: q, body: body, root: root}
	for _, seg := range strings.Split(strings.Trim(escapedPath, "/"), "/") {
		if seg == "" {
			continue
		}
		u, err := url.PathUnescape(seg)
		if err != nil {
			return nil, errSegment(seg)
		}
		c.segs = append(c.segs, u)
	}
	return c, nil
}

func (s *Server) dispatch(c *call) reply {
	if s.forbids(c.segs) {
		return fail(gerr(http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."))
	}
	if status := s.failingStatus(c.segs); status != 0 {
		return faultReply(fault{status: status, retryAfter: "0"}) // retried at once, so tests stay fast
	}
	if err := authorize(c); err != nil {
		return fail(err)
	}
	return s.route(c)
}

func (s *Server) forbids(segs []string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.ContainsFunc(s.forbidden, func(pattern []string) bool { return matchPattern(pattern, segs) })
}

func (s *Server) failingStatus(segs []string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range s.failing {
		if matchPattern(f.segs, segs) {
			return f.status
		}
	}
	return 0
}

// matchPattern reports whether segs starts with pattern, "*" matching any segment.
func matchPattern(pattern, segs []string) bool {
	if len(pattern) > len(segs) {
		return false
	}
	for i, p := range pattern {
		if p != "*" && p != strings.ToLower(segs[i]) {
			return false
		}
	}
	return true
}

// write sends a reply as an HTTP response. Every response carries a request-id, and
// error bodies repeat it, as Graph's do.
func (s *Server) write(w http.ResponseWriter, rep reply, clientRequestID string) {
	requestID := newGUID()
	h := w.Header()
	h.Set("request-id", requestID)
	if clientRequestID != "" {
		h.Set("client-request-id", clientRequestID)
	}
	for k, v := range rep.header {
		h.Set(k, v)
	}
	body := s.replyBody(rep, requestID, clientRequestID)
	if body == nil {
		w.WriteHeader(rep.status)
		return
	}
	b, err := marshal(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h.Set("Content-Type", jsonContentType)
	w.WriteHeader(rep.status)
	_, _ = w.Write(b)
}

// replyBody is the JSON body of a reply: the handler's value, or Graph's error envelope.
func (s *Server) replyBody(rep reply, requestID, clientRequestID string) any {
	if rep.err != nil {
		return newErrorBody(rep.err, s.tenant.now(), requestID, clientRequestID)
	}
	return rep.body
}

// marshal encodes JSON without HTML escaping: Graph writes "&" and "+" as they are,
// and TAP values can contain them.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// decodeJSON decodes a request body into v, mapping malformed JSON to a 400 in
// Graph's shape. An empty body decodes as {}.
func decodeJSON(body []byte, v any) *graph.Error {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	if err := json.Unmarshal(body, v); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &typ):
			return errBody("property '" + typ.Field + "' has the wrong type")
		case errors.As(err, &syn):
			return errBody("malformed JSON")
		}
		return errBody(err.Error())
	}
	return nil
}

func (s *Server) route(c *call) reply {
	if len(c.segs) == 0 {
		return fail(errSegment("v1.0"))
	}
	if c.beta {
		return s.routeBeta(c) // devices.go
	}
	if rep, handled := s.routeProvisioning(c); handled { // provision_http.go
		return rep
	}
	if rep, handled := s.routeTeamwork(c); handled { // teamwork.go
		return rep
	}
	if rep, handled := s.routeRoleManagement(c); handled { // roles.go
		return rep
	}
	switch strings.ToLower(c.segs[0]) {
	case "users":
		return s.routeUsers(c, c.segs[1:])
	case "groups":
		return s.routeGroups(c, c.segs[1:])
	case "me":
		// tapbot runs with application permissions, where /me has no meaning.
		return fail(gerr(http.StatusBadRequest, "BadRequest", "/me request is only valid with delegated authentication flow."))
	case "devicemanagement":
		return s.routeDeviceManagement(c) // devices.go
	case "policies":
		if len(c.segs) == 4 && strings.EqualFold(c.segs[1], "authenticationMethodsPolicy") && strings.EqualFold(c.segs[2], "authenticationMethodConfigurations") {
			return s.methodConfiguration(c, c.segs[3])
		}
	case "$batch":
		if len(c.segs) == 1 {
			if c.method != http.MethodPost {
				return fail(errMethod())
			}
			return s.batch(c)
		}
	default:
		return fail(errSegment(c.segs[0]))
	}
	return fail(errSegment(c.segs[len(c.segs)-1]))
}

func (s *Server) routeUsers(c *call, rest []string) reply {
	if len(rest) == 0 {
		if c.method != http.MethodGet {
			// POST creates users (provision_http.go); other verbs are not Graph's.
			return fail(errMethod())
		}
		return s.listUsers(c)
	}
	ref := rest[0]
	if len(rest) == 1 {
		if c.method != http.MethodGet {
			return fail(errMethod())
		}
		return s.getUser(c, ref)
	}
	switch strings.ToLower(rest[1]) {
	case "checkmembergroups":
		if len(rest) == 2 {
			if c.method != http.MethodPost {
				return fail(errMethod())
			}
			return s.checkMemberGroups(c, ref)
		}
	case "transitivememberof":
		if len(rest) <= 3 {
			if c.method != http.MethodGet {
				return fail(errMethod())
			}
			cast := ""
			if len(rest) == 3 {
				cast = rest[2]
			}
			return s.transitiveMemberOf(c, ref, cast)
		}
	case "manager":
		if len(rest) == 2 {
			if c.method != http.MethodGet {
				return fail(errMethod())
			}
			return s.getManager(c, ref)
		}
	case "authentication":
		if len(rest) >= 3 {
			return s.routeAuthentication(c, ref, rest[2], rest[3:])
		}
	default:
		return fail(errSegment(rest[1]))
	}
	return fail(errSegment(rest[len(rest)-1]))
}
