package onboard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tapbot/tapbot/graph"
	"github.com/tapbot/tapbot/internal/password"
	"github.com/tapbot/tapbot/internal/store"
	"go.uber.org/zap"
)

// Provisioning steps, in order. OnboardRequest.Step is the last one completed, so a
// retry or a restart continues with the next.
const (
	StepUser          = "user"
	StepUsageLocation = "usage_location"
	StepManager       = "manager"
	StepGroups        = "groups"
	StepLicence       = "licence"
)

// Steps lists the provisioning steps in order.
var Steps = []string{StepUser, StepUsageLocation, StepManager, StepGroups, StepLicence}

var stepLabels = map[string]string{
	StepUser: "create the account", StepUsageLocation: "set the usage location", StepManager: "set the manager",
	StepGroups: "add to groups", StepLicence: "assign the licence",
}

var errNotProvisioning = errors.New("onboard: request is not being provisioned")

// ownershipSkew is how much earlier than the request's submission (by tapbot's
// clock) Graph may date an account and still have it count as created by this request.
const ownershipSkew = 5 * time.Minute

// errUPNTaken: the UPN belongs to an account this request did not create.
type errUPNTaken struct{ upn string }

func (e errUPNTaken) Error() string { return "onboard: " + e.upn + " is taken by another account" }

// Resume continues the provisioning of approved requests that were interrupted (by a
// restart, say). Failed requests wait for Retry.
func (f *Flow) Resume(ctx context.Context) error {
	open, err := f.store.Onboards(ctx, store.OnboardFilter{States: []string{store.OnboardApproved, store.OnboardProvisioning}})
	if err != nil {
		return fmt.Errorf("list requests to resume: %w", err)
	}
	for _, r := range open {
		f.Provision(ctx, r.ID, r.ID)
	}
	return nil
}

// staleAfter is how long a request may sit in approved or provisioning without an
// update before the job runner takes it as interrupted and resumes it.
const staleAfter = 10 * time.Minute

// resumeStale resumes requests whose provisioning stopped without being recorded as
// failed (the process died, or its background time ran out while recording).
func (f *Flow) resumeStale(ctx context.Context) {
	open, err := f.store.Onboards(ctx, store.OnboardFilter{States: []string{store.OnboardApproved, store.OnboardProvisioning}})
	if err != nil {
		f.log.Error("list requests to resume", zap.Error(err))
		return
	}
	for _, r := range open {
		if f.cfg.Now().Sub(r.UpdatedAt) > staleAfter {
			f.log.Warn("resuming interrupted provisioning", zap.String("onboard_request", r.ID), zap.String("after_step", r.Step))
			f.Provision(ctx, r.ID, r.ID)
		}
	}
}

// Provision runs the remaining provisioning steps of an approved request, recording
// each one as it succeeds. A failure leaves the request failed, with a Retry for the
// approvers that continues from the failed step. requestID keys logs and audit rows.
func (f *Flow) Provision(ctx context.Context, id, requestID string) {
	if _, busy := f.running.LoadOrStore(id, struct{}{}); busy {
		return
	}
	defer f.running.Delete(id)
	log := f.log.With(zap.String("request_id", requestID), zap.String("onboard_request", id))

	req, err := f.mutate(ctx, id, func(r *store.OnboardRequest) error {
		switch r.State {
		case store.OnboardApproved:
			r.State = store.OnboardProvisioning
			return nil
		case store.OnboardProvisioning:
			return nil
		}
		return errNotProvisioning
	})
	if errors.Is(err, errNotProvisioning) {
		return
	}
	if err != nil {
		log.Error("start provisioning", zap.Error(err))
		return
	}
	rec, err := decodeRecord(req)
	if err != nil {
		log.Error("provisioning", zap.Error(err))
		return
	}
	next := slices.Index(Steps, req.Step) + 1 // "" → 0
	for _, step := range Steps[next:] {
		userID, err := f.runStep(ctx, step, req, rec)
		if err != nil {
			f.fail(ctx, log, id, requestID, step, err)
			return
		}
		req, err = f.mutate(ctx, id, func(r *store.OnboardRequest) error {
			if r.State != store.OnboardProvisioning {
				return errNotProvisioning
			}
			r.Step = step
			if userID != "" {
				r.UserID = userID
			}
			return nil
		})
		if err != nil {
			log.Error("record provisioning step", zap.String("step", step), zap.Error(err))
			return
		}
		f.audit(ctx, store.AuditEntry{RequestID: requestID, RequesterID: req.DeciderID, TargetID: req.UserID,
			TargetUPN: rec.Request.UPN(), Action: store.ActionOnboardProvision, Outcome: store.OutcomeAllowed, Reason: step})
		log.Info("provisioning step done", zap.String("step", step), zap.String("user", req.UserID))
	}
	req, err = f.mutate(ctx, id, func(r *store.OnboardRequest) error {
		if r.State != store.OnboardProvisioning {
			return errNotProvisioning
		}
		r.State = store.OnboardDone
		return nil
	})
	if err != nil {
		log.Error("record provisioning done", zap.Error(err))
		return
	}
	f.audit(ctx, store.AuditEntry{RequestID: requestID, RequesterID: req.DeciderID, TargetID: req.UserID,
		TargetUPN: rec.Request.UPN(), Action: store.ActionOnboardDone, Outcome: store.OutcomeAllowed})
	f.scheduleStartDay(ctx, log, req)
	f.markOnboarded(ctx, log, req.UserID)
	if f.cfg.Checklist != nil {
		if err := f.cfg.Checklist.Begin(ctx, req.UserID, rec.Request.UPN(), rec.ManagerID, req.ID, rec.Request.NeedsSecurityKey()); err != nil {
			log.Error("checklist not started; the helpdesk can run /checklist", zap.Error(err))
		}
	}
	f.refreshCards(ctx, req, rec)
	f.tellRequester(ctx, rec, fmt.Sprintf("The account for %s is ready: %s. Nobody knows its password; on the start date (%s) the helpdesk gives %s a Temporary Access Pass to set up passwordless sign-in.",
		rec.Request.DisplayName, rec.Request.UPN(), rec.Request.StartDateString(), rec.Request.GivenName))
}

// runStep performs one step; it returns the new user's id for StepUser.
func (f *Flow) runStep(ctx context.Context, step string, req store.OnboardRequest, rec record) (string, error) {
	r := rec.Request
	switch step {
	case StepUser:
		return f.createUser(ctx, req, rec)
	case StepUsageLocation:
		return "", f.dir.SetUsageLocation(ctx, req.UserID, r.UsageLocation)
	case StepManager:
		return "", f.dir.SetManager(ctx, req.UserID, rec.ManagerID)
	case StepGroups:
		groups := slices.Clone(r.Groups)
		for _, g := range f.cfg.OnboardingGroups {
			if !slices.ContainsFunc(groups, func(h string) bool { return strings.EqualFold(g, h) }) {
				groups = append(groups, g)
			}
		}
		for _, g := range groups {
			if err := f.dir.AddGroupMember(ctx, g, req.UserID); err != nil {
				return "", err
			}
		}
		return "", nil
	case StepLicence:
		if r.Licence == "" {
			return "", nil
		}
		return "", f.dir.AssignLicense(ctx, req.UserID, r.Licence)
	}
	return "", fmt.Errorf("onboard: unknown step %q", step)
}

// createUser creates the account with a random password that is sent to Graph once
// and dropped. CreateUser is not idempotent: if an earlier attempt created the account
// and its answer was lost, Graph now says the UPN is taken. The account is ours when
// it has the request's UPN and display name and was created after the request was
// submitted; otherwise someone else has the name, and the step fails.
func (f *Flow) createUser(ctx context.Context, req store.OnboardRequest, rec record) (string, error) {
	if req.UserID != "" {
		return req.UserID, nil
	}
	r := rec.Request
	pw, err := password.Generate()
	if err != nil {
		return "", fmt.Errorf("generate password: %w", err)
	}
	u, err := f.dir.CreateUser(ctx, graph.NewUser{
		GivenName: r.GivenName, Surname: r.Surname, DisplayName: r.DisplayName, MailNickname: r.MailNickname,
		UserPrincipalName: r.UPN(), JobTitle: r.JobTitle, Department: r.Department, OfficeLocation: r.OfficeLocation,
		UsageLocation: r.UsageLocation, EmployeeHireDate: r.StartDate, Password: pw,
	})
	if err == nil {
		return u.ID, nil
	}
	if !errors.Is(err, graph.ErrConflict) {
		return "", err
	}
	existing, lerr := f.dir.User(ctx, r.UPN())
	if lerr != nil {
		if errors.Is(lerr, graph.ErrNotFound) { // taken as someone's mail address
			return "", errUPNTaken{r.UPN()}
		}
		return "", lerr
	}
	if strings.EqualFold(existing.UserPrincipalName, r.UPN()) && existing.DisplayName == r.DisplayName &&
		!existing.CreatedDateTime.IsZero() && !existing.CreatedDateTime.Before(req.CreatedAt.Add(-ownershipSkew)) {
		f.log.Info("account created by an earlier attempt adopted", zap.String("onboard_request", req.ID), zap.String("user", existing.ID))
		return existing.ID, nil
	}
	return "", errUPNTaken{r.UPN()}
}

// fail records a failed step and tells the approvers (Retry) and the requester.
func (f *Flow) fail(ctx context.Context, log *zap.Logger, id, requestID, step string, cause error) {
	log.Error("provisioning step failed", zap.String("step", step), zap.Error(cause))
	// The failure must be recorded even when the step failed because the background
	// work's time ran out: otherwise the request would wait for a restart.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	var rec record
	req, err := f.mutate(ctx, id, func(r *store.OnboardRequest) error {
		if r.State != store.OnboardProvisioning {
			return errNotProvisioning
		}
		var err error
		if rec, err = decodeRecord(*r); err != nil {
			return err
		}
		r.State = store.OnboardFailed
		r.Error = failureText(step, cause, rec, requestID)
		return nil
	})
	if err != nil {
		log.Error("record provisioning failure", zap.Error(err))
		return
	}
	f.audit(ctx, store.AuditEntry{RequestID: requestID, RequesterID: req.DeciderID, TargetID: req.UserID,
		TargetUPN: rec.Request.UPN(), Action: store.ActionOnboardProvision, Outcome: store.OutcomeFailed, Reason: step})
	if rec.ApproversActivity == "" {
		f.postApproval(ctx, id) // a card with Retry where the approvers see it
	} else {
		f.refreshCards(ctx, req, rec)
	}
	f.tellRequester(ctx, rec, "Creating the account for "+rec.Request.DisplayName+" stopped: "+req.Error+" The approvers can retry.")
}

// failureText says what went wrong in words for the cards; it never holds secrets.
func failureText(step string, err error, rec record, requestID string) string {
	what := "Couldn't " + stepLabels[step] + ". "
	var taken errUPNTaken
	switch {
	case errors.As(err, &taken):
		return what + "The sign-in name " + taken.upn + " was taken by another account after the request was sent. Reject this request and ask for a new one with another user name."
	case errors.Is(err, graph.ErrLicenceUnavailable):
		name := rec.LicenceName
		if name == "" {
			name = rec.Request.Licence
		}
		return what + "No unit of " + name + " is free. Free one or buy more in the Microsoft 365 admin center, then press Retry."
	case errors.Is(err, graph.ErrUsageLocationRequired):
		return what + "The account has no usage location, which licences need. Press Retry."
	case errors.Is(err, graph.ErrNotFound) && step == StepManager:
		return what + "The manager's account no longer exists. Reject this request and ask for a new one."
	case errors.Is(err, graph.ErrNotFound) && step == StepGroups:
		return what + "One of the groups no longer exists. Check tapbot's group configuration, then press Retry."
	case errors.Is(err, graph.ErrForbidden):
		return what + "tapbot's app registration lacks a Microsoft Graph permission for this step; an admin should run `tapbot doctor`, then press Retry."
	case errors.Is(err, graph.ErrThrottled), errors.Is(err, graph.ErrUnavailable), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, context.Canceled):
		return what + "Microsoft Graph was busy or unavailable. Press Retry in a minute."
	}
	return what + "Microsoft Graph refused it (reference " + requestID + "). Press Retry; if it fails again, the log under that reference says why."
}
