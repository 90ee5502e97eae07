package audio

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/audio/internal/audiotest"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/player"
)

// hlsFiles puts an HLS stream's files under dir/ for host.
func hlsFiles(into map[string][]byte, dir string, files map[string][]byte) {
	for name, b := range files {
		into["/"+dir+"/"+name] = b
	}
}

// oggHLS splits an Ogg Opus file at page boundaries into segments of about
// one second, each segment's EXTINF from its pages' granule positions, as
// a SoundCloud Opus HLS stream is cut: only the first segment holds the
// headers.
func oggHLS(t *testing.T, file []byte) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	var playlist strings.Builder
	playlist.WriteString("#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-PLAYLIST-TYPE:VOD\n")
	var seg []byte
	var last, granule int64
	flush := func() {
		name := fmt.Sprintf("s%d.opus", len(files))
		files[name] = seg
		fmt.Fprintf(&playlist, "#EXTINF:%.3f,\n%s\n", float64(granule-last)/48000, name)
		seg, last = nil, granule
	}
	for rest := file; len(rest) > 0; {
		if len(rest) < 27 || !bytes.HasPrefix(rest, []byte("OggS")) {
			t.Fatal("not an Ogg page")
		}
		n := 27 + int(rest[26])
		for _, lace := range rest[27:n] {
			n += int(lace)
		}
		seg = append(seg, rest[:n]...)
		if g := int64(binary.LittleEndian.Uint64(rest[6:14])); g > 0 {
			granule = g
		}
		rest = rest[n:]
		if granule-last >= 48000 {
			flush()
		}
	}
	if len(seg) > 0 {
		flush()
	}
	playlist.WriteString("#EXT-X-ENDLIST\n")
	files["a.m3u8"] = []byte(playlist.String())
	return files
}

// TestHLS plays HLS streams the bot fetches itself: MPEG-TS and fMP4,
// segment files or byte ranges of one file, through ffmpeg's standard
// input, Ogg Opus segments passed through, from the start and from a
// position; the frames are the audio's length from there, within two
// frames, and say the stream's length.
func TestHLS(t *testing.T) {
	oggFile := audiotest.Ogg(t, 3, 2, 20)
	packets := oggPackets(t, oggFile)
	files := map[string][]byte{}
	hlsFiles(files, "ts", audiotest.HLS(t, 3, "mpegts"))
	hlsFiles(files, "fmp4", audiotest.HLS(t, 3, "fmp4"))
	hlsFiles(files, "ts-file", audiotest.HLS(t, 3, "mpegts", "single_file"))
	hlsFiles(files, "fmp4-file", audiotest.HLS(t, 3, "fmp4", "single_file"))
	hlsFiles(files, "ogg", oggHLS(t, oggFile))
	base := host(t, files)
	transcoder, noFFmpeg := newPipeline(t, "", 0), newPipeline(t, "/nonexistent/ffmpeg", 0)
	const length = 3 * time.Second
	tests := []struct {
		name string
		p    *Pipeline
		path string
		at   time.Duration
		fx   player.Effects
	}{
		{"mpegts", transcoder, "/ts/a.m3u8", 0, unity},
		{"fmp4", transcoder, "/fmp4/a.m3u8", 0, unity},
		{"mpegts from 1.5 s", transcoder, "/ts/a.m3u8", 1500 * time.Millisecond, unity},
		{"fmp4 from 2.2 s", transcoder, "/fmp4/a.m3u8", 2200 * time.Millisecond, unity},
		{"mpegts byte ranges", transcoder, "/ts-file/a.m3u8", 0, unity},
		{"fmp4 byte ranges", transcoder, "/fmp4-file/a.m3u8", 0, unity},
		{"mpegts byte ranges from 1.5 s", transcoder, "/ts-file/a.m3u8", 1500 * time.Millisecond, unity},
		{"fmp4 byte ranges from 2.2 s", transcoder, "/fmp4-file/a.m3u8", 2200 * time.Millisecond, unity},
		{"mpegts from 1.5 s with volume, never through the relay", transcoder, "/ts/a.m3u8", 1500 * time.Millisecond, player.Effects{Volume: 50}},
		{"ogg opus passed through", noFFmpeg, "/ogg/a.m3u8", 0, unity},
		{"ogg opus passed through from 1.5 s", noFFmpeg, "/ogg/a.m3u8", 1500 * time.Millisecond, unity},
		{"ogg opus with volume", transcoder, "/ogg/a.m3u8", 0, player.Effects{Volume: 50}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := tt.p.Open(t.Context(), music.Track{URL: base + tt.path}, tt.at, tt.fx)
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, f)
			want := int((length - tt.at) / frameDuration)
			if d := len(got) - want; d < -2 || d > 2 {
				t.Errorf("%d frames, want %d within two", len(got), want)
			}
			if d := f.(player.Measured).Duration() - length; d < -60*time.Millisecond || d > 60*time.Millisecond {
				t.Errorf("Duration() = %v, want %v", f.(player.Measured).Duration(), length)
			}
			if tt.p == noFFmpeg {
				for i, b := range got {
					if !bytes.Equal(b, packets[int(tt.at/frameDuration)+i]) {
						t.Fatalf("frame %d differs from the source's packet", i)
					}
				}
			}
		})
	}
}

// TestLiveHLS: a live HLS stream plays until the duration limit, and
// cannot seek.
func TestLiveHLS(t *testing.T) {
	files := map[string][]byte{}
	hlsFiles(files, "ogg", oggHLS(t, audiotest.Ogg(t, 3, 2, 20)))
	live := bytes.ReplaceAll(files["/ogg/a.m3u8"], []byte("#EXT-X-ENDLIST\n"), nil)
	files["/ogg/live.m3u8"] = bytes.ReplaceAll(live, []byte("#EXT-X-PLAYLIST-TYPE:VOD\n"), nil)
	base := host(t, files)
	p := newPipeline(t, "/nonexistent/ffmpeg", time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	f, err := p.Open(ctx, music.Track{URL: base + "/ogg/live.m3u8"}, 0, unity)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(readAll(t, f)); got != 50 {
		t.Errorf("%d frames under a 1 s limit, want 50", got)
	}
	if f.(player.Measured).Duration() != 0 {
		t.Errorf("a live stream says it lasts %v", f.(player.Measured).Duration())
	}
	if _, err := p.Open(ctx, music.Track{URL: base + "/ogg/live.m3u8"}, time.Second, unity); err != errLiveSeek {
		t.Errorf("seeking a live stream: %v, want %v", err, errLiveSeek)
	}
}

// TestLiveMPEGTS plays ffmpeg's MPEG-TS segments of AAC, as files or as
// byte ranges of one file, as a live stream through ffmpeg: a window of
// four segments that moves on by one at each reload once its newest
// segment was fetched, until the last one ends the playlist. Every segment
// from the live edge on is fetched once, in order, and the frames are
// their audio's length, so none came twice or went missing across the
// reloads.
func TestLiveMPEGTS(t *testing.T) {
	for name, hlsFlags := range map[string][]string{"files": nil, "byte ranges": {"single_file"}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			live := newLiveHost(t, audiotest.HLS(t, 6, "mpegts", hlsFlags...))
			// A stream that stops taking new segments waits for ever.
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			f, err := newPipeline(t, "", 0).Open(ctx, music.Track{URL: live.url + "/live.m3u8"}, 0, unity)
			if err != nil {
				t.Fatal(err)
			}
			got := len(readAll(t, f))
			if f.(player.Measured).Duration() != 0 {
				t.Errorf("a live stream says it lasts %v", f.(player.Measured).Duration())
			}
			// Three target durations (1 s) from the end of the first
			// window, segments 0 to 3, is segment 1.
			var want []string
			var length time.Duration
			for _, seg := range live.segments[1:] {
				want, length = append(want, seg.request), length+seg.duration
			}
			if diff := cmp.Diff(want, live.requests()); diff != "" {
				t.Errorf("segment requests (-want +got):\n%s", diff)
			}
			if want := int(length / frameDuration); got < want-2 || got > want+2 {
				t.Errorf("%d frames, want %d within two: the audio of segments 1 to %d", got, want, len(live.segments)-1)
			}
		})
	}
}

// liveHost serves a VOD HLS stream as a live one: /live.m3u8 is a window
// of four segments that moves on by one when it is asked for after its
// newest segment was fetched, as a live playlist grows while its client
// waits at the live edge; the window that reaches the last segment ends
// the playlist. It logs the requests for everything else.
type liveHost struct {
	url      string
	header   string // the playlist's tags before its first segment
	segments []liveSegment

	mu      sync.Mutex
	first   int // the window's first segment
	fetched []string
}

// liveSegment is a segment's playlist lines, its duration and the request
// that fetches it: path, and byte range if it has one.
type liveSegment struct {
	lines    string
	duration time.Duration
	request  string
}

func newLiveHost(t *testing.T, files map[string][]byte) *liveHost {
	t.Helper()
	h := &liveHost{}
	var seg liveSegment
	for _, line := range strings.Split(strings.TrimSpace(string(files["a.m3u8"])), "\n") {
		switch tag, value, _ := strings.Cut(line, ":"); tag {
		case "#EXT-X-PLAYLIST-TYPE", "#EXT-X-MEDIA-SEQUENCE", "#EXT-X-ENDLIST":
		case "#EXTINF":
			seconds, err := strconv.ParseFloat(strings.TrimSuffix(value, ","), 64)
			if err != nil {
				t.Fatalf("playlist line %q: %v", line, err)
			}
			seg.lines, seg.duration = seg.lines+line+"\n", time.Duration(seconds*float64(time.Second))
		case "#EXT-X-BYTERANGE":
			var n, o int64
			if _, err := fmt.Sscanf(value, "%d@%d", &n, &o); err != nil {
				t.Fatalf("playlist line %q: %v", line, err)
			}
			seg.lines, seg.request = seg.lines+line+"\n", fmt.Sprintf(" bytes=%d-%d", o, o+n-1)
		default:
			if strings.HasPrefix(line, "#") {
				h.header += line + "\n"
				continue
			}
			seg.lines, seg.request = seg.lines+line+"\n", "/"+line+seg.request
			h.segments, seg = append(h.segments, seg), liveSegment{}
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if r.URL.Path == "/live.m3u8" {
			newest := h.segments[h.first+3].request
			if len(h.fetched) > 0 && h.fetched[len(h.fetched)-1] == newest && h.first+4 < len(h.segments) {
				h.first++
			}
			fmt.Fprintf(w, "%s#EXT-X-MEDIA-SEQUENCE:%d\n", h.header, h.first)
			for _, seg := range h.segments[h.first : h.first+4] {
				io.WriteString(w, seg.lines)
			}
			if h.first+4 == len(h.segments) {
				io.WriteString(w, "#EXT-X-ENDLIST\n")
			}
			return
		}
		h.fetched = append(h.fetched, strings.TrimSuffix(r.URL.Path+" "+r.Header.Get("Range"), " "))
		b, ok := files[strings.TrimPrefix(r.URL.Path, "/")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	if len(h.segments) < 6 {
		t.Fatalf("%d segments, want at least six to slide a window of four over", len(h.segments))
	}
	return h
}

func (h *liveHost) requests() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.fetched
}
