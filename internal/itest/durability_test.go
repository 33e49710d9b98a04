package itest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tapbot/tapbot/bot/tap"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/graph/simtenant"
	"github.com/tapbot/tapbot/internal/store"
)

// graphFaults sits between the Graph client and the simulated tenant. Armed, it lets
// the tenant carry out a matching request and then loses the answer: the connection
// resets, or the answer never comes until the caller gives up. That is the outcome
// tapbot cannot see through: Graph created the pass, tapbot does not know.
type graphFaults struct {
	base http.RoundTripper

	mu      sync.Mutex
	mode    string        // "", "reset" or "hang"
	reached chan struct{} // closed when an armed request has been carried out
}

func (f *graphFaults) arm(mode string) <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mode, f.reached = mode, make(chan struct{})
	return f.reached
}

func (f *graphFaults) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	mode, reached := f.mode, f.reached
	if createsTAP(r) {
		f.mode = "" // once
	}
	f.mu.Unlock()
	if mode == "" || !createsTAP(r) {
		return f.base.RoundTrip(r)
	}
	resp, err := f.base.RoundTrip(r.WithContext(context.WithoutCancel(r.Context())))
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	close(reached)
	if mode == "hang" {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}
	return nil, errors.New("read tcp 127.0.0.1:443: connection reset by peer")
}

func createsTAP(r *http.Request) bool {
	return r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/authentication/temporaryAccessPassMethods")
}

func (e *env) audits(action store.Action) []store.AuditEntry {
	e.t.Helper()
	rows, err := e.store.Audit(context.Background(), store.AuditFilter{Action: action, Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return rows
}

// TestCreateAnswerLostLeavesNoPass: the connection resets after Graph created the
// pass. Today's tapbot told the helpdesk "nothing was changed" and left the pass
// valid; now it deletes it, audits both the unknown outcome and the deletion, and says
// what happened.
func TestCreateAnswerLostLeavesNoPass(t *testing.T) {
	e := newEnv(t)
	e.faults.arm("reset")
	calls := e.command("personal", simtenant.HanaID, "/tap nina@contoso.com ticket 7")
	if taps := e.tenant.TAPsOf(simtenant.NinaID); len(taps) != 0 {
		t.Fatalf("a pass whose creation answer was lost is still live: %+v, want it deleted", taps)
	}
	if len(calls) != 1 || !strings.Contains(decode(t, calls[0]).Text, "couldn't tell whether") {
		t.Fatalf("calls %+v, want one reply saying the outcome was unknown", calls)
	}
	if tapValue(decode(t, calls[0]).card()) != "" {
		t.Fatal("a card with a pass was sent")
	}
	create := e.lastAudit("tap.create")
	rec := e.lastAudit("tap.reconcile")
	if create.Outcome != "failed" || create.Reason != "create_unknown_outcome" || rec.Reason != "unknown_outcome_deleted" || rec.MethodID == "" || rec.TargetID != simtenant.NinaID {
		t.Fatalf("audit: create %+v, reconcile %+v; want create failed (create_unknown_outcome) and Nina's pass deleted (unknown_outcome_deleted)", create, rec)
	}
	// The target is free again: the next /tap works.
	if v := tapValue(decode(t, e.command("personal", simtenant.HanaID, "/tap nina@contoso.com")[0]).card()); v == "" {
		t.Fatal("the target stayed claimed after reconciliation")
	}
}

// TestShutdownDuringCreateLeavesNoPass: SIGTERM's grace runs out while Graph is
// creating the pass (its answer never comes). The cancelled request must still leave
// an audit trail and no live pass: audit and clean-up run on a context shutdown
// cannot cancel.
func TestShutdownDuringCreateLeavesNoPass(t *testing.T) {
	e := newEnv(t)
	reached := e.faults.arm("hang")
	if status, _ := e.post(e.activity("message", "personal", simtenant.HanaID, "/tap nina@contoso.com")); status != http.StatusOK {
		t.Fatalf("/tap: status %d, want 200", status)
	}
	select {
	case <-reached:
	case <-time.After(20 * time.Second):
		t.Fatal("the create request never reached Graph")
	}
	if len(e.tenant.TAPsOf(simtenant.NinaID)) != 1 {
		t.Fatal("the simulated tenant did not create the pass")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no grace left: background work is cancelled at once
	if err := e.handler.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Shutdown = %v, want it cut short", err)
	}
	if taps := e.tenant.TAPsOf(simtenant.NinaID); len(taps) != 0 {
		t.Fatalf("shutdown left a live pass: %+v, want none", taps)
	}
	if rows := e.audits("tap.create"); len(rows) != 1 || rows[0].Reason != "create_unknown_outcome" {
		t.Fatalf("tap.create audit rows %+v, want the unknown outcome", rows)
	}
	if rec := e.lastAudit("tap.reconcile"); rec.Reason != "unknown_outcome_deleted" {
		t.Fatalf("reconcile audit %+v, want reason unknown_outcome_deleted", rec)
	}
}

// TestAbandonedIntentReconciledAtStart is what a kill -9 between Graph's answer and
// the recorded delivery leaves: an open intent and a live pass nobody audited as
// delivered. The next start reconciles it: the pass is deleted and audited, and
// the target is free again. Both crash points are covered: before Graph's answer
// was recorded (method id unknown) and after.
func TestAbandonedIntentReconciledAtStart(t *testing.T) {
	for _, recorded := range []bool{false, true} {
		t.Run(fmt.Sprintf("method id recorded %v", recorded), func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			now := e.clock.now()
			in := store.TAPIntent{ID: "req-killed", TargetID: simtenant.NinaID, TargetUPN: "nina@contoso.com",
				RequesterID: simtenant.HanaID, StartedAt: now, LeaseUntil: now.Add(5 * time.Minute)}
			if err := e.store.BeginTAP(ctx, in, store.TAPLimits{}); err != nil {
				t.Fatal(err)
			}
			// An older pass of someone else's, delivered and recorded: not the intent's.
			created, err := e.tenant.CreateTAP(simtenant.NinaID, graph.TAPRequest{Lifetime: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if recorded {
				if err := e.store.TAPCreated(ctx, in.ID, created.ID, now); err != nil {
					t.Fatal(err)
				}
			}
			// The process died here; its lease has not run out yet.
			if n, err := e.flow.ReconcileAbandoned(ctx, now); err != nil || n != 0 {
				t.Fatalf("ReconcileAbandoned before the lease ended = %d, %v; want 0", n, err)
			}
			// Start: SQLite admits one process, so every open intent is abandoned.
			n, err := e.flow.ReconcileAbandoned(ctx, now.Add(time.Hour))
			if err != nil || n != 1 {
				t.Fatalf("ReconcileAbandoned = %d, %v; want 1", n, err)
			}
			if taps := e.tenant.TAPsOf(simtenant.NinaID); len(taps) != 0 {
				t.Fatalf("the abandoned pass is still live: %+v, want it deleted", taps)
			}
			if rec := e.lastAudit("tap.reconcile"); rec.Reason != "abandoned_deleted" || rec.MethodID != created.ID || rec.RequestID != in.ID {
				t.Fatalf("reconcile audit %+v, want abandoned_deleted for method %s, request %s", rec, created.ID, in.ID)
			}
			if got, _ := e.store.TAPIntent(ctx, in.ID); got.State != store.IntentUndone {
				t.Fatalf("intent state %s, want undone", got.State)
			}
			if v := tapValue(decode(t, e.command("personal", simtenant.HanaID, "/tap nina@contoso.com")[0]).card()); v == "" {
				t.Fatal("the target stayed claimed after reconciliation")
			}
		})
	}
}

// TestReconcileSparesDeliveredPasses: reconciliation of an intent whose method id is
// unknown deletes only passes no recorded delivery holds.
func TestReconcileSparesDeliveredPasses(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if v := tapValue(decode(t, e.command("personal", simtenant.HanaID, "/tap nina@contoso.com")[0]).card()); v == "" {
		t.Fatal("no pass")
	}
	now := e.clock.now()
	in := store.TAPIntent{ID: "req-other", TargetID: simtenant.NinaID, RequesterID: simtenant.HanaID, StartedAt: now.Add(-time.Minute), LeaseUntil: now}
	if err := e.store.BeginTAP(ctx, in, store.TAPLimits{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.flow.ReconcileAbandoned(ctx, now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if taps := e.tenant.TAPsOf(simtenant.NinaID); len(taps) != 1 {
		t.Fatalf("Nina's passes after reconciliation %+v, want the delivered one kept", taps)
	}
	if rec := e.lastAudit("tap.reconcile"); rec.Reason != "abandoned_nothing_created" {
		t.Fatalf("reconcile audit %+v, want reason abandoned_nothing_created", rec)
	}
}

// TestConcurrentTapOneTarget: 20 /tap for one user at once from two helpdesk members
// mint one pass (today: 17 passes minted and delivered, 16 of them dead on arrival).
func TestConcurrentTapOneTarget(t *testing.T) {
	e := newEnv(t)
	e.tenant.AddMember(simtenant.GroupHelpdesk, simtenant.MaxID)
	creates := func() int {
		n := 0
		for _, r := range e.graph.Requests() {
			if r.Method == http.MethodPost && strings.HasSuffix(r.Path, "/temporaryAccessPassMethods") {
				n++
			}
		}
		return n
	}
	var wg sync.WaitGroup
	for i := range 20 {
		from := simtenant.HanaID
		if i%2 == 1 {
			from = simtenant.MaxID
		}
		wg.Go(func() {
			if status, _ := e.post(e.activity("message", "personal", from, "/tap nina@contoso.com")); status != http.StatusOK {
				t.Errorf("/tap: status %d, want 200", status)
			}
		})
	}
	wg.Wait()
	e.drain()
	if n := creates(); n != 1 {
		t.Fatalf("%d passes created for one user by 20 concurrent /tap, want 1", n)
	}
	delivered := 0
	for _, c := range e.cloud.Calls() {
		if tapValue(decode(t, c).card()) != "" {
			delivered++
		}
	}
	if delivered != 1 || len(e.tenant.TAPsOf(simtenant.NinaID)) != 1 {
		t.Fatalf("%d pass cards delivered, %d live passes; want 1 and 1", delivered, len(e.tenant.TAPsOf(simtenant.NinaID)))
	}
	allowed := 0
	for _, r := range e.audits("tap.create") {
		if r.Outcome == "allowed" {
			allowed++
		} else if r.Reason != "in_progress" && r.Reason != "needs_confirmation" && r.Reason != "issued_meanwhile" {
			t.Errorf("refusal %+v, want only in_progress, needs_confirmation or issued_meanwhile", r)
		}
	}
	if allowed != 1 {
		t.Fatalf("%d allowed audit rows, want 1", allowed)
	}
}

// TestRateLimitIsAtomic: with 6 of 7 passes used, three concurrent /tap get one
// (today: all three passed the count before any was recorded).
func TestRateLimitIsAtomic(t *testing.T) {
	e := newEnv(t, func(c *tap.Config) { c.MaxPerHour = 7 })
	ctx := context.Background()
	now := e.clock.now()
	for i := range 6 {
		in := store.TAPIntent{ID: fmt.Sprintf("earlier-%d", i), TargetID: fmt.Sprintf("t%d", i), RequesterID: simtenant.HanaID,
			StartedAt: now.Add(-time.Minute), LeaseUntil: now.Add(time.Hour)}
		if err := e.store.BeginTAP(ctx, in, store.TAPLimits{}); err != nil {
			t.Fatal(err)
		}
		if err := e.store.EndTAP(ctx, in.ID, store.IntentUndone, now); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for _, u := range []string{"nina@contoso.com", "max@contoso.com", "alex@contoso.com"} {
		wg.Go(func() { e.post(e.activity("message", "personal", simtenant.HanaID, "/tap "+u)) })
	}
	wg.Wait()
	e.drain()
	live := 0
	for _, id := range []string{simtenant.NinaID, simtenant.MaxID, simtenant.AlexID} {
		live += len(e.tenant.TAPsOf(id))
	}
	limited := 0
	for _, r := range e.audits("tap.create") {
		if r.Reason == "rate_limited" {
			limited++
		}
	}
	if live != 1 || limited != 2 {
		t.Fatalf("%d passes created and %d refused as rate-limited, want 1 and 2", live, limited)
	}
}

// TestIssueButtonRightsBeforeNonce: someone outside the helpdesk who invokes a
// start-day "Issue TAP" with its data gets nothing, and cannot spend the nonce that
// the helpdesk's click needs.
func TestIssueButtonRightsBeforeNonce(t *testing.T) {
	e := newEnv(t)
	data := cards.IssueTAPData{User: "nina@contoso.com", Reason: "start day", Nonce: cards.NewNonce()}
	body := e.invoke(simtenant.NinaID, cards.VerbIssueTAP, data)
	if !strings.Contains(fmt.Sprint(body), "Helpdesk only") || len(e.tenant.TAPsOf(simtenant.NinaID)) != 0 {
		t.Fatalf("non-helpdesk click: answer %v, want Helpdesk only and no pass", body)
	}
	if row := e.lastAudit("tap.create"); row.Outcome != "refused" || row.Reason != "not_helpdesk" || row.RequesterID != simtenant.NinaID {
		t.Fatalf("tap.create audit %+v, want refused (not_helpdesk) with Nina as requester", row)
	}
	e.invoke(simtenant.HanaID, cards.VerbIssueTAP, data)
	if len(e.tenant.TAPsOf(simtenant.NinaID)) != 1 {
		t.Fatal("the helpdesk's click issued no pass after a refused one spent its nonce")
	}
	if a, b := cards.NewNonce(), cards.NewNonce(); a == b || len(a) != 32 {
		t.Fatalf("nonces %q %q: want 128 random bits", a, b)
	}
}

// TestRedeliveredActivityActsOnce: Teams redelivers an activity it got no timely
// answer for; five deliveries of one /tap at once mint one pass and send one card.
// A redelivered Issue TAP invoke is likewise answered without acting again.
func TestRedeliveredActivityActsOnce(t *testing.T) {
	e := newEnv(t)
	a := e.activity("message", "personal", simtenant.HanaID, "/tap nina@contoso.com")
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if status, _ := e.post(a); status != http.StatusOK {
				t.Errorf("/tap: status %d, want 200", status)
			}
		})
	}
	wg.Wait()
	e.drain()
	if calls := e.cloud.Calls(); len(calls) != 1 || tapValue(decode(t, calls[0]).card()) == "" {
		t.Fatalf("%d calls for five deliveries, want exactly one, with the pass card", len(calls))
	}
	if rows := e.audits("tap.create"); len(rows) != 1 {
		t.Fatalf("%d tap.create audit rows, want 1", len(rows))
	}

	inv := e.activity("invoke", "personal", simtenant.HanaID, "")
	inv["name"] = "adaptiveCard/action"
	inv["value"] = map[string]any{"action": map[string]any{"type": "Action.Execute", "verb": cards.VerbIssueTAP,
		"data": cards.IssueTAPData{User: "max@contoso.com", Nonce: cards.NewNonce()}}}
	e.post(inv)
	_, again := e.post(inv)
	e.drain()
	if fmt.Sprint(again["value"]) != "Already handled." || len(e.tenant.TAPsOf(simtenant.MaxID)) != 1 {
		t.Fatalf("redelivered invoke answered %v, Max has %d passes; want Already handled. and 1 pass", again, len(e.tenant.TAPsOf(simtenant.MaxID)))
	}
}

// TestConcurrentRedactionAuditsOnce: two redaction runs at once (two replicas, or a
// run overlapping the next) redact each expired card and audit it once.
func TestConcurrentRedactionAuditsOnce(t *testing.T) {
	e := newEnv(t)
	for _, u := range []string{"nina@contoso.com", "max@contoso.com", "alex@contoso.com"} {
		e.command("personal", simtenant.HanaID, "/tap "+u+" 30m")
	}
	e.clock.advance(31 * time.Minute)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := e.flow.RedactExpired(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if rows := e.audits(store.ActionTAPRedact); len(rows) != 3 {
		t.Fatalf("%d tap.redact audit rows for 3 expired passes, want 3", len(rows))
	}
}
