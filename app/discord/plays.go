package discord

import (
	"context"
	"sync"

	"github.com/iddv/timmybot/app/music"
)

// errStoppedDuringPlay is why /stop and /clear cancel a /play in flight;
// Close cancels with errShuttingDown.
var errStoppedDuringPlay = music.Errorf(music.ECONFLICT, "Not queued: /stop or /clear ran while it was being queued.")

// plays keeps the /play commands in flight, which resolve and mirror
// outside their guild's command lock (Command.Unlocked), so that:
//
//   - a guild's plays land in the order they started: each one queues only
//     after the one started before it in the guild landed or failed, so two
//     playlists pasted back to back queue in that order, however long each
//     takes to read;
//   - /stop and /clear cancel the guild's plays in flight, so what the user
//     stopped or cleared is not refilled by a list that lands afterwards;
//     plays started after them are not touched;
//   - Close cancels every play and waits for their handlers to return.
//
// It does not order a /play against other commands that queue
// (/playlist load, a search pick): those hold the guild's lock throughout,
// and waiting for a play under it would hold the play up.
type plays struct {
	mu      sync.Mutex
	closed  bool
	byGuild map[music.GuildID][]*play // in the order they started
	running sync.WaitGroup
}

// play is one /play in flight.
type play struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	before <-chan struct{} // closed when the play started before it ended; nil: none
	ended  chan struct{}
}

func newPlays() *plays {
	return &plays{byGuild: map[music.GuildID][]*play{}}
}

// begin registers a play in guild, last in its order, with a context that
// ends with ctx, a cancel of the guild's plays, or Close. The caller must
// end it.
func (ps *plays) begin(ctx context.Context, guild music.GuildID) (*play, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.closed {
		return nil, errShuttingDown
	}
	p := &play{ended: make(chan struct{})}
	p.ctx, p.cancel = context.WithCancelCause(ctx)
	if list := ps.byGuild[guild]; len(list) > 0 {
		p.before = list[len(list)-1].ended
	}
	ps.byGuild[guild] = append(ps.byGuild[guild], p)
	ps.running.Add(1)
	return p, nil
}

// end removes p from guild's plays, letting the next one land.
func (ps *plays) end(guild music.GuildID, p *play) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	list := ps.byGuild[guild]
	for i, q := range list {
		if q == p {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(ps.byGuild, guild)
	} else {
		ps.byGuild[guild] = list
	}
	p.cancel(nil)
	close(p.ended)
	ps.running.Done()
}

// cancelGuild cancels guild's plays in flight and says how many it
// cancelled.
func (ps *plays) cancelGuild(guild music.GuildID) int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	n := 0
	for _, p := range ps.byGuild[guild] {
		if p.ctx.Err() == nil {
			p.cancel(errStoppedDuringPlay)
			n++
		}
	}
	return n
}

// close cancels every play, refuses new ones, and waits for the handlers
// of those in flight to return.
func (ps *plays) close() {
	ps.mu.Lock()
	ps.closed = true
	for _, list := range ps.byGuild {
		for _, p := range list {
			p.cancel(errShuttingDown)
		}
	}
	ps.mu.Unlock()
	ps.running.Wait()
}

// waitTurn returns when the play started before p in its guild ended, or
// p's context did.
func (p *play) waitTurn() error {
	if p.before == nil {
		return nil
	}
	select {
	case <-p.before:
		return nil
	case <-p.ctx.Done():
		return context.Cause(p.ctx)
	}
}
