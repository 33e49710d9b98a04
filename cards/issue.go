package cards

import (
	"crypto/rand"
	"encoding/hex"
)

// VerbIssueTAP is a button that runs every /tap check for whoever clicks it and sends
// the pass to their private chat (the start-day card's "Issue TAP", the stuck card's
// "Issue new TAP"). The TAP flow handles it; other flows put it on their cards.
const VerbIssueTAP = "tap.issue"

// IssueTAPData is a VerbIssueTAP button's data. It comes back from the client, so the
// TAP flow re-validates it and runs every check. Nonce makes one card issue one pass;
// make it with NewNonce, so that nobody can derive it and spend it first.
type IssueTAPData struct {
	User   string `json:"user"`
	Reason string `json:"reason,omitempty"`
	Nonce  string `json:"nonce"`
	// Hire (object id) and Step say which stuck card the button sits on, so that the
	// answer can rebuild that card; empty on other cards.
	Hire string `json:"hire,omitempty"`
	Step string `json:"step,omitempty"`
}

// NewNonce returns 128 random bits in hex, for a button that must act once.
func NewNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b[:])
}
