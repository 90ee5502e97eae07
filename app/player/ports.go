package player

import (
	"context"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// FrameDuration is the length of one Opus frame: the player's unit of
// position.
const FrameDuration = 20 * time.Millisecond

// Frames is a track's audio as 20 ms Opus frames (48 kHz stereo), read as
// fast as the reader asks (not paced).
type Frames interface {
	// ReadFrame returns the next frame, or io.EOF after the last. The
	// frame need only stay valid until the next call: the player copies it
	// into its buffer.
	ReadFrame() ([]byte, error)
	// Close releases the source. The player calls it once, after the last
	// ReadFrame call has returned, never concurrently with it.
	Close() error
}

// Measured is implemented by Frames that learn their track's length from
// the audio (a container's header, the transcoder's report). The player
// asks, from the goroutine that calls ReadFrame, after each frame until the
// answer is not zero and once more after the last, and shows it for tracks
// whose source gave no duration.
type Measured interface {
	// Duration is the whole track's length, wherever the frames started;
	// zero while unknown.
	Duration() time.Duration
}

// Effects are what the audio pipeline applies to a track while encoding.
type Effects struct {
	Volume    int      // percent, 0..200; 100 leaves the audio unchanged
	Filters   []string // filter names, applied in order; never modified in place
	Normalize bool     // loudness normalisation
}

// Opener opens a track's audio starting at a position with effects; the
// audio pipeline implements it.
type Opener interface {
	// Open returns the track's frames from at on. The player cancels ctx
	// when it no longer needs them (a skip, a newer seek); ReadFrame must
	// then return promptly, which a pipeline built on exec.CommandContext
	// does by itself.
	Open(ctx context.Context, t music.Track, at time.Duration, fx Effects) (Frames, error)
}

// RelatedFinder finds tracks to play after a seed track when the queue
// runs out with autoplay on.
type RelatedFinder interface {
	// Related returns tracks related to seed, best first, leaving out
	// seed itself and the tracks played reports as played this session
	// (the player checks again before it queues one). The player cancels
	// ctx when it no longer wants the answer (a skip, a stop, Close), and
	// Related must then return promptly.
	Related(ctx context.Context, seed music.Track, played func(music.Track) bool) ([]music.Track, error)
}

// Clock makes the idle timeout's timer; tests give a fake one.
type Clock interface {
	NewTimer(d time.Duration) Timer
}

// Timer is the part of *time.Timer the player uses.
type Timer interface {
	Chan() <-chan time.Time
	Stop() bool
}

type systemClock struct{}

func (systemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

type systemTimer struct{ *time.Timer }

func (t systemTimer) Chan() <-chan time.Time { return t.C }
