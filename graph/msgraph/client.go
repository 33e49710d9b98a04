package msgraph

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	kauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	msgraphsdk "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"go.uber.org/zap"

	"github.com/tapbot/tapbot/graph"
)

// Defaults for Config.
const (
	DefaultBaseURL = "https://graph.microsoft.com/v1.0"
	DefaultScope   = "https://graph.microsoft.com/.default"
	// DefaultTimeout bounds one call including the SDK's retries: long enough for a
	// couple of short Retry-After waits, short enough that a Teams user is not left
	// waiting on a proactive answer forever.
	DefaultTimeout = 60 * time.Second
)

// Transport timeouts for the default parent transport.
const (
	dialTimeout           = 10 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 30 * time.Second
	idleConnTimeout       = 90 * time.Second
	maxPages              = 100 // a paging loop that goes on longer is a server bug
)

// Config configures a Client.
type Config struct {
	Credential azcore.TokenCredential // from azidentity
	BaseURL    string                 // default DefaultBaseURL
	// HTTPClient supplies the parent transport under the SDK's middleware (tests pass
	// one trusting the fake's TLS certificate) and, if set, the overall timeout.
	HTTPClient *http.Client
	Scopes     []string // default [DefaultScope]
}

// Client is tapbot's Microsoft Graph client. It is safe for concurrent use.
type Client struct {
	sdk     *msgraphsdk.GraphServiceClient
	adapter abstractions.RequestAdapter
	base    string // BaseURL without a trailing slash: nextLinks must start with it
	log     *zap.Logger
	repl    *replication // users created recently: replication.go
}

// registerBatchErrors lets a failed $batch POST (as a whole, not per item) come back
// as an ODataError with Graph's code and message instead of a bare status. The
// registry is process-global and unsynchronised, hence once.
var registerBatchErrors sync.Once

// New builds a Client on msgraph-sdk-go with the SDK's default middleware (retry
// honouring Retry-After on 429/503/504, redirect, gzip request bodies, …) over
// cfg.HTTPClient's transport. Tokens are attached only for BaseURL's host.
func New(cfg Config, log *zap.Logger) (*Client, error) {
	if cfg.Credential == nil {
		return nil, errors.New("msgraph: no credential")
	}
	if log == nil {
		log = zap.NewNop()
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("msgraph: base URL %q must be an absolute https URL without query", cfg.BaseURL)
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{DefaultScope}
	}
	auth, err := kauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cfg.Credential, scopes, []string{u.Hostname()})
	if err != nil {
		return nil, fmt.Errorf("msgraph: auth provider: %w", err)
	}

	parent := http.RoundTripper(defaultTransport())
	timeout := DefaultTimeout
	if cfg.HTTPClient != nil {
		if cfg.HTTPClient.Transport != nil {
			parent = cfg.HTTPClient.Transport
		}
		if cfg.HTTPClient.Timeout > 0 {
			timeout = cfg.HTTPClient.Timeout
		}
	}
	hc := &http.Client{
		Transport: khttp.NewCustomTransportWithParentTransport(ownBody{parent}, middlewares()...),
		// The SDK's redirect middleware follows redirects itself and drops the
		// Authorization header when the host changes; net/http must not follow first.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       timeout,
	}
	adapter, err := msgraphsdk.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, hc)
	if err != nil {
		return nil, fmt.Errorf("msgraph: request adapter: %w", err)
	}
	adapter.SetBaseUrl(base)
	registerBatchErrors.Do(func() {
		// An error means some other code registered a factory first; theirs is kept.
		_ = msgraphgocore.RegisterError(msgraphgocore.BatchRequestErrorRegistryKey, abstractions.ErrorMappings{
			"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue,
		})
	})
	return &Client{sdk: msgraphsdk.NewGraphServiceClient(adapter), adapter: adapter, base: base, log: log, repl: newReplication()}, nil
}

// middlewareOrder is the order, outermost first, in which requests pass the SDK's
// default middleware.
var middlewareOrder = []reflect.Type{
	reflect.TypeFor[*khttp.CompressionHandler](),
	reflect.TypeFor[*khttp.RetryHandler](),
	reflect.TypeFor[*khttp.RedirectHandler](),
	reflect.TypeFor[*khttp.ParametersNameDecodingHandler](),
	reflect.TypeFor[*khttp.UserAgentHandler](),
	reflect.TypeFor[*khttp.HeadersInspectionHandler](),
}

// middlewares returns the SDK's default middleware in a fixed order.
// GetDefaultMiddlewares builds its list by ranging over a map, so the order changes
// from one call to the next, and in half of them a retried POST is corrupt: with the
// compression handler inside the retry handler, the retry resends the original,
// uncompressed body under the "Content-Encoding: gzip" header the compression
// handler left in the shared header map (kiota-http-go v1.5.4). With compression
// outermost the body is compressed once and every retry resends the same bytes.
func middlewares() []khttp.Middleware {
	ms := khttp.GetDefaultMiddlewares()
	rank := func(m khttp.Middleware) int {
		if i := slices.Index(middlewareOrder, reflect.TypeOf(m)); i >= 0 {
			return i
		}
		return len(middlewareOrder)
	}
	slices.SortStableFunc(ms, func(a, b khttp.Middleware) int { return rank(a) - rank(b) })
	return ms
}

// ownBody gives every attempt its own copy of the request and body. The SDK's retry
// middleware resends the same *http.Request, seeking its body back to the start,
// while net/http may still be reading or closing that body in its write loop after
// RoundTrip returned (the RoundTripper contract allows it): a data race that sent
// retried POSTs with an empty body. Copying here, under all middleware, leaves the
// middleware's body to the middleware.
type ownBody struct{ next http.RoundTripper }

func (t ownBody) RoundTrip(r *http.Request) (*http.Response, error) {
	c := r
	if r.Body != nil && r.Body != http.NoBody {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		c = r.Clone(r.Context())
		c.Body = io.NopCloser(bytes.NewReader(b))
		c.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		c.ContentLength = int64(len(b))
	}
	resp, err := t.next.RoundTrip(c)
	if st, ok := r.Context().Value(statusKey{}).(*atomic.Int32); ok && resp != nil {
		st.Store(int32(resp.StatusCode))
	}
	return resp, err
}

// statusKey holds, in a call's context, the status of the last answer its HTTP
// requests got. The SDK loses the status when an error answer is not JSON (a
// gateway's HTML 502 becomes "content type text/html does not have a factory"); with
// it the error can still be typed.
type statusKey struct{}

// defaultTransport is http.DefaultTransport's setup with a bound on the wait for
// response headers, so a stalled connection fails over to the SDK's retry.
func defaultTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       idleConnTimeout,
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ResponseHeaderTimeout: responseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
	}
}

// do runs one logical Graph operation (one or more HTTP calls), translates its error
// and logs the outcome. fields must never carry request or response bodies: the TAP
// endpoints' bodies hold the secret.
func (c *Client) do(ctx context.Context, op string, fn func(context.Context) error, fields ...zap.Field) error {
	start := time.Now()
	status := new(atomic.Int32)
	err := translate(ctx, fn(context.WithValue(ctx, statusKey{}, status)), int(status.Load()))
	fields = append(fields, zap.String("op", op), zap.Duration("took", time.Since(start)))
	if err == nil {
		c.log.Debug("graph call", fields...)
		return nil
	}
	var ge *graph.Error
	if errors.As(err, &ge) {
		fields = append(fields, zap.Int("status", ge.Status), zap.String("code", ge.Code), zap.String("request_id", ge.RequestID))
	}
	c.log.Warn("graph call failed", append(fields, zap.Error(err))...)
	return fmt.Errorf("graph: %s: %w", op, err)
}

// translate maps what the SDK returns onto tapbot's errors: Graph's error answers
// become *graph.Error (so errors.Is works with the graph sentinels), network failures
// wrap graph.ErrUnavailable, and the caller's own cancellation stays a context error.
// status is the last HTTP status the call saw, for errors that lost it. It never
// calls ODataError.Error, which panics on an error body without a message.
func translate(ctx context.Context, err error, status int) error {
	if err == nil {
		return nil
	}
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) {
		ge := &graph.Error{Status: oe.ResponseStatusCode, RequestID: headerValue(oe.ResponseHeaders, "request-id")}
		if main := oe.GetErrorEscaped(); main != nil {
			ge.Code = deref(main.GetCode())
			ge.Message = deref(main.GetMessage())
			if inner := main.GetInnerError(); inner != nil && deref(inner.GetRequestId()) != "" {
				ge.RequestID = deref(inner.GetRequestId())
			}
		}
		return ge
	}
	var ae *abstractions.ApiError
	if errors.As(err, &ae) && ae.ResponseStatusCode != 0 {
		return &graph.Error{Status: ae.ResponseStatusCode, Message: ae.Message, RequestID: headerValue(ae.ResponseHeaders, "request-id")}
	}
	var ge *graph.Error
	if errors.As(err, &ge) {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	if status >= 400 {
		return &graph.Error{Status: status, Code: "unreadableAnswer", Message: err.Error()}
	}
	var ue *url.Error
	var ne net.Error
	if errors.As(err, &ue) || errors.As(err, &ne) {
		return fmt.Errorf("%w: %w", graph.ErrUnavailable, err)
	}
	return err
}

func headerValue(h *abstractions.ResponseHeaders, key string) string {
	if h == nil {
		return ""
	}
	if v := h.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// page is a collection answer of the SDK.
type page[T any] interface {
	GetValue() []T
	GetOdataNextLink() *string
}

// collect returns the items of first and of every page its @odata.nextLink leads to.
// A nextLink must stay under the base URL: the token goes only to that host anyway,
// and a link elsewhere means something is wrong.
func collect[T any, P page[T]](ctx context.Context, c *Client, first P, next func(context.Context, string) (P, error)) ([]T, error) {
	items := first.GetValue()
	link := deref(first.GetOdataNextLink())
	for n := 1; link != ""; n++ {
		if n >= maxPages {
			return nil, fmt.Errorf("more than %d pages", maxPages)
		}
		if !strings.HasPrefix(link, c.base+"/") {
			return nil, fmt.Errorf("nextLink outside %s", c.base)
		}
		p, err := next(ctx, link)
		if err != nil {
			return nil, err
		}
		items = append(items, p.GetValue()...)
		link = deref(p.GetOdataNextLink())
	}
	return items, nil
}
