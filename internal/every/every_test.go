package every

import (
	"context"
	"errors"
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

// TestSleep: a wait ends when its time is up, or at once with the context's error
// when the context ends first (an hour's Retry-After must not outlive a shutdown).
func TestSleep(t *testing.T) {
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Errorf("Sleep(1ms) = %v, want nil", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep(1h) with a cancelled context = %v, want %v", err, context.Canceled)
	}
}
