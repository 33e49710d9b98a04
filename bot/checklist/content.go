package checklist

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"
)

// Step ids. They are fixed: verification (Apply) keys on them, and stored progress
// names them. Content may change every word around them.
const (
	StepTAP         = "tap"           // get the Temporary Access Pass from the helpdesk
	StepInstall     = "install"       // install Microsoft Authenticator
	StepAddAccount  = "add-account"   // Skip → Add account → Work or school account → Sign in
	StepSignIn      = "sign-in"       // sign in with the TAP; the phone registers
	StepPhoneSignIn = "phone-sign-in" // phone PIN; phone sign-in enabled on the account
	StepLaptop      = "laptop"        // OOBE with phone sign-in (number match)
	StepHello       = "hello"         // Windows Hello for Business
	StepKey         = "key"           // register a FIDO2 security key (no smartphone)
	StepLaptopKey   = "laptop-key"    // OOBE with the security key
)

// PhoneSteps are the ids the phone path (Content.Steps) may use, in their natural order.
var PhoneSteps = []string{StepTAP, StepInstall, StepAddAccount, StepSignIn, StepPhoneSignIn, StepLaptop, StepHello}

// KeySteps are the ids the security-key path (Content.KeyPath) may use, in order.
var KeySteps = []string{StepTAP, StepKey, StepLaptopKey, StepHello}

// Limits LoadContent enforces, so a company's text still fits a card on a phone.
const (
	MaxWelcome   = 600
	MaxTitle     = 80
	MaxBody      = 600
	MaxWhy       = 400
	MaxStuck     = 400
	MaxLinks     = 4
	MaxLinkTitle = 60
	MaxURL       = 300
	maxDocument  = 64 << 10
)

// Link is a link shown with a step. URL is always https.
type Link struct {
	Title string `json:"title"`
	URL   string `json:"url"`
}

// StepText is what the hire reads for one step. All of it is plain text, shown
// literally (never as markdown).
type StepText struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Body  string `json:"body"`
	Why   string `json:"why"`
	// Stuck is the hint shown with "I'm stuck" (e.g. the Autopilot reboot that lands on
	// the password screen). Optional.
	Stuck string `json:"stuck,omitempty"`
	Links []Link `json:"links,omitempty"`
}

// Content is the whole checklist text: the welcome line, the phone path and the
// security-key path for a hire without a smartphone.
type Content struct {
	Welcome string     `json:"welcome"`
	Steps   []StepText `json:"steps"`
	KeyPath []StepText `json:"keyPath"`
}

// Path is the steps for a hire: the security-key path when they have no smartphone.
func (c Content) Path(noSmartphone bool) []StepText {
	if noSmartphone {
		return c.KeyPath
	}
	return c.Steps
}

// Step finds a step's text by id in either path, the phone path first.
func (c Content) Step(id string) (StepText, bool) {
	for _, s := range append(slices.Clip(c.Steps), c.KeyPath...) {
		if s.ID == id {
			return s, true
		}
	}
	return StepText{}, false
}

//go:embed default.json
var defaultJSON []byte

// DefaultJSON is the embedded default content document: the starting point for a
// company's own file.
func DefaultJSON() []byte { return bytes.Clone(defaultJSON) }

// DefaultContent is the embedded default content. A test holds it valid.
func DefaultContent() Content {
	c, err := LoadContent(bytes.NewReader(defaultJSON))
	if err != nil {
		panic("checklist: embedded default.json: " + err.Error())
	}
	return c
}

// LoadContent reads a content document (JSON, the shape of default.json) and
// validates it: every field known, ids known to their path and unique in it, titles,
// bodies and whys present, lengths within the limits, links https.
func LoadContent(r io.Reader) (Content, error) {
	raw, err := io.ReadAll(io.LimitReader(r, maxDocument+1))
	if err != nil {
		return Content{}, fmt.Errorf("checklist content: %w", err)
	}
	if len(raw) > maxDocument {
		return Content{}, fmt.Errorf("checklist content: larger than %d bytes", maxDocument)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var c Content
	if err := dec.Decode(&c); err != nil {
		return Content{}, fmt.Errorf("checklist content: %w", err)
	}
	if dec.More() {
		return Content{}, errors.New("checklist content: trailing data after the document")
	}
	if err := c.Validate(); err != nil {
		return Content{}, err
	}
	return c, nil
}

// Validate checks content as LoadContent does, and reports every problem at once.
func (c Content) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("checklist content: "+format, args...))
	}
	if strings.TrimSpace(c.Welcome) == "" {
		bad("welcome is empty")
	}
	if n := utf8.RuneCountInString(c.Welcome); n > MaxWelcome {
		bad("welcome has %d characters, more than %d", n, MaxWelcome)
	}
	validatePath := func(name string, steps []StepText, known []string) {
		if len(steps) == 0 {
			bad("%s has no steps", name)
		}
		seen := map[string]bool{}
		for i, s := range steps {
			where := fmt.Sprintf("%s[%d] (%q)", name, i, s.ID)
			switch {
			case !slices.Contains(known, s.ID):
				bad("%s: unknown step id; %s uses %s", where, name, strings.Join(known, ", "))
			case seen[s.ID]:
				bad("%s: duplicate step id", where)
			}
			seen[s.ID] = true
			text := func(field, v string, max int, required bool) {
				if required && strings.TrimSpace(v) == "" {
					bad("%s: %s is empty", where, field)
				}
				if n := utf8.RuneCountInString(v); n > max {
					bad("%s: %s has %d characters, more than %d", where, field, n, max)
				}
			}
			text("title", s.Title, MaxTitle, true)
			text("body", s.Body, MaxBody, true)
			text("why", s.Why, MaxWhy, true)
			text("stuck", s.Stuck, MaxStuck, false)
			if len(s.Links) > MaxLinks {
				bad("%s: %d links, more than %d", where, len(s.Links), MaxLinks)
			}
			for j, l := range s.Links {
				text(fmt.Sprintf("links[%d].title", j), l.Title, MaxLinkTitle, true)
				if err := CheckURL(l.URL); err != nil {
					bad("%s: links[%d]: %v", where, j, err)
				}
			}
		}
	}
	validatePath("steps", c.Steps, PhoneSteps)
	validatePath("keyPath", c.KeyPath, KeySteps)
	return errors.Join(errs...)
}

// CheckURL accepts an absolute https URL with a host and no user info.
func CheckURL(raw string) error {
	if len(raw) > MaxURL {
		return fmt.Errorf("url longer than %d characters", MaxURL)
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("url %q: %v", raw, err)
	case u.Scheme != "https":
		return fmt.Errorf("url %q is not https", raw)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("url %q has no host", raw)
	case u.User != nil:
		return fmt.Errorf("url %q carries user info", raw)
	case strings.ContainsAny(raw, " \t\r\n"):
		return fmt.Errorf("url %q contains white space", raw)
	}
	return nil
}
