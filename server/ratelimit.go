package server

import (
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"llmops/store"
)

// limiter is a token bucket per key (an address, an account) with lazy
// pruning of idle keys, so memory stays bounded under a spray of
// addresses. It is written here rather than taken from x/time/rate
// because sign-in needs to give a token back after the fact (a correct
// password does not count against anyone), which rate.Reservation only
// allows before the reservation's time has passed.
type limiter struct {
	mu      sync.Mutex
	burst   int
	every   time.Duration
	buckets map[string]*bucket
	pruned  time.Time
}

type bucket struct {
	tokens float64
	at     time.Time // when tokens was last refilled
	// refused is set by a refusal and cleared by a spent token, so a
	// lockout is reported once, not once per refused attempt.
	refused bool
}

// newLimiter allows burst events at once per key, then one per every.
func newLimiter(burst int, every time.Duration) *limiter {
	return &limiter{burst: burst, every: every, buckets: map[string]*bucket{}}
}

// attempt is the outcome of take.
type attempt struct {
	ok   bool          // a token was available and is now spent
	wait time.Duration // until the next token, when !ok
	// full: the bucket was full before this attempt, so the key has
	// spent nothing lately (for sign-in: no recent failure).
	full bool
	// refilled is how long until the bucket is full again.
	refilled time.Duration
}

// take spends a token for key if one is available.
func (l *limiter) take(key string, now time.Time) attempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.pruned) > time.Minute {
		// A bucket idle this long has refilled: forgetting it changes nothing.
		idle := l.every * time.Duration(l.burst)
		for k, b := range l.buckets {
			if now.Sub(b.at) > idle {
				delete(l.buckets, k)
			}
		}
		l.pruned = now
	}
	b := l.bucket(key, now)
	a := attempt{full: b.tokens >= float64(l.burst)}
	if b.tokens >= 1 {
		b.tokens--
		b.refused = false
		a.ok = true
	} else {
		a.wait = time.Duration((1 - b.tokens) * float64(l.every))
	}
	a.refilled = time.Duration((float64(l.burst) - b.tokens) * float64(l.every))
	return a
}

// bucket returns key's bucket refilled up to now. l.mu is held.
func (l *limiter) bucket(key string, now time.Time) *bucket {
	b, ok := l.buckets[key]
	if !ok {
		b = &bucket{tokens: float64(l.burst), at: now}
		l.buckets[key] = b
	}
	if now.After(b.at) {
		b.tokens = min(float64(l.burst), b.tokens+float64(now.Sub(b.at))/float64(l.every))
		b.at = now
	}
	return b
}

// giveBack returns a token that take spent, when what it paid for turned
// out not to count (a successful sign-in).
func (l *limiter) giveBack(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, now)
	b.tokens = min(float64(l.burst), b.tokens+1)
}

// refuse records that key was refused and reports whether this begins a
// lockout: the first refusal since the key last spent a token.
func (l *limiter) refuse(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, now)
	first := !b.refused
	b.refused = true
	return first
}

// allow consumes a token for key and reports whether one was available,
// with how long until the next one when not.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	a := l.take(key, now)
	return a.ok, a.wait
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
