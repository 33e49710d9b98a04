package server

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/tapbot/tapbot/internal/requestid"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

type running struct {
	url    string
	logs   *observer.ObservedLogs
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, bot http.Handler, checks map[string]Check) *running {
	t.Helper()
	core, logs := observer.New(zap.DebugLevel)
	s := New(bot, checks, prometheus.NewRegistry(), zap.New(core))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{url: "http://" + ln.Addr().String(), logs: logs, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Serve(ctx, ln, 5*time.Second) }()
	t.Cleanup(func() { cancel(); <-r.done })
	return r
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestHealthReadyMetrics(t *testing.T) {
	storeDown := errors.New("disk gone")
	var fail error
	r := start(t, http.NotFoundHandler(), map[string]Check{
		"store": func(context.Context) error { return fail },
	})
	if code, body, _ := get(t, r.url+"/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("healthz %d %q", code, body)
	}
	if code, body, _ := get(t, r.url+"/readyz"); code != 200 || !strings.Contains(body, `"store":"ok"`) {
		t.Fatalf("readyz %d %q", code, body)
	}
	fail = storeDown
	code, body, _ := get(t, r.url+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"store":"fail"`) || strings.Contains(body, "disk gone") {
		t.Fatalf("readyz with failing check: %d %q", code, body)
	}
	if resp, err := http.Post(r.url+"/api/messages", "application/json", strings.NewReader("{}")); err == nil {
		resp.Body.Close()
	}
	if code, body, _ := get(t, r.url+"/metrics"); code != 200 || !strings.Contains(body, `tapbot_http_requests_total{code="404",handler="messages"} 1`) {
		t.Fatalf("metrics %d %s", code, body)
	}
}

func TestRequestIDAndPanicRecovery(t *testing.T) {
	var seen string
	r := start(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		seen = requestid.From(req.Context())
		if req.Header.Get("X-Boom") != "" {
			panic("boom")
		}
		w.WriteHeader(http.StatusAccepted)
	}), nil)

	resp, err := http.Post(r.url+"/api/messages", "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted || resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("X-Request-Id") != seen {
		t.Fatalf("status %d, request id header %q, handler saw %q", resp.StatusCode, resp.Header.Get("X-Request-Id"), seen)
	}
	access := r.logs.FilterMessage("http request").All()
	if len(access) != 1 || access[0].ContextMap()["request_id"] != seen || access[0].ContextMap()["status"] != int64(202) {
		t.Fatalf("access log %v", access)
	}

	req, _ := http.NewRequest(http.MethodPost, r.url+"/api/messages", strings.NewReader("{}"))
	req.Header.Set("X-Boom", "1")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError || strings.Contains(string(body), "boom") {
		t.Fatalf("panic: status %d body %q", resp.StatusCode, body)
	}
	if r.logs.FilterMessage("handler panicked").Len() != 1 {
		t.Fatal("panic not logged")
	}
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	entered := make(chan struct{})
	release := make(chan struct{})
	r := start(t, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		w.WriteHeader(http.StatusOK)
	}), nil)
	result := make(chan int, 1)
	go func() {
		resp, err := http.Post(r.url+"/api/messages", "application/json", strings.NewReader("{}"))
		if err != nil {
			result <- 0
			return
		}
		resp.Body.Close()
		result <- resp.StatusCode
	}()
	<-entered
	r.cancel() // SIGTERM arrives while the request is in flight
	close(release)
	if code := <-result; code != http.StatusOK {
		t.Fatalf("in-flight request got %d during shutdown", code)
	}
	if err := <-r.done; err != nil {
		t.Fatalf("Serve: %v", err)
	}
	r.done <- nil // for the cleanup
}
