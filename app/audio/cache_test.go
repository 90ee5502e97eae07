package audio

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/audio/framecache"
	"github.com/iddv/timmybot/app/audio/internal/audiotest"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/player"
)

// countingHost serves files by path and counts the requests; /live/ paths
// serve the same files without a Content-Length, as a live stream does.
func countingHost(t testing.TB, files map[string][]byte) (string, *atomic.Int64) {
	t.Helper()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if path, live := strings.CutPrefix(r.URL.Path, "/live"); live {
			b := files[path]
			w.Header().Set("Content-Type", "audio/ogg")
			w.(http.Flusher).Flush() // chunked: no length
			_, _ = w.Write(b)
			return
		}
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		http.ServeContent(w, r, r.URL.Path, time.Time{}, bytes.NewReader(b))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &requests
}

func newCache(t testing.TB) *framecache.Cache {
	t.Helper()
	c, err := framecache.Open(framecache.Config{Dir: t.TempDir(), MaxBytes: 64 << 20})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// withCache is newPipeline with a frame cache.
func withCache(t *testing.T, ffmpegPath string, maxDuration time.Duration, c *framecache.Cache) *Pipeline {
	t.Helper()
	p := newPipeline(t, ffmpegPath, maxDuration)
	p.cfg.Cache = c
	return p
}

// TestCachedTrackPlaysAgainWithoutRequests plays a track to its end, then
// opens it again, from the start and from a position, through a pipeline
// whose ffmpeg does not exist: the frames are the same and the host sees
// no second request.
func TestCachedTrackPlaysAgainWithoutRequests(t *testing.T) {
	oggFile := audiotest.Ogg(t, 2, 2, 20)
	files := map[string][]byte{
		"/a.ogg": oggFile,
		"/a.wav": audiotest.FFmpeg(t, nil, "a.wav", "-f", "lavfi", "-i", "sine=f=440:d=2", "-ar", "44100", "OUT"),
	}
	base, requests := countingHost(t, files)
	tests := []struct {
		name  string
		track music.Track
	}{
		{"passed through", music.Track{URL: base + "/a.ogg"}},
		{"transcoded", music.Track{URL: base + "/a.wav"}},
		{"a resolved page", music.Track{URL: "https://www.youtube.com/watch?v=cached", Source: "youtube"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := newCache(t)
			first := withCache(t, "", 0, cache)
			resolver := &fakeResolver{urls: []string{base + "/a.ogg"}}
			first.cfg.Resolver = resolver
			f, err := first.Open(t.Context(), tt.track, 0, unity)
			if err != nil {
				t.Fatal(err)
			}
			played := readAll(t, f)
			before, asked := requests.Load(), len(resolver.asked)

			again := withCache(t, "/nonexistent/ffmpeg", 0, cache)
			again.cfg.Resolver = resolver
			for _, at := range []time.Duration{0, time.Second, 2 * time.Second} {
				f, err := again.Open(t.Context(), tt.track, at, unity)
				if err != nil {
					t.Fatalf("at %v: %v", at, err)
				}
				// The length of a track replayed from the cache is its frames'.
				var length time.Duration
				if m, ok := f.(player.Measured); ok {
					length = m.Duration()
				}
				if want := time.Duration(len(played)) * frameDuration; length != want {
					t.Errorf("at %v: the cached frames measure %v, want %v", at, length, want)
				}
				got := readAll(t, f)
				want := played[int(at/frameDuration):]
				if len(got) != len(want) {
					t.Fatalf("at %v: %d frames, want %d", at, len(got), len(want))
				}
				for i := range want {
					if !bytes.Equal(got[i], want[i]) {
						t.Fatalf("at %v: frame %d differs from the one played", at, i)
					}
				}
			}
			if n := requests.Load() - before; n != 0 {
				t.Errorf("playing it again made %d requests", n)
			}
			if n := len(resolver.asked) - asked; n != 0 {
				t.Errorf("playing it again resolved the page %d times", n)
			}
			if _, err := again.Open(t.Context(), tt.track, time.Minute, unity); music.ErrorCode(err) != music.EINVALID {
				t.Errorf("past the end: %v, want an EINVALID error", err)
			}
			if st := cache.Stats(); st.Hits != 4 || st.Misses != 1 {
				t.Errorf("stats %+v, want 4 hits and 1 miss", st)
			}
		})
	}
}

// TestWhatIsNotCached: a track not played to its end, played with
// effects or from a position, a live stream, or one cut by the duration
// limit leaves no entry, so opening it again fetches it again.
func TestWhatIsNotCached(t *testing.T) {
	oggFile := audiotest.Ogg(t, 2, 2, 20)
	base, requests := countingHost(t, map[string][]byte{"/a.ogg": oggFile})
	loud := player.Effects{Volume: 150}
	tests := []struct {
		name        string
		url         string
		maxDuration time.Duration
		first       func(t *testing.T, p *Pipeline, tr music.Track)
		againFx     player.Effects
	}{
		{"skipped", "/a.ogg", 0, func(t *testing.T, p *Pipeline, tr music.Track) {
			f, err := p.Open(t.Context(), tr, 0, unity)
			if err != nil {
				t.Fatal(err)
			}
			for range 10 {
				if _, err := f.ReadFrame(); err != nil {
					t.Fatal(err)
				}
			}
			f.Close()
		}, unity},
		{"played with effects", "/a.ogg", 0, playThrough(0, loud), unity},
		{"played from a position", "/a.ogg", 0, playThrough(time.Second, unity), unity},
		{"a live stream", "/live/a.ogg", 0, playThrough(0, unity), unity},
		{"cut by the duration limit", "/a.ogg", time.Second, playThrough(0, unity), unity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := withCache(t, "", tt.maxDuration, newCache(t))
			tr := music.Track{URL: base + tt.url}
			tt.first(t, p, tr)
			before := requests.Load()
			f, err := p.Open(t.Context(), tr, 0, tt.againFx)
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, f)
			if requests.Load() == before {
				t.Error("opened from the cache")
			}
		})
	}
}

// TestCachedTrackWithEffects: with effects on, ffmpeg transcodes a cached
// track from its frames, from the start or a position, and the host sees
// no second request.
func TestCachedTrackWithEffects(t *testing.T) {
	base, requests := countingHost(t, map[string][]byte{"/a.ogg": audiotest.Ogg(t, 2, 2, 20)})
	p := withCache(t, "", 0, newCache(t))
	tr := music.Track{URL: base + "/a.ogg"}
	f, err := p.Open(t.Context(), tr, 0, unity)
	if err != nil {
		t.Fatal(err)
	}
	played := len(readAll(t, f))
	before := requests.Load()
	for _, at := range []time.Duration{0, time.Second} {
		f, err := p.Open(t.Context(), tr, at, player.Effects{Volume: 150, Filters: []string{"bassboost"}})
		if err != nil {
			t.Fatalf("at %v: %v", at, err)
		}
		// ffmpeg's encoder may pad the end with a frame.
		got, want := len(readAll(t, f)), played-int(at/frameDuration)
		if got < want || got > want+1 {
			t.Errorf("at %v: %d frames, want %d", at, got, want)
		}
		if d := f.(player.Measured).Duration(); d != time.Duration(played)*frameDuration {
			t.Errorf("at %v: length %v, want the cached %v", at, d, time.Duration(played)*frameDuration)
		}
	}
	if n := requests.Load() - before; n != 0 {
		t.Errorf("transcoding the cached track made %d requests", n)
	}
	if _, err := p.Open(t.Context(), tr, time.Minute, player.Effects{Volume: 150}); music.ErrorCode(err) != music.EINVALID {
		t.Errorf("past the end: %v, want an EINVALID error", err)
	}
}

// playThrough plays a track to its end from at with fx.
func playThrough(at time.Duration, fx player.Effects) func(t *testing.T, p *Pipeline, tr music.Track) {
	return func(t *testing.T, p *Pipeline, tr music.Track) {
		f, err := p.Open(t.Context(), tr, at, fx)
		if err != nil {
			t.Fatal(err)
		}
		readAll(t, f)
	}
}

// TestDamagedCacheFallsBackToTheSource: an entry that fails its check is
// a miss, and the track is fetched again.
func TestDamagedCacheFallsBackToTheSource(t *testing.T) {
	oggFile := audiotest.Ogg(t, 1, 2, 20)
	base, requests := countingHost(t, map[string][]byte{"/a.ogg": oggFile})
	dir := t.TempDir()
	cache, err := framecache.Open(framecache.Config{Dir: dir, MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	p := withCache(t, "/nonexistent/ffmpeg", 0, cache)
	tr := music.Track{URL: base + "/a.ogg"}
	f, err := p.Open(t.Context(), tr, 0, unity)
	if err != nil {
		t.Fatal(err)
	}
	want := len(readAll(t, f))
	damage(t, dir)
	before := requests.Load()
	f, err = p.Open(t.Context(), tr, 0, unity)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(readAll(t, f)); got != want {
		t.Errorf("%d frames, want %d", got, want)
	}
	if requests.Load() == before {
		t.Error("a damaged entry was played")
	}
	if st := cache.Stats(); st.Misses != 2 {
		t.Errorf("stats %+v, want 2 misses", st)
	}
}

// damage flips a byte of each file in dir.
func damage(t *testing.T, dir string) {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil || len(des) == 0 {
		t.Fatalf("no entry to damage: %v", err)
	}
	for _, de := range des {
		path := filepath.Join(dir, de.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)-1] ^= 0x01
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
