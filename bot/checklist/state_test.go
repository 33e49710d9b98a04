package checklist

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/graph"
)

var t0 = time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

// progress builds a progress from "id:status" pairs, status t, c or d.
func progress(spec string) Progress {
	var p Progress
	for _, f := range strings.Fields(spec) {
		id, st, _ := strings.Cut(f, ":")
		s := StepState{ID: id, Status: map[string]Status{"t": StatusTodo, "c": StatusClaimed, "d": StatusDone}[st]}
		switch s.Status {
		case StatusClaimed:
			s.ClaimedAt = at(1)
		case StatusDone:
			s.DoneAt, s.SeenAt = at(1), at(1)
		}
		p.Steps = append(p.Steps, s)
	}
	return p
}

// statuses writes a progress as "id:status" pairs, like progress reads them.
func statuses(p Progress) string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.ID+":"+map[Status]string{StatusTodo: "t", StatusClaimed: "c", StatusDone: "d"}[s.Status])
	}
	return strings.Join(out, " ")
}

func phoneStart() Progress { return NewProgress(DefaultContent().Path(false)) }
func keyStart() Progress   { return NewProgress(DefaultContent().Path(true)) }

func TestNewProgress(t *testing.T) {
	if got := statuses(phoneStart()); got != "tap:t install:t add-account:t sign-in:t phone-sign-in:t laptop:t hello:t" {
		t.Errorf("phone path = %s, want %s", got, "tap:t install:t add-account:t sign-in:t phone-sign-in:t laptop:t hello:t")
	}
	if got := statuses(keyStart()); got != "tap:t key:t laptop-key:t hello:t" {
		t.Errorf("key path = %s, want %s", got, "tap:t key:t laptop-key:t hello:t")
	}
}

func TestEvidenceFrom(t *testing.T) {
	now := at(600)
	tests := []struct {
		name    string
		methods []graph.Method
		taps    []graph.TAP
		devices []graph.Device
		want    Evidence
	}{
		{name: "nothing", want: Evidence{At: map[string]time.Time{}}},
		{name: "password only", methods: []graph.Method{{Type: "password"}}, want: Evidence{At: map[string]time.Time{}}},
		{name: "active TAP", taps: []graph.TAP{{Created: at(5), Lifetime: time.Hour * 24, Usable: true, UsabilityReason: "EnabledByPolicy"}},
			want: Evidence{TAPCreated: true, At: map[string]time.Time{StepTAP: at(5)}}},
		{name: "expired TAP by reason", taps: []graph.TAP{{Created: at(5), Lifetime: 100 * 24 * time.Hour, UsabilityReason: "Expired"}},
			want: Evidence{TAPCreated: true, TAPUsedOrExpired: true, At: map[string]time.Time{StepTAP: at(5)}}},
		{name: "used one-time TAP", taps: []graph.TAP{{Created: at(5), Lifetime: time.Hour, UsableOnce: true, UsabilityReason: "OneTimeUsed"}},
			want: Evidence{TAPCreated: true, TAPUsedOrExpired: true, At: map[string]time.Time{StepTAP: at(5)}}},
		{name: "TAP past its lifetime", taps: []graph.TAP{{Created: at(5), Lifetime: time.Hour, Usable: true}},
			want: Evidence{TAPCreated: true, TAPUsedOrExpired: true, At: map[string]time.Time{StepTAP: at(5)}}},
		{name: "TAP as a method, earliest wins", methods: []graph.Method{{Type: "temporaryAccessPass", Created: at(9)}},
			taps: []graph.TAP{{Created: at(20), Start: at(500), Lifetime: 24 * time.Hour}},
			want: Evidence{TAPCreated: true, At: map[string]time.Time{StepTAP: at(9)}}},
		{name: "authenticator", methods: []graph.Method{{Type: "microsoftAuthenticator", Created: at(30)}, {Type: "microsoftAuthenticator", Created: at(20)}},
			want: Evidence{Authenticator: true, PhoneSignIn: true, At: map[string]time.Time{StepInstall: at(20), StepAddAccount: at(20), StepSignIn: at(20), StepPhoneSignIn: at(20)}}},
		// createdDateTime null: registered for MFA push only, not phone sign-in.
		{name: "authenticator for MFA only", methods: []graph.Method{{Type: "microsoftAuthenticator", MFAOnly: true}},
			want: Evidence{Authenticator: true, AuthenticatorMFA: true, At: map[string]time.Time{}}},
		{name: "MFA-only and phone sign-in registrations", methods: []graph.Method{{Type: "microsoftAuthenticator", MFAOnly: true}, {Type: "microsoftAuthenticator", Created: at(70)}},
			want: Evidence{Authenticator: true, AuthenticatorMFA: true, PhoneSignIn: true, At: map[string]time.Time{StepInstall: at(70), StepAddAccount: at(70), StepSignIn: at(70), StepPhoneSignIn: at(70)}}},
		{name: "windows hello, fido2, devices", devices: []graph.Device{{TrustType: graph.TrustRegistered}, {TrustType: graph.TrustEntraJoined}},
			methods: []graph.Method{{Type: "windowsHelloForBusiness", Created: at(50)}, {Type: "fido2", Created: at(40)}, {Type: "phone"}},
			want:    Evidence{WindowsHello: true, FIDO2: true, Device: true, JoinedDevice: true, At: map[string]time.Time{StepHello: at(50), StepKey: at(40)}}},
		{name: "a registered device only", devices: []graph.Device{{TrustType: graph.TrustRegistered}},
			want: Evidence{Device: true, At: map[string]time.Time{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EvidenceFrom(tt.methods, tt.taps, tt.devices, now); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// The laptop steps need a joined device, cloud only or hybrid, or Windows Hello. The
// phone Authenticator registers for phone sign-in is a registered device, and a
// device Graph lists without its trustType (limited information, no Device.Read.All)
// can't be told from it. Any device means the hire signed in: the TAP step.
func TestLaptopNeedsAJoinedDevice(t *testing.T) {
	names := map[verdict]string{unseen: "unseen", likely: "likely", verified: "verified"}
	phone := graph.Device{ID: "p", DisplayName: "Nina's iPhone", TrustType: graph.TrustRegistered}
	limited := graph.Device{ID: "x"} // id only
	tests := []struct {
		name        string
		devices     []graph.Device
		hello       bool
		laptop, tap verdict
	}{
		{"no device", nil, false, unseen, unseen},
		{"the phone registered for phone sign-in", []graph.Device{phone}, false, unseen, verified},
		{"Entra joined (Autopilot)", []graph.Device{phone, {ID: "l", TrustType: graph.TrustEntraJoined}}, false, verified, verified},
		{"hybrid joined", []graph.Device{{ID: "h", TrustType: graph.TrustHybrid}}, false, verified, verified},
		{"limited information", []graph.Device{limited}, false, unseen, verified},
		{"limited information and Windows Hello", []graph.Device{limited}, true, verified, verified},
	}
	for _, tt := range tests {
		var methods []graph.Method
		if tt.hello {
			methods = []graph.Method{{Type: "windowsHelloForBusiness", Created: at(5)}}
		}
		ev := EvidenceFrom(methods, nil, tt.devices, at(10))
		for _, id := range []string{StepLaptop, StepLaptopKey} {
			if got := judge(id, ev); got != tt.laptop {
				t.Errorf("%s: %s step %s, want %s", tt.name, id, names[got], names[tt.laptop])
			}
		}
		if got := judge(StepTAP, ev); got != tt.tap {
			t.Errorf("%s: tap step %s, want %s", tt.name, names[got], names[tt.tap])
		}
	}
}

func TestApply(t *testing.T) {
	phone := "tap:t install:t add-account:t sign-in:t phone-sign-in:t laptop:t hello:t"
	key := "tap:t key:t laptop-key:t hello:t"
	tests := []struct {
		name  string
		start string
		ev    Evidence
		want  string
	}{
		{"nothing yet", phone, Evidence{}, phone},
		{"TAP created", phone, Evidence{TAPCreated: true}, "tap:d install:t add-account:t sign-in:t phone-sign-in:t laptop:t hello:t"},
		{"TAP used or expired", phone, Evidence{TAPUsedOrExpired: true}, "tap:d install:t add-account:t sign-in:t phone-sign-in:t laptop:t hello:t"},
		// Graph tells MFA-only (createdDateTime null) from phone sign-in.
		{"authenticator for MFA only: three steps tick, phone sign-in stays to do", phone, Evidence{TAPCreated: true, Authenticator: true, AuthenticatorMFA: true},
			"tap:d install:d add-account:d sign-in:d phone-sign-in:t laptop:t hello:t"},
		{"authenticator for phone sign-in: the step ticks", phone, Evidence{TAPCreated: true, Authenticator: true, PhoneSignIn: true},
			"tap:d install:d add-account:d sign-in:d phone-sign-in:d laptop:t hello:t"},
		// A joined laptop is no evidence: a TAP typed at the laptop gets through too.
		{"MFA only and a device: phone sign-in still to do", phone, Evidence{Authenticator: true, AuthenticatorMFA: true, Device: true, JoinedDevice: true},
			"tap:d install:d add-account:d sign-in:d phone-sign-in:t laptop:d hello:t"},
		{"everything", phone, Evidence{TAPUsedOrExpired: true, TAPCreated: true, Authenticator: true, PhoneSignIn: true, Device: true, JoinedDevice: true, WindowsHello: true},
			"tap:d install:d add-account:d sign-in:d phone-sign-in:d laptop:d hello:d"},
		// Out of order: later evidence implies the TAP even after the TAP was deleted.
		{"authenticator, TAP already deleted", phone, Evidence{Authenticator: true, PhoneSignIn: true},
			"tap:d install:d add-account:d sign-in:d phone-sign-in:d laptop:t hello:t"},
		{"device before authenticator", phone, Evidence{Device: true, JoinedDevice: true},
			"tap:d install:t add-account:t sign-in:t phone-sign-in:t laptop:d hello:t"},
		// Phone sign-in registers the phone as a device: no laptop.
		{"the phone registered for phone sign-in: laptop still to do", phone, Evidence{Authenticator: true, PhoneSignIn: true, Device: true},
			"tap:d install:d add-account:d sign-in:d phone-sign-in:d laptop:t hello:t"},
		{"windows hello while the device list lags", phone, Evidence{WindowsHello: true},
			"tap:d install:t add-account:t sign-in:t phone-sign-in:t laptop:d hello:d"},
		{"windows hello and an MFA-only authenticator do not confirm phone sign-in", phone, Evidence{WindowsHello: true, Authenticator: true, AuthenticatorMFA: true},
			"tap:d install:d add-account:d sign-in:d phone-sign-in:t laptop:d hello:d"},
		{"fido2 means nothing on the phone path", phone, Evidence{FIDO2: true},
			"tap:d install:t add-account:t sign-in:t phone-sign-in:t laptop:t hello:t"},
		// Claims.
		{"claimed stays claimed without evidence", "tap:d install:c add-account:t", Evidence{TAPCreated: true}, "tap:d install:c add-account:t"},
		{"claimed becomes done when evidence arrives", "tap:d install:c add-account:c sign-in:t phone-sign-in:c", Evidence{Authenticator: true},
			"tap:d install:d add-account:d sign-in:d phone-sign-in:c"},
		// Never undone.
		{"done stays done when evidence goes away", "tap:d install:d laptop:d hello:t", Evidence{}, "tap:d install:d laptop:d hello:t"},
		// Security-key branch.
		{"key path: nothing", key, Evidence{}, key},
		{"key path: TAP", key, Evidence{TAPCreated: true}, "tap:d key:t laptop-key:t hello:t"},
		{"key path: fido2", key, Evidence{FIDO2: true}, "tap:d key:d laptop-key:t hello:t"},
		{"key path: fido2 and device", key, Evidence{FIDO2: true, Device: true, JoinedDevice: true}, "tap:d key:d laptop-key:d hello:t"},
		{"key path: everything", key, Evidence{TAPCreated: true, FIDO2: true, Device: true, JoinedDevice: true, WindowsHello: true}, "tap:d key:d laptop-key:d hello:d"},
		{"key path: hello before the key shows", key, Evidence{WindowsHello: true}, "tap:d key:t laptop-key:d hello:d"},
		{"key path: authenticator ticks only the TAP", key, Evidence{Authenticator: true}, "tap:d key:t laptop-key:t hello:t"},
		{"key path: claimed key confirmed", "tap:d key:c laptop-key:t hello:t", Evidence{FIDO2: true}, "tap:d key:d laptop-key:t hello:t"},
		{"unknown stored step is left alone", "tap:t retired:t", Evidence{TAPCreated: true, Authenticator: true, Device: true}, "tap:d retired:t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := progress(tt.start)
			before := statuses(start)
			got := Apply(start, tt.ev, at(100))
			if s := statuses(got); s != tt.want {
				t.Fatalf("got  %s\nwant %s", s, tt.want)
			}
			if statuses(start) != before {
				t.Fatal("Apply changed its input")
			}
		})
	}
}

func TestApplyTimes(t *testing.T) {
	now := at(100)
	ev := Evidence{Authenticator: true, At: map[string]time.Time{
		StepInstall: at(20), StepAddAccount: at(20), StepSignIn: at(200), // a clock ahead of ours
	}}
	p := Apply(progress("tap:t install:c add-account:t sign-in:t phone-sign-in:t laptop:t"), ev, now)
	want := map[string]StepState{
		// The TAP must have come before the earliest evidence Graph dates.
		StepTAP:         {ID: StepTAP, Status: StatusDone, DoneAt: at(20), SeenAt: now},
		StepInstall:     {ID: StepInstall, Status: StatusDone, DoneAt: at(20), SeenAt: now, ClaimedAt: at(1)},
		StepAddAccount:  {ID: StepAddAccount, Status: StatusDone, DoneAt: at(20), SeenAt: now},
		StepSignIn:      {ID: StepSignIn, Status: StatusDone, DoneAt: now, SeenAt: now},
		StepPhoneSignIn: {ID: StepPhoneSignIn, Status: StatusTodo}, // MFA only so far
		StepLaptop:      {ID: StepLaptop, Status: StatusTodo},
	}
	for _, s := range p.Steps {
		if s != want[s.ID] {
			t.Errorf("%s = %+v, want %+v", s.ID, s, want[s.ID])
		}
	}

	// Later checks keep the first times; a phone sign-in registration and the device
	// tick their steps.
	later := at(300)
	ev.Device, ev.JoinedDevice, ev.PhoneSignIn = true, true, true
	p2 := Apply(p, ev, later)
	if s, _ := p2.Step(StepInstall); s.DoneAt != at(20) || s.SeenAt != now {
		t.Errorf("install = %+v, want its first times kept: done %v, seen %v", s, at(20), now)
	}
	if s, _ := p2.Step(StepPhoneSignIn); s != (StepState{ID: StepPhoneSignIn, Status: StatusDone, DoneAt: later, SeenAt: later}) {
		t.Errorf("phone-sign-in = %+v, want done and seen at %v", s, later)
	}
	if s, _ := p2.Step(StepLaptop); s != (StepState{ID: StepLaptop, Status: StatusDone, DoneAt: later, SeenAt: later}) {
		t.Errorf("laptop = %+v, want done and seen at %v", s, later)
	}
	// A TAP only dated by itself keeps its own time.
	p3 := Apply(progress("tap:t"), Evidence{TAPCreated: true, At: map[string]time.Time{StepTAP: at(7), StepHello: at(3)}}, now)
	if p3.Steps[0].DoneAt != at(7) {
		t.Errorf("tap DoneAt = %v, want %v", p3.Steps[0].DoneAt, at(7))
	}
}

func TestClaim(t *testing.T) {
	now := at(50)
	tests := []struct {
		name, start, step, want string
		claimedAt               time.Time
		err                     error
	}{
		{name: "todo becomes claimed", start: "tap:d install:t", step: "install", want: "tap:d install:c", claimedAt: now},
		{name: "claimed keeps its first claim", start: "tap:d install:c", step: "install", want: "tap:d install:c", claimedAt: at(1)},
		{name: "done is never claimed", start: "tap:d install:t", step: "tap", want: "tap:d install:t"},
		{name: "claiming out of order", start: "tap:t install:t hello:t", step: "hello", want: "tap:t install:t hello:c", claimedAt: now},
		{name: "unknown step", start: "tap:t", step: "key", want: "tap:t", err: ErrUnknownStep},
		{name: "empty step", start: "tap:t", step: "", want: "tap:t", err: ErrUnknownStep},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := progress(tt.start)
			before := statuses(start)
			got, err := Claim(start, tt.step, now)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if s := statuses(got); s != tt.want {
				t.Fatalf("Claim = %s, want %s", s, tt.want)
			}
			if statuses(start) != before {
				t.Fatalf("Claim changed its input to %s, want %s", statuses(start), before)
			}
			if s, ok := got.Step(tt.step); ok && s.Status == StatusClaimed && s.ClaimedAt != tt.claimedAt {
				t.Fatalf("ClaimedAt = %v, want %v", s.ClaimedAt, tt.claimedAt)
			}
		})
	}
}

func TestDoneAndNext(t *testing.T) {
	tests := []struct {
		start string
		done  bool
		next  string
	}{
		{"", false, ""},
		{"tap:t install:t", false, "tap"},
		{"tap:d install:t hello:t", false, "install"},
		{"tap:d install:c hello:t", false, "hello"}, // a claimed step waits; the hire moves on
		{"tap:d install:c hello:c", false, "install"},
		{"tap:d install:d hello:d", true, ""},
	}
	for _, tt := range tests {
		p := progress(tt.start)
		if Done(p) != tt.done || Next(p) != tt.next {
			t.Errorf("%q: Done = %v, Next = %q; want %v, %q", tt.start, Done(p), Next(p), tt.done, tt.next)
		}
	}
}

// TestDayOne walks a new hire through the phone path as the tenant gains each method.
func TestDayOne(t *testing.T) {
	p := phoneStart()
	var methods []graph.Method
	var taps []graph.TAP
	var devices []graph.Device
	check := func(min int, wantNext string) {
		t.Helper()
		p = Apply(p, EvidenceFrom(methods, taps, devices, at(min)), at(min))
		if Next(p) != wantNext {
			t.Fatalf("minute %d: Next = %q, want %q (%s)", min, Next(p), wantNext, statuses(p))
		}
	}
	check(0, StepTAP)
	taps = append(taps, graph.TAP{Created: at(5), Lifetime: time.Hour, Usable: true})
	check(6, StepInstall)
	p, _ = Claim(p, StepInstall, at(8))
	check(9, StepAddAccount)
	// Registered for MFA push only first (createdDateTime null): phone sign-in is next.
	methods = append(methods, graph.Method{Type: "microsoftAuthenticator", MFAOnly: true})
	check(12, StepPhoneSignIn)
	// Phone sign-in enabled: Graph now dates the registration, and lists the phone as a
	// registered device, which is no laptop.
	methods = append(methods[:0], graph.Method{Type: "microsoftAuthenticator", Created: at(14)})
	devices = append(devices, graph.Device{DisplayName: "iPhone", TrustType: graph.TrustRegistered})
	check(15, StepLaptop)
	if s, _ := p.Step(StepPhoneSignIn); s.Status != StatusDone || s.DoneAt != at(14) {
		t.Fatalf("phone-sign-in = %+v, want done at %v", s, at(14))
	}
	check(70, StepLaptop) // the TAP expires: nothing changes
	devices = append(devices, graph.Device{DisplayName: "LAPTOP", TrustType: graph.TrustEntraJoined})
	check(80, StepHello)
	methods = append(methods, graph.Method{Type: "windowsHelloForBusiness", Created: at(85)})
	check(90, "")
	if !Done(p) {
		t.Fatalf("progress = %s, want all done", statuses(p))
	}
	if s, _ := p.Step(StepInstall); s.DoneAt != at(12) || s.ClaimedAt != at(8) {
		t.Fatalf("install = %+v, want done at %v, claimed at %v", s, at(12), at(8))
	}
	if s, _ := p.Step(StepHello); s.DoneAt != at(85) || s.SeenAt != at(90) {
		t.Fatalf("hello = %+v, want done at %v, seen at %v", s, at(85), at(90))
	}
}

func TestStatusWordsMatchCards(t *testing.T) {
	pairs := map[Status]cards.ChecklistStatus{StatusTodo: cards.ChecklistTodo, StatusClaimed: cards.ChecklistClaimed, StatusDone: cards.ChecklistDone}
	for s, c := range pairs {
		if string(s) != string(c) {
			t.Errorf("checklist status %q, want the cards word %q", s, c)
		}
	}
}
