package fetch

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/music"
)

func TestLimitsValidate(t *testing.T) {
	tests := []struct {
		name    string
		limits  Limits
		wantErr string
	}{
		{"zero takes defaults", Limits{}, ""},
		{"defaults", DefaultLimits(), ""},
		{"negative duration", Limits{MaxTrackDuration: -time.Second}, "fetch limits: MaxTrackDuration -1s is negative"},
		{"negative bytes", Limits{MaxBytes: -1}, "fetch limits: MaxBytes -1 is negative"},
		{"negative concurrency", Limits{MaxConcurrentFetchesPerGuild: -1}, "fetch limits: MaxConcurrentFetchesPerGuild -1 is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.limits.Validate()
			if got := errString(err); got != tt.wantErr {
				t.Errorf("Validate() = %q, want %q", got, tt.wantErr)
			}
		})
	}
	if got, want := (Limits{}).withDefaults(), DefaultLimits(); got != want {
		t.Errorf("zero limits resolve to %+v, want %+v", got, want)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestLimitChecks(t *testing.T) {
	defaults := Limits{}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"default byte limit", defaults.withDefaults().tooLarge(), "That file is larger than the 200 MB limit."},
		{"fractional byte limit", Limits{MaxBytes: 3 << 19}.tooLarge(), "That file is larger than the 1.5 MB limit."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := music.ErrorMessage(tt.err); got != tt.want {
				t.Errorf("message %q, want %q", got, tt.want)
			}
			if tt.want != "" && music.ErrorCode(tt.err) != music.EINVALID {
				t.Errorf("code %q, want EINVALID", music.ErrorCode(tt.err))
			}
		})
	}
}

func TestLimiter(t *testing.T) {
	l := NewLimiter(Limits{MaxConcurrentFetchesPerGuild: 2})
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()

	first, err1 := l.Acquire(ctx, "g1")
	second, err2 := l.Acquire(ctx, "g1")
	if err1 != nil || err2 != nil {
		t.Fatalf("the first two fetches: %v, %v", err1, err2)
	}
	_, err := l.Acquire(cancelled, "g1")
	if music.ErrorCode(err) != music.ECONFLICT || !errors.Is(err, context.Canceled) ||
		music.ErrorMessage(err) != "This server is already loading 2 tracks; try again in a moment." {
		t.Errorf("third fetch of the guild: %v", err)
	}
	other, err := l.Acquire(cancelled, "g2")
	if err != nil {
		t.Errorf("another guild is held up by the first: %v", err)
	}
	other()

	// A waiting fetch gets the slot that is released.
	got := make(chan error, 1)
	go func() {
		release, err := l.Acquire(ctx, "g1")
		if err == nil {
			release()
		}
		got <- err
	}()
	for waiters := 0; waiters != 3; runtime.Gosched() { // two holders and the waiter
		l.mu.Lock()
		waiters = l.guilds["g1"].users
		l.mu.Unlock()
	}
	first()
	first() // a second release frees nothing more
	if err := <-got; err != nil {
		t.Errorf("waiting fetch: %v", err)
	}
	third, err := l.Acquire(ctx, "g1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Acquire(cancelled, "g1"); err == nil {
		t.Error("a double release freed a second slot")
	}
	second()
	third()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.guilds) != 0 {
		t.Errorf("idle guilds still tracked: %v", l.guilds)
	}
}
