// Package hls is the bot's HLS client (RFC 8216): given a playlist's URL it
// returns the stream's media bytes, the init section and then each segment
// in order, as one io.ReadCloser that the audio pipeline reads like any
// HTTP body. It fetches every playlist, init section and segment itself,
// through the guarded client it is given, so that a playlist naming an
// internal address is refused like any user URL; ffmpeg only ever sees the
// bytes.
//
// It owns choosing a master playlist's audio rendition or cheapest variant,
// following a live playlist's sliding window by media sequence number, and
// its bounds: playlist size, segments per playlist, segment size, and the
// total bytes of a stream that ends. A segment or init section that is a
// byte range of a file (EXT-X-BYTERANGE) is fetched with a Range request
// for exactly those bytes; a host that answers with the whole file is
// refused rather than cut, so the stream never plays bytes it did not ask
// for. It refuses encrypted streams. It does not demux or decode segments,
// and it has no goroutine: Read fetches the next segment once the current
// one is read.
package hls

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/iddv/timmybot/app/audio/fetch"
	"github.com/iddv/timmybot/app/backoff"
	"github.com/iddv/timmybot/app/music"
)

// Bounds of one stream.
const (
	// MaxPlaylistBytes bounds one playlist.
	MaxPlaylistBytes = 1 << 20
	// maxSegmentBytes bounds one segment or init section, which is held in
	// memory while it is read: a 10 s segment of 320 kbit/s audio is 400 KB,
	// of a low-resolution video variant a few MB.
	maxSegmentBytes = 32 << 20
	// requestTimeout bounds each request, body included.
	requestTimeout = 30 * time.Second
	// liveEdge is how far from a live playlist's end playing starts, in
	// target durations (RFC 8216 section 6.3.3).
	liveEdge = 3
)

// Config says how to fetch a stream.
type Config struct {
	// Client fetches every playlist and segment: the guarded client of
	// package fetch.
	Client *http.Client
	// Header holds the request headers the stream's resolver gave, sent
	// with every request as fetch.Open sends them. Default: none.
	Header http.Header
	// Start skips the whole segments of a stream that ends which finish at
	// or before it; Offset says where the first one kept starts. Default:
	// from the beginning.
	Start time.Duration
	// MaxBytes bounds the total bytes of a stream that ends, as the fetch
	// limits bound a file. A live stream is bounded by time instead.
	// Default: no bound.
	MaxBytes int64
}

// clock is what a live stream waits with; tests replace it.
type clock struct {
	now  func() time.Time
	wait func(ctx context.Context, d time.Duration) error
}

var realClock = clock{now: time.Now, wait: backoff.Sleep}

// Stream is an HLS stream's media bytes.
type Stream struct {
	ctx    context.Context
	cancel context.CancelFunc
	cfg    Config
	clock  clock
	media  *url.URL // the media playlist, after redirects

	live     bool
	target   time.Duration
	loaded   time.Time // when the media playlist was last loaded
	next     int64     // media sequence number of the next segment to take
	pending  []segment
	init     part // the init section last written
	duration time.Duration
	offset   time.Duration
	total    int64

	buf []byte // what is left of the current segment
	err error
}

// Open fetches the playlist at rawURL, and its chosen media playlist if it
// is a master playlist, and returns the stream, which reads under ctx.
func Open(ctx context.Context, rawURL string, cfg Config) (*Stream, error) {
	return open(ctx, rawURL, cfg, realClock)
}

func open(ctx context.Context, rawURL string, cfg Config, clk clock) (*Stream, error) {
	ctx, cancel := context.WithCancel(ctx)
	s := &Stream{ctx: ctx, cancel: cancel, cfg: cfg, clock: clk}
	p, err := s.load(rawURL)
	if err == nil && p.master {
		// A master playlist's choice must be a media playlist.
		if p, err = s.load(p.choose().String()); err == nil && p.master {
			err = notPlaylist("a master playlist names another master playlist")
		}
	}
	if err != nil {
		cancel()
		return nil, err
	}
	s.live, s.target = !p.ended, p.targetDuration
	from := 0
	if s.live {
		from = liveStart(p.segments, p.targetDuration)
	} else {
		for _, seg := range p.segments {
			s.duration += seg.duration
		}
		for from < len(p.segments) && s.offset+p.segments[from].duration <= cfg.Start {
			s.offset += p.segments[from].duration
			from++
		}
	}
	s.pending = p.segments[from:]
	s.next = p.sequence + int64(len(p.segments))
	return s, nil
}

// liveStart is the index of the segment a live stream starts with: the
// last one that begins at least liveEdge target durations from the end.
func liveStart(segments []segment, target time.Duration) int {
	var fromEnd time.Duration
	for i := len(segments) - 1; i >= 0; i-- {
		if fromEnd += segments[i].duration; fromEnd >= liveEdge*target {
			return i
		}
	}
	return 0
}

// Live reports whether the stream is live: its playlist has no end.
func (s *Stream) Live() bool { return s.live }

// Duration is the length of a stream that ends, the sum of its segments'
// durations; 0 for a live stream.
func (s *Stream) Duration() time.Duration { return s.duration }

// Offset is where the first segment read starts: at or before
// Config.Start, which is that much into it.
func (s *Stream) Offset() time.Duration { return s.offset }

// Read reads the stream's next bytes, fetching segments as they are
// needed and, for a live stream, the playlist again as it grows. A live
// stream ends only with its context, or when its playlist ends.
func (s *Stream) Read(p []byte) (int, error) {
	for len(s.buf) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		s.err = s.fill()
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

// Close ends the stream; a Read under way returns soon after.
func (s *Stream) Close() error {
	s.cancel()
	return nil
}

// fill loads the next segment into buf, its init section first when it
// has a new one.
func (s *Stream) fill() error {
	for len(s.pending) == 0 {
		if !s.live {
			return io.EOF
		}
		if err := s.reload(); err != nil {
			return err
		}
	}
	seg := s.pending[0]
	s.pending = s.pending[1:]
	if seg.init.uri != "" && seg.init != s.init {
		b, _, err := s.get(seg.init, "init section", maxSegmentBytes)
		if err != nil {
			return fmt.Errorf("fetching the init section: %w", err)
		}
		s.buf, s.init = b, seg.init
	}
	b, _, err := s.get(seg.media, "segment", maxSegmentBytes)
	if err != nil {
		return fmt.Errorf("fetching a segment: %w", err)
	}
	s.buf = append(s.buf, b...)
	if s.total += int64(len(s.buf)); !s.live && s.cfg.MaxBytes > 0 && s.total > s.cfg.MaxBytes {
		s.buf = nil
		return music.Errorf(music.EINVALID, "That stream is larger than the %d MB limit.", s.cfg.MaxBytes>>20)
	}
	return nil
}

// reload waits until the live playlist is due and loads it again, taking
// the segments after the last one taken. A playlist that did not change is
// asked again after half a target duration (RFC 8216 section 6.3.4).
func (s *Stream) reload() error {
	if d := s.target - s.clock.now().Sub(s.loaded); d > 0 {
		if err := s.clock.wait(s.ctx, d); err != nil {
			return fmt.Errorf("waiting for the live stream: %w", err)
		}
	}
	p, err := s.load(s.media.String())
	if err == nil && p.master {
		err = notPlaylist("the media playlist became a master playlist")
	}
	if err != nil {
		return err
	}
	s.target, s.live = p.targetDuration, !p.ended
	skip := max(s.next-p.sequence, 0)
	if skip >= int64(len(p.segments)) {
		s.loaded = s.loaded.Add(-s.target / 2)
		return nil
	}
	s.pending = p.segments[skip:]
	s.next = p.sequence + int64(len(p.segments))
	return nil
}

// load fetches and parses the playlist at rawURL; the stream's media
// playlist is the last one loaded.
func (s *Stream) load(rawURL string) (*playlist, error) {
	b, final, err := s.get(part{uri: rawURL}, "playlist", MaxPlaylistBytes)
	if err != nil {
		return nil, fmt.Errorf("fetching the playlist: %w", err)
	}
	p, err := parse(b, final)
	if err != nil {
		return nil, err
	}
	s.media, s.loaded = final, s.clock.now()
	return p, nil
}

// get fetches p, the stream's what, through the guarded client, at most
// limit bytes of it, and says where it came from after redirects.
func (s *Stream) get(p part, what string, limit int64) ([]byte, *url.URL, error) {
	ctx, cancel := context.WithTimeout(s.ctx, requestTimeout)
	defer cancel()
	tooLarge := music.Errorf(music.EINVALID, "That stream's %s is larger than %d KB.", what, limit>>10)
	if p.length > limit {
		return nil, nil, tooLarge
	}
	var body *fetch.Body
	var err error
	if p.length > 0 {
		body, err = fetch.OpenRange(ctx, s.cfg.Client, p.uri, s.cfg.Header, p.offset, p.length)
	} else {
		body, err = fetch.Open(ctx, s.cfg.Client, p.uri, s.cfg.Header, 0)
	}
	if err != nil {
		return nil, nil, err
	}
	defer body.Close()
	if p.length == 0 && body.Size() > limit {
		return nil, nil, tooLarge
	}
	b, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, nil, err
	}
	if int64(len(b)) > limit {
		return nil, nil, tooLarge
	}
	return b, body.URL(), nil
}

// IsPlaylist reports whether a response is an HLS playlist, by its first
// bytes or by its Content-Type.
func IsPlaylist(head []byte, contentType string) bool {
	if strings.HasPrefix(strings.TrimPrefix(string(head), "\ufeff"), "#EXTM3U") {
		return true
	}
	mediaType, _, _ := strings.Cut(strings.ToLower(contentType), ";")
	switch strings.TrimSpace(mediaType) {
	case "application/vnd.apple.mpegurl", "application/mpegurl", "application/x-mpegurl", "audio/mpegurl", "audio/x-mpegurl":
		return true
	}
	return false
}
