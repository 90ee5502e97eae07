package retry

import (
	"context"
	"errors"
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

func TestSleepEndsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sleep = %v, want context.Canceled", err)
	}
}
