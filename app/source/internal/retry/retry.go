// Package retry holds what the metadata clients share for waiting out a
// rate limit: reading a Retry-After and sleeping under a context. Whether
// to wait, and how often, stays with each client.
package retry

import (
	"context"
	"net/http"
	"strconv"
	"time"
)

// After reads a Retry-After in seconds, one second when absent or not a
// number of seconds.
func After(h http.Header) time.Duration {
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	return time.Second
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
