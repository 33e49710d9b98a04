package cards

import "time"

// The verbs of the confirmation cards (bot/tap registers them).
const (
	VerbConfirmTAP       = "tap.confirm"
	VerbDenyTAP          = "tap.deny"
	VerbCancelConfirmTAP = "tap.confirm.cancel"
)

// ConfirmView is what a question to a second person shows. Names and the reason are
// user data and go in RichText runs; none of it is secret.
type ConfirmView struct {
	RequesterName string
	TargetName    string
	TargetUPN     string
	Reason        string
	Start         time.Time // when the pass becomes valid; zero: at once
	Expires       time.Time
	Data          any // the buttons' data: the confirmation's id, nothing else
}

// ConfirmTarget asks the account holder whether they asked for the pass: the
// lost-phone case, from a Teams session that still works.
func ConfirmTarget(v ConfirmView) Card {
	return confirmCard(v, "Did you just ask the helpdesk for a Temporary Access Pass?",
		v.RequesterName+" from the helpdesk is issuing a pass that lets someone sign in as you.",
		"If you didn't ask for it, someone may be posing as you: answer \"No\" and the helpdesk and security team are told.",
		"Yes, it was me", "No, this wasn't me")
}

// ConfirmManager asks the account holder's manager.
func ConfirmManager(v ConfirmView) Card {
	return confirmCard(v, "Confirm a Temporary Access Pass",
		v.RequesterName+" from the helpdesk is issuing a pass for "+v.TargetName+" ("+v.TargetUPN+").",
		"Confirm only if you have just spoken with "+v.TargetName+" yourself. A pass lets whoever holds it sign in as them.",
		"Confirm", "Deny")
}

// ConfirmHelpdesk asks a second helpdesk member, in the helpdesk channel. They can
// only confirm; a request nobody confirms expires.
func ConfirmHelpdesk(v ConfirmView) Card {
	return confirmCard(v, "A second helpdesk member must confirm this pass",
		v.RequesterName+" is issuing a pass for "+v.TargetName+" ("+v.TargetUPN+"), an established account.",
		"Confirm only if you have verified the caller yourself, for example by calling them back on a number from the directory. You can't confirm your own request.",
		"Confirm", "")
}

// confirmCard is the question to a second person: its title, what is happening, the
// reason given, advice on answering, when it expires, and the buttons (no Deny when
// deny is "").
func confirmCard(v ConfirmView, title, happening, advice, confirm, deny string) Card {
	body := []Element{
		TextBlock{Text: title, Size: "Medium", Weight: "Bolder", Wrap: true},
		RichText{Runs: []TextRun{{Text: happening}}},
	}
	if v.Reason != "" {
		body = append(body, RichText{Runs: []TextRun{{Text: "Reason given: " + v.Reason, Subtle: true}}})
	}
	if !v.Start.IsZero() {
		body = append(body, TextBlock{Text: "The pass is valid from " + ViewerTimes().At(v.Start) + ".", Wrap: true})
	}
	body = append(body,
		TextBlock{Text: advice, Wrap: true},
		TextBlock{Text: "The question expires at " + ViewerTimes().At(v.Expires) + ".", Subtle: true, Wrap: true, Size: "Small"})
	actions := []Action{Execute{Title: confirm, Verb: VerbConfirmTAP, Data: v.Data, Style: "positive"}}
	if deny != "" {
		actions = append(actions, Execute{Title: deny, Verb: VerbDenyTAP, Data: v.Data, Style: "destructive"})
	}
	return Card{Body: body, Actions: actions}
}

// WaitingForConfirmation tells the requester who was asked, with a Cancel button.
func WaitingForConfirmation(targetName, targetUPN, who string, expires time.Time, cancelData any) Card {
	return Card{
		Body: []Element{
			TextBlock{Text: "Waiting for confirmation", Size: "Medium", Weight: "Bolder", Wrap: true},
			userLine(targetName, targetUPN),
			RichText{Runs: []TextRun{{Text: "This account is established, so a second person confirms before it gets a pass. Waiting for confirmation by " + who + "."}}},
			TextBlock{Text: "The pass arrives here once confirmed. The question expires at " + ViewerTimes().At(expires) + ".", Subtle: true, Wrap: true},
		},
		Actions: []Action{Execute{Title: "Cancel", Verb: VerbCancelConfirmTAP, Data: cancelData}},
	}
}
