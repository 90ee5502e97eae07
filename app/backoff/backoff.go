// Package backoff waits between the tries of an operation that lost a race
// to another writer or met a busy service: jittered, exponential, capped,
// and cut short when the context ends, so that contenders spread out. It
// owns the waiting only, not whether or how often to try again.
package backoff

import (
	"context"
	"math/rand/v2"
	"time"
)

// Wait waits before try attempt+1 (attempt ≥ 1): base doubled attempt
// times, capped at limit, then jittered to between half and one and a half
// of that. It returns ctx.Err() when ctx ends first.
func Wait(ctx context.Context, attempt int, base, limit time.Duration) error {
	d := min(base<<min(attempt, 10), limit)
	return Sleep(ctx, d/2+rand.N(d))
}

// Sleep waits d, or until ctx ends, whose error it then returns.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
