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
	ActionTAPConfirmAsk    Action = "tap.confirm.ask"
	ActionTAPConfirm       Action = "tap.confirm"
	ActionTAPDeny          Action = "tap.deny"
	ActionOnboardRequest   Action = "onboard.request"
	ActionOnboardSubmit    Action = "onboard.submit"
	ActionOnboardApprove   Action = "onboard.approve"
	ActionOnboardReject    Action = "onboard.reject"
	ActionOnboardRetry     Action = "onboard.retry"
	ActionOnboardProvision Action = "onboard.provision"
	ActionOnboardStart     Action = "onboard.start"
	ActionOnboardStartDay  Action = "onboard.startday"
	ActionOnboardDone      Action = "onboard.done"
	ActionChecklistStart   Action = "checklist.start"
	ActionChecklistStuck   Action = "checklist.stuck"
	ActionDoctorFix        Action = "doctor.fix"
	ActionDoctorProbe      Action = "doctor.probe"
)

// Outcome is how an audited action ended.
type Outcome string

// The audit log's outcomes; the database refuses any other.
const (
	OutcomeAllowed Outcome = "allowed"
	OutcomeRefused Outcome = "refused"
	OutcomeFailed  Outcome = "failed"
)
