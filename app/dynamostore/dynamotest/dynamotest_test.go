package dynamotest

import (
	"fmt"
	"strings"
	"testing"
)

// recorder notes how a test would have ended instead of ending it.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()                          {}
func (r *recorder) Fatal(args ...any)                { r.fatal = fmt.Sprint(args...) }
func (r *recorder) Skipf(format string, args ...any) { r.skip = fmt.Sprintf(format, args...) }

func TestNoEndpointFailsUnderCIAndSkipsElsewhere(t *testing.T) {
	tests := []struct {
		ci                  string
		wantFatal, wantSkip bool
	}{
		{"true", true, false},
		{"", false, true},
		{"false", false, true},
	}
	for _, tt := range tests {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			r := &recorder{TB: t}
			unavailable(r, "no Docker engine")
			if (r.fatal != "") != tt.wantFatal || (r.skip != "") != tt.wantSkip {
				t.Fatalf("fatal %q, skip %q; want fatal: %v, skip: %v", r.fatal, r.skip, tt.wantFatal, tt.wantSkip)
			}
			if msg := r.fatal + r.skip; !strings.Contains(msg, "no Docker engine") || !strings.Contains(msg, EnvEndpoint) {
				t.Errorf("message %q does not say why and what to do", msg)
			}
		})
	}
}
