package web

import (
	"sync"
	"time"
)

// maxLimitKeys bounds the keys a limiter remembers; past it, windows that
// ended are forgotten.
const maxLimitKeys = 10000

// limiter allows max events per key in each fixed window.
type limiter struct {
	max    int
	window time.Duration
	now    func() time.Time

	mu   sync.Mutex
	keys map[string]limitWindow
}

type limitWindow struct {
	start time.Time
	n     int
}

func newLimiter(max int, window time.Duration, now func() time.Time) *limiter {
	return &limiter{max: max, window: window, now: now, keys: make(map[string]limitWindow)}
}

// allow counts one event of key and reports whether it is within the limit.
func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	w, ok := l.keys[key]
	if !ok || now.Sub(w.start) >= l.window {
		if !ok && len(l.keys) >= maxLimitKeys {
			l.forgetEnded(now)
		}
		w = limitWindow{start: now}
	}
	w.n++
	l.keys[key] = w
	return w.n <= l.max
}

func (l *limiter) forgetEnded(now time.Time) {
	for k, w := range l.keys {
		if now.Sub(w.start) >= l.window {
			delete(l.keys, k)
		}
	}
}

// usedStates remembers OAuth states already consumed until they would have
// expired anyway, so that a replayed callback fails even with the cookie
// that carried its state.
type usedStates struct {
	mu    sync.Mutex
	until map[string]time.Time
}

// consume marks state used and reports whether it was unused.
func (u *usedStates) consume(state string, expires, now time.Time) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.until == nil {
		u.until = make(map[string]time.Time)
	}
	for s, t := range u.until {
		if now.After(t) {
			delete(u.until, s)
		}
	}
	if _, used := u.until[state]; used {
		return false
	}
	u.until[state] = expires
	return true
}
