package audiohost

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"time"
)

var modTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func (h *Host) serveFile(name, contentType string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		h.requests[name]++
		h.mu.Unlock()
		w.Header().Set("Content-Type", contentType)
		http.ServeContent(w, r, "", modTime, bytes.NewReader(h.files[name]))
	}
}

// serveRadio sends the radio loop at real time, after a one-second burst
// like Icecast's, until the client or the host goes away.
func (h *Host) serveRadio(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "audio/mpeg")
	w.Header().Set("icy-name", RadioName)
	w.Header().Set("Cache-Control", "no-cache")
	loop := h.files[Radio]
	pacer := &pacedWriter{w: w, rate: radioBytesPerSecond, done: r.Context().Done(), quit: h.quit}
	if _, err := w.Write(loop[:radioBytesPerSecond]); err != nil {
		return
	}
	offset := radioBytesPerSecond
	for {
		n, err := pacer.Write(loop[offset:])
		if err != nil {
			return
		}
		offset = (offset + n) % len(loop)
	}
}

// serveSlow serves the MP3 track, with Range, at SlowBytesPerSecond.
func (h *Host) serveSlow(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "audio/mpeg")
	paced := &pacedResponse{ResponseWriter: w, pacer: pacedWriter{w: w, rate: SlowBytesPerSecond, done: r.Context().Done(), quit: h.quit}}
	http.ServeContent(paced, r, "", modTime, bytes.NewReader(h.files[MP3]))
}

// serveDrop serves the MP3 track, with Range, but ends the body at DropAt
// for any request that starts before it; net/http then closes the
// connection short of the Content-Length it announced.
func (h *Host) serveDrop(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "audio/mpeg")
	http.ServeContent(w, r, "", modTime, &dropReader{ReadSeeker: bytes.NewReader(h.files[MP3]), from: -1})
}

var errDropped = errors.New("audiohost: connection dropped")

// dropReader fails reads that cross DropAt, when reading began before it.
type dropReader struct {
	io.ReadSeeker
	pos  int64
	from int64 // where reading began; -1 before the first Read
}

func (d *dropReader) Seek(offset int64, whence int) (int64, error) {
	pos, err := d.ReadSeeker.Seek(offset, whence)
	d.pos = pos
	return pos, err
}

func (d *dropReader) Read(b []byte) (int, error) {
	if d.from < 0 {
		d.from = d.pos
	}
	if d.from < DropAt {
		if d.pos >= DropAt {
			return 0, errDropped
		}
		b = b[:min(int64(len(b)), DropAt-d.pos)]
	}
	n, err := d.ReadSeeker.Read(b)
	d.pos += int64(n)
	return n, err
}

// pacedWriter writes at most rate bytes a second, in tenth-second chunks,
// and stops when done or quit is closed.
type pacedWriter struct {
	w    http.ResponseWriter
	rate int
	done <-chan struct{}
	quit <-chan struct{}
	next time.Time
}

var errStopped = errors.New("audiohost: stopped")

func (p *pacedWriter) Write(b []byte) (int, error) {
	chunk := p.rate / 10
	written := 0
	for written < len(b) {
		if wait := time.Until(p.next); wait > 0 {
			timer := time.NewTimer(wait)
			select {
			case <-timer.C:
			case <-p.done:
				timer.Stop()
				return written, errStopped
			case <-p.quit:
				timer.Stop()
				return written, errStopped
			}
		}
		if p.next.IsZero() {
			p.next = time.Now()
		}
		p.next = p.next.Add(100 * time.Millisecond)
		n, err := p.w.Write(b[written:min(len(b), written+chunk)])
		written += n
		if err != nil {
			return written, err
		}
		http.NewResponseController(p.w).Flush()
	}
	return written, nil
}

// pacedResponse is a ResponseWriter whose body goes through a pacedWriter.
type pacedResponse struct {
	http.ResponseWriter
	pacer pacedWriter
}

func (p *pacedResponse) Write(b []byte) (int, error) { return p.pacer.Write(b) }
