package store

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestChecklistNormalize(t *testing.T) {
	valid := Checklist{UserID: "00000000-0000-0000-0000-00000000000e", Version: 1}
	tests := []struct {
		name    string
		mutate  func(c *Checklist)
		wantErr string // "" means valid
	}{
		{"minimal", func(c *Checklist) {}, ""},
		{"every field", func(c *Checklist) {
			*c = Checklist{UserID: "u", UserUPN: "u@contoso.com", RequestID: "onb-1", ManagerID: "m", NoSmartphone: true,
				ConversationID: "a:1", ActivityID: "1", Progress: []byte("{}"), StartedAt: time.Now(), UpdatedAt: time.Now(),
				DoneAt: time.Now(), Version: 3}
		}, ""},
		{"user id at the limit", func(c *Checklist) { c.UserID = strings.Repeat("é", MaxIDLen) }, ""},
		{"progress at the limit", func(c *Checklist) { c.Progress = make([]byte, MaxProgressLen) }, ""},
		{"empty user id", func(c *Checklist) { c.UserID = "" }, "user id"},
		{"user id with a tab", func(c *Checklist) { c.UserID = "u\t1" }, "user id"},
		{"user id with NUL", func(c *Checklist) { c.UserID = "u\x00" }, "user id"},
		{"user id too long", func(c *Checklist) { c.UserID = strings.Repeat("é", MaxIDLen+1) }, "user id"},
		{"upn too long", func(c *Checklist) { c.UserUPN = strings.Repeat("a", MaxUPNLen+1) }, "user upn"},
		{"manager id not UTF-8", func(c *Checklist) { c.ManagerID = "\xff" }, "manager id"},
		{"activity id too long", func(c *Checklist) { c.ActivityID = strings.Repeat("a", MaxConversationIDLen+1) }, "activity id"},
		{"progress too long", func(c *Checklist) { c.Progress = make([]byte, MaxProgressLen+1) }, "progress"},
		{"negative version", func(c *Checklist) { c.Version = -1 }, "negative version"},
		{"done after 9999", func(c *Checklist) { c.DoneAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "done at"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid
			tc.mutate(&c)
			created, errCreate := c.NormalizeCreate(time.Time{})
			_, errUpdate := c.NormalizeUpdate(time.Time{})
			for name, err := range map[string]error{"NormalizeCreate": errCreate, "NormalizeUpdate": errUpdate} {
				if tc.wantErr == "" {
					if err != nil {
						t.Errorf("%s: %v", name, err)
					}
					continue
				}
				if !errors.Is(err, ErrInvalidChecklist) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("%s: err = %v, want ErrInvalidChecklist mentioning %q", name, err, tc.wantErr)
				}
			}
			if tc.wantErr == "" && created.Version != 1 {
				t.Errorf("NormalizeCreate: Version = %d, want 1", created.Version)
			}
		})
	}
	// A create ignores the version; an update needs one as read.
	c := valid
	c.Version = 0
	if _, err := c.NormalizeCreate(time.Time{}); err != nil {
		t.Errorf("NormalizeCreate at version 0: %v", err)
	}
	if _, err := c.NormalizeUpdate(time.Time{}); !errors.Is(err, ErrInvalidChecklist) {
		t.Errorf("NormalizeUpdate at version 0: err = %v, want ErrInvalidChecklist", err)
	}
}
