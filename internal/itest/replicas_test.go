package itest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/tapbot/tapbot/graph/graphtest"
	"github.com/tapbot/tapbot/internal/store"
	"github.com/tapbot/tapbot/internal/store/postgres"
	"github.com/tapbot/tapbot/internal/store/postgres/pgtest"
)

// TestMain gives the tests of this package a PostgreSQL server (a throwaway cluster
// unless TAPBOT_TEST_DATABASE_URL names one) for the multi-replica tests.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// roundRobin is the load balancer in front of the replicas: each request goes to the
// next one, as an Azure front door or a Kubernetes service spreads Teams' traffic.
func roundRobin(t *testing.T, backends []string) *httptest.Server {
	t.Helper()
	var next atomic.Uint64
	proxies := make([]*httputil.ReverseProxy, len(backends))
	for i, b := range backends {
		u, err := url.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		proxies[i] = httputil.NewSingleHostReverseProxy(u)
	}
	lb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxies[next.Add(1)%uint64(len(proxies))].ServeHTTP(w, r)
	}))
	t.Cleanup(lb.Close)
	return lb
}

// TestReplicasIssueOnePass: three `tapbot serve` processes on one PostgreSQL behind a
// round-robin. Concurrent /tap for one user through all of them mint one pass; one
// activity delivered to every replica (Teams redelivering to another instance) acts
// once; every replica stops cleanly on SIGTERM.
func TestReplicasIssueOnePass(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary on PostgreSQL")
	}
	dbURL := pgtest.NewDatabase(t)
	e := newProcEnv(t)
	var procs []*tapbotProc
	var backends []string
	for range 3 {
		p := e.startWith("TAPBOT_DATABASE_URL=" + dbURL)
		procs = append(procs, p)
		backends = append(backends, "http://"+p.addr)
	}
	lb := roundRobin(t, backends)

	// 12 helpdesk requests for Nina at once, spread over the replicas.
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			if status := e.sendTo(lb.URL, fmt.Sprintf("rr-%d", activitySeq.Add(1)), "/tap nina@contoso.com"); status != http.StatusOK {
				t.Errorf("status %d", status)
			}
		})
	}
	// One activity, delivered to each replica at once.
	dup := fmt.Sprintf("dup-%d", activitySeq.Add(1))
	for _, b := range backends {
		wg.Go(func() {
			if status := e.sendTo(b, dup, "/tap max@contoso.com"); status != http.StatusOK {
				t.Errorf("status %d", status)
			}
		})
	}
	wg.Wait()

	st, err := postgres.Open(context.Background(), postgres.Config{URL: dbURL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	// The background work runs after the HTTP answer: wait until every /tap is
	// decided (allowed or refused) in the shared audit log.
	decided := func() (allowed map[string]int, total int) {
		rows, err := st.Audit(context.Background(), store.AuditFilter{Action: "tap.create", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		allowed = map[string]int{}
		for _, r := range rows {
			if r.Outcome == "allowed" {
				allowed[r.TargetID]++
			} else if r.Reason != "in_progress" && r.Reason != "needs_confirmation" && r.Reason != "issued_meanwhile" {
				t.Errorf("unexpected refusal %+v", r)
			}
		}
		return allowed, len(rows)
	}
	deadline := time.Now().Add(60 * time.Second)
	allowed, total := decided()
	for total < 13 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 13 /tap decided after 60 s", total)
		}
		time.Sleep(50 * time.Millisecond) // separate processes: no event to wait on
		allowed, total = decided()
	}
	if allowed[graphtest.NinaID] != 1 || len(e.tenant.TAPsOf(graphtest.NinaID)) != 1 {
		t.Errorf("Nina: %d passes allowed, %d live; want 1 and 1", allowed[graphtest.NinaID], len(e.tenant.TAPsOf(graphtest.NinaID)))
	}
	if allowed[graphtest.MaxID] != 1 || total != 13 || len(e.tenant.TAPsOf(graphtest.MaxID)) != 1 {
		t.Errorf("one activity on three replicas: %d passes for Max, %d decisions in all; want 1 and 13", allowed[graphtest.MaxID], total)
	}
	for i, p := range procs {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := p.exited(t, 15*time.Second); code != 0 {
			t.Errorf("replica %d exited %d\n%s", i, code, p.stderr.String())
		}
	}
}
