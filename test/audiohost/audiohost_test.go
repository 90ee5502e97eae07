package audiohost

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/iddv/timmybot/test/audiocheck"
)

func get(t *testing.T, url, byteRange string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if byteRange != "" {
		req.Header.Set("Range", byteRange)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestHost(t *testing.T) {
	h := Start(t)
	for _, track := range h.Tracks() {
		if track.Name == Radio {
			continue
		}
		t.Run(track.Name, func(t *testing.T) {
			resp := get(t, h.URL(track.Name), "")
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != track.ContentType || resp.Header.Get("Accept-Ranges") != "bytes" {
				t.Errorf("status %d, type %q, ranges %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Accept-Ranges"))
			}
			audiocheck.ExpectTones(t, audiocheck.Listen(t, body), track.Tones...)
			part := get(t, h.URL(track.Name), "bytes=100-199")
			got, _ := io.ReadAll(part.Body)
			if part.StatusCode != http.StatusPartialContent || string(got) != string(body[100:200]) {
				t.Errorf("range request: status %d, %d bytes, want 206 and bytes 100-199", part.StatusCode, len(got))
			}
			if n := h.Requests(track.Name); n != 2 {
				t.Errorf("Requests says %d, want 2", n)
			}
		})
	}

	t.Run("radio", func(t *testing.T) {
		resp := get(t, h.URL(Radio), "")
		if resp.ContentLength != -1 || resp.Header.Get("icy-name") != RadioName || resp.Header.Get("Content-Type") != "audio/mpeg" {
			t.Errorf("length %d, icy-name %q, type %q", resp.ContentLength, resp.Header.Get("icy-name"), resp.Header.Get("Content-Type"))
		}
		burst := make([]byte, radioBytesPerSecond)
		if _, err := io.ReadFull(resp.Body, burst); err != nil {
			t.Fatal(err)
		}
		// After the burst, 2 s of audio must take about as long to come.
		begin := time.Now()
		rest := make([]byte, 2*radioBytesPerSecond)
		if _, err := io.ReadFull(resp.Body, rest); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(begin); took < 1800*time.Millisecond {
			t.Errorf("2 s of radio arrived in %v; it is not paced", took)
		}
		windows := audiocheck.Listen(t, append(burst, rest...))
		audiocheck.ExpectTones(t, windows, h.Track(Radio).Tones...)
		if got := time.Duration(len(windows)) * audiocheck.WindowSize; got < 2900*time.Millisecond {
			t.Errorf("heard %v of radio, want 3 s", got)
		}
	})

	t.Run("slow", func(t *testing.T) {
		begin := time.Now()
		resp := get(t, h.URL(Slow), "bytes=0-3999")
		got, err := io.ReadAll(resp.Body)
		if err != nil || string(got) != string(h.File(MP3)[:4000]) {
			t.Fatalf("read %d bytes, %v; want the MP3's first 4000", len(got), err)
		}
		if took := time.Since(begin); took < 400*time.Millisecond {
			t.Errorf("4000 bytes at %d bytes/s arrived in %v", SlowBytesPerSecond, took)
		}
	})

	t.Run("drop and resume", func(t *testing.T) {
		file := h.File(MP3)
		resp := get(t, h.URL(Drop), "")
		first, err := io.ReadAll(resp.Body)
		if !errors.Is(err, io.ErrUnexpectedEOF) || len(first) != DropAt {
			t.Fatalf("first request read %d bytes, %v; want %d and an unexpected EOF", len(first), err, DropAt)
		}
		resp = get(t, h.URL(Drop), fmt.Sprintf("bytes=%d-", len(first)))
		rest, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusPartialContent {
			t.Fatalf("resume: status %d, %v", resp.StatusCode, err)
		}
		if string(append(first, rest...)) != string(file) {
			t.Errorf("resumed download differs from the file")
		}
	})

	t.Run("broken", func(t *testing.T) {
		resp := get(t, h.URL(Broken), "")
		body, _ := io.ReadAll(resp.Body)
		if resp.Header.Get("Content-Type") != "audio/mpeg" || string(body) != string(garbage()) {
			t.Errorf("type %q, %d bytes", resp.Header.Get("Content-Type"), len(body))
		}
	})

	t.Run("redirect", func(t *testing.T) {
		resp := get(t, h.URL(Redirect), "")
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != RedirectTarget {
			t.Errorf("status %d, location %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
}

// TestHLS: the HLS streams' playlists name segments, whole files or byte
// ranges of one, that the host serves, which together are the stream's
// tone.
func TestHLS(t *testing.T) {
	h := Start(t)
	for _, name := range []string{HLS, HLSRanges} {
		t.Run(name, func(t *testing.T) {
			resp := get(t, h.URL(name), "")
			playlist, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Header.Get("Content-Type") != "application/vnd.apple.mpegurl" || !strings.HasPrefix(string(playlist), "#EXTM3U") {
				t.Fatalf("type %q, playlist %q", resp.Header.Get("Content-Type"), playlist)
			}
			var media []byte
			var byteRange string
			for _, line := range strings.Split(string(playlist), "\n") {
				if value, ok := strings.CutPrefix(line, "#EXT-X-BYTERANGE:"); ok {
					var n, o int
					if _, err := fmt.Sscanf(value, "%d@%d", &n, &o); err != nil {
						t.Fatalf("%s: %v", line, err)
					}
					byteRange = fmt.Sprintf("bytes=%d-%d", o, o+n-1)
				}
				if line == "" || strings.HasPrefix(line, "#") {
					continue
				}
				seg := get(t, h.URL(name)[:strings.LastIndex(h.URL(name), "/")+1]+line, byteRange)
				wantStatus := http.StatusOK
				if byteRange != "" {
					wantStatus = http.StatusPartialContent
				}
				b, err := io.ReadAll(seg.Body)
				if err != nil || seg.StatusCode != wantStatus {
					t.Fatalf("segment %s %s: status %d, %v", line, byteRange, seg.StatusCode, err)
				}
				media, byteRange = append(media, b...), ""
			}
			if name == HLSRanges && !strings.Contains(string(playlist), "#EXT-X-BYTERANGE:") {
				t.Errorf("the playlist names no byte ranges:\n%s", playlist)
			}
			audiocheck.ExpectTones(t, audiocheck.Listen(t, media), h.Track(name).Tones...)
		})
	}
}
