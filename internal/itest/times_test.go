package itest

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tapbot/tapbot/graph/simtenant"
)

// Cards answering the reader write times in the zone and locale of the reader's
// activity, zone named; without one, UTC named "UTC"; cards tapbot posts on its own
// (a redacted pass) leave the times to each viewer's Teams, labelled "your time".
func TestTimesFollowTheReader(t *testing.T) {
	e := newEnv(t)
	var tapCard string
	for _, c := range e.commandWith("America/New_York", "en-US", simtenant.HanaID, "/tap nina@contoso.com 1h") {
		if card := decode(t, c).card(); tapValue(card) != "" {
			tapCard = card
		}
	}
	// en-US, New York: "Mar 2, 2026, 3:30 AM EST" (or EDT in summer).
	usTime := regexp.MustCompile(`[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2} [AP]M E[SD]T`)
	if !usTime.MatchString(tapCard) || strings.Contains(tapCard, "{{DATE") {
		t.Fatalf("pass card: %s\nwant its times in the reader's zone and locale (en-US, New York)", tapCard)
	}
	status := e.commandIn("Europe/Berlin", "de-DE", simtenant.HanaID, "/status nina@contoso.com").card()
	if !regexp.MustCompile(`valid until \d{2}\.\d{2}\.\d{4} \d{2}:\d{2} CES?T`).MatchString(status) {
		t.Fatalf("status card: %s\nwant its times in the reader's zone and locale (de-DE, Berlin)", status)
	}
	if plain := e.commandIn("", "", simtenant.HanaID, "/status nina@contoso.com").card(); !regexp.MustCompile(`valid until \d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC`).MatchString(plain) {
		t.Fatalf("status card without a zone: %s\nwant its times in UTC, named", plain)
	}
	e.clock.advance(2 * time.Hour)
	if _, err := e.flow.RedactExpired(context.Background()); err != nil {
		t.Fatal(err)
	}
	calls := e.cloud.Calls()
	redacted := decode(t, calls[len(calls)-1]).card()
	if !strings.Contains(redacted, "{{DATE(") || !strings.Contains(redacted, "(your time)") {
		t.Fatalf("redacted card: %s\nwant its times left to Teams' DATE and labelled (your time)", redacted)
	}
}
