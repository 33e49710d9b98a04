// Package tap is the helpdesk's Temporary Access Pass flow. A pass is a credential:
// this package is the gate (docs/security.md).
//
// Where each part lives:
//
//	/tap                   issue.go (Register, onTap, run, checks): helpdesk rights,
//	                       policy, target lookup, policy.go's Check (pure, table-tested);
//	                       args.go parses the command (fuzzed), start.go its "from"
//	tap.replace/.cancel    issue.go: the question before an existing pass is replaced
//	second person          verify.go, outlet.go: an established account's pass waits for
//	                       the target, the manager or another helpdesk member
//	                       (tap.confirm, tap.deny, tap.confirm.cancel)
//	creating a pass        mint.go: intent → Graph → audit → the requester's 1:1 chat →
//	                       done, for /tap, confirmed and scheduled passes alike
//	unfinished passes      intent.go: ambiguous outcomes and abandoned intents are
//	                       reconciled (deleted, audited)
//	start-day pass         scheduled.go: the manager's pass on a new hire's first day
//	/revoke, tap.revoke    revoke.go, with the same target protection as /tap
//	/status                status.go (args.go reads its user, and /revoke's)
//	redaction              redact.go (RunRedactor): expired, used, replaced, deleted
//	tap.issue              issue.go (onIssue): the Issue TAP button other flows' cards carry
package tap
