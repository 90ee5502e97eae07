package discord

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/music"
)

// checkedApprovals signals every IsApproved call.
type checkedApprovals struct {
	approved map[music.GuildID]bool
	checked  chan music.GuildID
}

func (c *checkedApprovals) IsApproved(_ context.Context, g music.GuildID) (bool, error) {
	defer func() { c.checked <- g }()
	return c.approved[g], nil
}

func TestLeaverLeavesOnlyUnapprovedGuilds(t *testing.T) {
	const approved, unapproved, rejoined music.GuildID = "1", "2", "3"
	appr := &checkedApprovals{approved: map[music.GuildID]bool{approved: true}, checked: make(chan music.GuildID, 3)}
	var mu sync.Mutex
	var left []music.GuildID
	l := newLeaver(context.Background(), time.Hour, appr, func(_ context.Context, g music.GuildID) error {
		mu.Lock()
		defer mu.Unlock()
		left = append(left, g)
		return nil
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	longAgo := time.Now().Add(-2 * time.Hour) // the grace period is over: checks run at once
	l.schedule(approved, longAgo)
	l.schedule(unapproved, longAgo)
	l.schedule(rejoined, time.Now()) // grace still running...
	l.schedule(rejoined, time.Now()) // ...re-armed by a second GUILD_CREATE...
	l.forget(rejoined)               // ...and cancelled when the bot leaves it
	l.schedule("4", time.Now())      // pending when the bot stops
	<-appr.checked
	<-appr.checked
	l.close()
	if diff := cmp.Diff([]music.GuildID{unapproved}, left); diff != "" {
		t.Errorf("left guilds (-want +got):\n%s", diff)
	}
	if len(appr.checked) != 0 {
		t.Errorf("a cancelled or pending guild was checked: %s", <-appr.checked)
	}
	l.schedule("5", longAgo) // after close: ignored
	if len(l.timers) != 0 {
		t.Errorf("timers left after close: %d", len(l.timers))
	}
}

func TestLeaverCloseCancelsARunningCheck(t *testing.T) {
	// stall blocks until the check's context ends, after closing asked.
	stall := func(ctx context.Context, asked chan struct{}) error {
		close(asked)
		<-ctx.Done()
		return ctx.Err()
	}
	noLeave := func(context.Context, music.GuildID) error { return nil }
	tests := []struct {
		name  string
		setup func(asked chan struct{}) (approvals, func(context.Context, music.GuildID) error)
	}{
		{"store stalls", func(asked chan struct{}) (approvals, func(context.Context, music.GuildID) error) {
			return stalledApprovals(func(ctx context.Context) error { return stall(ctx, asked) }), noLeave
		}},
		{"leave request stalls", func(asked chan struct{}) (approvals, func(context.Context, music.GuildID) error) {
			return fakeApprovals{}, func(ctx context.Context, _ music.GuildID) error { return stall(ctx, asked) }
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asked := make(chan struct{})
			appr, leave := tt.setup(asked)
			l := newLeaver(context.Background(), time.Hour, appr, leave, slog.New(slog.NewTextHandler(io.Discard, nil)))
			l.schedule("1", time.Now().Add(-2*time.Hour))
			<-asked
			closed := make(chan struct{})
			go func() { l.close(); close(closed) }()
			// The check's own deadline is 10 s: finishing well inside it
			// means close cancelled the check.
			select {
			case <-closed:
			case <-time.After(5 * time.Second):
				t.Fatal("close waited for a stalled check")
			}
		})
	}
}

// stalledApprovals is a store whose IsApproved runs the function.
type stalledApprovals func(ctx context.Context) error

func (f stalledApprovals) IsApproved(ctx context.Context, _ music.GuildID) (bool, error) {
	return false, f(ctx)
}
