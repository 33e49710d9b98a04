// Package doctor checks that a tenant is set up for tapbot (docs/flow.md, "Tenant set-up"):
// the bot's registration, the Graph permissions tapbot's token carries, the Temporary
// Access Pass and Microsoft Authenticator policies, the groups its configuration
// names, the approvers' conversation, and, when tapbot may read Intune, how new
// hires' devices are enrolled (devices.go). It explains each finding in plain words
// with what to do about it, and can make the policy changes tapbot knows how to make.
// ExplainProbe (probe.go) does the same for the calls `tapbot doctor --probe` tried.
//
// Reading the tenant (Gather) is kept apart from deciding (Evaluate, Plan), which are
// pure functions; Check is the two together. The package has no SDK imports: it
// depends on the small Reader and Writer interfaces below, which graph/msgraph's
// client satisfies.
package doctor

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/store"
)

// Reader is what Check reads from the tenant.
type Reader interface {
	TAPPolicy(ctx context.Context) (graph.TAPPolicy, error)
	AuthenticatorPolicy(ctx context.Context) (graph.AuthenticatorPolicy, error)
	Group(ctx context.Context, id string) (graph.Group, error)
	GrantedRoles(ctx context.Context) ([]string, error)
	DeviceReader // devices.go
}

// Writer is what Apply needs: it reads each policy again just before changing it.
type Writer interface {
	Reader
	UpdateTAPPolicy(ctx context.Context, p graph.TAPPolicy) error
	UpdateAuthenticatorPolicy(ctx context.Context, p graph.AuthenticatorPolicy) error
}

// Config is tapbot's configuration as far as the checks need it.
type Config struct {
	AppID    string // the bot's Microsoft App ID
	TenantID string

	HelpdeskGroups   []string
	AuditorGroups    []string
	ProtectedGroups  []string
	ScopeGroups      []string
	OnboardingGroups []string // new hires: the TAP and Authenticator policies must target them
	AdminGroups      []string // who may run /doctor in Teams

	// The features they switch on decide which Graph permissions are needed (Features).
	ApproverGroups []string // onboarding is on when set
	JoinerGroups   []string // joiners from employeeHireDate are on when set
	TeamsAppID     string   // installing tapbot for new hires is on when set

	// ApproversConversation is where approval cards go. tapbot can post there only
	// once it has stored the conversation's reference (it is installed there and has
	// seen a message); Conversations reads that, nil skips the check.
	ApproversConversation string
	Conversations         Conversations
	// VerifyOff: TAPBOT_TAP_VERIFY=off, passes for established accounts are issued
	// on one person's word.
	VerifyOff bool
}

// Conversations reads the conversation references tapbot stored (internal/store).
type Conversations interface {
	Reference(ctx context.Context, conversationID string) (store.Reference, error)
}

// Status is the outcome of one check.
type Status string

// Statuses, from good to bad.
const (
	OK   Status = "ok"
	Warn Status = "warn"
	Fail Status = "fail"
)

// Item is one finding. Detail and Fix are plain sentences for an administrator;
// Detail may contain group names read from Graph, so renderers must show it as
// literal text.
type Item struct {
	ID      string // stable, e.g. "tap.enabled", "groups.helpdesk"
	Title   string
	Status  Status
	Detail  string
	Fix     string // what to do; empty when Status is OK
	Fixable bool   // `tapbot doctor --fix` can make the change

	change *Change // what Plan makes of a fixable item
}

// Report is the outcome of Check, in a fixed order.
type Report struct {
	Items []Item
}

// Failed reports whether any item failed.
func (r Report) Failed() bool {
	return slices.ContainsFunc(r.Items, func(it Item) bool { return it.Status == Fail })
}

// Count returns how many items have status s.
func (r Report) Count(s Status) int {
	n := 0
	for _, it := range r.Items {
		if it.Status == s {
			n++
		}
	}
	return n
}

// Item returns the item with id, if the report has one.
func (r Report) Item(id string) (Item, bool) {
	i := slices.IndexFunc(r.Items, func(it Item) bool { return it.ID == id })
	if i < 0 {
		return Item{}, false
	}
	return r.Items[i], true
}

// Facts is what Gather reads from the tenant and Evaluate decides on. A field's error
// says that reading it failed.
type Facts struct {
	TAP              graph.TAPPolicy
	TAPErr           error
	Authenticator    graph.AuthenticatorPolicy
	AuthenticatorErr error
	Roles            []string // application permissions in tapbot's Graph token
	RolesErr         error
	Groups           map[string]GroupFact // by lower-case group id
	// ApproversRef is the answer to reading the approvers' conversation reference:
	// nil when stored; ErrNotChecked when there was nothing to read it with.
	ApproversRef error
	Devices      DeviceFacts // Intune (devices.go)
}

// ErrNotChecked is a fact that was not read (no store to read it from).
var ErrNotChecked = errors.New("doctor: not checked")

// GroupFact is the answer to reading one configured group.
type GroupFact struct {
	Group graph.Group
	Err   error
}

// Check reads the tenant and evaluates it.
func Check(ctx context.Context, r Reader, cfg Config) Report {
	return Evaluate(Gather(ctx, r, cfg), cfg)
}

// Gather reads what the checks need: both policies, the granted permissions, the
// approvers' conversation reference, Intune's device settings and every group the
// configuration names. Failures are recorded, not returned: each
// becomes a finding.
func Gather(ctx context.Context, r Reader, cfg Config) Facts {
	var f Facts
	f.TAP, f.TAPErr = r.TAPPolicy(ctx)
	f.Authenticator, f.AuthenticatorErr = r.AuthenticatorPolicy(ctx)
	f.Roles, f.RolesErr = r.GrantedRoles(ctx)
	f.ApproversRef = ErrNotChecked
	if cfg.ApproversConversation != "" && cfg.Conversations != nil {
		_, f.ApproversRef = cfg.Conversations.Reference(ctx, cfg.ApproversConversation)
	}
	f.Devices = gatherDevices(ctx, r, f.Roles, f.RolesErr)
	f.Groups = map[string]GroupFact{}
	for _, kind := range groupKinds(cfg) {
		for _, id := range kind.ids {
			key := strings.ToLower(id)
			if _, done := f.Groups[key]; done {
				continue
			}
			g, err := r.Group(ctx, id)
			f.Groups[key] = GroupFact{Group: g, Err: err}
		}
	}
	return f
}

// Evaluate decides on facts. It is a pure function.
func Evaluate(f Facts, cfg Config) Report {
	var items []Item
	items = append(items, checkRegistration(cfg))
	items = append(items, checkPermissions(f, cfg)...)
	items = append(items, checkTAP(f, cfg)...)
	items = append(items, checkAuthenticator(f, cfg)...)
	items = append(items, checkGroups(f, cfg)...)
	if len(cfg.ApproverGroups) > 0 {
		items = append(items, checkApproversConversation(f, cfg))
	}
	if cfg.VerifyOff {
		items = append(items, verifyOff())
	}
	items = append(items, checkDevices(f)...)
	return Report{Items: items}
}

// verifyOff warns that nobody confirms a pass for an established account: a caller
// posing as an employee needs to convince one helpdesk member only.
func verifyOff() Item {
	return Item{ID: "tap.verify", Title: "A second person confirms passes for established accounts", Status: Warn,
		Detail: "TAPBOT_TAP_VERIFY is off: one helpdesk member's word is enough for a pass for any account, which is what callers posing as employees rely on.",
		Fix:    "Unset TAPBOT_TAP_VERIFY (default target,manager,helpdesk), or name the paths you want."}
}

// Change is a change to the tenant that tapbot can make.
type Change struct {
	ID          string   // ChangeTAPEnable, …; the audit log's reason
	Description string   // plain words, with group names
	Groups      []string // group ids the change adds to a policy's targets
}

// The changes tapbot can make.
const (
	ChangeTAPEnable            = "tap.enable"
	ChangeTAPTargets           = "tap.add-targets"
	ChangeAuthenticatorEnable  = "authenticator.enable"
	ChangeAuthenticatorTargets = "authenticator.add-targets"
)

// Plan lists the changes that fix the report's fixable items, in report order. It
// is a pure function of the report.
func Plan(r Report) []Change {
	var out []Change
	for _, it := range r.Items {
		if it.Fixable && it.change != nil {
			c := *it.change
			c.Groups = slices.Clone(c.Groups)
			out = append(out, c)
		}
	}
	return out
}

// Result is the outcome of one change.
type Result struct {
	Change
	Done        bool  // the tenant was changed
	AlreadyDone bool  // the policy already was as the change wants it: nothing sent
	Err         error // the change failed; the tenant is as it was for it
}

// Apply makes the changes. Each policy is read again just before it is changed, so
// that changes made since the check are not overwritten, and changed with one
// update for all of its changes. The results are in the order of changes.
func Apply(ctx context.Context, w Writer, changes []Change) []Result {
	results := make([]Result, len(changes))
	var tap, authr []int
	for i, c := range changes {
		results[i].Change = c
		switch c.ID {
		case ChangeTAPEnable, ChangeTAPTargets:
			tap = append(tap, i)
		case ChangeAuthenticatorEnable, ChangeAuthenticatorTargets:
			authr = append(authr, i)
		default:
			results[i].Err = fmt.Errorf("doctor: unknown change %q", c.ID)
		}
	}
	if len(tap) > 0 {
		applyTAP(ctx, w, results, tap)
	}
	if len(authr) > 0 {
		applyAuthenticator(ctx, w, results, authr)
	}
	return results
}

func applyTAP(ctx context.Context, w Writer, results []Result, idx []int) {
	p, err := w.TAPPolicy(ctx)
	if err != nil {
		setErr(results, idx, fmt.Errorf("read the TAP policy: %w", err))
		return
	}
	var changed []int
	for _, i := range idx {
		if mutateTAP(&p, results[i].Change) {
			changed = append(changed, i)
		} else {
			results[i].AlreadyDone = true
		}
	}
	if len(changed) == 0 {
		return
	}
	if err := w.UpdateTAPPolicy(ctx, p); err != nil {
		setErr(results, changed, fmt.Errorf("update the TAP policy: %w", err))
		return
	}
	for _, i := range changed {
		results[i].Done = true
	}
}

func applyAuthenticator(ctx context.Context, w Writer, results []Result, idx []int) {
	p, err := w.AuthenticatorPolicy(ctx)
	if err != nil {
		setErr(results, idx, fmt.Errorf("read the Authenticator policy: %w", err))
		return
	}
	var changed []int
	for _, i := range idx {
		if mutateAuthenticator(&p, results[i].Change) {
			changed = append(changed, i)
		} else {
			results[i].AlreadyDone = true
		}
	}
	if len(changed) == 0 {
		return
	}
	if err := w.UpdateAuthenticatorPolicy(ctx, p); err != nil {
		setErr(results, changed, fmt.Errorf("update the Authenticator policy: %w", err))
		return
	}
	for _, i := range changed {
		results[i].Done = true
	}
}

func setErr(results []Result, idx []int, err error) {
	for _, i := range idx {
		results[i].Err = err
	}
}

// mutateTAP applies c to p and reports whether p changed.
func mutateTAP(p *graph.TAPPolicy, c Change) bool {
	switch c.ID {
	case ChangeTAPEnable:
		if p.Enabled {
			return false
		}
		p.Enabled = true
		return true
	case ChangeTAPTargets:
		if containsID(p.IncludeTargets, graph.AllUsers) {
			return false
		}
		changed := false
		for _, g := range c.Groups {
			if !containsID(p.IncludeTargets, g) {
				p.IncludeTargets = append(p.IncludeTargets, g)
				changed = true
			}
		}
		return changed
	}
	return false
}

// mutateAuthenticator applies c to p and reports whether p changed. A group already
// targeted in push mode is switched to any: push alone leaves phone sign-in off.
func mutateAuthenticator(p *graph.AuthenticatorPolicy, c Change) bool {
	switch c.ID {
	case ChangeAuthenticatorEnable:
		if p.Enabled {
			return false
		}
		p.Enabled = true
		return true
	case ChangeAuthenticatorTargets:
		changed := false
		for _, g := range c.Groups {
			if passwordlessFor(p.Targets, g) {
				continue
			}
			i := slices.IndexFunc(p.Targets, func(t graph.AuthenticatorTarget) bool { return strings.EqualFold(t.ID, g) })
			if i >= 0 {
				p.Targets[i].Mode = graph.AuthenticatorAny
			} else {
				p.Targets = append(p.Targets, graph.AuthenticatorTarget{ID: g, Mode: graph.AuthenticatorAny})
			}
			changed = true
		}
		return changed
	}
	return false
}

// passwordlessFor reports whether a target for group g (or for all users) allows
// phone sign-in.
func passwordlessFor(targets []graph.AuthenticatorTarget, g string) bool {
	return slices.ContainsFunc(targets, func(t graph.AuthenticatorTarget) bool {
		return (t.ID == graph.AllUsers || strings.EqualFold(t.ID, g)) && t.Passwordless()
	})
}

func containsID(ids []string, id string) bool {
	return slices.ContainsFunc(ids, func(x string) bool { return strings.EqualFold(x, id) })
}

// explain turns a failed read into a status and words. Graph's own message is left
// out (it can name objects); the code and request id let someone find the call in
// tapbot's log and in Microsoft's.
func explain(err error, what, permission string) (Status, string) {
	ref := ""
	var ge *graph.Error
	if errors.As(err, &ge) {
		ref = fmt.Sprintf(" (Graph: %d %s, request id %s)", ge.Status, ge.Code, ge.RequestID)
	}
	switch {
	case errors.Is(err, graph.ErrForbidden):
		return Fail, fmt.Sprintf("tapbot is not allowed to read %s: its app lacks %s.%s", what, permission, ref)
	case errors.Is(err, graph.ErrUnauthorized):
		return Fail, fmt.Sprintf("Microsoft Graph did not accept tapbot's token when reading %s: check the app id, tenant id and credential.%s", what, ref)
	case errors.Is(err, graph.ErrThrottled), errors.Is(err, graph.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return Warn, fmt.Sprintf("Microsoft Graph is busy or unavailable, so %s could not be checked; run the check again in a minute.%s", what, ref)
	}
	return Warn, fmt.Sprintf("%s could not be read, so it was not checked%s.", upper(what), orRef(ref, err))
}

func orRef(ref string, err error) string {
	if ref != "" {
		return ref
	}
	return ": " + short(err)
}

// maxErrText bounds an error quoted in a finding: credential errors carry whole HTTP
// answers, which belong in the log, not on a card.
const maxErrText = 300

func short(err error) string {
	s := strings.Join(strings.Fields(err.Error()), " ")
	if len(s) <= maxErrText {
		return s
	}
	cut := maxErrText
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func upper(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// Mark is the status as one symbol: ✓, ! or ✗.
func (s Status) Mark() string {
	switch s {
	case OK:
		return "✓"
	case Warn:
		return "!"
	}
	return "✗"
}

// Summary counts the findings, worst first: "1 problem, 2 warnings, 11 checks passed."
func (r Report) Summary() string {
	var parts []string
	for _, c := range []struct {
		s          Status
		one, other string
	}{{Fail, "problem", "problems"}, {Warn, "warning", "warnings"}, {OK, "check passed", "checks passed"}} {
		if n := r.Count(c.s); n > 0 {
			word := c.other
			if n == 1 {
				word = c.one
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, word))
		}
	}
	if len(parts) == 0 {
		return "Nothing was checked."
	}
	return strings.Join(parts, ", ") + "."
}
