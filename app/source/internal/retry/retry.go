// Package retry holds what the metadata clients share for waiting out a
// rate limit: reading a Retry-After (the wait itself is backoff.Sleep).
// Whether to wait, and how often, stays with each client.
package retry

import (
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
