package retry

import (
	"net/http"
	"testing"
	"time"
)

func TestAfter(t *testing.T) {
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"7", 7 * time.Second},
		{"0", 0},
		{"", time.Second},
		{"-3", time.Second},
		{"Wed, 21 Oct 2015 07:28:00 GMT", time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			if got := After(http.Header{"Retry-After": {tt.value}}); got != tt.want {
				t.Errorf("After(%q) = %s, want %s", tt.value, got, tt.want)
			}
		})
	}
}
