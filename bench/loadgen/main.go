// Command loadgen benchmarks the real tapbot server binary end to end on loopback.
//
// It starts a fake Microsoft cloud (internal/bftest: Bot Framework token issuer,
// Entra token endpoint, Bot Connector in counting mode), runs `tapbot serve` as a
// child process configured against it, sends Teams-shaped "/help" message activities
// to /api/messages with channel-signed tokens, and reports throughput, latency, the
// server's CPU time per activity and its peak RSS. Every reply the bot sends must
// reach the fake connector; a shortfall counts as errors.
//
// It is bounded: loopback only, a fixed number of requests (and an optional time
// cap), and it stops the server itself. With -postgres the store is a throwaway
// PostgreSQL cluster, and -replicas N runs N servers on it behind a round-robin.
// See bench/README.md.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/tapbot/tapbot/internal/bftest"
	"github.com/tapbot/tapbot/internal/store/postgres/pgtest"
)

const (
	appPassword  = "bench-secret"
	readyTimeout = 30 * time.Second
	stopTimeout  = 10 * time.Second
	// tokenCount tokens are minted up front and reused round-robin, as Teams reuses
	// a channel token for many activities within its hour.
	tokenCount = 8
	// userAADObjectID is the sender's Entra object id in every activity.
	userAADObjectID = "6c7a3e9b-1f2d-4c5e-8a9b-0d1e2f3a4b5c"
)

type options struct {
	bin         string
	concurrency int
	n           int
	warmup      int
	duration    time.Duration
	drain       time.Duration
	verbose     bool
	record      bool
	replicas    int
	postgres    bool
}

func main() {
	var o options
	flag.StringVar(&o.bin, "bin", "", "path to the tapbot binary (required)")
	flag.IntVar(&o.concurrency, "c", 16, "concurrent requests in flight")
	flag.IntVar(&o.n, "n", 50000, "activities to send in the measured phase")
	flag.IntVar(&o.warmup, "warmup", 2000, "activities to send before measuring")
	flag.DurationVar(&o.duration, "d", 0, "optional cap on the measured phase's duration (0: none)")
	flag.DurationVar(&o.drain, "drain", 10*time.Second, "how long to wait for outstanding replies to reach the connector")
	flag.BoolVar(&o.verbose, "v", false, "always print the server's stderr")
	flag.BoolVar(&o.record, "record", false, "record connector calls (costs the load generator time) and print the first reply")
	flag.IntVar(&o.replicas, "replicas", 1, "tapbot serve processes, spread over round-robin (more than 1 needs -postgres)")
	flag.BoolVar(&o.postgres, "postgres", false, "store in a throwaway PostgreSQL cluster (Debian's postgresql) instead of SQLite")
	flag.Parse()
	if o.bin == "" || o.concurrency < 1 || o.n < 1 || o.warmup < 0 || o.replicas < 1 || (o.replicas > 1 && !o.postgres) || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: loadgen -bin path/to/tapbot [-c 16] [-n 50000] [-warmup 2000] [-d 0] [-drain 10s] [-v] [-postgres [-replicas N]]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code, err := run(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// result is the machine-readable summary, printed as one JSON line.
type result struct {
	Concurrency   int     `json:"concurrency"`
	Warmup        int     `json:"warmup"`
	Sent          int64   `json:"sent"`
	OK            int64   `json:"ok"`
	DurationS     float64 `json:"duration_s"`
	ActivitiesPS  float64 `json:"activities_per_s"`
	P50ms         float64 `json:"p50_ms"`
	P90ms         float64 `json:"p90_ms"`
	P99ms         float64 `json:"p99_ms"`
	MaxMs         float64 `json:"max_ms"`
	HTTPErrors    int64   `json:"http_errors"`
	TransportErrs int64   `json:"transport_errors"`
	Replies       int64   `json:"replies"`
	ReplyDiff     int64   `json:"reply_diff"` // replies - ok; any non-zero value counts as errors
	Errors        int64   `json:"errors"`
	CPUusPerAct   float64 `json:"server_cpu_us_per_activity"`
	ClkTck        int64   `json:"clk_tck"`
	PeakRSSKiB    int64   `json:"server_peak_rss_kib"`
	Shutdown      string  `json:"shutdown"`
	Replicas      int     `json:"replicas"`
	Store         string  `json:"store"`
}

func run(ctx context.Context, o options) (int, error) {
	bin, err := filepath.Abs(o.bin)
	if err != nil {
		return 1, err
	}
	// The connector only counts (no recording) so the load generator's own cost per
	// reply stays small; RequireToken checks the server really authenticates its
	// replies with tokens from the fake Entra endpoint.
	cloud, err := bftest.New(bftest.Options{DiscardConnector: !o.record, RequireToken: true, ClientSecret: appPassword})
	if err != nil {
		return 1, err
	}
	defer cloud.Close()

	tmp, err := os.MkdirTemp("", "tapbot-bench-")
	if err != nil {
		return 1, err
	}
	defer os.RemoveAll(tmp)
	certFile := filepath.Join(tmp, "cloud-cert.pem")
	if err := cloud.WriteCertPEM(certFile); err != nil {
		return 1, err
	}
	storeEnv := "TAPBOT_DB_PATH=" + filepath.Join(tmp, "tapbot.db")
	if o.postgres {
		url, stop, err := pgtest.StartServer()
		if err != nil {
			return 1, fmt.Errorf("start PostgreSQL: %w", err)
		}
		defer stop()
		storeEnv = "TAPBOT_DATABASE_URL=" + url
	}
	var fleet fleet
	// However we leave, the children must not outlive us.
	defer fleet.kill()
	for range o.replicas {
		addr, err := freeLoopbackAddr()
		if err != nil {
			return 1, err
		}
		srv, err := startServer(bin, addr, certFile, storeEnv, cloud)
		if err != nil {
			return 1, err
		}
		fleet = append(fleet, srv)
		if err := srv.waitReady(ctx, addr); err != nil {
			fleet.printStderr(os.Stderr)
			return 1, err
		}
		srv.url = "http://" + addr + "/api/messages"
		fmt.Fprintf(os.Stderr, "loadgen: tapbot serve ready on %s (pid %d)\n", addr, srv.pid())
	}
	fmt.Fprintf(os.Stderr, "loadgen: warming up with %d activities\n", o.warmup)

	client := &http.Client{
		Transport: &http.Transport{
			// Keep-alive connections, one per worker, as a reverse proxy in front of
			// tapbot would hold. No proxy: this is loopback only.
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
			MaxIdleConns:        2 * o.concurrency,
			MaxIdleConnsPerHost: 2 * o.concurrency,
			IdleConnTimeout:     90 * time.Second,
			DisableCompression:  true,
		},
		Timeout: 30 * time.Second,
	}
	defer client.CloseIdleConnections()
	g := &generator{
		urls:   fleet.urls(),
		client: client,
		body:   newActivityTemplate(cloud),
	}
	for range tokenCount {
		g.tokens = append(g.tokens, "Bearer "+cloud.Mint(bftest.TokenOptions{}))
	}

	// Guard: the numbers only mean something if the server verifies tokens. One
	// activity with an unsigned (alg "none") token must be refused.
	status, _, _ := g.send(ctx, g.body.render(nil, g.seq.Add(1)), "Bearer "+cloud.Mint(bftest.TokenOptions{Alg: "none"}))
	if status != http.StatusUnauthorized && status != http.StatusForbidden {
		fleet.printStderr(os.Stderr)
		return 1, fmt.Errorf("an activity with an unsigned token got HTTP %d, want 401 or 403: the server is not authenticating", status)
	}

	res := result{Concurrency: o.concurrency, Warmup: o.warmup, Shutdown: "graceful", Replicas: o.replicas, Store: "sqlite"}
	if o.postgres {
		res.Store = "postgres"
	}
	exitCode := 0

	// Warm-up: connections, token validation caches, the outbound token, the
	// database. Not measured, but a server that rejects requests stops us here.
	if o.warmup > 0 {
		w := g.phase(ctx, o.warmup, o.concurrency, time.Time{})
		if w.errors() > 0 {
			w.printErrors(os.Stderr, "warm-up")
			fleet.printStderr(os.Stderr)
			return 1, fmt.Errorf("warm-up: %d of %d requests failed", w.errors(), w.sent)
		}
		if n, err := waitReplies(ctx, cloud, w.ok, o.drain); err != nil {
			fleet.printStderr(os.Stderr)
			return 1, fmt.Errorf("warm-up: connector received %d replies for %d activities: %w (rejected connector calls: %d)",
				n, w.ok, err, cloud.RejectedCalls())
		}
	}
	if calls := cloud.Calls(); len(calls) > 0 {
		fmt.Fprintf(os.Stderr, "loadgen: first reply: %s %s\n%s\n", calls[0].Method, calls[0].Path, calls[0].Body)
	}
	cloud.Reset()

	clk := clockTicks()
	cpu0, err := fleet.cpuTicks()
	if err != nil {
		return 1, err
	}
	var deadline time.Time
	if o.duration > 0 {
		deadline = time.Now().Add(o.duration)
	}
	fmt.Fprintf(os.Stderr, "loadgen: measuring %d activities at concurrency %d\n", o.n, o.concurrency)
	m := g.phase(ctx, o.n, o.concurrency, deadline)
	replies, waitErr := waitReplies(ctx, cloud, m.ok, o.drain)
	cpu1, cpuErr := fleet.cpuTicks()
	peak, rssErr := fleet.peakRSSKiB()

	res.Sent, res.OK = m.sent, m.ok
	res.DurationS = m.elapsed.Seconds()
	if res.DurationS > 0 {
		res.ActivitiesPS = float64(m.sent) / res.DurationS
	}
	lat := m.latencies
	slices.Sort(lat)
	res.P50ms, res.P90ms, res.P99ms = ms(pct(lat, 50)), ms(pct(lat, 90)), ms(pct(lat, 99))
	if len(lat) > 0 {
		res.MaxMs = ms(lat[len(lat)-1])
	}
	res.HTTPErrors, res.TransportErrs = m.httpErrors(), m.transportErrs
	res.Replies = replies
	res.ReplyDiff = replies - m.ok
	res.Errors = res.HTTPErrors + res.TransportErrs + abs(res.ReplyDiff)
	res.ClkTck = clk
	if cpuErr == nil && m.sent > 0 {
		res.CPUusPerAct = float64(cpu1-cpu0) * 1e6 / float64(clk) / float64(m.sent)
	}
	if rssErr == nil {
		res.PeakRSSKiB = peak
	}

	// Stop the server gracefully before reporting, so its shutdown is part of the
	// verdict.
	exited, exitErr := fleet.terminate(stopTimeout)
	switch {
	case !exited:
		res.Shutdown = fmt.Sprintf("did not exit within %s of SIGTERM (killed)", stopTimeout)
		exitCode = 1
	case exitErr != nil:
		res.Shutdown = "exited with error: " + exitErr.Error()
		exitCode = 1
	}

	printTable(os.Stdout, res, m, waitErr)
	line, _ := json.Marshal(res)
	fmt.Println(string(line))
	if res.Errors > 0 {
		m.printErrors(os.Stderr, "measured phase")
		if waitErr != nil {
			fmt.Fprintf(os.Stderr, "replies: %v; connector rejected %d calls\n", waitErr, cloud.RejectedCalls())
		}
		exitCode = 1
	}
	if exitCode != 0 || o.verbose {
		fleet.printStderr(os.Stderr)
	}
	if ctx.Err() != nil {
		return 130, errors.New("interrupted")
	}
	return exitCode, nil
}

// waitReplies waits (at most d) until the connector has accepted want calls, and
// returns how many it accepted.
func waitReplies(ctx context.Context, cloud *bftest.Cloud, want int64, d time.Duration) (int64, error) {
	wctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	_, err := cloud.WaitCalls(wctx, int(want))
	return cloud.CallCount(), err
}

func printTable(w io.Writer, r result, m *phaseResult, waitErr error) {
	tw := bufio.NewWriter(w)
	defer tw.Flush()
	fmt.Fprintf(tw, "\ntapbot serve ×%d (GOMAXPROCS=1 each, %s store), /help activities, concurrency %d, warm-up %d\n", r.Replicas, r.Store, r.Concurrency, r.Warmup)
	row := func(k, f string, a ...any) { fmt.Fprintf(tw, "  %-26s "+f+"\n", append([]any{k}, a...)...) }
	row("activities sent", "%d (%d answered 2xx) in %.2fs", r.Sent, r.OK, r.DurationS)
	row("throughput", "%.0f activities/s", r.ActivitiesPS)
	row("latency p50 / p90 / p99", "%.2f / %.2f / %.2f ms", r.P50ms, r.P90ms, r.P99ms)
	row("latency max", "%.2f ms", r.MaxMs)
	row("HTTP errors (non-2xx)", "%d %s", r.HTTPErrors, m.statusSummary())
	row("transport errors", "%d", r.TransportErrs)
	note := ""
	if waitErr != nil {
		note = " (drain wait ended: " + waitErr.Error() + ")"
	}
	row("replies at connector", "%d (diff %+d)%s", r.Replies, r.ReplyDiff, note)
	row("server CPU per activity", "%.0f µs (CLK_TCK %d, all replicas)", r.CPUusPerAct, r.ClkTck)
	row("server peak RSS (VmHWM)", "%.1f MiB (largest replica)", float64(r.PeakRSSKiB)/1024)
	row("shutdown", "%s", r.Shutdown)
	row("errors", "%d", r.Errors)
	fmt.Fprintln(tw)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := (len(sorted)*p + 99) / 100 // nearest-rank
	if i < 1 {
		i = 1
	}
	return sorted[i-1]
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// ---- the load ----

type generator struct {
	urls   []string // round-robin over the replicas
	next   atomic.Uint64
	client *http.Client
	tokens []string
	body   *activityTemplate
	seq    atomic.Int64 // activity ids, unique across phases
}

type phaseResult struct {
	sent, ok      int64
	transportErrs int64
	statuses      map[int]int64 // non-2xx statuses
	samples       []string      // first few error descriptions
	latencies     []time.Duration
	elapsed       time.Duration
}

func (p *phaseResult) httpErrors() int64 {
	var n int64
	for _, c := range p.statuses {
		n += c
	}
	return n
}

func (p *phaseResult) errors() int64 { return p.httpErrors() + p.transportErrs }

func (p *phaseResult) statusSummary() string {
	if len(p.statuses) == 0 {
		return ""
	}
	var parts []string
	for code, n := range p.statuses {
		parts = append(parts, fmt.Sprintf("%d×%d", n, code))
	}
	slices.Sort(parts)
	return "(" + strings.Join(parts, ", ") + ")"
}

func (p *phaseResult) printErrors(w io.Writer, phase string) {
	if len(p.samples) == 0 {
		return
	}
	fmt.Fprintf(w, "%s: first errors:\n", phase)
	for _, s := range p.samples {
		fmt.Fprintln(w, "  ", s)
	}
}

// phase sends n activities from conc workers and stops early at deadline (if set)
// or when ctx ends.
func (g *generator) phase(ctx context.Context, n, conc int, deadline time.Time) *phaseResult {
	var (
		next int64
		mu   sync.Mutex
		all  = &phaseResult{statuses: map[int]int64{}, latencies: make([]time.Duration, 0, n)}
		wg   sync.WaitGroup
	)
	start := time.Now()
	for range conc {
		wg.Go(func() {
			local := phaseResult{statuses: map[int]int64{}, latencies: make([]time.Duration, 0, n/conc+1)}
			var buf []byte
			for {
				i := atomic.AddInt64(&next, 1)
				if i > int64(n) || ctx.Err() != nil || (!deadline.IsZero() && time.Now().After(deadline)) {
					break
				}
				id := g.seq.Add(1)
				buf = g.body.render(buf[:0], id)
				status, lat, errText := g.send(ctx, buf, g.tokens[id%int64(len(g.tokens))])
				local.sent++
				local.latencies = append(local.latencies, lat)
				switch {
				case errText != "" && status == 0:
					local.transportErrs++
				case status < 200 || status > 299:
					local.statuses[status]++
				default:
					local.ok++
				}
				if errText != "" && len(local.samples) < 3 {
					local.samples = append(local.samples, errText)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			all.sent += local.sent
			all.ok += local.ok
			all.transportErrs += local.transportErrs
			for k, v := range local.statuses {
				all.statuses[k] += v
			}
			for _, s := range local.samples {
				if len(all.samples) < 5 {
					all.samples = append(all.samples, s)
				}
			}
			all.latencies = append(all.latencies, local.latencies...)
		})
	}
	wg.Wait()
	all.elapsed = time.Since(start)
	return all
}

// send posts one activity and returns the status (0 on a transport error), the
// round-trip time including reading the answer, and an error description if any.
func (g *generator) send(ctx context.Context, body []byte, auth string) (int, time.Duration, string) {
	url := g.urls[g.next.Add(1)%uint64(len(g.urls))]
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("Authorization", auth)
	t0 := time.Now()
	resp, err := g.client.Do(req)
	if err != nil {
		return 0, time.Since(t0), err.Error()
	}
	var snippet []byte
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		snippet, _ = io.ReadAll(io.LimitReader(resp.Body, 300))
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	lat := time.Since(t0)
	if err != nil {
		return 0, lat, "reading response: " + err.Error()
	}
	if snippet != nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, lat, fmt.Sprintf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(snippet)))
	}
	return resp.StatusCode, lat, ""
}

// activityTemplate renders the Teams-shaped activity with a fresh id and timestamp
// into a reused buffer, so the generator spends little CPU per request.
type activityTemplate struct{ head, mid, tail []byte }

func newActivityTemplate(c *bftest.Cloud) *activityTemplate {
	q := func(s string) string { return strconv.Quote(s) }
	return &activityTemplate{
		head: []byte(`{"type":"message","id":"bench-`),
		mid:  []byte(`","timestamp":"`),
		tail: []byte(`","serviceUrl":` + q(c.ServiceURL()) +
			`,"channelId":"msteams"` +
			`,"from":{"id":"29:1abc","name":"Ada","aadObjectId":` + q(userAADObjectID) + `}` +
			`,"conversation":{"conversationType":"personal","tenantId":` + q(c.TenantID()) + `,"id":"a:1conv"}` +
			`,"recipient":{"id":` + q("28:"+c.AppID()) + `,"name":"tapbot"}` +
			`,"text":"/help","locale":"en-US"` +
			`,"channelData":{"tenant":{"id":` + q(c.TenantID()) + `}}}`),
	}
}

func (t *activityTemplate) render(buf []byte, id int64) []byte {
	buf = append(buf, t.head...)
	buf = strconv.AppendInt(buf, id, 10)
	buf = append(buf, t.mid...)
	buf = time.Now().UTC().AppendFormat(buf, "2006-01-02T15:04:05.000Z")
	return append(buf, t.tail...)
}

// ---- the server process ----

type server struct {
	url    string // its /api/messages
	cmd    *exec.Cmd
	stderr *cappedBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's result, valid after done
}

// benchHelpdeskGroup is a made-up group id: nothing in the benchmark asks Graph.
const benchHelpdeskGroup = "0b0b0b0b-0000-4000-8000-00000000be0c"

func startServer(bin, addr, certFile, storeEnv string, cloud *bftest.Cloud) (*server, error) {
	cmd := exec.Command(bin, "serve")
	cmd.Env = []string{
		"GOMAXPROCS=1",
		"TAPBOT_LISTEN_ADDR=" + addr,
		"TAPBOT_APP_ID=" + cloud.AppID(),
		"TAPBOT_APP_PASSWORD=" + appPassword,
		"TAPBOT_TENANT_ID=" + cloud.TenantID(),
		// /help does not touch Graph, but serve requires the helpdesk group.
		"TAPBOT_HELPDESK_GROUPS=" + benchHelpdeskGroup,
		"TAPBOT_OPENID_METADATA_URL=" + cloud.MetadataURL(),
		"TAPBOT_AUTHORITY_HOST=" + cloud.AuthorityHost(),
		storeEnv,
		"TAPBOT_LOG_LEVEL=warn",
		"SSL_CERT_FILE=" + certFile,
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
	}
	s := &server{cmd: cmd, stderr: &cappedBuffer{max: 1 << 20}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = s.stderr, s.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	return s, nil
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// fleet is the replicas under test.
type fleet []*server

func (f fleet) urls() []string {
	var us []string
	for _, s := range f {
		us = append(us, s.url)
	}
	return us
}

func (f fleet) kill() {
	for _, s := range f {
		s.kill()
	}
}

func (f fleet) printStderr(w io.Writer) {
	for i, s := range f {
		s.printStderr(w, fmt.Sprintf("server %d stderr", i))
	}
}

// cpuTicks sums the replicas' CPU time.
func (f fleet) cpuTicks() (int64, error) {
	var sum int64
	for _, s := range f {
		t, err := procCPUTicks(s.pid())
		if err != nil {
			return 0, err
		}
		sum += t
	}
	return sum, nil
}

// peakRSSKiB is the largest replica's peak resident set.
func (f fleet) peakRSSKiB() (int64, error) {
	var peak int64
	for _, s := range f {
		p, err := procPeakRSSKiB(s.pid())
		if err != nil {
			return 0, err
		}
		peak = max(peak, p)
	}
	return peak, nil
}

// terminate stops every replica: all must exit by themselves, without error.
func (f fleet) terminate(d time.Duration) (bool, error) {
	allExited, errs := true, []error{}
	for _, s := range f {
		exited, err := s.terminate(d)
		allExited = allExited && exited
		if err != nil {
			errs = append(errs, err)
		}
	}
	return allExited, errors.Join(errs...)
}

func (s *server) waitReady(ctx context.Context, addr string) error {
	deadline := time.Now().Add(readyTimeout)
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}}
	defer c.CloseIdleConnections()
	url := "http://" + addr + "/readyz"
	var last string
	for {
		select {
		case <-s.done:
			return fmt.Errorf("tapbot serve exited before becoming ready: %v", s.err)
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("tapbot serve not ready after %s (last /readyz: %s)", readyTimeout, last)
		}
		resp, err := c.Get(url)
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
		} else {
			last = err.Error()
		}
		select {
		case <-s.done:
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond): // polling a child process: no event to wait on
		}
	}
}

// terminate sends SIGTERM and waits up to d; past that it kills. It reports whether
// the process exited by itself, and the process's exit error if it did.
func (s *server) terminate(d time.Duration) (bool, error) {
	select {
	case <-s.done:
		return true, fmt.Errorf("had already exited: %v", s.err)
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return false, err
	}
	select {
	case <-s.done:
		return true, s.err
	case <-time.After(d):
		s.kill()
		return false, nil
	}
}

func (s *server) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	s.cmd.Process.Kill()
	<-s.done
}

func (s *server) printStderr(w io.Writer, title string) {
	out := s.stderr.String()
	if strings.TrimSpace(out) == "" {
		return
	}
	const tail = 8 << 10
	if len(out) > tail {
		out = "…" + out[len(out)-tail:]
	}
	fmt.Fprintf(w, "---- %s ----\n%s\n---- end ----\n", title, strings.TrimRight(out, "\n"))
}

// cappedBuffer keeps the first max bytes written to it: enough to diagnose a server
// that logs an error per request without growing without bound.
type cappedBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	max     int
	dropped int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	room := b.max - b.buf.Len()
	switch {
	case room <= 0:
		b.dropped += len(p)
	case len(p) > room:
		b.buf.Write(p[:room])
		b.dropped += len(p) - room
	default:
		b.buf.Write(p)
	}
	return len(p), nil
}

func (b *cappedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dropped > 0 {
		return b.buf.String() + fmt.Sprintf("\n[%d more bytes dropped]", b.dropped)
	}
	return b.buf.String()
}

// ---- /proc ----

// clockTicks is USER_HZ, the unit of utime/stime in /proc/<pid>/stat. Go has no
// sysconf, so ask getconf; Linux fixes it at 100 on every common architecture, which
// is the fallback.
func clockTicks() int64 {
	out, err := exec.Command("getconf", "CLK_TCK").Output()
	if err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); err == nil && n > 0 {
			return n
		}
	}
	return 100
}

// procCPUTicks returns utime+stime of pid, in clock ticks.
func procCPUTicks(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is parenthesised and may hold spaces: fields
	// are counted from the last ')'. After it, field 3 (state) is index 0, so
	// utime (14) and stime (15) are 11 and 12.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc/pid/stat format")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("short /proc/pid/stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return ut + st, nil
}

// procPeakRSSKiB returns VmHWM (peak resident set size) of pid, in KiB.
func procPeakRSSKiB(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmHWM in /proc/pid/status")
}
