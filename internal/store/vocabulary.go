package store

// Action is what an audit row records was done or asked for. Every flow, the rate
// limit, /audit and the export use these constants, never literal strings.
type Action string

// The audit log's actions.
const (
	ActionTAPCreate    Action = "tap.create"    // a pass asked for: issued, refused or failed
	ActionTAPRevoke    Action = "tap.revoke"    // a pass deleted on request
	ActionTAPRedact    Action = "tap.redact"    // a delivered card's pass removed from the chat
	ActionTAPReconcile Action = "tap.reconcile" // an unfinished pass cleaned up
	// A pass for an established account: a second person asked (reason: the path),
	// their answer (allowed, reason "<path> <time taken>", by the confirmer; or
	// refused: cancelled, expired, a click by someone not allowed), and a denial
	// ("this wasn't me", a manager's Deny): suspected social engineering.
	ActionTAPConfirmAsk  Action = "tap.confirm.ask"
	ActionTAPConfirm     Action = "tap.confirm"
	ActionTAPDeny        Action = "tap.deny"
	ActionOnboardRequest Action = "onboard.request"
	ActionOnboardSubmit  Action = "onboard.submit"
	ActionOnboardApprove Action = "onboard.approve"
	ActionOnboardReject  Action = "onboard.reject"
	ActionOnboardRetry   Action = "onboard.retry"
	// An approval card that could not be posted: its requester posts it again
	// (repost) or withdraws the request (cancel), once per failed post.
	ActionOnboardRepost    Action = "onboard.repost"
	ActionOnboardCancel    Action = "onboard.cancel"
	ActionOnboardProvision Action = "onboard.provision"
	ActionOnboardStart     Action = "onboard.start"
	ActionOnboardStartDay  Action = "onboard.startday"
	ActionOnboardDone      Action = "onboard.done"
	// ActionOnboardStartDayPass: the start-day pass went to the new hire's manager
	// (allowed), or could not and the helpdesk got the Issue TAP card (refused or
	// failed, with why). The pass itself is a tap.create row by RequesterTapbot.
	ActionOnboardStartDayPass Action = "onboard.startday_pass"
	// ActionJoinerFound: a user with an employeeHireDate in the look-ahead, in the
	// joiner groups, taken on once (start-day card or pass, checklist, reminders).
	ActionJoinerFound    Action = "joiner.found"
	ActionChecklistStart Action = "checklist.start"
	ActionChecklistStuck Action = "checklist.stuck"
	ActionDoctorFix      Action = "doctor.fix"
	ActionDoctorProbe    Action = "doctor.probe"
)

// RequesterTapbot is the requester of record of what tapbot does on its own
// schedule, not at anybody's request: the start-day pass it mints for a manager.
const RequesterTapbot = "tapbot:schedule"

// Actions lists every action in the order above: for parsers that accept an action
// by name (/audit's filter) and for the help text that names them.
func Actions() []Action {
	return []Action{ActionTAPCreate, ActionTAPRevoke, ActionTAPRedact, ActionTAPReconcile,
		ActionTAPConfirmAsk, ActionTAPConfirm, ActionTAPDeny, ActionOnboardRequest, ActionOnboardSubmit, ActionOnboardApprove, ActionOnboardReject,
		ActionOnboardRetry, ActionOnboardRepost, ActionOnboardCancel, ActionOnboardProvision, ActionOnboardStart, ActionOnboardStartDay,
		ActionOnboardDone, ActionOnboardStartDayPass, ActionJoinerFound, ActionChecklistStart,
		ActionChecklistStuck, ActionDoctorFix, ActionDoctorProbe}
}

// Outcome is how an audited action ended.
type Outcome string

// The audit log's outcomes; the database refuses any other.
const (
	OutcomeAllowed Outcome = "allowed"
	OutcomeRefused Outcome = "refused"
	OutcomeFailed  Outcome = "failed"
)

// Reasons of refused tap.create rows that are not refusals by policy: the requester
// was asked to confirm replacing a pass, or cancelled at that question. /audit counts
// them apart from refusals.
const (
	ReasonNeedsConfirmation = "needs_confirmation"
	ReasonCancelled         = "cancelled"
)
