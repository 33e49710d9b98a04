package onboard

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/cards"
	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// onSubmit validates the form. Errors: the form comes back with them beside the
// fields and the values kept. Valid: the request is stored (once: the request id is
// the key, so redeliveries and double clicks find it), the requester's card becomes
// its summary and the approvers get a card with Approve and Reject.
func (f *Flow) onSubmit(ctx context.Context, t *bot.Turn, data map[string]any) (*cards.Card, error) {
	a := t.Activity()
	from := a.From.AadObjectID
	r, err := ParseSubmission(data)
	if err != nil {
		t.Log().Warn("onboard submission refused", zap.Error(err))
		return notice("That form is not valid", "Start again with /onboard."), nil
	}
	if card, done, err := f.alreadySubmitted(ctx, r.RequestID, from); done || err != nil {
		return card, err
	}

	r, newNickname := ApplySuggestions(r)
	fx, err := f.facts(ctx)
	if err != nil {
		return nil, err
	}
	var lookupErr error
	taken := map[string]bool{}
	upnTaken := func(upn string) bool {
		if v, ok := taken[upn]; ok {
			return v
		}
		if lookupErr != nil {
			return false
		}
		free, err := f.dir.UPNAvailable(ctx, upn)
		if err != nil {
			lookupErr = err
			return false
		}
		taken[upn] = !free
		return !free
	}
	errs := Validate(r, Facts{VerifiedDomains: fx.domains, FreeLicences: fx.freeLicences(),
		AllowedGroups: f.cfg.AllowedGroups, UPNTaken: upnTaken}, f.cfg.Now().In(f.cfg.Location))
	if lookupErr != nil {
		return nil, fmt.Errorf("check UPN: %w", lookupErr)
	}

	manager, err := f.checkManager(ctx, r, errs)
	if err != nil {
		return nil, err
	}
	if len(errs) == 0 && newNickname {
		errs[""] = "I've suggested the user name below. Check and change it if needed, then send the request again."
	}
	if len(errs) > 0 {
		return f.resend(r, errs, fx, manager), nil
	}

	requester, err := f.dir.User(ctx, from)
	if err != nil {
		return nil, fmt.Errorf("look up requester: %w", err)
	}
	r.Manager = manager.ID // a sign-in name typed without the picker, resolved
	rec := record{
		Request: r, ManagerID: manager.ID, ManagerName: manager.DisplayName, RequesterName: requester.DisplayName,
		TenantID: a.Conversation.TenantID, ServiceURL: a.ServiceURL, BotID: a.Recipient.ID,
		RequesterConv: a.Conversation.ID, RequesterActivity: a.ReplyToID,
	}
	if r.Licence != "" {
		rec.LicenceName = fx.licenceName(r.Licence)
	}
	for _, g := range r.Groups {
		for _, c := range fx.groups {
			if strings.EqualFold(c.Value, g) {
				rec.GroupNames = append(rec.GroupNames, c.Title)
			}
		}
	}
	req := store.OnboardRequest{ID: r.RequestID, State: store.OnboardSubmitted, RequesterID: from,
		RequesterUPN: requester.UserPrincipalName, Form: rec.encode(), StartDate: r.StartDate}
	if err := f.store.CreateOnboard(ctx, req); err != nil {
		if errors.Is(err, store.ErrConflict) { // a concurrent redelivery got there first
			card, _, err := f.alreadySubmitted(ctx, r.RequestID, from)
			return card, err
		}
		return nil, fmt.Errorf("store request: %w", err)
	}
	f.audit(ctx, store.AuditEntry{RequestID: r.RequestID, RequesterID: from, RequesterUPN: requester.UserPrincipalName,
		TargetUPN: r.UPN(), Action: store.ActionOnboardRequest, Outcome: store.OutcomeAllowed})
	t.Log().Info("onboarding requested", zap.String("request", r.RequestID), zap.String("upn", r.UPN()))
	stored, err := f.store.Onboard(ctx, r.RequestID)
	if err != nil {
		return nil, fmt.Errorf("read request: %w", err)
	}
	t.Later(func(ctx context.Context) { f.postApproval(ctx, stored.ID) })
	card := f.summary(stored, rec, false)
	return &card, nil
}

// checkManager looks up the manager the form names (an object id from the people
// picker, or a sign-in name typed without it: Graph takes either) unless Validate
// already refused the value, and adds to errs why they can't be the manager. The user
// is returned whenever the directory knows them, so the form can show them by name.
func (f *Flow) checkManager(ctx context.Context, r Request, errs map[string]string) (graph.User, error) {
	if _, bad := errs[FieldManager]; bad {
		return graph.User{}, nil
	}
	manager, err := f.dir.User(ctx, r.Manager)
	switch {
	case errors.Is(err, graph.ErrNotFound):
		errs[FieldManager] = "I can't find that person in the directory. Choose the manager from the directory."
		return graph.User{}, nil
	case err != nil:
		return graph.User{}, fmt.Errorf("look up manager: %w", err)
	case manager.IsGuest() || !manager.AccountEnabled:
		errs[FieldManager] = "The manager must be an enabled member of the organisation, not a guest or a disabled account."
	}
	return manager, nil
}

// resend is the form again with errs beside the fields, the values as entered, and
// the suggestions the names give now, so that the next submit can tell them from
// typed values (see Request.SuggestedDisplayName).
func (f *Flow) resend(r Request, errs map[string]string, fx tenantFacts, manager graph.User) *cards.Card {
	v := valuesOf(r)
	var people []cards.Choice
	if f.cfg.PeoplePicker {
		// The picker shows a pre-selected id by the title of its choice: a person the
		// directory does not know has none, so the field starts empty instead.
		v.Manager = manager.ID
		if manager.ID != "" {
			people = []cards.Choice{{Title: manager.DisplayName, Value: manager.ID}}
		}
	}
	view := f.formView(r.RequestID, v, errs, fx, people)
	view.SuggestedDisplayName = SuggestDisplayName(r.GivenName, r.Surname)
	view.SuggestedMailNickname = SuggestNickname(r.GivenName, r.Surname)
	card := cards.OnboardForm(view)
	return &card
}

// alreadySubmitted answers a submit whose request exists: its summary for the
// requester (a redelivery or double click), a refusal for anyone else.
func (f *Flow) alreadySubmitted(ctx context.Context, id, from string) (*cards.Card, bool, error) {
	req, err := f.store.Onboard(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, true, fmt.Errorf("read request: %w", err)
	}
	if !strings.EqualFold(req.RequesterID, from) {
		return notice("That form is not valid", "Start again with /onboard."), true, nil
	}
	rec, err := decodeRecord(req)
	if err != nil {
		return nil, true, err
	}
	card := f.summary(req, rec, false)
	card.Body = append([]cards.Element{cards.TextBlock{Text: "This request was already sent.", Subtle: true, Wrap: true}}, card.Body...)
	return &card, true, nil
}

// postApproval posts the approval card to the approvers' conversation and records
// where it is, so that later states can update it for everyone.
func (f *Flow) postApproval(ctx context.Context, id string) {
	req, err := f.store.Onboard(ctx, id)
	if err != nil {
		f.log.Error("approval card: read request", zap.String("request", id), zap.Error(err))
		return
	}
	rec, err := decodeRecord(req)
	if err != nil {
		f.log.Error("approval card", zap.Error(err))
		return
	}
	c, err := f.approversConv(ctx)
	var activityID string
	if err == nil {
		activityID, err = f.msg.SendToConversation(ctx, c.serviceURL, c.id, c.activity(cardActivity(f.summary(req, rec, true))))
	}
	if err != nil {
		f.log.Error("approval card not posted", zap.String("request", id), zap.Error(err))
		f.markUnposted(ctx, id)
		f.tellRequester(ctx, rec, "I couldn't post your request for "+rec.Request.DisplayName+" to the approvers, so they can't see it yet. "+
			"Use /requests to send it to them again or to cancel it. If that fails too, ask one of the onboarding approvers to add tapbot to their channel, quoting request "+id+".")
		return
	}
	_, err = f.mutate(ctx, id, func(r *store.OnboardRequest) error {
		rec, err := decodeRecord(*r)
		if err != nil {
			return err
		}
		rec.ApproversActivity, rec.ApprovalUnposted = activityID, false
		r.Form = rec.encode()
		return nil
	})
	if err != nil {
		f.log.Error("approval card id not recorded", zap.String("request", id), zap.Error(err))
	}
}
