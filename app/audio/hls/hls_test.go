package hls

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/audio/fetch"
	"github.com/iddv/timmybot/app/audio/internal/audiotest"
	"github.com/iddv/timmybot/app/music"
)

// fakeHost serves files by path on loopback, with Range requests but for
// the paths under /whole/, which it always answers with the whole file; a
// test may change the files.
type fakeHost struct {
	mu     sync.Mutex
	files  map[string][]byte
	hits   map[string]int
	ranges map[string][]string // each request's Range header, by path
	url    string
}

func newHost(t *testing.T, files map[string][]byte) *fakeHost {
	t.Helper()
	h := &fakeHost{files: map[string][]byte{}, hits: map[string]int{}, ranges: map[string][]string{}}
	for name, b := range files {
		h.files["/"+strings.TrimPrefix(name, "/")] = b
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		b, ok := h.files[r.URL.Path]
		h.hits[r.URL.Path]++
		h.ranges[r.URL.Path] = append(h.ranges[r.URL.Path], r.Header.Get("Range"))
		h.mu.Unlock()
		switch {
		case !ok:
			http.NotFound(w, r)
		case strings.HasPrefix(r.URL.Path, "/whole/"):
			w.Write(b)
		default:
			http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
		}
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

func (h *fakeHost) set(path string, b []byte) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.files[path] = b
}

// loopback is the bot's default policy, but for the fake host's one
// loopback address.
var loopback = fetch.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}

// guarded is the bot's client with loopback's policy and default limits.
func guarded() *http.Client {
	return fetch.NewClient(loopback, fetch.DefaultLimits())
}

func readStream(t *testing.T, s *Stream) []byte {
	t.Helper()
	defer s.Close()
	b, err := io.ReadAll(s)
	if err != nil {
		t.Fatalf("after %d bytes: %v", len(b), err)
	}
	return b
}

// concat is files' bytes in the order of names.
func concat(files map[string][]byte, names ...string) []byte {
	var out []byte
	for _, n := range names {
		out = append(out, files[n]...)
	}
	return out
}

// TestVOD reads ffmpeg's own HLS output: the init section (fMP4) and the
// segments in order, nothing else, and the length their EXTINFs add to.
// Written as one file, the init section's and segments' byte ranges
// follow each other from its first byte to its last.
func TestVOD(t *testing.T) {
	tests := []struct {
		name, segmentType string
		hlsFlags          []string
		names             []string
	}{
		{"mpegts", "mpegts", nil, []string{"a0.ts", "a1.ts", "a2.ts", "a3.ts"}},
		{"fmp4", "fmp4", nil, []string{"init.mp4", "a0.m4s", "a1.m4s", "a2.m4s", "a3.m4s"}},
		{"mpegts in one file", "mpegts", []string{"single_file"}, []string{"a.ts"}},
		{"fmp4 in one file", "fmp4", []string{"single_file"}, []string{"a.m4s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := audiotest.HLS(t, 3, tt.segmentType, tt.hlsFlags...)
			if len(files) != len(tt.names)+1 {
				t.Fatalf("ffmpeg wrote %d files, want the playlist and %v", len(files), tt.names)
			}
			h := newHost(t, files)
			s, err := Open(t.Context(), h.url+"/a.m3u8", Config{Client: guarded()})
			if err != nil {
				t.Fatal(err)
			}
			if s.Live() {
				t.Error("a VOD playlist reads as live")
			}
			if d := s.Duration(); d < 2900*time.Millisecond || d > 3100*time.Millisecond {
				t.Errorf("Duration %v, want about 3 s", d)
			}
			if got, want := readStream(t, s), concat(files, tt.names...); !bytes.Equal(got, want) {
				t.Errorf("read %d bytes, want the %d of %v", len(got), len(want), tt.names)
			}
		})
	}
}

// TestByteRanges reads segments and init sections that are sub-ranges of
// files: exactly the bytes each names, asked for with a closed Range, in
// playlist order, whether or not the offset is written out.
func TestByteRanges(t *testing.T) {
	f, g, huge := numbered(1000), numbered(500), numbered(maxSegmentBytes+1000)
	header := "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-PLAYLIST-TYPE:VOD\n"
	tests := []struct {
		name, playlist string
		want           [][]byte
		wantRanges     map[string][]string
		fetchLimit     int64 // the client's byte limit; 0 for the default
	}{
		{"offsets out of order, with gaps", header +
			"#EXTINF:2,\n#EXT-X-BYTERANGE:100@50\nf.ts\n" +
			"#EXT-X-BYTERANGE:200@400\n#EXTINF:2,\nf.ts\n" +
			"#EXTINF:2,\n#EXT-X-BYTERANGE:50@0\nf.ts\n",
			[][]byte{f[50:150], f[400:600], f[0:50]},
			map[string][]string{"/f.ts": {"bytes=50-149", "bytes=400-599", "bytes=0-49"}}, 0},
		{"an offset left out follows the previous sub-range of the same file", header +
			"#EXTINF:2,\n#EXT-X-BYTERANGE:100@50\nf.ts\n" +
			"#EXTINF:2,\n#EXT-X-BYTERANGE:200\nf.ts\n" +
			"#EXTINF:2,\n#EXT-X-BYTERANGE:30\nf.ts\n" +
			"#EXTINF:2,\n#EXT-X-BYTERANGE:10@5\ng.ts\n" +
			"#EXTINF:2,\n#EXT-X-BYTERANGE:20\ng.ts\n" +
			"#EXTINF:2,\ng.ts\n",
			[][]byte{f[50:150], f[150:350], f[350:380], g[5:15], g[15:35], g},
			map[string][]string{"/f.ts": {"bytes=50-149", "bytes=150-349", "bytes=350-379"}, "/g.ts": {"bytes=5-14", "bytes=15-34", ""}}, 0},
		{"init sections that are sub-ranges", header +
			"#EXT-X-MAP:URI=\"f.ts\",BYTERANGE=\"100@0\"\n" +
			"#EXTINF:2,\n#EXT-X-BYTERANGE:300@100\nf.ts\n" +
			"#EXTINF:2,\n#EXT-X-BYTERANGE:200\nf.ts\n" +
			"#EXT-X-MAP:URI=\"f.ts\",BYTERANGE=\"50@900\"\n" +
			"#EXTINF:2,\n#EXT-X-BYTERANGE:100@600\nf.ts\n",
			[][]byte{f[0:100], f[100:400], f[400:600], f[900:950], f[600:700]},
			map[string][]string{"/f.ts": {"bytes=0-99", "bytes=100-399", "bytes=400-599", "bytes=900-949", "bytes=600-699"}}, 0},
		{"a sub-range of a file larger than a segment may be", header +
			"#EXTINF:2,\n#EXT-X-BYTERANGE:100@" + fmt.Sprint(maxSegmentBytes) + "\nhuge.ts\n",
			[][]byte{huge[maxSegmentBytes : maxSegmentBytes+100]},
			map[string][]string{"/huge.ts": {fmt.Sprintf("bytes=%d-%d", maxSegmentBytes, maxSegmentBytes+99)}}, 0},
		{"sub-ranges of a file larger than the fetch limit", header +
			"#EXTINF:2,\n#EXT-X-BYTERANGE:400@0\nf.ts\n" +
			"#EXTINF:2,\n#EXT-X-BYTERANGE:400\nf.ts\n",
			[][]byte{f[0:400], f[400:800]},
			map[string][]string{"/f.ts": {"bytes=0-399", "bytes=400-799"}}, 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHost(t, map[string][]byte{"/m.m3u8": []byte(tt.playlist + "#EXT-X-ENDLIST\n"), "/f.ts": f, "/g.ts": g, "/huge.ts": huge})
			client := guarded()
			if tt.fetchLimit > 0 {
				client = fetch.NewClient(loopback, fetch.Limits{MaxBytes: tt.fetchLimit})
			}
			s, err := Open(t.Context(), h.url+"/m.m3u8", Config{Client: client})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := readStream(t, s), bytes.Join(tt.want, nil); !bytes.Equal(got, want) {
				t.Errorf("read %d bytes, want the %d of the ranges asked for", len(got), len(want))
			}
			delete(h.ranges, "/m.m3u8")
			if diff := cmp.Diff(tt.wantRanges, h.ranges); diff != "" {
				t.Errorf("Range headers (-want +got):\n%s", diff)
			}
		})
	}
}

// numbered is n bytes that differ from their neighbours, so that a range
// one byte off reads differently.
func numbered(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return b
}

// media is a media playlist of segments named by names, each 2 s.
func media(first int64, ended bool, names ...string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:%d\n", first)
	for _, n := range names {
		fmt.Fprintf(&b, "#EXTINF:2.000,\n%s\n", n)
	}
	if ended {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return []byte(b.String())
}

func TestMasterPlaylist(t *testing.T) {
	segments := map[string][]byte{
		"/audio/s.ts": []byte("audio rendition"), "/low/s.ts": []byte("low variant"),
		"/high/s.ts": []byte("high variant"), "/aac/s.ts": []byte("audio-only variant"),
	}
	tests := []struct {
		name, master, want string
	}{
		{"audio rendition", `#EXTM3U
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English, main",DEFAULT=YES,URI="audio/m.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=500000,CODECS="avc1.4d401e,mp4a.40.2",AUDIO="aud"
low/m.m3u8
`, "audio rendition"},
		{"lowest bandwidth", `#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS="avc1.4d401f,mp4a.40.2"
high/m.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=256x144,CODECS="avc1.4d400c,mp4a.40.2"
low/m.m3u8
`, "low variant"},
		{"audio-only variant", `#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=300000,CODECS="avc1.4d400c,mp4a.40.2"
low/m.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=160000,CODECS="mp4a.40.2"
aac/m.m3u8
`, "audio-only variant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := map[string][]byte{"/master.m3u8": []byte(tt.master)}
			for path, b := range segments {
				files[path] = b
				files[strings.TrimSuffix(path, "s.ts")+"m.m3u8"] = media(0, true, "s.ts")
			}
			h := newHost(t, files)
			s, err := Open(t.Context(), h.url+"/master.m3u8", Config{Client: guarded()})
			if err != nil {
				t.Fatal(err)
			}
			if got := string(readStream(t, s)); got != tt.want {
				t.Errorf("read %q, want %q", got, tt.want)
			}
		})
	}
}

// TestSeekSkipsWholeSegments: a start inside the third segment reads from
// that segment on, and Offset says where it begins, whether segments are
// files or sub-ranges of one file.
func TestSeekSkipsWholeSegments(t *testing.T) {
	ranges := "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-BYTERANGE:1@0\n#EXTINF:2,\nall.ts\n" +
		strings.Repeat("#EXT-X-BYTERANGE:1\n#EXTINF:2,\nall.ts\n", 3) + "#EXT-X-ENDLIST\n"
	h := newHost(t, map[string][]byte{"/m.m3u8": media(0, true, "0.ts", "1.ts", "2.ts", "3.ts"),
		"/0.ts": []byte("0"), "/1.ts": []byte("1"), "/2.ts": []byte("2"), "/3.ts": []byte("3"),
		"/r.m3u8": []byte(ranges), "/all.ts": []byte("0123")})
	tests := []struct {
		start  time.Duration
		want   string
		offset time.Duration
	}{
		{0, "0123", 0},
		{1999 * time.Millisecond, "0123", 0},
		{2 * time.Second, "123", 2 * time.Second},
		{5500 * time.Millisecond, "23", 4 * time.Second},
		{9 * time.Second, "", 8 * time.Second},
	}
	for _, playlist := range []string{"m.m3u8", "r.m3u8"} {
		for _, tt := range tests {
			t.Run(playlist+" "+tt.start.String(), func(t *testing.T) {
				s, err := Open(t.Context(), h.url+"/"+playlist, Config{Client: guarded(), Start: tt.start})
				if err != nil {
					t.Fatal(err)
				}
				if s.Offset() != tt.offset {
					t.Errorf("Offset %v, want %v", s.Offset(), tt.offset)
				}
				if got := string(readStream(t, s)); got != tt.want {
					t.Errorf("read %q, want %q", got, tt.want)
				}
			})
		}
	}
}

// liveClock is a fake clock whose every wait moves the live window on.
type liveClock struct {
	now    time.Time
	waits  []time.Duration
	onWait func(n int)
}

func (c *liveClock) clock() clock {
	return clock{
		now: func() time.Time { return c.now },
		wait: func(ctx context.Context, d time.Duration) error {
			c.waits = append(c.waits, d)
			c.now = c.now.Add(d)
			c.onWait(len(c.waits))
			return ctx.Err()
		},
	}
}

// TestLiveSlidingWindow follows a live playlist whose window of four
// segments moves on by one at each reload (and not at all at one): every
// segment comes once, in order, from three target durations before the
// first window's end, until the context ends. The segments are files, or
// sub-ranges of one growing file where only each window's first segment
// says its offset.
func TestLiveSlidingWindow(t *testing.T) {
	files := map[string][]byte{}
	var all []byte
	var offsets []int // of each segment in all.ts
	for i := range 20 {
		seg := fmt.Appendf(nil, "[%d]", i)
		files[fmt.Sprintf("/%d.ts", i)] = seg
		offsets = append(offsets, len(all))
		all = append(all, seg...)
	}
	files["/all.ts"] = all
	windows := map[string]func(first int) []byte{
		"files": func(first int) []byte {
			var names []string
			for i := first; i < first+4; i++ {
				names = append(names, fmt.Sprintf("%d.ts", i))
			}
			return media(int64(first), false, names...)
		},
		"sub-ranges": func(first int) []byte {
			b := fmt.Appendf(nil, "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:%d\n", first)
			for i := first; i < first+4; i++ {
				b = fmt.Appendf(b, "#EXT-X-BYTERANGE:%d", offsets[i+1]-offsets[i])
				if i == first {
					b = fmt.Appendf(b, "@%d", offsets[i])
				}
				b = fmt.Appendf(b, "\n#EXTINF:2.000,\nall.ts\n")
			}
			return b
		},
	}
	for name, window := range windows {
		t.Run(name, func(t *testing.T) { testLiveSlidingWindow(t, files, window) })
	}
}

func testLiveSlidingWindow(t *testing.T, files map[string][]byte, window func(first int) []byte) {
	h := newHost(t, files)
	h.set("/live.m3u8", window(10))
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	first := 10
	clk := &liveClock{now: time.Unix(0, 0)}
	clk.onWait = func(n int) {
		switch {
		case n == 2: // this reload finds the playlist unchanged
		case n == 5:
			cancel()
		default:
			first++
			h.set("/live.m3u8", window(first))
		}
	}
	s, err := open(ctx, h.url+"/live.m3u8", Config{Client: guarded(), MaxBytes: 1}, clk.clock())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Live() {
		t.Fatal("a playlist without EXT-X-ENDLIST reads as VOD")
	}
	got, err := io.ReadAll(s)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("ended with %v, want the context's end", err)
	}
	// Three target durations (6 s) from the end of 10..13 is 11.
	if want := "[11][12][13][14][15][16]"; string(got) != want {
		t.Errorf("read %q, want %q", got, want)
	}
	// The unchanged playlist is asked again after half a target duration.
	wantWaits := []time.Duration{2 * time.Second, 2 * time.Second, time.Second, 2 * time.Second, 2 * time.Second}
	if fmt.Sprint(clk.waits) != fmt.Sprint(wantWaits) {
		t.Errorf("waited %v, want %v", clk.waits, wantWaits)
	}
}

// TestLiveEnds: a live playlist that gains EXT-X-ENDLIST ends after its
// last segment.
func TestLiveEnds(t *testing.T) {
	h := newHost(t, map[string][]byte{"/live.m3u8": media(0, false, "0.ts"), "/0.ts": []byte("0"), "/1.ts": []byte("1")})
	clk := &liveClock{now: time.Unix(0, 0)}
	clk.onWait = func(int) { h.set("/live.m3u8", media(0, true, "0.ts", "1.ts")) }
	s, err := open(t.Context(), h.url+"/live.m3u8", Config{Client: guarded()}, clk.clock())
	if err != nil {
		t.Fatal(err)
	}
	if got := string(readStream(t, s)); got != "01" {
		t.Errorf("read %q, want %q", got, "01")
	}
}

// TestRefused: what the stream refuses, and the message the user sees.
func TestRefused(t *testing.T) {
	files := map[string][]byte{"/ok.ts": []byte("ok"), "/big.ts": make([]byte, 3<<20), "/short.ts": []byte("short"), "/whole/ok.ts": []byte("ok")}
	add := func(name string, playlist string) string {
		files["/"+name] = []byte(playlist)
		return name
	}
	header := "#EXTM3U\n#EXT-X-TARGETDURATION:2\n"
	unreadable := "That stream's playlist could not be read."
	badRange := func(name, byteRange string) string {
		return add(name, header+"#EXT-X-BYTERANGE:"+byteRange+"\n#EXTINF:2,\nok.ts\n#EXT-X-ENDLIST\n")
	}
	tests := []struct {
		name, playlist string
		cfg            Config
		want           string // the user's message; "" for any refusal
	}{
		{"encrypted", add("key.m3u8", header+"#EXT-X-KEY:METHOD=AES-128,URI=\"k.bin\"\n#EXTINF:2,\nok.ts\n#EXT-X-ENDLIST\n"), Config{}, "That stream is encrypted; TimmyBot cannot play it."},
		{"sample-encrypted", add("sample.m3u8", header+"#EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"k.bin\"\n#EXTINF:2,\nok.ts\n#EXT-X-ENDLIST\n"), Config{}, "That stream is encrypted; TimmyBot cannot play it."},
		{"oversized playlist", add("huge.m3u8", header+strings.Repeat("#EXTINF:2,\nok.ts\n", MaxPlaylistBytes/16)), Config{}, "That stream's playlist is larger than 1024 KB."},
		{"segment on the metadata address", add("meta.m3u8", header+"#EXTINF:2,\nhttp://169.254.169.254/latest/meta-data/\n#EXT-X-ENDLIST\n"), Config{}, ""},
		{"segment on another loopback address", add("loop.m3u8", header+"#EXTINF:2,\nhttp://127.0.0.2/x.ts\n#EXT-X-ENDLIST\n"), Config{}, ""},
		{"variant on the metadata address", add("master.m3u8", "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhttp://169.254.169.254/v.m3u8\n"), Config{}, ""},
		{"init section on the metadata address", add("map.m3u8", header+"#EXT-X-MAP:URI=\"http://169.254.169.254/init.mp4\"\n#EXTINF:2,\nok.ts\n#EXT-X-ENDLIST\n"), Config{}, ""},
		{"a byte range the host answers with the whole file", add("whole/range.m3u8", header+"#EXT-X-BYTERANGE:1@0\n#EXTINF:2,\nok.ts\n#EXT-X-ENDLIST\n"), Config{},
			"That audio host sends whole files where TimmyBot asks for a part of one, so TimmyBot cannot play it."},
		{"a byte range past the end of the file", add("past.m3u8", header+"#EXT-X-BYTERANGE:10@3\n#EXTINF:2,\nshort.ts\n#EXT-X-ENDLIST\n"), Config{},
			"That audio host's file ends before the part TimmyBot asked for."},
		{"a byte range larger than a segment may be", badRange("huge-range.m3u8", "33554433@0"), Config{}, "That stream's segment is larger than 32768 KB."},
		{"a byte range without a length", badRange("no-length.m3u8", "@0"), Config{}, unreadable},
		{"a byte range of no bytes", badRange("empty-range.m3u8", "0@0"), Config{}, unreadable},
		{"an empty byte range", badRange("blank-range.m3u8", ""), Config{}, unreadable},
		{"a byte range of words", badRange("words.m3u8", "ten@two"), Config{}, unreadable},
		{"a negative byte range", badRange("negative.m3u8", "-5@0"), Config{}, unreadable},
		{"a negative offset", add("negative-offset.m3u8", header+"#EXT-X-BYTERANGE:2@0\n#EXTINF:2,\nok.ts\n#EXT-X-BYTERANGE:1@-1\n#EXTINF:2,\nok.ts\n#EXT-X-ENDLIST\n"), Config{}, unreadable},
		{"an empty offset", badRange("empty-offset.m3u8", "5@"), Config{}, unreadable},
		{"a byte range past any file's end", badRange("overflow.m3u8", "10@9223372036854775800"), Config{}, unreadable},
		{"no offset after a sub-range at the end of any file", add("implicit-overflow.m3u8", header+"#EXT-X-BYTERANGE:10@9223372036854775790\n#EXTINF:2,\nok.ts\n#EXT-X-BYTERANGE:10\n#EXTINF:2,\nok.ts\n#EXT-X-ENDLIST\n"), Config{}, unreadable},
		{"no offset on the first segment", badRange("first.m3u8", "2"), Config{}, unreadable},
		{"no offset after a sub-range of another file", add("other.m3u8", header+"#EXT-X-BYTERANGE:2@0\n#EXTINF:2,\nshort.ts\n#EXT-X-BYTERANGE:2\n#EXTINF:2,\nok.ts\n#EXT-X-ENDLIST\n"), Config{}, unreadable},
		{"no offset after a whole file", add("after-whole.m3u8", header+"#EXTINF:2,\nok.ts\n#EXT-X-BYTERANGE:2\n#EXTINF:2,\nok.ts\n#EXT-X-ENDLIST\n"), Config{}, unreadable},
		{"an init section's byte range without an offset", add("map-no-offset.m3u8", header+"#EXT-X-MAP:URI=\"ok.ts\",BYTERANGE=\"2\"\n#EXTINF:2,\nok.ts\n#EXT-X-ENDLIST\n"), Config{}, unreadable},
		{"a byte range over the fetch limit", add("over-limit.m3u8", header+"#EXT-X-BYTERANGE:2000000@0\n#EXTINF:2,\nbig.ts\n#EXT-X-ENDLIST\n"),
			Config{Client: fetch.NewClient(loopback, fetch.Limits{MaxBytes: 1 << 20})}, "That file is larger than the 1 MB limit."},
		{"an init section's empty byte range", add("map-empty.m3u8", header+"#EXT-X-MAP:URI=\"ok.ts\",BYTERANGE=\"\"\n#EXTINF:2,\nok.ts\n#EXT-X-ENDLIST\n"), Config{}, unreadable},
		{"not a playlist", add("text.m3u8", "hello\n"), Config{}, unreadable},
		{"more bytes than the limit", add("long.m3u8", header+"#EXTINF:2,\nbig.ts\n#EXTINF:2,\nbig.ts\n#EXT-X-ENDLIST\n"), Config{MaxBytes: 5 << 20}, "That stream is larger than the 5 MB limit."},
	}
	h := newHost(t, files)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.cfg.Client == nil {
				tt.cfg.Client = guarded()
			}
			var err error
			s, err := Open(t.Context(), h.url+"/"+tt.playlist, tt.cfg)
			if err == nil {
				_, err = io.ReadAll(s)
				s.Close()
			}
			var me *music.Error
			if !errors.As(err, &me) {
				t.Fatalf("got %v, want a refusal for the user", err)
			}
			if tt.want != "" && me.Message != tt.want {
				t.Errorf("said %q, want %q", me.Message, tt.want)
			}
		})
	}
	if n := h.hits["/ok.ts"]; n != 0 {
		t.Errorf("refused playlists' segments were fetched %d times", n)
	}
}

func TestIsPlaylist(t *testing.T) {
	tests := []struct {
		name, head, contentType string
		want                    bool
	}{
		{"by its first line", "#EXTM3U\n#EXT", "text/plain", true},
		{"after a byte order mark", "\ufeff#EXTM3U", "", true},
		{"by the Apple type", "", "application/vnd.apple.mpegurl", true},
		{"by the audio type, with parameters", "", "Audio/MPEGURL; charset=utf-8", true},
		{"by the x- type", "", "application/x-mpegURL", true},
		{"an MP3", "ID3\x04\x00\x00", "audio/mpeg", false},
		{"an Ogg file", "OggS\x00\x02", "audio/ogg", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsPlaylist([]byte(tt.head), tt.contentType); got != tt.want {
				t.Errorf("IsPlaylist(%q, %q) = %v, want %v", tt.head, tt.contentType, got, tt.want)
			}
		})
	}
}
