package discord

import (
	"context"
	"time"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/player"
)

// FetchSlots bounds how many tracks one guild loads at once: the audio
// fetcher's Limiter. Acquire takes a slot, waiting while ctx allows, and
// fails with a user-facing error when none frees in time.
type FetchSlots interface {
	Acquire(ctx context.Context, guild music.GuildID) (release func(), err error)
}

// fetchSlotWait is how long an open waits for one of its guild's slots.
// Slots free as soon as a skipped or superseded track's audio closes, so a
// wait this long means the guild really is loading that much, and the user
// hears so instead of waiting for the playing track to end.
const fetchSlotWait = 3 * time.Second

// slottedOpener opens one guild's tracks inside the guild's fetch slots:
// each Frames holds a slot until it is closed.
type slottedOpener struct {
	opener player.Opener
	slots  FetchSlots
	guild  music.GuildID
	wait   time.Duration
}

// guildOpener is the Opener of guild's player: cfg's, bounded by
// cfg.FetchSlots when there are any.
func guildOpener(cfg PlaybackConfig, guild music.GuildID) player.Opener {
	if cfg.FetchSlots == nil {
		return cfg.Opener
	}
	return slottedOpener{opener: cfg.Opener, slots: cfg.FetchSlots, guild: guild, wait: fetchSlotWait}
}

// Open implements player.Opener.
func (o slottedOpener) Open(ctx context.Context, t music.Track, at time.Duration, fx player.Effects) (player.Frames, error) {
	wait, cancel := context.WithTimeout(ctx, o.wait)
	release, err := o.slots.Acquire(wait, o.guild)
	cancel()
	if err != nil {
		return nil, err
	}
	f, err := o.opener.Open(ctx, t, at, fx)
	if err != nil {
		release()
		return nil, err
	}
	return &slottedFrames{Frames: f, release: release}, nil
}

// slottedFrames gives its slot back when closed.
type slottedFrames struct {
	player.Frames
	release func()
}

var _ player.Measured = (*slottedFrames)(nil)

// Duration passes on the length the wrapped frames measure, if they do.
func (f *slottedFrames) Duration() time.Duration {
	if m, ok := f.Frames.(player.Measured); ok {
		return m.Duration()
	}
	return 0
}

// Close implements player.Frames.
func (f *slottedFrames) Close() error {
	defer f.release()
	return f.Frames.Close()
}
