package audio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/iddv/timmybot/app/audio/fetch"
	"github.com/iddv/timmybot/app/audio/ogg"
	"github.com/iddv/timmybot/app/audio/opus"
)

// An Ogg file's length is in its last page: the granule position, less the
// OpusHead's pre-skip, in 48 kHz samples. A file served with Range gets its
// tail read once, beside the stream that plays it from the start; until
// that answer comes, and for good when the host takes no Range requests or
// the tail holds no page, the length is unknown. Playback never fails over
// it and never waits for it: a file read to its end says its length by the
// last page the stream itself read, and the tail read, no longer needed,
// stops there.

// Bounds of the tail read: how much of the file's end, and for how long.
const (
	oggTailBytes   = 64 << 10 // the last page of a file is at most 65,307 bytes
	oggTailTimeout = 5 * time.Second
)

// remote is where a track's audio is fetched from, for a second request.
type remote struct {
	client *http.Client
	url    string
	header http.Header
	body   *fetch.Body // the first request's
}

// oggLength is an Ogg file's length as its tail says, read in the
// background.
type oggLength struct {
	length atomic.Int64 // nanoseconds; 0 while unknown
	head   opus.Head
	cancel context.CancelFunc
	done   chan struct{}
}

// measureOgg starts reading the tail of src's file, for the Ogg stream
// with head and serial; nil when the host serves no parts of the file. The
// read ends with ctx, or stop.
func (p *Pipeline) measureOgg(ctx context.Context, src remote, head opus.Head, serial uint32) *oggLength {
	if !src.body.Ranges() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, oggTailTimeout)
	m := &oggLength{head: head, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		defer cancel()
		d, err := readOggLength(ctx, src, head, serial)
		if err != nil {
			p.log.Debug("the Ogg file's length stays unknown", slog.Any("err", err))
			return
		}
		m.length.Store(int64(d))
	}()
	return m
}

// Duration is the length found, 0 while unknown.
func (m *oggLength) Duration() time.Duration { return time.Duration(m.length.Load()) }

// stop ends the tail read and waits for it.
func (m *oggLength) stop() {
	m.cancel()
	<-m.done
}

// atEnd is told the file's last granule position, which the stream read
// to its end found: it ends the tail read and keeps the length that
// granule gives, when it gives one.
func (m *oggLength) atEnd(granule int64) {
	m.stop()
	if d, err := oggDuration(granule, m.head); err == nil {
		m.length.Store(int64(d))
	}
}

// readOggLength reads the last oggTailBytes of src's file and finds the
// stream's last granule position there.
func readOggLength(ctx context.Context, src remote, head opus.Head, serial uint32) (time.Duration, error) {
	size := src.body.Size()
	from := max(size-oggTailBytes, 0)
	body, err := fetch.Open(ctx, src.client, src.url, src.header, from)
	if err != nil {
		return 0, fmt.Errorf("reading the file's tail: %w", err)
	}
	defer body.Close()
	tail, err := io.ReadAll(io.LimitReader(body, size-from))
	if err != nil {
		return 0, fmt.Errorf("reading the file's tail: %w", err)
	}
	granule, ok := ogg.LastGranule(tail, serial)
	if !ok {
		return 0, errors.New("no Ogg page of the stream in the file's tail")
	}
	return oggDuration(granule, head)
}

// oggDuration is the length of an Opus stream whose last page has granule.
func oggDuration(granule int64, head opus.Head) (time.Duration, error) {
	samples := granule - int64(head.PreSkip)
	if samples <= 0 || samples > int64(maxEstimate/time.Second)*48000 {
		return 0, fmt.Errorf("granule position %d with a pre-skip of %d", granule, head.PreSkip)
	}
	return time.Duration(samples) * time.Second / 48000, nil
}
