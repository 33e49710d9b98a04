package itest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tapbot/tapbot/bot/onboard"
	"github.com/tapbot/tapbot/graph/simtenant"
	"github.com/tapbot/tapbot/internal/store"
)

const alexPersonal = "a:1contoso-alex-tapbot-personal"

// joinerEnv is the onboarding flow with joiner discovery and the start-day pass to the
// manager, on the real TAP flow; restart builds a new flow on the same store.
func joinerEnv(t *testing.T) (*onboardEnv, func() *onboard.Flow) {
	o := newOnboardEnv(t, func(c *onboard.Config) {
		c.HelpdeskConversation = helpdeskConv
		c.JoinerGroups = []string{simtenant.GroupStaff}
		c.StartDayTAPAt = onboard.At(9, 0)
		c.StartDayTAPLifetime = 8 * time.Hour
	})
	restart := func() *onboard.Flow {
		cfg := o.cfg
		cfg.StartDayTAPTo, cfg.Passes = onboard.StartDayTAPToManager, o.flow
		ob, err := onboard.New(cfg, o.dir, o.conn, o.store, o.log)
		if err != nil {
			t.Fatal(err)
		}
		return ob
	}
	return o, restart
}

func (o *onboardEnv) auditCount(action string) int {
	o.t.Helper()
	n, err := o.store.CountAudit(context.Background(), store.AuditFilter{Action: store.Action(action)})
	if err != nil {
		o.t.Fatal(err)
	}
	return n
}

// A joiner HR created (employeeHireDate, in the new-hires group) is taken on once,
// however often and by however many processes discovery runs; on the start day the
// manager gets the pass in their 1:1 chat, valid from TAPBOT_STARTDAY_TAP_AT, audited
// with tapbot as requester; the helpdesk channel gets a note without it; the card is
// redacted at expiry.
func TestJoinerOnceAndStartDayPassToManager(t *testing.T) {
	o, restart := joinerEnv(t)
	ctx := context.Background()
	day := o.clock.now().UTC().AddDate(0, 0, 3)
	hire := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	o.tenant.SetHireDate(simtenant.NinaID, hire)
	o.tenant.SetHireDate(simtenant.MaxID, hire.AddDate(0, 0, 30)) // beyond the look-ahead
	o.tenant.SetManager(simtenant.NinaID, simtenant.AlexID)
	if err := o.store.SaveReference(ctx, store.Reference{ConversationID: alexPersonal, Scope: store.ScopePersonal,
		TenantID: simtenant.ContosoTenantID, UserAADObjectID: simtenant.AlexID, ServiceURL: o.cloud.ServiceURL(), BotID: botAccount}); err != nil {
		t.Fatal(err)
	}
	restart().RunOnce(ctx)
	restart().RunOnce(ctx) // a restart, or another replica
	if n := o.auditCount("joiner.found"); n != 1 {
		t.Fatalf("joiner taken on %d times, want once", n)
	}
	if row := o.lastAudit("joiner.found"); row.TargetID != simtenant.NinaID || row.RequesterID != store.RequesterTapbot {
		t.Fatalf("joiner.found audit %+v, want Nina as target and tapbot as requester", row)
	}
	// The start day, 08:30: the job is due at 08:00, the pass valid from 09:00.
	o.clock.advance(hire.Add(8*time.Hour + 30*time.Minute).Sub(o.clock.now()))
	before := len(o.cloud.Calls())
	restart().RunOnce(ctx)
	restart().RunOnce(ctx)
	calls := o.cloud.Calls()[before:]
	taps := o.tenant.TAPsOf(simtenant.NinaID)
	if len(taps) != 1 || !taps[0].Start.Equal(hire.Add(9*time.Hour)) || taps[0].Lifetime != 8*time.Hour {
		t.Fatalf("Nina's passes in the tenant %+v, want one valid from 09:00 on the start day for 8h", taps)
	}
	var toManager, toHelpdesk []string
	for _, c := range calls {
		switch c.ConversationID {
		case alexPersonal:
			toManager = append(toManager, decode(t, c).card())
		case helpdeskConv:
			toHelpdesk = append(toHelpdesk, string(c.Body))
		default:
			t.Fatalf("message to %s, want messages to the manager's 1:1 chat and the helpdesk channel only", c.ConversationID)
		}
	}
	if len(toManager) != 1 || tapValue(toManager[0]) != taps[0].Value.Reveal() || !strings.Contains(toManager[0], "Not valid before") {
		t.Fatalf("manager got %v, want one card with the pass, saying when it becomes valid", toManager)
	}
	if len(toHelpdesk) != 1 || !strings.Contains(toHelpdesk[0], "sent their Temporary Access Pass to") || strings.Contains(toHelpdesk[0], taps[0].Value.Reveal()) {
		t.Fatalf("helpdesk got %v, want one note that the pass went to the manager, without the pass", toHelpdesk)
	}
	if row := o.lastAudit("tap.create"); row.RequesterID != store.RequesterTapbot || row.Outcome != "allowed" || row.MethodID != taps[0].ID {
		t.Fatalf("tap.create audit %+v, want allowed, requested by tapbot, method %s", row, taps[0].ID)
	}
	o.clock.advance(9 * time.Hour)
	if n, err := o.flow.RedactExpired(ctx); err != nil || n != 1 {
		t.Fatalf("RedactExpired = %d, %v; want 1, nil", n, err)
	}
	// The pass is in the manager's 1:1 chat and nowhere else: not in logs, the
	// database, metrics, nor any other conversation (the requester's included).
	places := o.everythingOutsideTheOneToOne()
	var others strings.Builder
	for _, c := range o.cloud.Calls() {
		if c.ConversationID != alexPersonal {
			others.Write(c.Body)
		}
	}
	places["non-1:1 messages"] = others.String()
	for place, text := range places {
		if strings.Contains(text, taps[0].Value.Reveal()) {
			t.Fatalf("pass found in %s, want it in the manager's 1:1 chat only", place)
		}
	}
}

// Without a 1:1 chat with the manager, the helpdesk gets the Issue TAP card saying why.
func TestStartDayPassFallsBackToHelpdesk(t *testing.T) {
	o, restart := joinerEnv(t)
	ctx := context.Background()
	day := o.clock.now().UTC().AddDate(0, 0, 1)
	hire := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	o.tenant.SetHireDate(simtenant.NinaID, hire)
	o.tenant.SetManager(simtenant.NinaID, simtenant.AlexID)
	restart().RunOnce(ctx)
	o.clock.advance(hire.Add(8*time.Hour + 30*time.Minute).Sub(o.clock.now()))
	before := len(o.cloud.Calls())
	restart().RunOnce(ctx)
	calls := o.cloud.Calls()[before:]
	if len(calls) != 1 || calls[0].ConversationID != helpdeskConv {
		t.Fatalf("calls %+v, want one, to the helpdesk channel", calls)
	}
	if c := decode(t, calls[0]).card(); !strings.Contains(c, "Issue TAP") || !strings.Contains(c, "no 1:1 chat with tapbot") {
		t.Fatalf("helpdesk card %s\nwant an Issue TAP card saying the manager has no 1:1 chat with tapbot", c)
	}
	if len(o.tenant.TAPsOf(simtenant.NinaID)) != 0 {
		t.Fatal("a pass was created")
	}
}

// /joiners shows the helpdesk who starts within the look-ahead, and nobody else.
func TestJoinersListedForTheHelpdesk(t *testing.T) {
	o := newOnboardEnv(t, func(c *onboard.Config) {
		c.JoinerGroups = []string{simtenant.GroupStaff}
		c.HelpdeskGroups = []string{simtenant.GroupHelpdesk}
	})
	day := o.clock.now().UTC().AddDate(0, 0, 3)
	o.tenant.SetHireDate(simtenant.NinaID, time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC))
	o.tenant.SetHireDate(simtenant.MaxID, day.AddDate(0, 0, 30)) // beyond the look-ahead
	calls := o.command("personal", simtenant.HanaID, "/joiners")
	if len(calls) != 1 {
		t.Fatalf("%d messages for /joiners, want 1", len(calls))
	}
	card := decode(t, calls[0]).card()
	if !strings.Contains(card, "nina@contoso.com") || strings.Contains(card, "max@contoso.com") || !strings.Contains(card, `"Table"`) {
		t.Fatalf("/joiners card %s\nwant a table with nina and without max (beyond the look-ahead)", card)
	}
	if reply := decode(t, o.command("personal", simtenant.NinaID, "/joiners")[0]); !strings.Contains(reply.Text, "Only members of the helpdesk") {
		t.Fatalf("/joiners for someone outside the helpdesk: reply %q, want it to say only members of the helpdesk may", reply.Text)
	}
}
