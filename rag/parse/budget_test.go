package parse

import (
	"context"
	"errors"
	"testing"
	"time"
)

// waitFor polls until cond holds; the test's deadline bounds it.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for !cond() {
		time.Sleep(time.Millisecond)
	}
}

func TestBudget(t *testing.T) {
	t.Parallel()
	ctx := testCtx(t)
	b := NewBudget(10)

	big, err := b.reserve(ctx, 6)
	if err != nil {
		t.Fatal(err)
	}
	// A second 6 does not fit and queues; a 1 behind it fits but waits
	// its turn, so the 6 is not starved.
	granted := make(chan int64, 3)
	reserve := func(ctx context.Context, n int64) chan error {
		done := make(chan error, 1)
		go func() {
			release, err := b.reserve(ctx, n)
			if err == nil {
				granted <- n
				t.Cleanup(release)
			}
			done <- err
		}()
		return done
	}
	six := reserve(ctx, 6)
	waitFor(t, func() bool { return b.Waiting() == 1 })
	cancelCtx, cancel := context.WithCancel(ctx)
	cancelled := reserve(cancelCtx, 2)
	waitFor(t, func() bool { return b.Waiting() == 2 })
	one := reserve(ctx, 1)
	waitFor(t, func() bool { return b.Waiting() == 3 })
	if n := b.InUse(); n != 6 {
		t.Fatalf("in use = %d, want 6 (only the first reservation)", n)
	}

	// A waiter that gives up leaves the queue and returns ctx.Err().
	cancel()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled reservation: err = %v, want context.Canceled", err)
	}
	if w := b.Waiting(); w != 2 {
		t.Fatalf("waiting = %d after a cancel, want 2", w)
	}

	// Releasing the first lets both queued ones in; a second release
	// does nothing.
	big()
	big()
	for _, done := range []chan error{six, one} {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if a, b := <-granted, <-granted; a+b != 7 {
		t.Errorf("granted %d and %d, want 6 and 1", a, b)
	}
	if n := b.InUse(); n != 7 {
		t.Errorf("in use = %d, want 7", n)
	}

	// A reservation larger than the budget takes the whole of it, once
	// the budget is free, rather than waiting forever.
	whole := NewBudget(10)
	release, err := whole.reserve(ctx, 1<<40)
	if err != nil || whole.InUse() != 10 {
		t.Fatalf("reserve(1 TiB) of 10: err = %v, in use %d; want the whole budget", err, whole.InUse())
	}
	release()
	if n := whole.InUse(); n != 0 {
		t.Errorf("in use after release = %d, want 0", n)
	}
}
