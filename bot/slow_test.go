package bot_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/bot/connector"
	"go.uber.org/zap"
)

// TestSlowConnectorLeavesNothingBehind: a Connector that never answers must not cost
// tapbot goroutines or connections beyond the requests that are in flight. Once
// every activity has been answered or shed, and the inline timeout has passed, the
// process is back where it started: no goroutine still waits on the Connector and no
// connection to it stays open.
func TestSlowConnectorLeavesNothingBehind(t *testing.T) {
	slow, conn := neverAnswers(t)
	const maxInFlight, n = 4, 40
	const inline = 200 * time.Millisecond
	e := newDevEnv(t, bot.Config{MaxInFlight: maxInFlight, InlineTimeout: inline}, conn, nil)
	client := &http.Client{Transport: &http.Transport{}}

	baseG, baseSock := runtime.NumGoroutine(), openSockets(t)
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			a := e.activity("message", "personal", "help")
			a["serviceUrl"] = slow.URL
			raw, _ := json.Marshal(a)
			resp, err := client.Post(e.srv.URL, "application/json", bytes.NewReader(raw))
			if err != nil {
				t.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		})
	}
	wg.Wait()
	client.CloseIdleConnections()

	// The server side of a closed connection and the Connector client's cancelled
	// requests wind down asynchronously: wait for them, but not for ever.
	var g, sock int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if g, sock = runtime.NumGoroutine(), openSockets(t); g <= baseG && sock <= baseSock {
			break
		}
	}
	t.Logf("%d activities, %d in flight at most: goroutines %d before, %d after; sockets %d before, %d after", n, maxInFlight, baseG, g, baseSock, sock)
	if g > baseG {
		t.Errorf("goroutines after the load = %d, want at most %d as before it", g, baseG)
	}
	if sock > baseSock {
		t.Errorf("open sockets after the load = %d, want at most %d as before it", sock, baseSock)
	}
}

// openSockets counts this process's open sockets (Linux; elsewhere the check is
// skipped). Files are left out: the store's pool may open another connection to its
// database under load, and keeps it.
func openSockets(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	n := 0
	for _, e := range entries {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(target, "socket:") {
			n++
		}
	}
	return n
}

// neverAnswers is a Bot Connector that never answers (until the test ends), and a
// connector client for it that retries fast.
func neverAnswers(t *testing.T) (*httptest.Server, *connector.Client) {
	t.Helper()
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Reading the body lets net/http notice a client that hangs up (it watches
		// the connection only after the body), so this Connector holds nothing
		// tapbot has let go of.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slow.Close)
	t.Cleanup(func() { close(release) })
	conn, err := connector.New(connector.Config{CheckServiceURL: func(*url.URL) error { return nil }, BaseBackoff: time.Millisecond}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	return slow, conn
}
