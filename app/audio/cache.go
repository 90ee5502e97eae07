package audio

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"github.com/iddv/timmybot/app/audio/framecache"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/player"
)

// What the frame cache holds is a track's neutral rendition: its frames as
// they are before any effect. Only a track opened from its start with
// neutral effects is recorded, and only a source of known length (never a
// live stream); the entry is committed when the source ends cleanly, short
// of the duration limit, so a skip, a seek, an effect change or a failure
// leaves none. With effects on, tracks are fetched and transcoded as
// without a cache.

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
