package store

import "time"

// Checklist is a new hire's passwordless set-up checklist: who it is for, where to
// reach them, and how far they are (Progress is the JSON of bot/checklist.Progress,
// kept opaque here so the store does not depend on the flow).
type Checklist struct {
	UserID         string // Entra object id of the new hire (primary key)
	UserUPN        string
	RequestID      string // onboarding request or /checklist turn that started it
	ManagerID      string // Entra object id of the manager who follows progress
	NoSmartphone   bool   // the FIDO2 security key path
	ConversationID string // the hire's 1:1 chat with the bot, once known
	ActivityID     string // the checklist card in it, once sent
	Progress       []byte
	StartedAt      time.Time
	UpdatedAt      time.Time
	DoneAt         time.Time // zero until every step is done
	Version        int       // compare-and-set key, as for onboarding requests
}
