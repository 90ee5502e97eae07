package audio

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/iddv/timmybot/app/audio/container"
	"github.com/iddv/timmybot/app/audio/fetch"
	"github.com/iddv/timmybot/app/audio/ffmpeg"
	"github.com/iddv/timmybot/app/audio/hls"
	"github.com/iddv/timmybot/app/music"
)

// An audio URL whose body is an HLS playlist (a SoundCloud track's HLS
// format, a YouTube or Twitch live stream, a radio's .m3u8) is played by
// the bot's own HLS client, package hls, which fetches every playlist and
// segment through the guarded client. The segments' bytes then take the way
// any body takes: Opus in Ogg or WebM passes through, anything else goes to
// ffmpeg's standard input. ffmpeg never reads a playlist, which would make
// it open the URLs inside itself, and so never the relay either.

// isHLS reports whether the body whose first bytes buffered holds is an
// HLS playlist, by those bytes or its Content-Type.
func isHLS(buffered *bufio.Reader, body *fetch.Body) bool {
	head, _ := buffered.Peek(len("\ufeff#EXTM3U"))
	return hls.IsPlaylist(head, body.ContentType())
}

// ordinaryURLs remembers direct URLs whose body was seen not to be an HLS
// playlist, so that a transcoded seek in one hands ffmpeg the relay at
// once instead of fetching the file's start again to check: that request
// costs a connection and a round trip out of the 300 ms a seek has. Only
// direct URLs: a resolved track's audio URL is new at each Open. It holds
// at most maxOrdinaryURLs, forgetting the oldest first. The zero value is
// empty and ready.
type ordinaryURLs struct {
	mu    sync.Mutex
	set   map[string]struct{}
	order []string // the set's URLs as a ring, the oldest at next once full
	next  int
}

const maxOrdinaryURLs = 1024

func (o *ordinaryURLs) has(url string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, ok := o.set[url]
	return ok
}

func (o *ordinaryURLs) add(url string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.set[url]; ok {
		return
	}
	if o.set == nil {
		o.set = make(map[string]struct{})
	}
	o.set[url] = struct{}{}
	if len(o.order) < maxOrdinaryURLs {
		o.order = append(o.order, url)
		return
	}
	delete(o.set, o.order[o.next])
	o.order[o.next] = url
	o.next = (o.next + 1) % maxOrdinaryURLs
}

var errLiveSeek = music.Errorf(music.EUNAVAILABLE, "That is a live stream; TimmyBot cannot seek in it.")

// openHLS plays the HLS stream at url from at. A seek skips the whole
// segments before at, and the passthrough or ffmpeg drops the rest of the
// way; a live stream cannot seek.
func (p *Pipeline) openHLS(ctx context.Context, url string, header http.Header, at time.Duration, opts ffmpeg.Options) (*frames, error) {
	s, src, err := p.openStream(ctx, url, header, at)
	if err != nil {
		return nil, err
	}
	if at > 0 && s.Live() {
		_ = s.Close()
		return nil, errLiveSeek
	}
	if at > 0 && s.Offset() > 0 && startsOgg(src) {
		// Ogg segments are the pages of one stream whose headers only
		// the first segment holds: read from there, dropping packets.
		_ = s.Close()
		if s, src, err = p.openStream(ctx, url, header, 0); err != nil {
			return nil, err
		}
	}
	rest := at - s.Offset()
	p.log.Debug("opening track", slog.String("path", "hls"), slog.Bool("live", s.Live()), slog.Duration("at", at), slog.Duration("segment", s.Offset()))
	var in io.Reader = src
	if ffmpeg.Passthrough(opts) {
		f, replay, err := p.probePassthrough(ctx, src, s, nil, rest)
		if err == nil {
			p.limit(f, at)
			f.sized, f.length = !s.Live(), s.Duration
			return f, nil
		}
		if replay == nil {
			return nil, err
		}
		in = replay
	}
	opts.Start = rest
	proc, err := p.cfg.FFmpeg.Start(ctx, ffmpeg.Input{Reader: in}, opts)
	if err != nil {
		_ = s.Close()
		return nil, fmt.Errorf("starting ffmpeg: %w", err)
	}
	f, err := transcoded(proc, s.Close, -1)
	if err != nil {
		return nil, err
	}
	f.sized, f.length = !s.Live(), s.Duration
	return f, nil
}

// openStream opens the HLS stream at url from the segment holding at.
func (p *Pipeline) openStream(ctx context.Context, url string, header http.Header, at time.Duration) (*hls.Stream, *bufio.Reader, error) {
	s, err := hls.Open(ctx, url, hls.Config{Client: p.cfg.Client, Header: header, Start: at, MaxBytes: p.cfg.MaxBytes})
	if err != nil {
		return nil, nil, fmt.Errorf("opening the HLS stream: %w", err)
	}
	return s, bufio.NewReaderSize(s, 32<<10), nil
}

// startsOgg reports whether src starts with an Ogg page.
func startsOgg(src *bufio.Reader) bool {
	magic, _ := src.Peek(container.SniffLen)
	return container.Sniff(magic) == container.Ogg
}
