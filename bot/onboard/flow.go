package onboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"
	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/bot/command"
	"github.com/tapbot/tapbot/bot/membership"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/store"
	"github.com/tapbot/tapbot/internal/ttlcache"
	"go.uber.org/zap"
)

// Directory is what the onboarding flow needs from Microsoft Graph.
type Directory interface {
	User(ctx context.Context, ref string) (graph.User, error)
	Group(ctx context.Context, id string) (graph.Group, error)
	CheckMemberGroups(ctx context.Context, userID string, groupIDs []string) ([]string, error)
	UPNAvailable(ctx context.Context, upn string) (bool, error)
	Domains(ctx context.Context) ([]graph.Domain, error)
	SubscribedSKUs(ctx context.Context) ([]graph.SKU, error)
	CreateUser(ctx context.Context, nu graph.NewUser) (graph.User, error)
	SetUsageLocation(ctx context.Context, userID, country string) error
	AssignLicense(ctx context.Context, userID, skuID string) error
	SetManager(ctx context.Context, userID, managerID string) error
	AddGroupMember(ctx context.Context, groupID, userID string) error
	Joiners(ctx context.Context, from, to time.Time) ([]graph.Joiner, error)
	Manager(ctx context.Context, userID string) (graph.User, error)
}

// Messenger sends and updates messages through the Bot Connector.
type Messenger interface {
	SendToConversation(ctx context.Context, serviceURL, conversationID string, a schema.Activity) (string, error)
	UpdateActivity(ctx context.Context, serviceURL, conversationID, activityID string, a schema.Activity) error
}

// Store is the durable state the flow reads and writes.
type Store interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) (int64, error)
	Reference(ctx context.Context, conversationID string) (store.Reference, error)
	PersonalReference(ctx context.Context, tenantID, userAADObjectID string) (store.Reference, error)
	CreateOnboard(ctx context.Context, r store.OnboardRequest) error
	Onboard(ctx context.Context, id string) (store.OnboardRequest, error)
	UpdateOnboard(ctx context.Context, r store.OnboardRequest) (store.OnboardRequest, error)
	Onboards(ctx context.Context, f store.OnboardFilter) ([]store.OnboardRequest, error)
	ScheduleJob(ctx context.Context, j store.Job) (bool, error)
	ClaimJobs(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]store.Job, error)
	CompleteJob(ctx context.Context, id string, at time.Time) error
	RescheduleJob(ctx context.Context, id string, dueAt time.Time) error
}

// Config configures the flow.
type Config struct {
	// ApproverGroups: members (transitive) may approve, reject and retry requests.
	ApproverGroups []string
	// ApproversConversation is the conversation id (usually a team channel) the
	// approval cards are posted to; its reference must be stored (tapbot installed there).
	ApproversConversation string
	// OnboardingGroups are added to every new user (the group the TAP and
	// Authenticator policies target).
	OnboardingGroups []string
	// AllowedGroups are the groups the form offers.
	AllowedGroups []string
	// DefaultUsageLocation pre-fills the form (ISO 3166-1 alpha-2).
	DefaultUsageLocation string
	// Location is the organisation's time zone: "today" for the start date (default UTC).
	Location *time.Location
	// PeoplePicker asks for the manager with the Teams people picker.
	PeoplePicker bool
	// HelpdeskConversation is the conversation id (a channel) that gets "New hire X
	// starts today" with an Issue TAP button on the start date; "" turns it off.
	HelpdeskConversation string
	// Checklist, if set, starts the new hire's set-up checklist once the account is
	// ready (bot/checklist.Flow).
	Checklist interface {
		Begin(ctx context.Context, userID, upn, managerID, requestID string, noSmartphone bool) error
	}
	// HelpdeskGroups: members (transitive) may list the upcoming joiners (/joiners).
	HelpdeskGroups []string
	// JoinerGroups turn on joiners from employeeHireDate: users in these groups or in
	// OnboardingGroups who start within JoinerLookahead are taken on once each.
	JoinerGroups    []string
	JoinerLookahead time.Duration // default 7 days
	JoinerInterval  time.Duration // how often this process looks (default 1h)
	// StartDayTAPTo is StartDayTAPToHelpdesk (the Issue TAP card, default) or
	// StartDayTAPToManager: the pass itself to the manager's 1:1 chat.
	StartDayTAPTo string
	// StartDayTAPAt is when on the start day the manager's pass becomes valid, local
	// time (default 08:00); StartDayTAPLifetime how long it lives (0: the policy's
	// default).
	StartDayTAPAt       ClockTime
	StartDayTAPLifetime time.Duration
	// Passes issues the manager's pass (bot/tap.Flow).
	Passes interface {
		IssueScheduled(ctx context.Context, p bot.ScheduledPass) (graph.TAP, error)
	}
	StartDayHour int           // local hour of the start-day card (default 8)
	CacheTTL     time.Duration // approver membership and group names (default 5m)
	Now          func() time.Time
}

// Flow is the onboarding flow: /onboard, the form's submit, approval and provisioning.
type Flow struct {
	cfg   Config
	off   bool // no approvers configured
	dir   Directory
	msg   Messenger
	store Store
	log   *zap.Logger

	members *membership.Checker

	groups *ttlcache.Cache[string, string] // group id → display name

	running sync.Map // request ids being provisioned by this process

	nextDiscovery time.Time // joiner discovery; only the job runner's goroutine uses it
}

// Where the start-day pass goes (TAPBOT_STARTDAY_TAP_TO).
const (
	StartDayTAPToHelpdesk = "helpdesk"
	StartDayTAPToManager  = "manager"
)

// ClockTime is a time of day. Build it with At: its zero value means "not set", so
// that midnight (At(0, 0)) stays different from no setting at all.
type ClockTime struct {
	Hour, Minute int
	set          bool
}

// At is the time of day hour:minute.
func At(hour, minute int) ClockTime { return ClockTime{Hour: hour, Minute: minute, set: true} }

// IsSet reports whether t was given (At), as opposed to left zero.
func (t ClockTime) IsSet() bool { return t.set }

const maxCached = 10000

// New builds the flow.
func New(cfg Config, dir Directory, msg Messenger, st Store, log *zap.Logger) (*Flow, error) {
	// Without approvers the flow is off: its commands stay registered (so /help
	// matches the app manifest) and say how to turn it on.
	off := len(cfg.ApproverGroups) == 0 && cfg.ApproversConversation == ""
	if !off && len(cfg.ApproverGroups) == 0 {
		return nil, errors.New("onboard: an approvers' conversation is configured but no approver group")
	}
	if !off && cfg.ApproversConversation == "" {
		return nil, errors.New("onboard: approver groups are configured but no approvers' conversation id")
	}
	if cfg.DefaultUsageLocation != "" && !IsCountryCode(strings.ToUpper(cfg.DefaultUsageLocation)) {
		return nil, fmt.Errorf("onboard: default usage location %q is not an ISO 3166 country code", cfg.DefaultUsageLocation)
	}
	cfg.DefaultUsageLocation = strings.ToUpper(cfg.DefaultUsageLocation)
	if cfg.Location == nil {
		cfg.Location = time.UTC
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = 5 * time.Minute
	}
	if cfg.JoinerLookahead <= 0 {
		cfg.JoinerLookahead = 7 * 24 * time.Hour
	}
	if cfg.JoinerInterval <= 0 {
		cfg.JoinerInterval = time.Hour
	}
	if cfg.StartDayTAPTo == "" {
		cfg.StartDayTAPTo = StartDayTAPToHelpdesk
	}
	if cfg.StartDayTAPTo != StartDayTAPToHelpdesk && cfg.StartDayTAPTo != StartDayTAPToManager {
		return nil, fmt.Errorf("onboard: start-day pass to %q: want helpdesk or manager", cfg.StartDayTAPTo)
	}
	if cfg.StartDayTAPTo == StartDayTAPToManager && cfg.Passes == nil {
		return nil, errors.New("onboard: the start-day pass goes to the manager but no pass issuer is configured")
	}
	if !cfg.StartDayTAPAt.IsSet() {
		cfg.StartDayTAPAt = At(8, 0)
	}
	if cfg.StartDayHour <= 0 || cfg.StartDayHour > 23 {
		cfg.StartDayHour = 8
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Flow{cfg: cfg, off: off, dir: dir, msg: msg, store: st, log: log,
		members: membership.New(dir, cfg.CacheTTL, cfg.Now), groups: ttlcache.New[string, string](cfg.CacheTTL, maxCached, cfg.Now)}, nil
}

// The verbs of the request card's buttons, which cards.OnboardSummary puts on it.
const (
	VerbApprove = cards.OnboardApproveVerb
	VerbReject  = cards.OnboardRejectVerb
	VerbRetry   = cards.OnboardRetryVerb
	VerbRepost  = cards.OnboardRepostVerb
	VerbCancel  = cards.OnboardCancelVerb
)

// Register adds /onboard and the card actions to the bot.
func (f *Flow) Register(h *bot.Handler) {
	h.HandleCommand(bot.Command{
		Name: "onboard", Usage: "/onboard", Scopes: []store.Scope{store.ScopePersonal},
		Description: "Request an account for a new hire (a form; approvers approve it).",
		Run:         f.onOnboard,
	})
	h.HandleCommand(bot.Command{
		Name: "requests", Usage: "/requests", Scopes: []store.Scope{store.ScopePersonal},
		Description: "Your open onboarding requests, and for approvers the ones waiting for them.",
		Run:         f.onRequests,
	})
	h.HandleCommand(bot.Command{
		Name: "joiners", Usage: "/joiners", Scopes: []store.Scope{store.ScopePersonal}, ReadOnly: true,
		Description: "List the joiners an HR system created who start soon (helpdesk).",
		Run:         f.onJoiners,
	})
	guard := func(fn bot.ActionFunc) bot.ActionFunc {
		return func(ctx context.Context, t *bot.Turn, d map[string]any) (*cards.Card, error) {
			if f.off {
				return notice("Onboarding is not set up", offText), nil
			}
			return fn(ctx, t, d)
		}
	}
	h.HandleAction(SubmitVerb, guard(f.onSubmit))
	h.HandleAction(VerbApprove, guard(func(ctx context.Context, t *bot.Turn, d map[string]any) (*cards.Card, error) {
		return f.onDecide(ctx, t, d, true)
	}))
	h.HandleAction(VerbReject, guard(func(ctx context.Context, t *bot.Turn, d map[string]any) (*cards.Card, error) {
		return f.onDecide(ctx, t, d, false)
	}))
	h.HandleAction(VerbRetry, guard(f.onRetry))
	h.HandleAction(VerbRepost, guard(func(ctx context.Context, t *bot.Turn, d map[string]any) (*cards.Card, error) {
		return f.onUnposted(ctx, t, d, true)
	}))
	h.HandleAction(VerbCancel, guard(func(ctx context.Context, t *bot.Turn, d map[string]any) (*cards.Card, error) {
		return f.onUnposted(ctx, t, d, false)
	}))
}

// record is what the store keeps of a request besides its state (OnboardRequest.Form):
// the validated form, names for the cards, and where its cards are. Never a password.
type record struct {
	Request       Request  `json:"request"`
	ManagerID     string   `json:"managerId"`
	ManagerName   string   `json:"managerName"`
	LicenceName   string   `json:"licenceName,omitempty"`
	GroupNames    []string `json:"groupNames,omitempty"`
	RequesterName string   `json:"requesterName"`
	DeciderName   string   `json:"deciderName,omitempty"`

	// The requester's 1:1 chat (the form was sent there) and the card in it.
	TenantID          string `json:"tenantId"`
	ServiceURL        string `json:"serviceUrl"`
	BotID             string `json:"botId"`
	RequesterConv     string `json:"requesterConv"`
	RequesterActivity string `json:"requesterActivity,omitempty"`
	// The approval card in the approvers' conversation.
	ApproversActivity string `json:"approversActivity,omitempty"`
	// ApprovalUnposted: the approval card could not be posted, so no approver can see
	// the request; its requester may post it again or cancel it, once.
	ApprovalUnposted bool `json:"approvalUnposted,omitempty"`
}

func decodeRecord(r store.OnboardRequest) (record, error) {
	var rec record
	if err := json.Unmarshal(r.Form, &rec); err != nil {
		return record{}, fmt.Errorf("onboard: request %s: decode form: %w", r.ID, err)
	}
	return rec, nil
}

func (rec record) encode() []byte {
	raw, _ := json.Marshal(rec) // plain strings and times: cannot fail
	return raw
}

// onOnboard sends the form. Reading domains, licences and groups takes Graph round
// trips, so it runs after the acknowledgement.
func (f *Flow) onOnboard(ctx context.Context, t *bot.Turn, _ command.Command) error {
	if f.off {
		return t.ReplyText(ctx, offText)
	}
	t.Later(func(ctx context.Context) {
		a := t.Activity()
		fx, err := f.facts(ctx)
		if err != nil {
			t.Log().Error("onboard form facts", zap.Error(err))
			_ = t.ReplyText(ctx, explain(err, t.RequestID()))
			return
		}
		manager, people, err := f.requesterAsManager(ctx, a.From.AadObjectID)
		if err != nil {
			t.Log().Error("onboard form requester", zap.Error(err))
			_ = t.ReplyText(ctx, explain(err, t.RequestID()))
			return
		}
		v := cards.OnboardValues{UsageLocation: f.cfg.DefaultUsageLocation, Manager: manager}
		card := cards.OnboardForm(f.formView(t.RequestID(), v, nil, fx, people))
		if err := t.ReplyCard(ctx, card); err != nil {
			t.Log().Error("send onboard form", zap.Error(err))
		}
	})
	return nil
}

// requesterAsManager is the form's first manager, the requester, as a person rather
// than an object id: the people picker pre-selects them by id and shows the title of
// the choice with that id; the text field shows their sign-in name, which validation
// resolves to the id again.
func (f *Flow) requesterAsManager(ctx context.Context, id string) (string, []cards.Choice, error) {
	me, err := f.dir.User(ctx, id)
	if err != nil {
		return "", nil, fmt.Errorf("look up requester: %w", err)
	}
	if !f.cfg.PeoplePicker {
		return me.UserPrincipalName, nil, nil
	}
	return me.ID, []cards.Choice{{Title: me.DisplayName, Value: me.ID}}, nil
}

// offText answers the flow's commands when no approvers are configured.
const offText = "Onboarding requests are not set up here: an admin must configure the approvers (TAPBOT_APPROVER_GROUPS and TAPBOT_APPROVERS_CONVERSATION)."

// tenantFacts are what the form offers and validation checks against.
type tenantFacts struct {
	domains []string
	skus    []graph.SKU
	groups  []cards.Choice
}

func (f *Flow) facts(ctx context.Context) (tenantFacts, error) {
	var fx tenantFacts
	ds, err := f.dir.Domains(ctx)
	if err != nil {
		return fx, fmt.Errorf("list domains: %w", err)
	}
	for _, d := range ds {
		if !d.IsVerified {
			continue
		}
		if d.IsDefault {
			fx.domains = append([]string{strings.ToLower(d.ID)}, fx.domains...)
		} else {
			fx.domains = append(fx.domains, strings.ToLower(d.ID))
		}
	}
	if fx.skus, err = f.dir.SubscribedSKUs(ctx); err != nil {
		return fx, fmt.Errorf("list licences: %w", err)
	}
	for _, id := range f.cfg.AllowedGroups {
		name, err := f.groupName(ctx, id)
		if err != nil {
			return fx, err
		}
		fx.groups = append(fx.groups, cards.Choice{Title: name, Value: strings.ToLower(id)})
	}
	return fx, nil
}

func (f *Flow) groupName(ctx context.Context, id string) (string, error) {
	return f.groups.Load(id, func() (string, error) {
		g, err := f.dir.Group(ctx, id)
		if err != nil {
			return "", fmt.Errorf("group %s: %w", id, err)
		}
		if g.DisplayName == "" {
			return id, nil
		}
		return g.DisplayName, nil
	})
}

func (fx tenantFacts) freeLicences() map[string]int {
	m := map[string]int{}
	for _, s := range fx.skus {
		m[strings.ToLower(s.ID)] = s.Free()
	}
	return m
}

func (fx tenantFacts) licenceOptions() []cards.LicenceOption {
	var out []cards.LicenceOption
	for _, s := range fx.skus {
		if s.Free() > 0 {
			out = append(out, cards.LicenceOption{SKUID: strings.ToLower(s.ID), Name: skuName(s.PartNumber), Free: s.Free()})
		}
	}
	return out
}

func (fx tenantFacts) licenceName(id string) string {
	for _, s := range fx.skus {
		if strings.EqualFold(s.ID, id) {
			return skuName(s.PartNumber)
		}
	}
	return id
}

// skuNames are the product names of common SKUs' part numbers.
var skuNames = map[string]string{
	"AAD_PREMIUM":           "Microsoft Entra ID P1",
	"AAD_PREMIUM_P2":        "Microsoft Entra ID P2",
	"SPE_E3":                "Microsoft 365 E3",
	"SPE_E5":                "Microsoft 365 E5",
	"ENTERPRISEPACK":        "Office 365 E3",
	"O365_BUSINESS_PREMIUM": "Microsoft 365 Business Standard",
	"SPB":                   "Microsoft 365 Business Premium",
}

func skuName(part string) string {
	if n, ok := skuNames[part]; ok {
		return n
	}
	return part
}

func (f *Flow) today() time.Time {
	n := f.cfg.Now().In(f.cfg.Location)
	return time.Date(n.Year(), n.Month(), n.Day(), 0, 0, 0, 0, time.UTC)
}

func (f *Flow) formView(requestID string, v cards.OnboardValues, errs map[string]string, fx tenantFacts, people []cards.Choice) cards.OnboardFormView {
	return cards.OnboardFormView{
		RequestID: requestID, Values: v, Errors: errs, Domains: fx.domains, Licences: fx.licenceOptions(),
		Groups: fx.groups, PeoplePicker: f.cfg.PeoplePicker, People: people,
		MinStartDate: f.today().Format(dateLayout),
	}
}

// valuesOf shows a request in the form's or summary's fields.
func valuesOf(r Request) cards.OnboardValues {
	return cards.OnboardValues{
		GivenName: r.GivenName, Surname: r.Surname, DisplayName: r.DisplayName, MailNickname: r.MailNickname,
		Domain: r.Domain, JobTitle: r.JobTitle, Department: r.Department, OfficeLocation: r.OfficeLocation,
		UsageLocation: r.UsageLocation, StartDate: r.StartDateString(), Manager: r.Manager, Licence: r.Licence,
		Groups: r.Groups, NoSmartphone: r.HasSmartphone == No, Notes: r.Notes,
	}
}

// isApprover checks membership of an approver group, cached for CacheTTL.
func (f *Flow) isApprover(ctx context.Context, userID string) (bool, error) {
	return f.members.IsMember(ctx, userID, f.cfg.ApproverGroups)
}

func (f *Flow) audit(ctx context.Context, e store.AuditEntry) {
	if _, err := f.store.AppendAudit(ctx, e); err != nil {
		f.log.Error("audit append failed", zap.String("action", string(e.Action)), zap.String("outcome", string(e.Outcome)), zap.Error(err))
	}
}

// mutate re-reads request id and applies change until the compare-and-set succeeds.
// change returns an error to give up (the request is no longer in a state it applies
// to); it is called on a fresh copy each time.
func (f *Flow) mutate(ctx context.Context, id string, change func(*store.OnboardRequest) error) (store.OnboardRequest, error) {
	for range 8 {
		r, err := f.store.Onboard(ctx, id)
		if err != nil {
			return store.OnboardRequest{}, err
		}
		if err := change(&r); err != nil {
			return r, err
		}
		r.UpdatedAt = f.cfg.Now() // the flow's clock: staleness is judged by it
		out, err := f.store.UpdateOnboard(ctx, r)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		return out, err
	}
	return store.OnboardRequest{}, fmt.Errorf("onboard: request %s: too many concurrent updates: %w", id, store.ErrConflict)
}

// conv is a conversation tapbot can message.
type conv struct{ serviceURL, id, tenantID, botID string }

func (c conv) activity(a schema.Activity) schema.Activity {
	return bot.Addressed(a, store.Reference{ConversationID: c.id, TenantID: c.tenantID, ServiceURL: c.serviceURL, BotID: c.botID})
}

func cardActivity(c cards.Card) schema.Activity {
	raw, _ := json.Marshal(c) // typed values only
	return bot.CardActivity(raw)
}

func (rec record) requesterConv() conv {
	return conv{serviceURL: rec.ServiceURL, id: rec.RequesterConv, tenantID: rec.TenantID, botID: rec.BotID}
}

func (f *Flow) approversConv(ctx context.Context) (conv, error) {
	ref, err := f.store.Reference(ctx, f.cfg.ApproversConversation)
	if err != nil {
		return conv{}, fmt.Errorf("approvers' conversation %s: %w", f.cfg.ApproversConversation, err)
	}
	return conv{serviceURL: ref.ServiceURL, id: ref.ConversationID, tenantID: ref.TenantID, botID: ref.BotID}, nil
}

// tellRequester sends the requester a text in their 1:1 chat with tapbot.
func (f *Flow) tellRequester(ctx context.Context, rec record, text string) {
	c := rec.requesterConv()
	if c.id == "" {
		return
	}
	a := c.activity(schema.Activity{Type: schema.Message, Text: text, TextFormat: schema.PLAIN})
	if _, err := f.msg.SendToConversation(ctx, c.serviceURL, c.id, a); err != nil {
		f.log.Error("note to requester failed", zap.Error(err))
	}
}

// refreshCards shows the request's current state on the requester's card and on the
// approval card, for everyone who sees them.
func (f *Flow) refreshCards(ctx context.Context, req store.OnboardRequest, rec record) {
	if rec.ApproversActivity != "" {
		if c, err := f.approversConv(ctx); err != nil {
			f.log.Error("approval card not updated", zap.Error(err))
		} else if err := f.msg.UpdateActivity(ctx, c.serviceURL, c.id, rec.ApproversActivity, c.activity(cardActivity(f.summary(req, rec, true)))); err != nil {
			f.log.Error("approval card not updated", zap.String("request", req.ID), zap.Error(err))
		}
	}
	if rec.RequesterActivity != "" {
		c := rec.requesterConv()
		if err := f.msg.UpdateActivity(ctx, c.serviceURL, c.id, rec.RequesterActivity, c.activity(cardActivity(f.summary(req, rec, false)))); err != nil {
			f.log.Error("requester's card not updated", zap.String("request", req.ID), zap.Error(err))
		}
	}
}

// status words the request's state for its cards.
func status(req store.OnboardRequest, rec record) string {
	by := rec.DeciderName
	if by == "" {
		by = req.DeciderID
	}
	switch req.State {
	case store.OnboardSubmitted:
		return "Waiting for approval"
	case store.OnboardRejected:
		s := "Rejected by " + by
		if req.Decision != "" {
			s += ": " + req.Decision
		}
		return s
	case store.OnboardApproved, store.OnboardProvisioning:
		return "Approved by " + by + ". Creating the account…"
	case store.OnboardFailed:
		return "Approved by " + by + ". Creating the account stopped: " + req.Error
	case store.OnboardDone:
		return "Done: the account " + rec.Request.UPN() + " is ready (approved by " + by + ")."
	}
	return req.State
}

// summary is the read-only card of a request with the buttons that apply in its
// state: for approvers, Approve and Reject while submitted and Retry when failed; for
// the requester, Send again and Cancel while no approver could be shown it.
func (f *Flow) summary(req store.OnboardRequest, rec record, forApprovers bool) cards.Card {
	v := cards.OnboardSummaryView{
		RequestID: req.ID, Status: status(req, rec), RequestedBy: rec.RequesterName, Submitted: req.CreatedAt,
		Values: valuesOf(rec.Request), ManagerName: rec.ManagerName, LicenceName: rec.LicenceName,
		Times: cards.ViewerTimes(),
	}
	if len(rec.GroupNames) > 0 {
		v.GroupNames = rec.GroupNames
	}
	switch {
	case !forApprovers && req.State == store.OnboardSubmitted && rec.ApprovalUnposted:
		v.Buttons = cards.OnboardUnposted
	case forApprovers && req.State == store.OnboardSubmitted:
		v.Buttons = cards.OnboardDecide
	case forApprovers && req.State == store.OnboardFailed:
		v.Buttons = cards.OnboardRetry
	}
	return cards.OnboardSummary(v)
}

// explain turns a Graph failure into words; the details stay in the log.
func explain(err error, requestID string) string {
	return graph.Explain(err) + " Reference: " + requestID
}

func notice(title, text string) *cards.Card {
	c := cards.Notice(title, text)
	return &c
}
