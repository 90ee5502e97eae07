package audio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/iddv/timmybot/app/audio/ffmpeg"
	"github.com/iddv/timmybot/app/audio/framecache"
	"github.com/iddv/timmybot/app/audio/ogg"
	"github.com/iddv/timmybot/app/audio/opus"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/player"
)

// What the frame cache holds is a track's neutral rendition: its frames as
// they are before any effect. Only a track opened from its start with
// neutral effects is recorded, and only a source of known length (never a
// live stream); the entry is committed when the source ends cleanly, short
// of the duration limit, so a skip, a seek, an effect change or a failure
// leaves none. With effects on, ffmpeg reads a cached track's frames
// (transcodeCached) instead of its source, so that a filter, a volume
// change or a seek costs no download either.

// cacheKey is a track's stable identity: the URL the user gave (a page's
// for resolved tracks, never the expiring stream URL the Resolver finds).
func cacheKey(t music.Track) string { return t.URL }

// openCached opens t with neutral effects from the cache, or else as
// usual while recording it into the cache.
func (p *Pipeline) openCached(ctx context.Context, t music.Track, at time.Duration, fx player.Effects) (player.Frames, error) {
	log := p.log.With(slog.String("source", t.Source))
	r, err := p.cfg.Cache.Reader(cacheKey(t), int(at/frameDuration))
	switch {
	case err == nil:
		log.Debug("opening track", slog.String("path", "cache"), slog.Duration("at", at))
		f := &frames{next: r.ReadFrame, close: r.Close, length: r.Duration}
		p.limit(f, at)
		return f, nil
	case errors.Is(err, framecache.ErrPastEnd):
		return nil, errPastEnd
	}
	f, err := p.open(ctx, t, at, fx)
	if err != nil {
		return nil, err
	}
	if at > 0 || !f.sized {
		return f, nil
	}
	w, err := p.cfg.Cache.Writer(cacheKey(t))
	if err != nil {
		log.Warn("not caching the track", slog.Any("err", err))
		return f, nil
	}
	rec := &recorder{frames: f, w: w, log: log}
	if d := p.cfg.MaxTrackDuration; d > 0 {
		rec.cut = int(d / frameDuration)
	}
	return rec, nil
}

// recorder passes a track's frames through and writes them to the cache,
// committing them when the track ends.
type recorder struct {
	*frames
	w   *framecache.Writer // nil once committed or given up
	n   int                // frames written
	cut int                // frames at which the duration limit ends a track; 0 none
	log *slog.Logger
}

// ReadFrame implements player.Frames.
func (r *recorder) ReadFrame() ([]byte, error) {
	b, err := r.frames.ReadFrame()
	if r.w == nil {
		return b, err
	}
	switch {
	case err == nil:
		if werr := r.w.WriteFrame(b); werr != nil {
			r.log.Debug("not caching the track", slog.Any("err", werr))
			r.w = nil
		}
		r.n++
	case errors.Is(err, io.EOF) && (r.cut == 0 || r.n < r.cut):
		if cerr := r.w.Commit(); cerr != nil {
			r.log.Warn("caching the track", slog.Any("err", cerr))
		}
		r.w = nil
	default:
		r.w.Abort()
		r.w = nil
	}
	return b, err
}

// Close implements player.Frames: a track not read to its end is not kept.
func (r *recorder) Close() error {
	if r.w != nil {
		r.w.Abort()
	}
	return r.frames.Close()
}

// errNotCached: the track has no cache entry to transcode.
var errNotCached = errors.New("audio: track not cached")

// preRoll is how many frames before a seek's position ffmpeg decodes and
// drops, so that the decoder has converged by the position (RFC 7845
// asks for 80 ms).
const preRoll = 4

// transcodeCached opens t from at with effects, ffmpeg reading its cached
// frames as an Ogg Opus stream. It returns errNotCached when t has no entry.
func (p *Pipeline) transcodeCached(ctx context.Context, t music.Track, at time.Duration, fx player.Effects) (player.Frames, error) {
	from := int(at / frameDuration)
	skip := min(preRoll, from)
	r, err := p.cfg.Cache.Reader(cacheKey(t), from-skip)
	switch {
	case errors.Is(err, framecache.ErrPastEnd):
		return nil, errPastEnd
	case err != nil:
		return nil, errNotCached
	}
	stream, err := newOggStream(r.ReadFrame, uint16(skip*samplesPerFrame))
	if err != nil {
		r.Close()
		return nil, err
	}
	proc, err := p.cfg.FFmpeg.Start(ctx, ffmpeg.Input{Reader: stream}, effects(fx))
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("starting ffmpeg: %w", err)
	}
	p.log.Debug("opening track", slog.String("source", t.Source), slog.String("path", "cache, transcoded"), slog.Duration("at", at))
	f, err := transcoded(proc, r.Close, -1)
	if err != nil {
		return nil, err
	}
	f.length = r.Duration // ffmpeg cannot size a pipe
	return f, nil
}

// samplesPerFrame is a 20 ms frame's samples at Opus's 48 kHz.
const samplesPerFrame = 960

// oggStream is frames as an Ogg Opus stream, made a page at a time as it
// is read: ffmpeg's standard input.
type oggStream struct {
	next func() ([]byte, error)
	w    *ogg.Writer
	buf  bytes.Buffer
	err  error // io.EOF once the last page is out
}

// newOggStream starts a stream of next's frames whose first preSkip
// samples the decoder drops.
func newOggStream(next func() ([]byte, error), preSkip uint16) (*oggStream, error) {
	s := &oggStream{next: next}
	w, err := ogg.NewWriter(&s.buf, opus.Head{Version: 1, Channels: 2, PreSkip: preSkip, InputSampleRate: 48000}, 1)
	if err != nil {
		return nil, fmt.Errorf("starting an Ogg stream of cached frames: %w", err)
	}
	s.w = w
	return s, nil
}

func (s *oggStream) Read(b []byte) (int, error) {
	for s.buf.Len() == 0 && s.err == nil {
		frame, err := s.next()
		switch {
		case errors.Is(err, io.EOF):
			if s.err = s.w.Close(); s.err == nil {
				s.err = io.EOF
			}
		case err != nil:
			s.err = fmt.Errorf("reading cached frames: %w", err)
		case len(frame) > 0:
			s.err = s.w.WritePacket(frame)
		}
	}
	if s.buf.Len() > 0 {
		return s.buf.Read(b)
	}
	return 0, s.err
}
