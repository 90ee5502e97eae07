package audio

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/audio/internal/audiotest"
	"github.com/iddv/timmybot/app/audio/ogg"
	"github.com/iddv/timmybot/app/music"
)

// oggHost serves Ogg files as hosts do: /range/ with Range requests,
// /norange/ whole and without saying it takes them, /ignored/ whole though
// it says it takes them, /corrupt/ with bytes that are no Ogg in every part
// it serves, and /hang/ with parts that never come. It counts requests and
// says when a request for a part that never comes began and ended.
func oggHost(t *testing.T, files map[string][]byte) (base string, requests *atomic.Int64, hanging chan string) {
	t.Helper()
	requests, hanging = new(atomic.Int64), make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		mode, name, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		b, ok := files["/"+name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		part := r.Header.Get("Range") != ""
		switch {
		case mode == "norange" || mode == "ignored":
			if mode == "ignored" {
				w.Header().Set("Accept-Ranges", "bytes")
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			_, _ = w.Write(b)
			return
		case mode == "corrupt" && part:
			b = bytes.Repeat([]byte("OggS no page "), len(b)/13+1)[:len(b)]
		case mode == "hang" && part:
			hanging <- "began"
			<-r.Context().Done()
			hanging <- "ended"
			return
		}
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, requests, hanging
}

// TestOggLengthFromTheTail: an Ogg file passed through says its length as
// its last page does, read with a Range request for the file's tail; a
// host without Range, or a tail without a page, leaves it unknown, and
// neither a failed nor a hanging tail read holds up the audio or its end.
func TestOggLengthFromTheTail(t *testing.T) {
	short, long := audiotest.Ogg(t, 2, 2, 20), audiotest.Ogg(t, 12, 2, 20)
	if len(long) <= oggTailBytes {
		t.Fatalf("the long file has %d bytes: no longer than the tail read", len(long))
	}
	base, requests, hanging := oggHost(t, map[string][]byte{"/short.ogg": short, "/long.ogg": long})
	p := newPipeline(t, "", 0)
	tests := []struct {
		name         string
		path         string
		at           time.Duration
		want         time.Duration
		wantRequests int64
	}{
		{"a file shorter than the tail", "/range/short.ogg", 0, 2 * time.Second, 2},
		{"a file longer than the tail", "/range/long.ogg", 0, 12 * time.Second, 2},
		{"from a position", "/range/long.ogg", 5 * time.Second, 12 * time.Second, 2},
		{"a host without Range", "/norange/long.ogg", 0, 0, 1},
		{"a host that ignores Range", "/ignored/long.ogg", 0, 0, 2},
		{"a tail without a page", "/corrupt/long.ogg", 0, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := requests.Load()
			f, err := p.Open(t.Context(), music.Track{URL: base + tt.path}, tt.at, unity)
			if err != nil {
				t.Fatal(err)
			}
			if tail := f.(*frames).tail; tail != nil {
				<-tail.done
			}
			got := f.(*frames).Duration()
			played := readAll(t, f)
			if got != tt.want {
				t.Errorf("Duration() = %v, want %v", got, tt.want)
			}
			if want := int((12*time.Second - tt.at) / frameDuration); strings.Contains(tt.path, "long") && len(played) < want {
				t.Errorf("%d frames played, want %d", len(played), want)
			}
			if n := requests.Load() - before; n != tt.wantRequests {
				t.Errorf("%d requests, want %d", n, tt.wantRequests)
			}
		})
	}
	t.Run("a file read to its end while its tail hangs", func(t *testing.T) {
		f, err := p.Open(t.Context(), music.Track{URL: base + "/hang/long.ogg"}, 0, unity)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		waitHanging(t, hanging, "began")
		start := time.Now()
		for range packetsIn(t, long) {
			if _, err := f.ReadFrame(); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.ReadFrame(); !errors.Is(err, io.EOF) {
			t.Fatalf("after the last frame: %v, want io.EOF", err)
		}
		if took := time.Since(start); took > oggTailTimeout/2 {
			t.Errorf("the end took %v: it waited for the tail read", took)
		}
		// The stream's last page says the length, and the tail read stops
		// then, not at its deadline.
		if got := f.(*frames).Duration(); got != 12*time.Second {
			t.Errorf("Duration() at the end = %v, want 12s", got)
		}
		waitHanging(t, hanging, "ended")
		if took := time.Since(start); took > oggTailTimeout/2 {
			t.Errorf("the tail read ended %v after the start: at its deadline, not at the end", took)
		}
	})
	t.Run("a tail that never comes", func(t *testing.T) {
		f, err := p.Open(t.Context(), music.Track{URL: base + "/hang/long.ogg"}, 0, unity)
		if err != nil {
			t.Fatal(err)
		}
		waitHanging(t, hanging, "began")
		start := time.Now()
		// The audio comes while the tail read hangs; a skip closes it.
		for i := range 300 {
			if _, err := f.ReadFrame(); err != nil {
				t.Fatalf("frame %d: %v", i, err)
			}
		}
		if got := f.(*frames).Duration(); got != 0 {
			t.Errorf("Duration() = %v, want 0", got)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		// Close ends the tail read at once, not at its deadline.
		waitHanging(t, hanging, "ended")
		if took := time.Since(start); took > oggTailTimeout/2 {
			t.Errorf("playing and closing took %v: Close waited for the tail read's deadline", took)
		}
	})
}

// waitHanging waits for the hanging tail request to have begun or ended.
func waitHanging(t *testing.T, hanging chan string, want string) {
	t.Helper()
	select {
	case got := <-hanging:
		if got != want {
			t.Fatalf("the tail request %s, want %s", got, want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the tail request has not %s", want)
	}
}

// packetsIn counts the audio packets of an Ogg Opus file.
func packetsIn(t *testing.T, file []byte) int {
	t.Helper()
	r := ogg.NewReader(bytes.NewReader(file))
	for n := 0; ; n++ {
		if _, err := r.ReadPacket(); errors.Is(err, io.EOF) {
			return n
		} else if err != nil {
			t.Fatal(err)
		}
	}
}
