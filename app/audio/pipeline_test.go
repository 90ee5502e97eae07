package audio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/audio/fetch"
	"github.com/iddv/timmybot/app/audio/ffmpeg"
	"github.com/iddv/timmybot/app/audio/internal/audiotest"
	"github.com/iddv/timmybot/app/audio/ogg"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/player"
)

// host serves files by path on loopback.
func host(t *testing.T, files map[string][]byte) string {
	t.Helper()
	base, _ := countingHost(t, files)
	return base
}

// newPipeline fetches from loopback only; ffmpegPath "" is the real one.
func newPipeline(t testing.TB, ffmpegPath string, maxDuration time.Duration) *Pipeline {
	t.Helper()
	client := fetch.NewClient(fetch.Policy{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}, fetch.DefaultLimits())
	relay, err := fetch.StartRelay(client, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { relay.Close() })
	return New(Config{Client: client, Relay: relay, FFmpeg: ffmpeg.Config{Path: ffmpegPath}, MaxTrackDuration: maxDuration})
}

func readAll(t testing.TB, f player.Frames) [][]byte {
	t.Helper()
	defer f.Close()
	var out [][]byte
	for {
		b, err := f.ReadFrame()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("after %d frames: %v", len(out), err)
		}
		out = append(out, bytes.Clone(b))
	}
}

func oggPackets(t *testing.T, file []byte) [][]byte {
	t.Helper()
	r := ogg.NewReader(bytes.NewReader(file))
	var out [][]byte
	for {
		p, err := r.ReadPacket()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, append([]byte(nil), p...))
	}
}

var unity = player.Effects{Volume: 100}

// TestPassthroughNeedsNoFFmpeg plays Opus sources with an ffmpeg that does
// not exist: they must come out packet for packet, from the position asked.
func TestPassthroughNeedsNoFFmpeg(t *testing.T) {
	oggFile := audiotest.Ogg(t, 2, 2, 20)
	packets := oggPackets(t, oggFile)
	base := host(t, map[string][]byte{"/a.ogg": oggFile, "/a.webm": audiotest.WebM(t, oggFile, false)})
	p := newPipeline(t, "/nonexistent/ffmpeg", 0)
	tests := []struct {
		name string
		url  string
		at   time.Duration
	}{
		{"ogg", base + "/a.ogg", 0},
		{"webm", base + "/a.webm", 0},
		{"ogg from 1 s", base + "/a.ogg", time.Second},
		{"webm from 0.5 s", base + "/a.webm", 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := p.Open(t.Context(), music.Track{URL: tt.url}, tt.at, unity)
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, f)
			want := packets[int(tt.at/frameDuration):]
			if len(got) != len(want) {
				t.Fatalf("%d frames, want %d", len(got), len(want))
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("frame %d differs from the source's packet", i)
				}
			}
		})
	}
}

// TestTranscodes covers what cannot pass through: other codecs, other
// packet lengths, and any effect. Each comes out as 20 ms Opus frames.
func TestTranscodes(t *testing.T) {
	oggFile := audiotest.Ogg(t, 2, 2, 20)
	files := map[string][]byte{
		"/a.ogg":    oggFile,
		"/60ms.ogg": audiotest.Ogg(t, 2, 2, 60),
		"/a.wav":    audiotest.FFmpeg(t, nil, "a.wav", "-f", "lavfi", "-i", "sine=f=440:d=2", "-ar", "44100", "OUT"),
	}
	base := host(t, files)
	p := newPipeline(t, "", 0)
	tests := []struct {
		name string
		path string
		at   time.Duration
		fx   player.Effects
	}{
		{"wav", "/a.wav", 0, unity},
		{"60 ms packets", "/60ms.ogg", 0, unity},
		{"volume", "/a.ogg", 0, player.Effects{Volume: 50}},
		{"filter", "/a.ogg", 0, player.Effects{Volume: 100, Filters: []string{"bassboost"}}},
		{"seek with volume, through the relay", "/a.ogg", time.Second, player.Effects{Volume: 150}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := p.Open(t.Context(), music.Track{URL: base + tt.path}, tt.at, tt.fx)
			if err != nil {
				t.Fatal(err)
			}
			got := readAll(t, f)
			want := int((2*time.Second - tt.at) / frameDuration)
			if len(got) < want-3 || len(got) > want+3 {
				t.Errorf("%d frames, want about %d", len(got), want)
			}
			if bytes.Equal(got[len(got)/2], oggPackets(t, oggFile)[len(got)/2]) {
				t.Errorf("a transcoded frame equals the source's packet: nothing was transcoded")
			}
		})
	}
}

// TestTranscodedSeekChecksForHLSOnce: a seek with effects in a direct URL
// already seen not to be HLS goes to the relay without fetching the
// file's start again. That look is the one request without a Range: ffmpeg
// asks the relay for ranges, even from byte 0.
func TestTranscodedSeekChecksForHLSOnce(t *testing.T) {
	file := audiotest.Ogg(t, 2, 2, 20)
	var whole atomic.Int64 // requests without a Range header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") == "" {
			whole.Add(1)
		}
		http.ServeContent(w, r, "a.ogg", time.Time{}, bytes.NewReader(file))
	}))
	t.Cleanup(srv.Close)
	p := newPipeline(t, "", 0)
	seek := func() int64 {
		before := whole.Load()
		f, err := p.Open(t.Context(), music.Track{URL: srv.URL + "/a.ogg"}, time.Second, player.Effects{Volume: 150})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(readAll(t, f)); n < 47 || n > 53 {
			t.Fatalf("%d frames after the seek, want about 50", n)
		}
		return whole.Load() - before
	}
	if first, second := seek(), seek(); first != 1 || second != 0 {
		t.Errorf("the seeks fetched the whole file %d and %d times, want 1 (the look for HLS) and 0", first, second)
	}
}

func TestOrdinaryURLsAreBounded(t *testing.T) {
	var o ordinaryURLs
	for i := range maxOrdinaryURLs + 10 {
		o.add(fmt.Sprint(i))
		o.add(fmt.Sprint(i)) // again: no second place
	}
	if len(o.set) != maxOrdinaryURLs || len(o.order) != maxOrdinaryURLs {
		t.Fatalf("%d URLs in the set and %d in the ring, want %d", len(o.set), len(o.order), maxOrdinaryURLs)
	}
	for _, tt := range []struct {
		url  int
		want bool
	}{{0, false}, {9, false}, {10, true}, {maxOrdinaryURLs + 9, true}} {
		if got := o.has(fmt.Sprint(tt.url)); got != tt.want {
			t.Errorf("has(%d) = %v, want %v", tt.url, got, tt.want)
		}
	}
}

func TestDurationLimitEndsTheTrack(t *testing.T) {
	oggFile := audiotest.Ogg(t, 2, 2, 20)
	base := host(t, map[string][]byte{"/a.ogg": oggFile})
	p := newPipeline(t, "/nonexistent/ffmpeg", time.Second)
	f, err := p.Open(t.Context(), music.Track{URL: base + "/a.ogg"}, 0, unity)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(readAll(t, f)); got != 50 {
		t.Errorf("%d frames under a 1 s limit, want 50", got)
	}
}

func TestUnplayableSourcesSayWhy(t *testing.T) {
	base := host(t, map[string][]byte{"/noise.mp3": bytes.Repeat([]byte("not audio "), 2000)})
	tests := []struct {
		name string
		url  string
		code string
	}{
		{"not audio", base + "/noise.mp3", music.EINVALID},
		{"missing", base + "/gone.mp3", music.ENOTFOUND},
		{"a private address", "http://10.1.2.3/a.mp3", music.EINVALID},
		{"the metadata service", "http://169.254.169.254/latest/", music.EINVALID},
	}
	p := newPipeline(t, "", 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			f, err := p.Open(ctx, music.Track{URL: tt.url}, 0, unity)
			if err == nil {
				f.Close()
				t.Fatal("opened")
			}
			if code := music.ErrorCode(err); code != tt.code {
				t.Errorf("error code %q (%v), want %q", code, err, tt.code)
			}
		})
	}
}

// fakeResolver answers StreamURL with urls in turn, the last one again
// once they run out, and records the pages it was asked for.
type fakeResolver struct {
	urls   []string
	header http.Header
	err    error
	asked  []string
}

func (r *fakeResolver) StreamURL(_ context.Context, page string) (string, http.Header, error) {
	r.asked = append(r.asked, page)
	if r.err != nil {
		return "", nil, r.err
	}
	u := r.urls[min(len(r.asked), len(r.urls))-1]
	return u, r.header, nil
}

// TestResolvedTracks plays tracks that are pages: the audio comes from the
// URL the resolver gives at play time, through the guarded client, and a
// URL the host refuses as expired is resolved again, once.
func TestResolvedTracks(t *testing.T) {
	oggFile := audiotest.Ogg(t, 2, 2, 20)
	packets := oggPackets(t, oggFile)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/a.ogg":
			http.ServeContent(w, r, "a.ogg", time.Time{}, bytes.NewReader(oggFile))
		case "/expired":
			http.Error(w, "expired", http.StatusForbidden)
		case "/gone":
			http.Error(w, "gone", http.StatusGone)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	base := srv.URL
	const page = "https://www.youtube.com/watch?v=x"
	tests := []struct {
		name      string
		urls      []string
		err       error
		at        time.Duration
		fx        player.Effects
		wantAsked int
		wantCode  string // "" plays
	}{
		{"passthrough", []string{base + "/a.ogg"}, nil, 0, unity, 1, ""},
		{"seek through the relay", []string{base + "/a.ogg"}, nil, time.Second, player.Effects{Volume: 150}, 1, ""},
		{"expired, then fresh", []string{base + "/expired", base + "/a.ogg"}, nil, 0, unity, 2, ""},
		{"gone, then fresh", []string{base + "/gone", base + "/a.ogg"}, nil, 0, unity, 2, ""},
		{"refused twice", []string{base + "/expired"}, nil, 0, unity, 2, music.EUNAVAILABLE},
		{"missing is not resolved again", []string{base + "/missing"}, nil, 0, unity, 1, music.ENOTFOUND},
		{"a stream URL the guard refuses", []string{"http://169.254.169.254/latest/"}, nil, 0, unity, 1, music.EINVALID},
		{"the resolver's error", nil, music.Errorf(music.EFORBIDDEN, "That video is private."), 0, unity, 1, music.EFORBIDDEN},
	}
	p := newPipeline(t, "", 0)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &fakeResolver{urls: tt.urls, err: tt.err}
			p.cfg.Resolver = r
			f, err := p.Open(t.Context(), music.Track{URL: page, Source: "ytdlp"}, tt.at, tt.fx)
			if tt.wantCode != "" {
				if err == nil {
					f.Close()
					t.Fatal("opened")
				}
				if code := music.ErrorCode(err); code != tt.wantCode {
					t.Errorf("error code %q (%v), want %q", code, err, tt.wantCode)
				}
			} else {
				if err != nil {
					t.Fatal(err)
				}
				if got, want := len(readAll(t, f)), len(packets)-int(tt.at/frameDuration); got < want-3 || got > want+3 {
					t.Errorf("%d frames, want about %d", got, want)
				}
			}
			if len(r.asked) != tt.wantAsked {
				t.Errorf("resolver asked %d times, want %d", len(r.asked), tt.wantAsked)
			}
			for _, asked := range r.asked {
				if asked != page {
					t.Errorf("resolver asked for %q, want the page %q", asked, page)
				}
			}
		})
	}
}

func TestResolvedTrackWithoutResolver(t *testing.T) {
	p := newPipeline(t, "/nonexistent/ffmpeg", 0)
	_, err := p.Open(t.Context(), music.Track{URL: "https://youtu.be/x", Source: "ytdlp"}, 0, unity)
	if code := music.ErrorCode(err); code != music.EUNAVAILABLE {
		t.Errorf("error code %q (%v), want %q", code, err, music.EUNAVAILABLE)
	}
}

// A resolved track's audio is fetched with the headers its resolver gave,
// for hosts that refuse requests without them.
func TestResolvedTrackHeaders(t *testing.T) {
	oggFile := audiotest.Ogg(t, 2, 2, 20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Referer") != "https://www.example.com/" {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		http.ServeContent(w, r, "a.ogg", time.Time{}, bytes.NewReader(oggFile))
	}))
	t.Cleanup(srv.Close)
	p := newPipeline(t, "", 0)
	resolver := &fakeResolver{urls: []string{srv.URL + "/a.ogg"}, header: http.Header{"Referer": {"https://www.example.com/"}}}
	p.cfg.Resolver = resolver
	f, err := p.Open(context.Background(), music.Track{URL: "https://www.example.com/watch?v=x", Source: "ytdlp"}, 0, player.Effects{Volume: 100})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(readAll(t, f)), len(oggPackets(t, oggFile)); got != want {
		t.Errorf("%d frames, want %d", got, want)
	}
	if len(resolver.asked) != 1 {
		t.Errorf("resolved %d times, want once: the first fetch must carry the headers", len(resolver.asked))
	}
}

// Frames say the length of a direct URL's audio when it tells: a WebM's
// Info, ffmpeg's report of its input, or a constant bit rate over the
// Content-Length. An Ogg's comes from its tail: TestOggLengthFromTheTail.
func TestFramesSayTheirLength(t *testing.T) {
	oggFile := audiotest.Ogg(t, 2, 2, 20)
	base := host(t, map[string][]byte{
		"/a.ogg":  oggFile,
		"/a.webm": audiotest.WebM(t, oggFile, false),
		"/a.mp3":  audiotest.FFmpeg(t, nil, "a.mp3", "-f", "lavfi", "-i", "sine=f=440:d=3", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", "128k", "OUT"),
		"/a.wav":  audiotest.FFmpeg(t, nil, "a.wav", "-f", "lavfi", "-i", "sine=f=440:d=2", "-ar", "44100", "OUT"),
	})
	p := newPipeline(t, "", 0)
	tests := []struct {
		name string
		path string
		at   time.Duration
		fx   player.Effects
		want time.Duration // within 60 ms
	}{
		{"webm passed through", "/a.webm", 0, unity, 2 * time.Second},
		{"webm passed through from a position", "/a.webm", time.Second, unity, 2 * time.Second},
		{"webm transcoded", "/a.webm", 0, player.Effects{Volume: 50}, 2 * time.Second},
		{"mp3 on a pipe, by its bit rate", "/a.mp3", 0, unity, 3 * time.Second},
		{"mp3 through the relay, as ffmpeg sizes it", "/a.mp3", time.Second, unity, 3 * time.Second},
		{"wav on a pipe, by its bit rate", "/a.wav", 0, unity, 2 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := p.Open(t.Context(), music.Track{URL: base + tt.path}, tt.at, tt.fx)
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, f)
			got := f.(player.Measured).Duration()
			if d := got - tt.want; d < -60*time.Millisecond || d > 60*time.Millisecond {
				t.Errorf("Duration() = %v, want %v", got, tt.want)
			}
		})
	}
}
