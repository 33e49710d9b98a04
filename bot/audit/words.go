package audit

import (
	"strconv"
	"strings"

	"github.com/tapbot/tapbot/internal/store"
)

// kind is how /audit counts a row. Asking to confirm a replacement and cancelling at
// that question are stored as refused tap.create rows, but nobody was refused anything.
type kind int

const (
	kindDone kind = iota
	kindRefused
	kindFailed
	kindConfirm
	kindCancelled
)

// kindWords name each kind in the card's summary; kinds are counted in this order.
var kindWords = [...]string{kindDone: "done", kindRefused: "refused", kindFailed: "failed",
	kindConfirm: "asked to confirm replacing", kindCancelled: "cancelled"}

func kindOf(e store.AuditEntry) kind {
	switch {
	case e.Outcome == store.OutcomeFailed:
		return kindFailed
	case e.Outcome != store.OutcomeRefused:
		return kindDone
	case e.Reason == store.ReasonNeedsConfirmation:
		return kindConfirm
	case e.Reason == store.ReasonCancelled:
		return kindCancelled
	default:
		return kindRefused
	}
}

// doneWords say what an allowed row did.
var doneWords = map[store.Action]string{
	store.ActionTAPCreate: "issued", store.ActionTAPRevoke: "revoked", store.ActionTAPRedact: "removed from the chat",
	store.ActionTAPReconcile: "cleaned up", store.ActionOnboardRequest: "form sent", store.ActionOnboardSubmit: "submitted",
	store.ActionOnboardApprove: "approved", store.ActionOnboardReject: "rejected", store.ActionOnboardRetry: "retried",
	store.ActionOnboardRepost: "sent to approvers again", store.ActionOnboardCancel: "cancelled",
	store.ActionOnboardProvision: "set up", store.ActionOnboardStart: "started", store.ActionOnboardStartDay: "start day",
	store.ActionOnboardDone: "finished", store.ActionChecklistStart: "checklist sent", store.ActionChecklistStuck: "helpdesk told",
	store.ActionDoctorFix: "fixed", store.ActionDoctorProbe: "checked",
}

// reasonWords spell out the codes whose words are not just the code's.
var reasonWords = map[string]string{
	"not_helpdesk": "not in the helpdesk group", "not_approver": "not an approver", "not_found": "user not found",
	"reason_required": "no reason given", "self": "a pass for themselves", "self_approval": "approving their own request",
	"guest": "a guest account", "disabled": "account disabled", "out_of_scope": "user outside the allowed groups",
	"rate_limited": "too many passes this hour", "lifetime_out_of_range": "lifetime outside the policy",
	"issued_meanwhile": "someone else issued one meanwhile", "in_progress": "another pass being issued",
	"roles_unknown": "roles could not be read", "no_open_delivery": "no pass from this card",
}

// outcome is a row's outcome in words: "issued", "refused: privileged role",
// "asked to confirm replacing", "removed from the chat: expired".
func outcome(e store.AuditEntry) string {
	k := kindOf(e)
	head := kindWords[k]
	switch k {
	case kindConfirm, kindCancelled:
		return head
	case kindDone:
		if w := doneWords[e.Action]; w != "" {
			head = w
		}
	}
	if e.Reason == "" {
		return head
	}
	return head + ": " + reasonText(e.Reason)
}

// reasonText turns a code into words; anything else (a step name, a gave-up
// summary) keeps its text with underscores as spaces.
func reasonText(code string) string {
	if w, ok := reasonWords[code]; ok {
		return w
	}
	return strings.ReplaceAll(code, "_", " ")
}

// summary counts rows by kind, e.g. "3 done, 1 refused, 1 asked to confirm replacing".
func summary(rows []store.AuditEntry) string {
	counts := map[kind]int{}
	for _, r := range rows {
		counts[kindOf(r)]++
	}
	var parts []string
	for k, word := range kindWords {
		if n := counts[kind(k)]; n > 0 {
			parts = append(parts, strconv.Itoa(n)+" "+word)
		}
	}
	return strings.Join(parts, ", ")
}
