package cards

// CommandHelp is one line of the help card.
type CommandHelp struct {
	Usage       string // e.g. "/tap <user> [lifetime]"
	Description string
}

// Help lists the commands available in the conversation's scope.
func Help(scopeLabel string, commands []CommandHelp) Card {
	facts := make([]Fact, len(commands))
	for i, c := range commands {
		facts[i] = Fact{Title: c.Usage, Value: c.Description}
	}
	return Card{Body: []Element{
		TextBlock{Text: "tapbot commands", Size: "Medium", Weight: "Bolder", Wrap: true},
		TextBlock{Text: "Available " + scopeLabel + ". The leading / is optional.", Subtle: true, Wrap: true, Spacing: "None"},
		FactSet{Facts: facts},
	}}
}
