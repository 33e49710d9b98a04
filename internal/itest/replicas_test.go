package itest

import (
	"context"
	"encoding/json"
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

	"github.com/tapbot/tapbot/bot/onboard"
	"github.com/tapbot/tapbot/graph/simtenant"
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
		// Max is an established account: with a second person's confirmation on, his
		// pass would wait for one. This test is about replicas, so issue at once.
		p := e.startWith("TAPBOT_DATABASE_URL="+dbURL, "TAPBOT_TAP_VERIFY=off")
		procs = append(procs, p)
		backends = append(backends, "http://"+p.addr)
	}
	lb := roundRobin(t, backends)

	// 12 helpdesk requests for Nina at once, spread over the replicas.
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			if status := e.sendTo(lb.URL, fmt.Sprintf("rr-%d", activitySeq.Add(1)), "/tap nina@contoso.com"); status != http.StatusOK {
				t.Errorf("/tap nina through the balancer: status %d, want 200", status)
			}
		})
	}
	// One activity, delivered to each replica at once.
	dup := fmt.Sprintf("dup-%d", activitySeq.Add(1))
	for _, b := range backends {
		wg.Go(func() {
			if status := e.sendTo(b, dup, "/tap max@contoso.com"); status != http.StatusOK {
				t.Errorf("/tap max to %s: status %d, want 200", b, status)
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
				t.Errorf("refusal %+v, want only in_progress, needs_confirmation or issued_meanwhile", r)
			}
		}
		return allowed, len(rows)
	}
	deadline := time.Now().Add(60 * time.Second)
	allowed, total := decided()
	for total < 13 {
		if time.Now().After(deadline) {
			t.Fatalf("%d of 13 /tap decided after 60 s, want all 13", total)
		}
		time.Sleep(50 * time.Millisecond) // separate processes: no event to wait on
		allowed, total = decided()
	}
	if allowed[simtenant.NinaID] != 1 || len(e.tenant.TAPsOf(simtenant.NinaID)) != 1 {
		t.Errorf("Nina: %d passes allowed, %d live; want 1 and 1", allowed[simtenant.NinaID], len(e.tenant.TAPsOf(simtenant.NinaID)))
	}
	if allowed[simtenant.MaxID] != 1 || total != 13 || len(e.tenant.TAPsOf(simtenant.MaxID)) != 1 {
		t.Errorf("one activity on three replicas: %d passes for Max, %d decisions in all; want 1 and 13", allowed[simtenant.MaxID], total)
	}
	for i, p := range procs {
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := p.exited(t, 15*time.Second); code != 0 {
			t.Errorf("replica %d exited %d, want 0\n%s", i, code, p.stderr.String())
		}
	}
}

// TestReplicasDecideOnce: a manager's onboarding request, then 20 Approve clicks at
// once spread over three replicas on one PostgreSQL: one decision, one user created.
func TestReplicasDecideOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the real binary on PostgreSQL")
	}
	dbURL := pgtest.NewDatabase(t)
	e := newProcEnv(t)
	var backends []string
	for range 3 {
		p := e.startWith("TAPBOT_DATABASE_URL="+dbURL,
			"TAPBOT_APPROVER_GROUPS="+simtenant.GroupApprovers, "TAPBOT_APPROVERS_CONVERSATION="+approversChannel,
			"TAPBOT_ONBOARDING_GROUPS="+simtenant.GroupNewHires, "TAPBOT_ONBOARD_GROUPS_ALLOWED="+simtenant.GroupStaff)
		backends = append(backends, "http://"+p.addr)
	}
	lb := roundRobin(t, backends)
	next := func() string { return fmt.Sprintf("rr-%d", activitySeq.Add(1)) }

	// tapbot learns the approvers' channel when it is installed there.
	install := e.activityFrom(simtenant.AlexID, "channel", "conversationUpdate", next(), "")
	install["membersAdded"] = []any{map[string]any{"id": botAccount}}
	if status, _ := e.postTo(lb.URL, install); status != http.StatusOK {
		t.Fatalf("install in the approvers' channel: status %d, want 200", status)
	}
	// Max asks for the form and sends it.
	if status, _ := e.postTo(lb.URL, e.activityFrom(simtenant.MaxID, "personal", "message", next(), "/onboard")); status != http.StatusOK {
		t.Fatalf("/onboard: status %d, want 200", status)
	}
	// The form arrives from the background work, after the HTTP answer.
	formID := func() string {
		var id string
		for _, c := range e.cloud.Calls() {
			var form struct {
				Attachments []struct {
					Content struct {
						Actions []struct {
							Data map[string]any `json:"data"`
						} `json:"actions"`
					} `json:"content"`
				} `json:"attachments"`
			}
			if json.Unmarshal(c.Body, &form) == nil && len(form.Attachments) == 1 && len(form.Attachments[0].Content.Actions) > 0 {
				if v, _ := form.Attachments[0].Content.Actions[0].Data["requestId"].(string); v != "" {
					id = v
				}
			}
		}
		return id
	}
	id := formID()
	for wait := time.Now().Add(30 * time.Second); id == ""; id = formID() {
		if time.Now().After(wait) {
			t.Fatal("no onboarding form with a request id reached Max")
		}
		time.Sleep(20 * time.Millisecond) // separate processes: no event to wait on
	}
	invoke := func(from, verb string, data map[string]any) (int, map[string]any) {
		a := e.activityFrom(from, "personal", "invoke", next(), "")
		a["name"] = "adaptiveCard/action"
		a["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": verb, "data": data}}
		return e.postTo(lb.URL, a)
	}
	form := map[string]any{"verb": onboard.SubmitVerb, "requestId": id,
		"givenName": "José", "surname": "Müller", "displayName": "José Müller", "mailNickname": "jose.muller",
		"domain": "contoso.com", "usageLocation": "DE", "startDate": time.Now().AddDate(0, 0, 7).Format("2006-01-02"),
		"manager": simtenant.MaxID, "licence": simtenant.SKUEntraIDP1, "groups": simtenant.GroupStaff, "hasSmartphone": "true"}
	if status, body := invoke(simtenant.MaxID, onboard.SubmitVerb, form); status != http.StatusOK || fmt.Sprint(body["statusCode"]) != "200" {
		t.Fatalf("submit: status %d, body %v; want 200 and statusCode 200", status, body)
	}

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if status, _ := invoke(simtenant.AlexID, onboard.VerbApprove, map[string]any{"verb": onboard.VerbApprove, "requestId": id}); status != http.StatusOK {
				t.Errorf("approve: status %d, want 200", status)
			}
		})
	}
	wg.Wait()

	st, err := postgres.Open(context.Background(), postgres.Config{URL: dbURL}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := st.Onboard(context.Background(), id)
		if err == nil && r.State == store.OnboardDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %s after 60 s: %+v (err %v), want state %v", id, r, err, store.OnboardDone)
		}
		time.Sleep(50 * time.Millisecond) // separate processes: no event to wait on
	}
	if _, ok := e.tenant.User("jose.muller@contoso.com"); !ok {
		t.Fatal("the approved user was not created")
	}
	if _, ok := e.tenant.User("jose.muller2@contoso.com"); ok {
		t.Fatal("a second user was created")
	}
	rows, err := st.Audit(context.Background(), store.AuditFilter{Action: store.ActionOnboardApprove, Outcome: store.OutcomeAllowed})
	if err != nil || len(rows) != 1 {
		t.Fatalf("%d allowed approvals (%v), want 1", len(rows), err)
	}
}
