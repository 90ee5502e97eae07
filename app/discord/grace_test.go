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
	l := &leaver{
		grace:     time.Hour,
		approvals: appr,
		leave: func(_ context.Context, g music.GuildID) error {
			mu.Lock()
			defer mu.Unlock()
			left = append(left, g)
			return nil
		},
		log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
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
