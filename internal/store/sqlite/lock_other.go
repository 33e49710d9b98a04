//go:build !unix

package sqlite

import (
	"errors"
	"os"
)

// ErrLocked means another process has the database open.
var ErrLocked = errors.New("the database is in use by another tapbot process")

// lockFile is a no-op where flock is missing: tapbot's images are Linux.
func lockFile(string) (*os.File, error) { return nil, nil }
