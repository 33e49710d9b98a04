//go:build unix

package sqlite

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// ErrLocked means another process has the database open. SQLite is tapbot's
// single-node store: two processes on one file would both run the background jobs
// and reconcile each other's passes in flight. Run several replicas on PostgreSQL.
var ErrLocked = errors.New("the database is in use by another tapbot process")

// lockFile takes an exclusive advisory lock on path+".lock" for the life of the
// returned file, and writes the process id into it for the error a second process
// gets. flock, not fcntl: SQLite's own POSIX locks on the database file are dropped
// whenever any descriptor of that file closes in the process, flock ones are not.
func lockFile(path string) (*os.File, error) {
	name := path + ".lock"
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(name)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid := strings.TrimSpace(string(holder))
			if _, perr := strconv.Atoi(pid); perr != nil {
				pid = "unknown"
			}
			return nil, fmt.Errorf("%w (pid %s holds %s)", ErrLocked, pid, name)
		}
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}
