package graph

import "strings"

// ProbeResult is the outcome of one read request `tapbot doctor --probe` made.
type ProbeResult struct {
	Name string // what was read, e.g. "the user's groups (target batch)"
	// Key finds the request's row in the permission table (FindCall).
	Key string
	Err error // nil: Graph answered it
	// Limited, when set, says Graph answered with limited information (a read
	// permission is missing for the objects listed).
	Limited string
	Skipped string // why the request was not made, if it was not
	// Nothing, when set, says why there was nothing to read: no request was needed
	// (the user is in no role-assignable group), or Graph's 404 means none, as tapbot
	// reads it (the user has no manager). A finding about the user, not a gap in the
	// probe.
	Nothing string
}

// FindCall returns the first row of Calls whose Request contains key.
func FindCall(key string) (Call, bool) {
	for _, c := range Calls {
		if key != "" && strings.Contains(c.Request, key) {
			return c, true
		}
	}
	return Call{}, false
}
