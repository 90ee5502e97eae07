package player

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/iddv/timmybot/app/music"
)

// frame is one buffered frame and its index in its track (index × 20 ms is
// where it starts).
type frame struct {
	data  []byte
	index int
}

// stream is one opened track: a goroutine opens it and reads its frames
// into a bounded buffer, ahead of the output. Once the buffer is full the
// reader rests until the output has used half of it, then fills it again:
// one wake-up per half buffer instead of one per frame, which is most of a
// passthrough stream's CPU when a thousand guilds play.
type stream struct {
	start  int     // index of the first frame
	align  bool    // an effect change: joins the output at its position instead of jumping there
	fx     Effects // what it was opened with
	buf    frameBuffer
	refill chan struct{} // the output used half of buf: the reader fills it again
	cancel context.CancelFunc
	// resting is true while the reader waits on refill with buf full.
	resting atomic.Bool

	// Set by the reading goroutine before it closes buf.
	err      error       // why reading stopped early, nil at EOF
	failed   atomic.Bool // Open failed: buf closes without frames
	readDone atomic.Bool // the source is read to its end
	// measured is the track's length as its Frames said (Measured), in
	// nanoseconds; 0 while unknown. Set by the reading goroutine.
	measured atomic.Int64

	// Guarded by Player.mu.
	entry   music.Entry
	head    frame // a frame taken from buf but not handed out yet
	hasHead bool
	started bool // its first frame was handed out
	drained bool // handed out to the end with nothing to follow

	// Owned by the loop.
	readEnded bool // the loop heard the reading goroutine finish
	announced bool // EventStarted was emitted
}

type takeResult int

const (
	frameReady  takeResult = iota
	frameLater             // the buffer is empty for now
	frameClosed            // nothing more will come
)

// take returns the next buffered frame without blocking. Called with
// Player.mu held.
func (s *stream) take() (frame, takeResult) {
	if s.hasHead {
		f := s.head
		s.head, s.hasHead = frame{}, false
		return f, frameReady
	}
	f, got, left := s.buf.take()
	if got == frameReady && left <= s.buf.limit/2 {
		select {
		case s.refill <- struct{}{}:
		default:
		}
	}
	return f, got
}

// length is the track's length: what its source said, else what its audio
// said, else 0. Called by the loop or with Player.mu held.
func (s *stream) length() time.Duration {
	if d := s.entry.Track.Duration; d > 0 {
		return d
	}
	return time.Duration(s.measured.Load())
}

// buffered counts the frames ready to hand out. Called with Player.mu held.
func (s *stream) buffered() int {
	n := s.buf.len()
	if s.hasHead {
		n++
	}
	return n
}

// ready reports whether a replacement has pre-read enough to take over.
func (s *stream) ready(preRead int) bool {
	return !s.failed.Load() && (s.buf.len() >= preRead || s.readDone.Load())
}

// openStream starts the goroutine that opens e at frame start with the
// current effects and fills the stream's buffer. Cancelling the stream
// (or closing the player) stops it; it closes its Frames itself.
func (p *Player) openStream(e music.Entry, start int, align bool) *stream {
	ctx, cancel := context.WithCancel(p.ctx)
	s := &stream{
		entry:  e,
		start:  start,
		align:  align,
		fx:     p.fx,
		buf:    newFrameBuffer(p.cfg.Buffer),
		refill: make(chan struct{}, 1),
		cancel: cancel,
	}
	p.streams.Go(func() { p.read(ctx, s, e.Track) })
	return s
}

// read opens t, the track of s, and fills s's buffer. It gets its own
// copy of the track, so that the loop may change s.entry meanwhile.
func (p *Player) read(ctx context.Context, s *stream, t music.Track) {
	title := t.Title
	frames, err := p.cfg.Opener.Open(ctx, t, time.Duration(s.start)*FrameDuration, s.fx)
	if err != nil {
		s.err = fmt.Errorf("opening %q: %w", title, err)
		s.failed.Store(true)
		s.buf.close()
		p.notifyEnded(ctx, s)
		return
	}
	defer func() {
		if err := frames.Close(); err != nil {
			p.log.Debug("closing frames", slog.String("track", title), slog.Any("err", err))
		}
	}()
	measured, _ := frames.(Measured)
	measure := func() {
		if measured != nil && s.measured.Load() == 0 {
			s.measured.Store(int64(max(measured.Duration(), 0)))
		}
	}
	for i := s.start; ; i++ {
		data, err := frames.ReadFrame()
		if err != nil {
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				s.err = fmt.Errorf("reading %q: %w", title, err)
			}
			break
		}
		measure()
		if !s.put(ctx, data, i) {
			return
		}
	}
	measure() // frames may learn their length only at their end
	s.readDone.Store(true)
	s.buf.close()
	p.notifyEnded(ctx, s)
}

// put buffers the frame at index, resting first while the buffer is full;
// false when ctx ended the wait.
func (s *stream) put(ctx context.Context, data []byte, index int) bool {
	for !s.buf.put(data, index) {
		s.resting.Store(true)
		select {
		case <-s.refill:
			s.resting.Store(false)
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// notifyEnded tells the loop that s's goroutine is done reading, unless
// the loop has let go of s.
func (p *Player) notifyEnded(ctx context.Context, s *stream) {
	select {
	case p.streamEnded <- s:
	case <-ctx.Done():
	}
}

// cancelIfAny stops s, if there is one.
func (s *stream) cancelIfAny() {
	if s != nil {
		s.cancel()
	}
}
