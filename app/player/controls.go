package player

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// The controls. Each runs on the player's goroutine; the errors they
// return for the user's mistakes are music.Error values.

func nothingPlaying() *music.Error { return music.Errorf(music.ENOTFOUND, "Nothing is playing.") }

// Start plays the queue head if the player is idle; call it after an
// enqueue. While a track plays it only makes sure the new tracks follow
// without a gap.
func (p *Player) Start(ctx context.Context) error {
	return p.do(ctx, func(ctx context.Context) error {
		if p.cur != nil {
			p.prepareNext(ctx)
			return nil
		}
		return p.startHead(ctx)
	})
}

// Pause holds the output on the current frame; it hands out empty frames
// until Resume.
func (p *Player) Pause() error {
	return p.setPaused(true, EventPaused, "Playback is paused already.")
}

// Resume goes on from where Pause stopped.
func (p *Player) Resume() error {
	return p.setPaused(false, EventResumed, "Playback is not paused.")
}

func (p *Player) setPaused(paused bool, kind EventKind, already string) error {
	return p.doBackground(func(context.Context) error {
		if p.cur == nil {
			return nothingPlaying()
		}
		if p.out.paused == paused {
			return music.Errorf(music.ECONFLICT, "%s", already)
		}
		p.mu.Lock()
		p.out.paused = paused
		p.mu.Unlock()
		p.emit(kind, p.cur.entry, "")
		return nil
	})
}

// Skip ends the current track and plays the next (to = 0), or jumps to
// queue position to (the current track is position 1), dropping the
// tracks before it; with loop queue they go to the end instead.
func (p *Player) Skip(ctx context.Context, to int) error {
	return p.do(ctx, func(ctx context.Context) error { return p.skip(ctx, to) })
}

func (p *Player) skip(ctx context.Context, to int) error {
	if p.cur == nil {
		return nothingPlaying()
	}
	if to < 0 {
		return music.Errorf(music.EINVALID, "Say which position to skip to, from 2 on.")
	}
	if to > 0 {
		n, err := p.cfg.Queue.Len(ctx, p.cfg.Guild)
		if err != nil {
			return fmt.Errorf("skipping: %w", err)
		}
		if to == 1 {
			return music.Errorf(music.EINVALID, "Track 1 is the one playing; skip to 2 or later.")
		}
		if err := music.CheckIndex(n, to-1); err != nil {
			return err
		}
	}
	cur := p.cur
	// The track prepared to follow plays at once if it is still the one
	// that follows: no second download, no second ffmpeg start.
	prepared := p.takeNext()
	p.detachAll()
	p.cancelRelated()
	p.finish(ctx, cur, finishSkipped)
	var passed []music.Track
	for range max(to-2, 0) {
		e, err := p.cfg.Queue.Pop(ctx, p.cfg.Guild)
		if err != nil {
			return fmt.Errorf("skipping: %w", err)
		}
		passed = append(passed, e.Track)
	}
	if p.loopMode == LoopQueue && len(passed) > 0 {
		if _, err := p.cfg.Queue.Enqueue(ctx, p.cfg.Guild, passed...); err != nil {
			prepared.cancelIfAny()
			return fmt.Errorf("requeueing skipped tracks: %w", err)
		}
	}
	return p.ignoreEmpty(p.startHeadWith(ctx, prepared))
}

// ignoreEmpty: running out of tracks after a skip or a queue change is
// not the user's mistake.
func (p *Player) ignoreEmpty(err error) error {
	if music.ErrorCode(err) == music.ENOTFOUND {
		return nil
	}
	return err
}

// Stop clears the queue and goes idle; it ends autoplay's session: the
// tracks played so far may be chosen again.
func (p *Player) Stop(ctx context.Context) error {
	return p.do(ctx, func(ctx context.Context) error {
		p.forgetRelated()
		p.played.clear()
		n, err := p.cfg.Queue.Clear(ctx, p.cfg.Guild)
		if err != nil {
			return fmt.Errorf("clearing the queue: %w", err)
		}
		if p.cur == nil && n == 0 {
			return nothingPlaying()
		}
		if cur := p.cur; cur != nil {
			p.detachAll()
			p.emit(EventEnded, cur.entry, "")
		}
		p.goIdle()
		return nil
	})
}

// QueueChanged follows an edit of the queue made on the store: a new head
// (the current track removed, another moved to position 1, a clear)
// replaces the current track; other edits change what follows it.
func (p *Player) QueueChanged(ctx context.Context) error {
	return p.do(ctx, func(ctx context.Context) error {
		if p.cur == nil {
			return nil
		}
		head, err := p.cfg.Queue.Peek(ctx, p.cfg.Guild)
		switch {
		case music.ErrorCode(err) == music.ENOTFOUND || (err == nil && head.ID != p.cur.entry.ID):
			p.emit(EventEnded, p.cur.entry, "")
			return p.ignoreEmpty(p.startHead(ctx))
		case err != nil:
			return fmt.Errorf("reading the queue head: %w", err)
		}
		p.detachNext()
		p.prepareNext(ctx)
		return nil
	})
}

// Previous puts the last played track back at the head of the queue and
// plays it; the current track follows it.
func (p *Player) Previous(ctx context.Context) error {
	return p.do(ctx, func(ctx context.Context) error {
		if len(p.history) == 0 {
			return music.Errorf(music.ENOTFOUND, "There is no previous track.")
		}
		last := p.history[len(p.history)-1]
		i, err := p.cfg.Queue.Enqueue(ctx, p.cfg.Guild, last)
		if err != nil {
			return fmt.Errorf("queueing the previous track: %w", err)
		}
		if i > 0 {
			if err := p.cfg.Queue.Move(ctx, p.cfg.Guild, i, 0); err != nil {
				return fmt.Errorf("moving the previous track to the head: %w", err)
			}
		}
		p.history = p.history[:len(p.history)-1]
		if p.cur != nil {
			p.emit(EventEnded, p.cur.entry, "")
		}
		return p.startHead(ctx)
	})
}

// ForgetRequester takes user's name off the tracks the player holds, for
// /forget-me, after the queue store forgot them: the played tracks kept
// for Previous, which would otherwise queue them again naming the user, and
// the tracks playing and prepared, so that Status stops naming the user at
// once and their entries still match the queue's when they move up.
func (p *Player) ForgetRequester(ctx context.Context, user music.UserID) error {
	return p.do(ctx, func(context.Context) error {
		for i := range p.history {
			if p.history[i].RequestedBy == user {
				p.history[i].RequestedBy = ""
			}
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		for _, s := range []*stream{p.cur, p.pending, p.next} {
			if s != nil && s.entry.Track.RequestedBy == user {
				s.entry.Track.RequestedBy = ""
			}
		}
		return nil
	})
}

// Replay plays the current track again from its start.
func (p *Player) Replay(ctx context.Context) error {
	return p.Seek(ctx, 0)
}

// Seek moves to pos in the current track.
func (p *Player) Seek(ctx context.Context, pos time.Duration) error {
	return p.do(ctx, func(context.Context) error {
		if p.cur == nil {
			return nothingPlaying()
		}
		d := p.cur.length()
		if pos < 0 || (d > 0 && pos > d) {
			return music.Errorf(music.EINVALID, "Seek to a time between 0:00 and %s.", clock(d))
		}
		p.replace(int(pos/FrameDuration), false)
		return nil
	})
}

// SeekBy moves by d from the current position (back when negative),
// clamped to the track.
func (p *Player) SeekBy(ctx context.Context, d time.Duration) error {
	return p.do(ctx, func(context.Context) error {
		if p.cur == nil {
			return nothingPlaying()
		}
		target := max(time.Duration(p.target())*FrameDuration+d, 0)
		if dur := p.cur.length(); dur > 0 {
			target = min(target, dur)
		}
		p.replace(int(target/FrameDuration), false)
		return nil
	})
}

// target is the frame the output is at, or is about to jump to.
func (p *Player) target() int {
	if p.pending != nil && !p.pending.align {
		return p.pending.start
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.pos
}

// clock formats d as m:ss.
func clock(d time.Duration) string {
	s := int(d / time.Second)
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// SetVolume sets the volume in percent, 0..200, from the current position
// on and for the tracks after.
func (p *Player) SetVolume(ctx context.Context, pct int) error {
	if pct < 0 || pct > music.MaxVolume {
		return music.Errorf(music.EINVALID, "The volume must be between 0 and %d.", music.MaxVolume)
	}
	return p.setEffects(ctx, func(fx *Effects) { fx.Volume = pct })
}

// SetFilters replaces the audio filters (none clears them).
func (p *Player) SetFilters(ctx context.Context, names []string) error {
	names = slices.Clone(names)
	return p.setEffects(ctx, func(fx *Effects) { fx.Filters = names })
}

// SetNormalize turns loudness normalisation on or off.
func (p *Player) SetNormalize(ctx context.Context, on bool) error {
	return p.setEffects(ctx, func(fx *Effects) { fx.Normalize = on })
}

func (p *Player) setEffects(ctx context.Context, change func(*Effects)) error {
	return p.do(ctx, func(context.Context) error {
		change(&p.fx)
		if p.cur != nil {
			p.replace(p.target(), true)
		}
		return nil
	})
}

// SetLoop sets what happens when a track ends.
func (p *Player) SetLoop(mode LoopMode) error {
	if mode < LoopOff || mode > LoopQueue {
		return music.Errorf(music.EINVALID, "Loop is off, track or queue.")
	}
	return p.doBackground(func(ctx context.Context) error {
		if p.loopMode != mode {
			p.loopMode = mode
			p.detachNext()
			p.prepareNext(ctx)
		}
		return nil
	})
}

// SetAlwaysOn turns 24/7 mode on: the player never times out idle.
func (p *Player) SetAlwaysOn(on bool) error {
	return p.doBackground(func(context.Context) error {
		p.alwaysOn = on
		return nil
	})
}

// SetListeners tells the player how many users other than bots are in
// its voice channel; none counts as idle for the idle timeout.
func (p *Player) SetListeners(n int) error {
	return p.doBackground(func(context.Context) error {
		p.listeners = max(n, 0)
		return nil
	})
}

// VoteSkip records user's vote to skip the current track, among listeners
// users in the channel; a majority skips it. Votes reset when the track
// changes, and a user counts once.
func (p *Player) VoteSkip(ctx context.Context, user music.UserID, listeners int) (votes, needed int, skipped bool, err error) {
	err = p.do(ctx, func(ctx context.Context) error {
		if p.cur == nil {
			return nothingPlaying()
		}
		if !slices.Contains(p.votes, user) {
			p.votes = append(p.votes, user)
		}
		votes, needed = len(p.votes), max(listeners, 1)/2+1
		if votes < needed {
			return nil
		}
		skipped = true
		return p.skip(ctx, 0)
	})
	return votes, needed, skipped, err
}

// doBackground runs a control that has no caller's context; the queue
// calls it may make are bounded like the player's own.
func (p *Player) doBackground(fn func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	return p.do(ctx, fn)
}
