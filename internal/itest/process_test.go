package itest

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "modernc.org/sqlite" // reads the killed process's database

	"github.com/tapbot/tapbot/graph/simtenant"
	"github.com/tapbot/tapbot/internal/bftest"
)

// The tests in this file run the real binary, `tapbot serve`, as its own process
// against the fakes on loopback, with a proxy in front of Graph and of the Bot
// Connector that lets a chosen request through and then never answers. They kill the
// process (SIGKILL) or stop it (SIGTERM) at the step under test, start it again on
// the same database, and check that Graph, the store and the Connector agree: no
// pass is left that the audit log does not know or that nobody received.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// tapbotBinary builds cmd/tapbot once per test run, with the flags of `make build`
// so the build cache is shared with it.
func tapbotBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tapbot-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tapbot")
		cmd := exec.Command("go", "build", "-trimpath", "-o", binPath, "github.com/tapbot/tapbot/cmd/tapbot")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// holdProxy forwards to a TLS upstream. Armed with a match, it carries the first
// matching request out upstream, then holds the answer back until the client goes
// away: the request had its effect, the caller never learns it.
type holdProxy struct {
	srv     *httptest.Server
	target  *url.URL
	client  *http.Client
	forward *httputil.ReverseProxy

	mu      sync.Mutex
	match   func(*http.Request, []byte) bool
	reached chan struct{}
}

func newHoldProxy(t *testing.T, upstream string, client *http.Client) *holdProxy {
	t.Helper()
	target, err := url.Parse(upstream)
	if err != nil {
		t.Fatal(err)
	}
	p := &holdProxy{target: target, client: client}
	p.forward = httputil.NewSingleHostReverseProxy(target)
	p.forward.Transport = client.Transport
	p.srv = httptest.NewTLSServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *holdProxy) hold(match func(*http.Request, []byte) bool) <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.match, p.reached = match, make(chan struct{})
	return p.reached
}

func (p *holdProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	p.mu.Lock()
	match, reached := p.match, p.reached
	hit := match != nil && match(r, body)
	if hit {
		p.match = nil // once
	}
	p.mu.Unlock()
	if !hit {
		p.forward.ServeHTTP(w, r)
		return
	}
	out, _ := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, p.target.String()+r.URL.RequestURI(), bytes.NewReader(body))
	out.Header = r.Header.Clone()
	if resp, err := p.client.Transport.RoundTrip(out); err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	close(reached)
	<-r.Context().Done()
}

func (p *holdProxy) certPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw})
}

// procEnv is one simulated tenant and cloud, and the tapbot processes run on them.
type procEnv struct {
	t      *testing.T
	bin    string
	dir    string
	cloud  *bftest.Cloud
	tenant *simtenant.Tenant
	graph  *holdProxy
	conn   *holdProxy
	certs  string
	proc   *tapbotProc
}

const procAppPassword = "process-test-secret" // a test credential for the fake Entra, nothing real

func newProcEnv(t *testing.T) *procEnv {
	t.Helper()
	bin := tapbotBinary(t)
	cloud, err := bftest.New(bftest.Options{AppID: "8f0c2a1e-3b4d-4e5f-9a6b-7c8d9e0f1a2b", TenantID: simtenant.ContosoTenantID,
		RequireToken: true, ClientSecret: procAppPassword})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cloud.Close)
	tenant := simtenant.Contoso()
	gs := simtenant.NewServer(tenant)
	t.Cleanup(gs.Close)
	e := &procEnv{t: t, bin: bin, dir: t.TempDir(), cloud: cloud, tenant: tenant,
		graph: newHoldProxy(t, gs.URL(), gs.Client()), conn: newHoldProxy(t, cloud.URL(), cloud.Client())}
	e.certs = filepath.Join(e.dir, "certs.pem")
	pems := bytes.Join([][]byte{cloud.CertPEM(), e.graph.certPEM(), e.conn.certPEM()}, nil)
	if err := os.WriteFile(e.certs, pems, 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// serviceURL is the Connector as activities name it: through the proxy.
func (e *procEnv) serviceURL() string {
	return e.conn.srv.URL + strings.TrimPrefix(e.cloud.ServiceURL(), e.cloud.URL())
}

type tapbotProc struct {
	cmd    *exec.Cmd
	addr   string
	done   chan struct{}
	err    error
	stderr *syncBuffer
}

// start runs `tapbot serve` on a port it picks itself (read from its log), on the
// SQLite file in the env's directory.
func (e *procEnv) start() *tapbotProc {
	e.t.Helper()
	return e.startWith("TAPBOT_DB_PATH=" + filepath.Join(e.dir, "tapbot.db"))
}

// startWith runs `tapbot serve` with the store that store names (an env setting)
// and any other settings given.
func (e *procEnv) startWith(store string, settings ...string) *tapbotProc {
	e.t.Helper()
	cmd := exec.Command(e.bin, "serve")
	cmd.Env = []string{
		store,
		"TAPBOT_LISTEN_ADDR=127.0.0.1:0",
		"TAPBOT_APP_ID=" + e.cloud.AppID(),
		"TAPBOT_APP_PASSWORD=" + procAppPassword,
		"TAPBOT_TENANT_ID=" + e.cloud.TenantID(),
		"TAPBOT_HELPDESK_GROUPS=" + simtenant.GroupHelpdesk,
		"TAPBOT_OPENID_METADATA_URL=" + e.cloud.MetadataURL(),
		"TAPBOT_AUTHORITY_HOST=" + e.cloud.AuthorityHost(),
		"TAPBOT_GRAPH_URL=" + e.graph.srv.URL + "/v1.0",
		"TAPBOT_SHUTDOWN_GRACE=6s",
		"TAPBOT_LOG_LEVEL=debug",
		"SSL_CERT_FILE=" + e.certs,
		"HOME=" + e.dir,
		"PATH=" + os.Getenv("PATH"),
	}
	cmd.Env = append(cmd.Env, settings...)
	p := &tapbotProc{cmd: cmd, done: make(chan struct{}), stderr: &syncBuffer{}}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = cmd.Process.Kill(); <-p.done })
	go func() { p.err = cmd.Wait(); pw.Close(); close(p.done) }()
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			p.stderr.Write(append(line, '\n'))
			var l struct{ Msg, Addr string }
			if json.Unmarshal(line, &l) == nil && l.Msg == "listening" {
				listening <- l.Addr
			}
		}
	}()
	select {
	case p.addr = <-listening:
	case <-p.done:
		e.t.Fatalf("tapbot serve exited at start (%v), want it listening\n%s", p.err, p.stderr.String())
	case <-time.After(60 * time.Second):
		e.t.Fatalf("tapbot serve not listening after 60 s, want it listening\n%s", p.stderr.String())
	}
	e.proc = p
	return p
}

// send posts a /tap (or any text) from Hana's 1:1 chat, signed for the proxied
// Connector, to the last process started, and returns the HTTP status.
func (e *procEnv) send(text string) int {
	e.t.Helper()
	return e.sendTo("http://"+e.proc.addr, fmt.Sprintf("proc-%d", activitySeq.Add(1)), text)
}

// sendTo posts the message activity id with text from Hana's 1:1 chat to the tapbot
// at base.
func (e *procEnv) sendTo(base, id, text string) int {
	e.t.Helper()
	status, _ := e.postTo(base, e.activityFrom(simtenant.HanaID, "personal", "message", id, text))
	return status
}

// activityFrom is a Teams activity from user: in their 1:1 chat with tapbot, or in
// the approvers' channel (scope "channel").
func (e *procEnv) activityFrom(user, scope, typ, id, text string) map[string]any {
	conv := map[string]any{"id": "a:1contoso-" + user + "-personal", "conversationType": "personal", "tenantId": simtenant.ContosoTenantID}
	data := map[string]any{"tenant": map[string]any{"id": simtenant.ContosoTenantID}}
	if scope == "channel" {
		conv = map[string]any{"id": approversChannel, "conversationType": "channel", "isGroup": true, "tenantId": simtenant.ContosoTenantID}
		data["team"] = map[string]any{"id": "19:contoso-onboarding-team@thread.tacv2"}
	}
	return map[string]any{
		"type": typ, "id": id, "serviceUrl": e.serviceURL(), "channelId": "msteams",
		"from":         map[string]any{"id": "29:" + user, "aadObjectId": user},
		"recipient":    map[string]any{"id": botAccount, "name": "tapbot"},
		"conversation": conv, "channelData": data, "text": text,
	}
}

// approversChannel is the channel the approval cards go to in the process tests.
const approversChannel = "19:contoso-onboarding@thread.tacv2"

// postTo posts activity a to the tapbot at base, signed for the proxied Connector,
// and returns the status and the decoded answer body (invokes answer in it).
func (e *procEnv) postTo(base string, a map[string]any) (int, map[string]any) {
	e.t.Helper()
	raw, _ := json.Marshal(a)
	req, _ := http.NewRequest(http.MethodPost, base+"/api/messages", bytes.NewReader(raw))
	req.Header.Set("Authorization", "Bearer "+e.cloud.Mint(bftest.TokenOptions{ServiceURL: e.serviceURL()}))
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		e.t.Errorf("post %s: %v", a["type"], err)
		return 0, nil
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body
}

// waitFor waits for ch, failing the test with the process's log after d.
func (e *procEnv) waitFor(ch <-chan struct{}, what string) {
	e.t.Helper()
	select {
	case <-ch:
	case <-time.After(30 * time.Second):
		e.t.Fatalf("%s: not within 30 s, want it to happen\n%s", what, e.proc.stderr.String())
	}
}

// exited waits for the process to end and returns its exit code.
func (p *tapbotProc) exited(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		t.Fatalf("tapbot still running after %v, want it exited\n%s", within, p.stderr.String())
	}
	var ee *exec.ExitError
	if errors.As(p.err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -int(ws.Signal())
		}
		return ee.ExitCode()
	}
	return 0
}

// auditRows reads the audit log of a stopped tapbot's database, as action/reason.
func (e *procEnv) auditRows() []string {
	e.t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(e.dir, "tapbot.db")+"?mode=ro")
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT action, outcome, reason FROM audit ORDER BY id`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a, o, r string
		if err := rows.Scan(&a, &o, &r); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, a+"/"+o+"/"+r)
	}
	return out
}

func createsTAPReq(r *http.Request, _ []byte) bool { return createsTAP(r) }

// sendsPassCard matches the Connector request that carries the pass to the 1:1 chat.
func sendsPassCard(r *http.Request, body []byte) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/activities") && bytes.Contains(body, []byte("tap.revoke"))
}

// TestKilledProcessLeavesNoPass: kill -9 at each step between asking Graph for the
// pass and recording its delivery. Today's tapbot left the pass valid for its whole
// lifetime with no delivery row; now the next start reconciles it: the pass is
// deleted and the audit log says so.
func TestKilledProcessLeavesNoPass(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	for _, step := range []struct {
		name  string
		arm   func(e *procEnv) <-chan struct{}
		audit string // the reconcile row's reason
	}{
		{"create in flight", func(e *procEnv) <-chan struct{} { return e.graph.hold(createsTAPReq) }, "abandoned_deleted"},
		{"card in flight", func(e *procEnv) <-chan struct{} { return e.conn.hold(sendsPassCard) }, "abandoned_deleted"},
	} {
		t.Run(step.name, func(t *testing.T) {
			e := newProcEnv(t)
			p := e.start()
			reached := step.arm(e)
			if status := e.send("/tap nina@contoso.com 8h ticket 42"); status != http.StatusOK {
				t.Fatalf("/tap: status %d, want 200", status)
			}
			e.waitFor(reached, "the held request")
			if n := len(e.tenant.TAPsOf(simtenant.NinaID)); n != 1 {
				t.Fatalf("Graph has %d passes for Nina before the kill, want 1", n)
			}
			if err := p.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			p.exited(t, 10*time.Second)

			q := e.start() // the next start reconciles what the killed one left
			deadline := time.Now().Add(30 * time.Second)
			for len(e.tenant.TAPsOf(simtenant.NinaID)) != 0 {
				if time.Now().After(deadline) {
					t.Fatalf("the pass the killed process created is still live 30 s after restart, want it deleted\n%s", q.stderr.String())
				}
				time.Sleep(20 * time.Millisecond) // a separate process: no event to wait on
			}
			if err := q.cmd.Process.Signal(syscall.SIGTERM); err != nil {
				t.Fatal(err)
			}
			if code := q.exited(t, 10*time.Second); code != 0 {
				t.Fatalf("exit code %d after SIGTERM, want 0\n%s", code, q.stderr.String())
			}
			if rows := strings.Join(e.auditRows(), " "); !strings.Contains(rows, "tap.reconcile/allowed/"+step.audit) {
				t.Fatalf("audit rows %s: want the reconciliation", rows)
			}
		})
	}
}

// TestSIGTERMDuringCreateLeavesNoPass: SIGTERM while Graph holds the create call
// past the grace. Today: a valid pass and no audit row. Now tapbot exits 0 within
// the grace, having deleted the pass and audited both the cut-short creation and the
// deletion.
func TestSIGTERMDuringCreateLeavesNoPass(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary")
	}
	e := newProcEnv(t)
	p := e.start()
	reached := e.graph.hold(createsTAPReq)
	if status := e.send("/tap nina@contoso.com"); status != http.StatusOK {
		t.Fatalf("/tap: status %d, want 200", status)
	}
	e.waitFor(reached, "the create call")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.exited(t, 6*time.Second+5*time.Second); code != 0 {
		t.Fatalf("exit code %d, want 0\n%s", code, p.stderr.String())
	}
	if taps := e.tenant.TAPsOf(simtenant.NinaID); len(taps) != 0 {
		t.Fatalf("%d live passes after SIGTERM, want 0\n%s", len(taps), p.stderr.String())
	}
	rows := strings.Join(e.auditRows(), " ")
	for _, want := range []string{"tap.create/failed/create_unknown_outcome", "tap.reconcile/allowed/unknown_outcome_deleted"} {
		if !strings.Contains(rows, want) {
			t.Errorf("audit rows %s: want %s", rows, want)
		}
	}
}
