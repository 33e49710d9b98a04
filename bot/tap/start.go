package tap

import (
	"time"

	"github.com/tapbot/tapbot/bot"
	"github.com/tapbot/tapbot/cards"
)

// MaxStartAhead is how far ahead a pass may be made to start. Graph's create page
// documents no limit on startDateTime; tapbot sets one, because a pass created now is
// a live credential (and an open delivery) from now until it expires, however late it
// starts.
const MaxStartAhead = 30 * 24 * time.Hour

// startSkew is how far in the past a start may lie (typing takes time); an earlier
// one is a mistake, not a wish.
const startSkew = 5 * time.Minute

// zone is the requester's time zone: the one Teams sends with the activity
// (localTimezone, an IANA name), else the organisation's.
func (f *Flow) zone(t *bot.Turn) *time.Location {
	if name := t.Activity().LocalTimezone; name != "" {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc
		}
	}
	return f.cfg.Location
}

// checkStart refuses a start in the past or beyond MaxStartAhead.
func (f *Flow) checkStart(r Request) error {
	if r.Start.IsZero() {
		return nil
	}
	now := f.cfg.Now()
	switch {
	case r.Start.Before(now.Add(-startSkew)):
		return usagef("%s (%s) has passed. Leave out \"from\" for a pass valid now.", r.Start.Format(cards.StartLayout), r.Start.Location())
	case r.Start.After(now.Add(MaxStartAhead)):
		return usagef("A pass may start at most 30 days ahead; %s (%s) is later.", r.Start.Format(cards.StartLayout), r.Start.Location())
	}
	return nil
}

// startNote names a later start in the zone it was asked in, for the card.
func (f *Flow) startNote(start time.Time, t *bot.Turn) string {
	if start.IsZero() || !start.After(f.cfg.Now()) {
		return ""
	}
	loc := start.Location()
	if t != nil {
		loc = f.zone(t)
	}
	return cards.StartText(start.In(loc))
}
