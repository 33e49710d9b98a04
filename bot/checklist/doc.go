// Package checklist is the new hire's day-one checklist: its text (one document, with
// an embedded default a company can replace) and its progress, a pure state machine
// that ticks steps from what Microsoft Graph shows and keeps what the hire only says
// they did as "claimed" until Graph confirms it.
//
// Where each part lives:
//
//	content                content.go, default.json (tapbot checklist-content)
//	progress               state.go: evidence from Graph → steps (pure, table-tested)
//	/checklist             flow.go (Register, Begin): install tapbot for the hire, send
//	                       the checklist once their 1:1 chat is known
//	refresh, "I did this"  flow.go (Universal Actions refresh, onClaim)
//	"I'm stuck"            flow.go (onStuck): one helpdesk card per hire and step per
//	                       interval, with Issue new TAP; StuckCard rebuilds it
//	background             flow.go (Run, RunChecks): checks, reminders (claimed once)
package checklist
