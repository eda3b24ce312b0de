package parse

import (
	"context"
	"errors"
	"slices"
	"sync"

	"llmops/store"
)

// Budget caps the bytes the parses sharing it may decompress at once: a
// weighted semaphore, first come first served. A parse reserves what its
// file may expand to before it decompresses anything and releases it when
// it returns, so however many uploads arrive together, the bytes they
// inflate stay under one bound. The zero value is not usable; see
// NewBudget.
type Budget struct {
	size int64

	mu      sync.Mutex
	used    int64
	waiters []*budgetWaiter // in arrival order
}

type budgetWaiter struct {
	n     int64
	ready chan struct{} // closed once the reservation is granted
}

// NewBudget returns a budget of size bytes.
func NewBudget(size int64) *Budget {
	return &Budget{size: max(size, 1)}
}

// Size returns the budget's capacity in bytes.
func (b *Budget) Size() int64 { return b.size }

// InUse returns the bytes reserved now.
func (b *Budget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Waiting returns how many reservations are queued.
func (b *Budget) Waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.waiters)
}

// reserve waits until n bytes (at most the whole budget) are free and
// takes them, or returns ctx.Err(). release gives them back; calling it
// again does nothing. Waiters are served in order, so a large reservation
// is not starved by a stream of small ones. A nil *Budget is the
// process's.
func (b *Budget) reserve(ctx context.Context, n int64) (release func(), err error) {
	if b == nil {
		b = processBudget
	}
	n = min(max(n, 0), b.size)
	release = sync.OnceFunc(func() {
		b.mu.Lock()
		b.used -= n
		b.grantLocked()
		b.mu.Unlock()
	})
	b.mu.Lock()
	if len(b.waiters) == 0 && b.used+n <= b.size {
		b.used += n
		b.mu.Unlock()
		return release, nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	b.waiters = append(b.waiters, w)
	b.mu.Unlock()

	select {
	case <-w.ready:
		return release, nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	select {
	case <-w.ready:
		// Granted while we gave up: hand it back.
		b.used -= n
	default:
		b.waiters = slices.DeleteFunc(b.waiters, func(x *budgetWaiter) bool { return x == w })
	}
	// Either way the queue's head may fit now.
	b.grantLocked()
	b.mu.Unlock()
	return nil, ctx.Err()
}

// grantLocked grants the waiters at the head of the queue that fit.
func (b *Budget) grantLocked() {
	for len(b.waiters) > 0 && b.used+b.waiters[0].n <= b.size {
		w := b.waiters[0]
		b.waiters = slices.Delete(b.waiters, 0, 1)
		b.used += w.n
		close(w.ready)
	}
}

// reserveFor reserves a parse's decompression limit from lim.Budget. A
// deadline that passes while it waits is the server being busy, not the
// file being slow to read, and says so; a cancellation is ctx.Err().
func reserveFor(ctx context.Context, lim Limits, expansion *fileExpansion, name string) (release func(), err error) {
	release, err = lim.Budget.reserve(ctx, expansion.limit)
	if errors.Is(err, context.DeadlineExceeded) {
		return nil, store.Errorf(store.EUNAVAILABLE, "the server is busy decompressing other files; upload %s again later", displayName(name))
	}
	return release, err
}
