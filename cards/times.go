package cards

import (
	"slices"
	"strings"
	"time"
)

// Times writes the dates and times on a card. Cards are pure, so whoever builds one
// says how its reader reads time:
//
//   - A card answering someone's own message or click goes to that one person: it is
//     written server-side in the zone and locale their activity carried (ReaderTimes),
//     with the zone named. Without a zone it is UTC, named "UTC" (the zero Times).
//   - A card posted on tapbot's own initiative (a redacted pass, the checklist, the
//     stuck card in the helpdesk channel, an approval card) has no activity to read a
//     zone from and may be read by many: Teams formats its times on each reader's
//     device with Adaptive Cards' DATE/TIME functions, labelled "your time" (ViewerTimes).
type Times struct {
	loc    *time.Location
	locale string
	viewer bool
}

// StartLayout is how a pass's start is written: in /tap after "from", and in what
// tapbot says about a pass, so that what people read is what they would type.
const StartLayout = "2006-01-02 15:04"

// StartText writes a start time with its zone: "2026-12-01 08:00 Europe/Berlin".
func StartText(t time.Time) string { return t.Format(StartLayout) + " " + t.Location().String() }

// ReaderTimes writes times in loc (nil: UTC) for a reader whose locale is a BCP 47
// tag such as "en-US" or "de-DE" ("" or unknown: ISO dates).
func ReaderTimes(loc *time.Location, locale string) Times { return Times{loc: loc, locale: locale} }

// ViewerTimes lets each viewer's Teams client write times in its own zone and locale.
func ViewerTimes() Times { return Times{viewer: true} }

// At writes t as a date and time with its zone; "unknown" for the zero time.
func (z Times) At(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	if z.viewer {
		iso := t.UTC().Format("2006-01-02T15:04:05Z")
		return "{{DATE(" + iso + ", SHORT)}} {{TIME(" + iso + ")}} (your time)"
	}
	local := t.In(z.Location())
	l := layoutFor(z.locale)
	return local.Format(l.date+l.sep+l.clock) + " " + zoneName(local)
}

// Date writes t's calendar day in the reader's zone (the viewer's, for ViewerTimes).
func (z Times) Date(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	if z.viewer {
		return "{{DATE(" + t.UTC().Format("2006-01-02T15:04:05Z") + ", SHORT)}}"
	}
	return t.In(z.Location()).Format(layoutFor(z.locale).date)
}

// Location is the reader's zone (UTC when unknown, and for ViewerTimes).
func (z Times) Location() *time.Location {
	if z.loc == nil {
		return time.UTC
	}
	return z.loc
}

// zoneName names the zone: its abbreviation where the zone database has one (CET,
// PST, UTC), otherwise its IANA name, since "+04" alone does not say where.
func zoneName(t time.Time) string {
	abbr, _ := t.Zone()
	if abbr != "" && abbr[0] != '+' && abbr[0] != '-' {
		return abbr
	}
	return t.Location().String() + " (UTC" + t.Format("-07:00") + ")"
}

// layout is how a locale writes a day and a time of day.
type layout struct{ date, sep, clock string }

// layoutFor is the locale's usual order. Go has no CLDR, so this covers the common
// orders and falls back to ISO 8601, which every reader can parse; month names appear
// only in English.
func layoutFor(locale string) layout {
	lang, rest, _ := strings.Cut(strings.ReplaceAll(locale, "_", "-"), "-")
	region, _, _ := strings.Cut(rest, "-")
	switch lang, region = strings.ToLower(lang), strings.ToUpper(region); {
	case lang == "en" && (region == "US" || region == ""):
		return layout{"Jan 2, 2006", ", ", "3:04 PM"}
	case lang == "en":
		return layout{"2 Jan 2006", ", ", "15:04"}
	case slices.Contains([]string{"de", "ru", "pl", "fi", "nb", "da", "cs", "tr"}, lang):
		return layout{"02.01.2006", " ", "15:04"}
	case slices.Contains([]string{"fr", "es", "it", "pt", "nl"}, lang):
		return layout{"02/01/2006", " ", "15:04"}
	default:
		return layout{"2006-01-02", " ", "15:04"}
	}
}
