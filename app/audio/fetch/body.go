package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/iddv/timmybot/app/backoff"
	"github.com/iddv/timmybot/app/music"
)

// How a dropped download is resumed: at most resumeAttempts reopenings in a
// row without a byte in between, waiting resumeBackoff, then twice that, ...
const (
	resumeAttempts = 3
	resumeBackoff  = 250 * time.Millisecond
)

// Body reads an audio file, or one part of it, over HTTP and, when the
// connection breaks before the end, reopens it with a Range request at the
// byte where it broke. It never returns a byte twice: a server that answers
// the resume with the whole file again (200 instead of 206), or with a
// different file, ends the read with a clear error.
type Body struct {
	ctx    context.Context
	client *http.Client
	url    string
	header http.Header // the stream's own headers, see setForwarded
	retry  retryPolicy

	resp        *http.Response
	pos         int64 // offset in the file of the next byte Read returns
	end         int64 // one past the last byte of the part asked for; -1 for the whole file
	size        int64
	contentType string
	validator   string // ETag or Last-Modified, so a resume gets the same file
	resumable   bool
	failures    int // resumes since the last byte read
	err         error
}

type retryPolicy struct {
	attempts int
	backoff  time.Duration
	wait     func(ctx context.Context, d time.Duration) error
}

// Open GETs rawURL with client (the guarded client from NewClient), from
// byte offset on when offset > 0, with the headers the stream's resolver
// gave (nil for none; see setForwarded for those never sent). The body
// reads under ctx: cancelling it ends the download.
func Open(ctx context.Context, client *http.Client, rawURL string, header http.Header, offset int64) (*Body, error) {
	return open(ctx, client, rawURL, header, offset, retryPolicy{attempts: resumeAttempts, backoff: resumeBackoff, wait: backoff.Sleep})
}

// OpenRange GETs the length bytes of rawURL from byte offset on, as Open
// does, and reads exactly those bytes (an HLS segment that is a sub-range
// of a file). The host must answer 206 Partial Content: one that sends the
// whole file instead is refused rather than cut down to the part, since
// that part may lie anywhere in a file of any size.
func OpenRange(ctx context.Context, client *http.Client, rawURL string, header http.Header, offset, length int64) (*Body, error) {
	if offset < 0 || length <= 0 || offset > math.MaxInt64-length {
		return nil, fmt.Errorf("fetching audio: no byte range of %d bytes at %d", length, offset)
	}
	return openPart(withPart(ctx), client, rawURL, header, offset, offset+length, retryPolicy{attempts: resumeAttempts, backoff: resumeBackoff, wait: backoff.Sleep})
}

func open(ctx context.Context, client *http.Client, rawURL string, header http.Header, offset int64, retry retryPolicy) (*Body, error) {
	return openPart(ctx, client, rawURL, header, offset, -1, retry)
}

// errPastEnd refuses a part that a file is too short to hold.
var errPastEnd = music.Errorf(music.EINVALID, "That audio host's file ends before the part TimmyBot asked for.")

// openPart opens the bytes of rawURL from offset to end, or to the end of
// the file when end is -1.
func openPart(ctx context.Context, client *http.Client, rawURL string, header http.Header, offset, end int64, retry retryPolicy) (*Body, error) {
	b := &Body{ctx: ctx, client: client, url: rawURL, header: header, retry: retry, pos: offset, end: end, size: -1}
	resp, err := b.get(offset, "")
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK:
		switch {
		case end >= 0:
			resp.Body.Close()
			return nil, music.Errorf(music.EUNAVAILABLE, "That audio host sends whole files where TimmyBot asks for a part of one, so TimmyBot cannot play it.")
		case offset > 0:
			resp.Body.Close()
			return nil, music.Errorf(music.EUNAVAILABLE, "That audio host cannot start a file part-way, so TimmyBot cannot seek in it.")
		}
		b.size = resp.ContentLength
		b.resumable = b.size >= 0 && resp.Header.Get("Accept-Ranges") == "bytes"
	case http.StatusPartialContent:
		// A part that ends short of the one asked for is followed by a
		// request for the rest, as a broken download is.
		cr, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err != nil || cr.first != offset || (end >= 0 && cr.last >= end) {
			resp.Body.Close()
			return nil, errors.Join(music.Errorf(music.EUNAVAILABLE, "That audio host answered with the wrong part of the file."), err)
		}
		if end >= 0 && cr.total >= 0 && end > cr.total {
			resp.Body.Close()
			return nil, errPastEnd
		}
		b.size = cr.total
		b.resumable = resp.ContentLength >= 0
	case http.StatusRequestedRangeNotSatisfiable:
		resp.Body.Close()
		if end >= 0 {
			return nil, errPastEnd
		}
		return nil, music.Errorf(music.EINVALID, "That position is past the end of the track.")
	default:
		resp.Body.Close()
		return nil, statusError(resp.StatusCode)
	}
	b.resp = resp
	b.contentType = resp.Header.Get("Content-Type")
	if etag := resp.Header.Get("ETag"); etag != "" && !strings.HasPrefix(etag, "W/") {
		b.validator = etag
	} else {
		b.validator = resp.Header.Get("Last-Modified")
	}
	return b, nil
}

// Size is the length of the whole file in bytes, even when the body reads
// only part of it; -1 when the server did not say (a live stream).
func (b *Body) Size() int64 { return b.size }

// Ranges reports whether the server serves parts of this file: it gave the
// file's size and said it takes Range requests (or answered one).
func (b *Body) Ranges() bool { return b.resumable }

// URL is the address the file came from after redirects, against which
// the references in a playlist resolve.
func (b *Body) URL() *url.URL { return b.resp.Request.URL }

// ContentType is the Content-Type the server gave.
func (b *Body) ContentType() string { return b.contentType }

// Read reads the next bytes of the file, or of the part asked for,
// resuming a broken download.
func (b *Body) Read(p []byte) (int, error) {
	for b.err == nil {
		if b.end >= 0 {
			if b.pos >= b.end {
				return 0, io.EOF
			}
			p = p[:min(int64(len(p)), b.end-b.pos)]
		}
		n, err := b.resp.Body.Read(p)
		b.pos += int64(n)
		if n > 0 {
			b.failures = 0
		}
		switch {
		case err == nil:
			return n, nil
		case err == io.EOF && b.complete():
			return n, io.EOF
		case err == io.EOF:
			err = io.ErrUnexpectedEOF
		}
		b.err = b.recover(err)
		if n > 0 {
			return n, nil
		}
	}
	return 0, b.err
}

// complete reports whether the body has read all it was asked for: the
// part, or the whole file when its size is known.
func (b *Body) complete() bool {
	if b.end >= 0 {
		return b.pos >= b.end
	}
	return b.size < 0 || b.pos >= b.size
}

// Close ends the download.
func (b *Body) Close() error {
	if b.err == nil {
		b.err = errors.New("fetch: read on closed body")
	}
	return b.resp.Body.Close()
}

// recover reopens the file at b.pos after cause broke the download, or says
// why it cannot.
func (b *Body) recover(cause error) error {
	b.resp.Body.Close()
	var refusal *music.Error
	switch {
	case b.ctx.Err() != nil:
		return fmt.Errorf("reading audio: %w", b.ctx.Err())
	case errors.As(cause, &refusal) || !b.resumable:
		return fmt.Errorf("reading audio at byte %d: %w", b.pos, cause)
	}
	for b.failures < b.retry.attempts {
		if err := b.retry.wait(b.ctx, b.retry.backoff<<b.failures); err != nil {
			return fmt.Errorf("resuming audio: %w", err)
		}
		b.failures++
		err := b.resume()
		if err == nil {
			return nil
		} else if errors.As(err, &refusal) {
			return err
		}
		cause = err
	}
	return fmt.Errorf("reading audio at byte %d after %d resumes: %w", b.pos, b.failures,
		errors.Join(music.Errorf(music.EUNAVAILABLE, "The audio host kept dropping the connection."), cause))
}

func (b *Body) resume() error {
	resp, err := b.get(b.pos, b.validator)
	if err != nil {
		return err
	}
	switch resp.StatusCode {
	case http.StatusPartialContent:
		cr, err := parseContentRange(resp.Header.Get("Content-Range"))
		if err == nil && cr.first == b.pos && cr.total == b.size && (b.end < 0 || cr.last < b.end) {
			b.resp = resp
			return nil
		}
		resp.Body.Close()
		return errors.Join(music.Errorf(music.EUNAVAILABLE, "The audio file changed while it was playing."), err)
	case http.StatusOK:
		resp.Body.Close()
		return music.Errorf(music.EUNAVAILABLE, "The audio host dropped the connection and then would not continue where it broke off, so TimmyBot stopped rather than play part of the file twice.")
	}
	resp.Body.Close()
	return statusError(resp.StatusCode)
}

// get sends the GET, from byte offset on when offset > 0 (to the end of
// the part when one was asked for), and only if the file still matches
// validator when one is given.
func (b *Body) get(offset int64, validator string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(b.ctx, http.MethodGet, b.url, nil)
	if err != nil {
		return nil, fmt.Errorf("fetching audio: %w", err)
	}
	req.Header.Set("User-Agent", userAgent)
	setForwarded(req, b.header)
	req.Header.Set("Accept-Encoding", "identity")
	if offset > 0 || b.end >= 0 {
		last := ""
		if b.end >= 0 {
			last = strconv.FormatInt(b.end-1, 10)
		}
		req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-"+last)
		if validator != "" {
			req.Header.Set("If-Range", validator)
		}
	}
	resp, err := b.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching audio: %w", err)
	}
	return resp, nil
}

const userAgent = "TimmyBot"

// StatusError is an audio host's refusal: the status it answered, so that a
// caller can tell an expired URL (403, 410) from other failures. Its chain
// holds the message for the user.
type StatusError struct {
	Code int
	user *music.Error
}

func (e *StatusError) Error() string { return e.user.Error() }
func (e *StatusError) Unwrap() error { return e.user }

func statusError(code int) error {
	if code == http.StatusNotFound || code == http.StatusGone {
		return &StatusError{code, music.Errorf(music.ENOTFOUND, "The audio host says that file does not exist (%d).", code)}
	}
	return &StatusError{code, music.Errorf(music.EUNAVAILABLE, "The audio host answered %d %s.", code, http.StatusText(code))}
}
