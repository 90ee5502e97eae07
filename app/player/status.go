package player

import (
	"time"

	"github.com/iddv/timmybot/app/music"
)

// State is what the player is doing.
type State int

// States. Loading means a track is opened but none of its audio has been
// handed out yet.
const (
	StateIdle State = iota
	StateLoading
	StatePlaying
	StatePaused
)

func (s State) String() string {
	switch s {
	case StateIdle:
		return "idle"
	case StateLoading:
		return "loading"
	case StatePlaying:
		return "playing"
	case StatePaused:
		return "paused"
	}
	return "unknown"
}

// LoopMode is what happens when a track ends.
type LoopMode int

// Loop modes: Off drops the finished track into the history, Track plays
// it again, Queue moves it to the end of the queue.
const (
	LoopOff LoopMode = iota
	LoopTrack
	LoopQueue
)

func (m LoopMode) String() string {
	switch m {
	case LoopOff:
		return "off"
	case LoopTrack:
		return "track"
	case LoopQueue:
		return "queue"
	}
	return "unknown"
}

// Status is a snapshot of a player.
type Status struct {
	State     State
	Entry     music.Entry // the current track (the queue head); zero when idle
	Position  time.Duration
	Duration  time.Duration // the current track's, zero when unknown
	Volume    int
	Loop      LoopMode
	Filters   []string
	Normalize bool
	// Changing is set while a seek or an effect change is being prepared;
	// the old audio plays until it is ready.
	Changing bool
	// Buffered counts the frames ready to hand out: the rest of the
	// current track's buffer and, once its source is read to the end, the
	// next track's.
	Buffered  int
	Underruns uint64
	AlwaysOn  bool
	Autoplay  bool
	Listeners int // -1 until the adapter says
}

// EventKind says what happened.
type EventKind int

// Event kinds.
const (
	EventStarted     EventKind = iota // the entry's first frame was handed out
	EventEnded                        // the entry stopped playing (ended, skipped, stopped)
	EventPaused                       // playback paused
	EventResumed                      // playback resumed
	EventIdle                         // nothing is left to play
	EventIdleTimeout                  // idle (or alone) for the idle timeout: leave the channel
	EventError                        // the entry could not be opened or its source failed
)

func (k EventKind) String() string {
	switch k {
	case EventStarted:
		return "started"
	case EventEnded:
		return "ended"
	case EventPaused:
		return "paused"
	case EventResumed:
		return "resumed"
	case EventIdle:
		return "idle"
	case EventIdleTimeout:
		return "idle timeout"
	case EventError:
		return "error"
	}
	return "unknown"
}

// Event is something the adapter may tell the channel about. Message is
// safe to show to users; it is set for EventError.
type Event struct {
	Kind    EventKind
	Entry   music.Entry
	Message string
}
