package store

import (
	"sync/atomic"
	"time"
)

// writeLogInterval is the least time between two log lines about failed writes: a
// full disk or a database that refuses every write fails every write, and the log
// must not become the next thing to fill up.
const writeLogInterval = time.Minute

// WriteFailures counts a backend's failed writes, for the metric, and tells it
// when to log one. The zero value is ready to use, and safe for concurrent use.
type WriteFailures struct {
	n       atomic.Uint64
	lastLog atomic.Int64 // Unix nanoseconds of the last log line
}

// Add counts a failed write. It returns the count so far and whether to log this
// failure: at most once per writeLogInterval, however many writers fail at once.
func (w *WriteFailures) Add() (n uint64, log bool) {
	n = w.n.Add(1)
	now := time.Now().UnixNano()
	last := w.lastLog.Load()
	return n, now-last >= int64(writeLogInterval) && w.lastLog.CompareAndSwap(last, now)
}

// Count is how many writes have failed.
func (w *WriteFailures) Count() uint64 { return w.n.Load() }
