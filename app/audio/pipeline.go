// Package audio turns a track into the 20 ms Opus frames the player sends.
//
// When the effects leave the audio alone (volume 100 %, no filter, no
// normalisation) and the source is mono or stereo Opus in Ogg or WebM with
// 20 ms packets, the source's own packets go out unchanged: no ffmpeg runs.
// Otherwise ffmpeg transcodes to Ogg Opus, which the same Ogg reader splits
// into frames. Every byte of a user's URL is fetched through the guarded
// client of package fetch; ffmpeg never opens a user's URL itself: it reads
// the first fetch through a pipe, or, to seek, the bot's loopback relay.
// A track that is a page (a YouTube video's, say) gets its audio URL from
// the Resolver at each Open, and that URL goes through the same client.
// With a frame cache, a track played to its end with neutral effects is
// kept, and opening it again with neutral effects reads the cache: no
// request, no ffmpeg (cache.go).
//
// Frames say the track's length when the audio does (player.Measured): a
// WebM's Segment Duration, or the length ffmpeg printed for its input, or,
// for a constant bit rate it could not size on a pipe, the length that
// bit rate gives the response's Content-Length, or an Ogg's last page,
// read with a second request for the file's tail when the host takes Range
// requests (ogglength.go).
//
// It owns no goroutine of its own but the tail read an Ogg's Frames
// starts: each Frames owns its fetch, its tail read and its ffmpeg, and
// Close releases them.
package audio

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/iddv/timmybot/app/audio/container"
	"github.com/iddv/timmybot/app/audio/fetch"
	"github.com/iddv/timmybot/app/audio/ffmpeg"
	"github.com/iddv/timmybot/app/audio/framecache"
	"github.com/iddv/timmybot/app/audio/ogg"
	"github.com/iddv/timmybot/app/audio/opus"
	"github.com/iddv/timmybot/app/audio/webm"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/player"
)

// frameDuration is the packet length the voice connection sends.
const frameDuration = 20 * time.Millisecond

// Config configures a Pipeline.
type Config struct {
	// Client fetches user URLs: fetch.NewClient's guarded client.
	Client *http.Client
	// Relay gives ffmpeg a loopback URL for seeks.
	Relay *fetch.Relay
	// FFmpeg says which ffmpeg runs.
	FFmpeg ffmpeg.Config
	// MaxTrackDuration ends a track, a live stream above all, after this
	// much audio. Default: no limit.
	MaxTrackDuration time.Duration
	// MaxBytes bounds the total bytes of an HLS stream that ends, as the
	// client's limits bound a file. Default: no bound but the client's on
	// each segment.
	MaxBytes int64
	// Resolver finds the audio of tracks whose Source is neither "" nor
	// "http": pages such as a YouTube video's. Default: none, and such
	// tracks cannot be played.
	Resolver Resolver
	// Cache keeps the frames of tracks played to their end with neutral
	// effects, for playing them again without a download or ffmpeg.
	// Default: none.
	Cache *framecache.Cache
	// Logger receives which path each track took. Default: discard.
	Logger *slog.Logger
}

// Resolver turns a track's page URL into the URL of its audio and the
// request headers its host wants (a User-Agent, a Referer, a cookie; nil
// for none). It is asked at every Open, since such URLs expire, and once
// more when the audio host refuses a URL it gave (403, 410). Its URL is
// fetched through Client like any other, with those headers less the
// ones fetch never forwards.
type Resolver interface {
	StreamURL(ctx context.Context, pageURL string) (streamURL string, header http.Header, err error)
}

// Pipeline opens tracks for the player.
type Pipeline struct {
	cfg      Config
	log      *slog.Logger
	ordinary ordinaryURLs
}

var _ player.Opener = (*Pipeline)(nil)

// New returns a pipeline.
func New(cfg Config) *Pipeline {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pipeline{cfg: cfg, log: log}
}

// Open starts a track's audio at a position with effects. The frames live
// until Close or until ctx ends, which stops their fetch and ffmpeg.
func (p *Pipeline) Open(ctx context.Context, t music.Track, at time.Duration, fx player.Effects) (player.Frames, error) {
	switch {
	case p.cfg.Cache == nil:
		return p.open(ctx, t, at, fx)
	case ffmpeg.Passthrough(effects(fx)):
		return p.openCached(ctx, t, at, fx)
	}
	if f, err := p.transcodeCached(ctx, t, at, fx); !errors.Is(err, errNotCached) {
		return f, err
	}
	return p.open(ctx, t, at, fx)
}

// effects are fx as ffmpeg options.
func effects(fx player.Effects) ffmpeg.Options {
	return ffmpeg.Options{Volume: fx.Volume, Filters: fx.Filters, Normalize: fx.Normalize}
}

func (p *Pipeline) open(ctx context.Context, t music.Track, at time.Duration, fx player.Effects) (*frames, error) {
	opts := effects(fx)
	opts.Start, opts.MaxDuration = at, p.cfg.MaxTrackDuration
	log := p.log.With(slog.String("source", t.Source))
	audioURL, header, err := p.audioURL(ctx, t)
	if err != nil {
		return nil, err
	}
	transcodedSeek := at > 0 && !ffmpeg.Passthrough(opts)
	if transcodedSeek && p.ordinary.has(audioURL) {
		log.Debug("opening track", slog.String("path", "transcode"), slog.Duration("at", at), slog.Bool("known_not_hls", true))
		return p.transcodeURL(ctx, audioURL, header, opts)
	}
	body, err := fetch.Open(ctx, p.cfg.Client, audioURL, header, 0)
	if resolved(t) && expired(err) {
		log.Debug("stream URL refused, resolving again", slog.Any("err", err))
		if audioURL, header, err = p.audioURL(ctx, t); err != nil {
			return nil, err
		}
		body, err = fetch.Open(ctx, p.cfg.Client, audioURL, header, 0)
	}
	if err != nil {
		return nil, err
	}
	buffered := bufio.NewReaderSize(body, 32<<10)
	if isHLS(buffered, body) {
		_ = body.Close()
		return p.openHLS(ctx, audioURL, header, at, opts)
	}
	if !resolved(t) {
		p.ordinary.add(audioURL)
	}
	if transcodedSeek {
		// A transcoded seek lets ffmpeg seek through the relay (Range).
		_ = body.Close()
		log.Debug("opening track", slog.String("path", "transcode"), slog.Duration("at", at))
		return p.transcodeURL(ctx, audioURL, header, opts)
	}
	var src io.Reader = buffered
	if ffmpeg.Passthrough(opts) {
		f, replay, err := p.probePassthrough(ctx, src, body, &remote{client: p.cfg.Client, url: audioURL, header: header, body: body}, at)
		if err == nil {
			log.Debug("opening track", slog.String("path", "passthrough"), slog.Duration("at", at))
			f.sized = body.Size() >= 0
			return f, nil
		}
		if replay == nil {
			return nil, err
		}
		if at > 0 {
			// What the demuxer read is gone: seek through the relay.
			_ = body.Close()
			log.Debug("opening track", slog.String("path", "transcode"), slog.Duration("at", at))
			return p.transcodeURL(ctx, audioURL, header, opts)
		}
		log.Debug("opening track", slog.String("path", "transcode"), slog.Any("why", err))
		src = replay
	}
	proc, err := p.cfg.FFmpeg.Start(ctx, ffmpeg.Input{Reader: src}, opts)
	if err != nil {
		_ = body.Close()
		return nil, fmt.Errorf("starting ffmpeg: %w", err)
	}
	f, err := transcoded(proc, body.Close, body.Size())
	if err != nil {
		return nil, err
	}
	f.sized = body.Size() >= 0
	return f, nil
}

// resolved reports whether t's URL is a page the Resolver resolves.
func resolved(t music.Track) bool { return t.Source != "" && t.Source != "http" }

// audioURL is where t's audio is, with the headers to fetch it with: its
// URL, or what the Resolver finds there.
func (p *Pipeline) audioURL(ctx context.Context, t music.Track) (string, http.Header, error) {
	if !resolved(t) {
		return t.URL, nil, nil
	}
	if p.cfg.Resolver == nil {
		return "", nil, music.Errorf(music.EUNAVAILABLE, "TimmyBot cannot play tracks from %s here.", music.Truncate(t.Source, 32))
	}
	u, header, err := p.cfg.Resolver.StreamURL(ctx, t.URL)
	if err != nil {
		return "", nil, fmt.Errorf("resolving the track: %w", err)
	}
	return u, header, nil
}

// expired reports whether err is an audio host refusing a URL that may have
// expired.
func expired(err error) bool {
	var se *fetch.StatusError
	return errors.As(err, &se) && (se.Code == http.StatusForbidden || se.Code == http.StatusGone)
}

// transcodeURL runs ffmpeg on the relay's loopback URL for url.
func (p *Pipeline) transcodeURL(ctx context.Context, url string, header http.Header, opts ffmpeg.Options) (*frames, error) {
	local, release := p.cfg.Relay.Register(url, header)
	proc, err := p.cfg.FFmpeg.Start(ctx, ffmpeg.Input{URL: local}, opts)
	if err != nil {
		release()
		return nil, fmt.Errorf("starting ffmpeg: %w", err)
	}
	// ffmpeg reads the relay with Range and sizes the input itself.
	return transcoded(proc, func() error { release(); return nil }, -1)
}

// transcoded reads ffmpeg's Ogg Opus output as frames. size is the input's
// length in bytes, -1 when unknown.
func transcoded(proc *ffmpeg.Process, release func() error, size int64) (*frames, error) {
	r := ogg.NewReader(proc)
	closeAll := func() error { err := proc.Close(); _ = release(); return err }
	if _, err := r.Head(); err != nil {
		closeErr := closeAll()
		if closeErr != nil {
			// ffmpeg's own failure says more than the empty output.
			err = closeErr
		}
		return nil, unplayable(err)
	}
	return &frames{next: r.ReadPacket, close: closeAll, length: func() time.Duration { return inputLength(proc.Input(), size) }}, nil
}

// inputLength is the length ffmpeg gave its input, else the one its bit
// rate gives size bytes (as ffmpeg estimates a file it can size), else 0.
func inputLength(in ffmpeg.InputInfo, size int64) time.Duration {
	if in.Duration > 0 || in.BitRate <= 0 || size <= 0 {
		return in.Duration
	}
	seconds := float64(size) * 8 / float64(in.BitRate)
	if seconds > maxEstimate.Seconds() {
		return 0
	}
	return time.Duration(seconds * float64(time.Second))
}

// maxEstimate bounds a length estimated from a bit rate: a day.
const maxEstimate = 24 * time.Hour

// probePassthrough passes src through from at when it is Opus that can
// be. When it must be transcoded instead, it returns an error wrapping
// errNotPassthrough and replay, which reads all of src again, for ffmpeg;
// on other errors body is closed.
func (p *Pipeline) probePassthrough(ctx context.Context, src io.Reader, body io.Closer, tail *remote, at time.Duration) (f *frames, replay io.Reader, err error) {
	// What the probe reads is kept, for ffmpeg if it must transcode.
	probe := &recording{r: src}
	f, err = p.passthrough(ctx, bufio.NewReader(probe), body, tail, at)
	switch {
	case err == nil:
		probe.stop()
		return f, nil, nil
	case errors.Is(err, errNotPassthrough):
		return nil, io.MultiReader(bytes.NewReader(probe.read), src), err
	}
	_ = body.Close()
	return nil, nil, err
}

// errNotPassthrough: the source must be transcoded.
var errNotPassthrough = errors.New("source cannot be passed through")

// passthrough demuxes an Opus source, read from src until body is
// closed, and skips to at. An Ogg file's length is read from its tail when
// tail says where the file is (nil: no tail to read). It returns an error
// wrapping errNotPassthrough when the source is something else.
func (p *Pipeline) passthrough(ctx context.Context, src *bufio.Reader, body io.Closer, tail *remote, at time.Duration) (*frames, error) {
	magic, err := src.Peek(container.SniffLen)
	if err != nil {
		return nil, unplayable(fmt.Errorf("reading the first bytes: %w", err))
	}
	var next func() ([]byte, error)
	var length time.Duration
	var measure func() *oggLength // an Ogg's length, read from its tail
	var lastGranule func() int64  // where the Ogg stream has read to
	switch container.Sniff(magic) {
	case container.Ogg:
		r := ogg.NewReader(src)
		h, err := r.Head()
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errNotPassthrough, err)
		}
		if err := h.Passthrough(); err != nil {
			return nil, fmt.Errorf("%w: %w", errNotPassthrough, err)
		}
		next = r.ReadPacket
		if tail != nil {
			measure = func() *oggLength { return p.measureOgg(ctx, *tail, h, r.Serial()) }
			lastGranule = r.Granule
		}
	case container.Matroska:
		r, err := webm.NewReader(src)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errNotPassthrough, err)
		}
		if err := r.Track().Head.Passthrough(); err != nil {
			return nil, fmt.Errorf("%w: %w", errNotPassthrough, err)
		}
		next = func() ([]byte, error) { b, _, err := r.ReadPacket(); return b, err }
		length = r.Duration()
	default:
		return nil, fmt.Errorf("%w: not Ogg or WebM", errNotPassthrough)
	}
	first, err := next()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNotPassthrough, err)
	}
	if d, err := opus.PacketDuration(first); err != nil || d != frameDuration {
		return nil, fmt.Errorf("%w: %v packets, not 20 ms", errNotPassthrough, d)
	}
	f := &frames{next: next, close: body.Close, pending: first, length: func() time.Duration { return length }}
	// Seeking a passthrough source drops the packets before the position.
	for skipped := time.Duration(0); skipped+frameDuration <= at; skipped += frameDuration {
		if _, err := f.ReadFrame(); err != nil {
			_ = f.Close()
			if errors.Is(err, io.EOF) {
				return nil, errPastEnd
			}
			return nil, err
		}
	}
	if measure != nil {
		f.tail, f.lastGranule = measure(), lastGranule
	}
	p.limit(f, at)
	return f, nil
}

var errPastEnd = music.Errorf(music.EINVALID, "That position is past the end of the track.")

// limit ends frames that start at at where the track duration limit is;
// ffmpeg enforces the limit on what it transcodes.
func (p *Pipeline) limit(f *frames, at time.Duration) {
	if d := p.cfg.MaxTrackDuration; d > 0 {
		f.limited, f.left = true, max(int((d-at)/frameDuration), 0)
	}
}

// recording is a reader that keeps what it read until stopped.
type recording struct {
	r       io.Reader
	read    []byte
	stopped bool
}

func (r *recording) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if !r.stopped {
		r.read = append(r.read, p[:n]...)
	}
	return n, err
}

// stop forgets what was read and keeps nothing more.
func (r *recording) stop() { r.read, r.stopped = nil, true }

// frames adapts a packet reader to player.Frames. A packet is handed out
// as the reader returned it, in a buffer the reader reuses: the player
// copies each frame into its own.
type frames struct {
	next    func() ([]byte, error)
	close   func() error
	pending []byte // a packet read ahead, returned first
	// limited frames end after left more, at the track duration limit.
	limited bool
	left    int
	// sized frames come from a source of known length: a file, not a live
	// stream, so they may be cached.
	sized bool
	// length is the track's length as the audio says, 0 while unknown;
	// nil for none.
	length func() time.Duration
	// tail reads an Ogg file's length from its end; nil for none.
	// lastGranule is the granule position the stream has read to.
	tail        *oggLength
	lastGranule func() int64
}

var _ player.Measured = (*frames)(nil)

// Duration implements player.Measured.
func (f *frames) Duration() time.Duration {
	if f.tail != nil {
		return f.tail.Duration()
	}
	if f.length == nil {
		return 0
	}
	return f.length()
}

// ReadFrame implements player.Frames.
func (f *frames) ReadFrame() ([]byte, error) {
	if f.limited {
		if f.left == 0 {
			return nil, io.EOF
		}
		f.left--
	}
	if f.pending != nil {
		b := f.pending
		f.pending = nil
		return b, nil
	}
	b, err := f.next()
	if errors.Is(err, io.EOF) && f.tail != nil {
		// The stream's own last page says the length now, whether or not
		// the tail answered: the player asks once more at the end.
		f.tail.atEnd(f.lastGranule())
	}
	if err != nil {
		return nil, err
	}
	return b, nil
}

// Close implements player.Frames: it stops the fetch, the tail read and
// ffmpeg.
func (f *frames) Close() error {
	if f.tail != nil {
		f.tail.stop()
	}
	return f.close()
}

// unplayable turns a failure to read a track's audio into what the user
// sees, unless it already is a user-facing error.
func unplayable(err error) error {
	var me *music.Error
	if errors.As(err, &me) {
		return err
	}
	return &wrapped{user: music.Errorf(music.EINVALID, "That file could not be played: it is not audio TimmyBot can decode."), cause: err}
}

// wrapped is a user-facing error that keeps its cause for the log.
type wrapped struct {
	user  *music.Error
	cause error
}

func (w *wrapped) Unwrap() []error { return []error{w.user, w.cause} }
func (w *wrapped) Error() string   { return w.user.Error() + ": " + w.cause.Error() }
