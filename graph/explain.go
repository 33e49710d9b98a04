package graph

import (
	"context"
	"errors"
)

// Explain words a Graph failure for the person who asked, in one sentence that names
// what they or an admin can do. The details (codes, messages, ids) belong in the log.
func Explain(err error) string {
	switch {
	case errors.Is(err, ErrForbidden):
		return "tapbot's app registration lacks a Microsoft Graph permission for this; an admin should run `tapbot doctor`."
	case errors.Is(err, ErrThrottled), errors.Is(err, ErrUnavailable):
		return "Microsoft Graph is busy or unavailable right now; try again in a minute."
	case errors.Is(err, context.DeadlineExceeded):
		return "Microsoft Graph took too long to answer; try again in a minute."
	}
	return "Something went wrong talking to Microsoft Graph."
}
