package cards

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestStuckCard(t *testing.T) {
	c := Stuck(StuckView{HireName: "Nina *Newhire*", HireUPN: "nina@contoso.com", StepTitle: "Sign in to your laptop",
		Hint: "A reboot before Windows Hello lands on the password screen.", GraphShows: []string{"Authenticator registered"},
		At: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), IssueData: map[string]string{"user": "nina@contoso.com", "nonce": "stuck-1"}})
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	for _, want := range []string{`"verb":"tap.issue"`, `"nonce":"stuck-1"`, `https://teams.microsoft.com/l/chat/0/0?users=nina%40contoso.com`,
		`"text":"Nina *Newhire* (nina@contoso.com)"`, "Authenticator registered", "Known pitfall"} {
		if !strings.Contains(s, want) {
			t.Errorf("stuck card = %s, want it to contain %s", s, want)
		}
	}
	empty, _ := json.Marshal(Stuck(StuckView{StepTitle: "x"}))
	if !strings.Contains(string(empty), "nothing registered yet") || strings.Contains(string(empty), "Message them") {
		t.Fatalf("stuck card without evidence or UPN = %s, want %q and no %q", empty, "nothing registered yet", "Message them")
	}
}
