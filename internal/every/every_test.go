package every

import (
	"context"
	"testing"
	"time"
)

// Tick runs at once, numbers its runs, and returns when the context ends.
func TestTick(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var runs []int
	done := make(chan struct{})
	go func() {
		defer close(done)
		Tick(ctx, time.Millisecond, func(_ context.Context, n int) {
			runs = append(runs, n)
			if n == 2 {
				cancel()
			}
		})
	}()
	<-done
	if len(runs) != 3 || runs[0] != 0 || runs[2] != 2 {
		t.Fatalf("runs %v, want [0 1 2]", runs)
	}
}
