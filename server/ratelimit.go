package server

import (
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"llmops/store"
)

// limiter is a token bucket per key (an IP, an email) with lazy pruning of
// idle keys, so memory stays bounded under a spray of addresses.
type limiter struct {
	mu      sync.Mutex
	burst   int
	every   time.Duration
	buckets map[string]*bucket
	pruned  time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// newLimiter allows burst events at once per key, then one per every.
func newLimiter(burst int, every time.Duration) *limiter {
	return &limiter{burst: burst, every: every, buckets: map[string]*bucket{}}
}

// allow consumes a token for key and reports whether one was available,
// with how long until the next one when not.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.pruned) > time.Minute {
		idle := l.every * time.Duration(l.burst)
		for k, b := range l.buckets {
			if now.Sub(b.seen) > idle {
				delete(l.buckets, k)
			}
		}
		l.pruned = now
	}
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(rate.Every(l.every), l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// retryAfter formats a Retry-After header value in whole seconds.
func retryAfter(d time.Duration) string {
	return strconv.Itoa(int((d + time.Second - 1) / time.Second))
}

// askBurst is how many asks a key or user may send at once before
// Config.AskRate paces them.
const askBurst = 20

// newAskLimiter is the bucket per API key and per user for ask routes, or
// nil when asks are unlimited (rate 0).
func newAskLimiter(perMinute int) *limiter {
	if perMinute <= 0 {
		return nil
	}
	return newLimiter(min(askBurst, perMinute), time.Minute/time.Duration(perMinute))
}

// limitAsks holds each API key and each signed-in user to Config.AskRate
// asks a minute on routes with the askLimit prop. Only HTTP asks pass
// here: eval runs call the assistant directly and are not limited.
func (s *Server) limitAsks(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := principalOf(c)
		if s.askLimiter == nil || p == nil {
			return next(c)
		}
		// A key has its own bucket, apart from its owner's sessions.
		bucket, who := "user:"+p.actor.ID, "you"
		if p.key != nil {
			bucket, who = "key:"+p.key.ID, "this API key"
		}
		if ok, wait := s.askLimiter.allow(bucket, s.now()); !ok {
			c.Response().Header().Set("Retry-After", retryAfter(wait))
			return store.Errorf(store.ERATELIMITED, "too many questions from %s (the limit is %d a minute); try again in %s s",
				who, s.cfg.AskRate, retryAfter(wait))
		}
		return next(c)
	}
}
