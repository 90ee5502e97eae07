package audio

import (
	"testing"
	"time"

	"github.com/iddv/timmybot/app/audio/internal/audiotest"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/player"
)

// BenchmarkOpenCachedVsFresh opens a 10 s track and reads it to its end:
// fresh from the loopback host (passed through, or transcoded by ffmpeg),
// or from the frame cache.
func BenchmarkOpenCachedVsFresh(b *testing.B) {
	oggFile := audiotest.Ogg(b, 10, 2, 20)
	wav := audiotest.FFmpeg(b, nil, "a.wav", "-f", "lavfi", "-i", "sine=f=440:d=10", "-ar", "44100", "OUT")
	base, _ := countingHost(b, map[string][]byte{"/a.ogg": oggFile, "/a.wav": wav})
	cases := []struct {
		name   string
		path   string
		cached bool
	}{
		{"fresh passthrough", "/a.ogg", false},
		{"fresh transcode", "/a.wav", false},
		{"cached", "/a.wav", true},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			p := newPipeline(b, "", 0)
			tr := music.Track{URL: base + bc.path}
			if bc.cached {
				p.cfg.Cache = newCache(b)
				readAll(b, mustOpenTrack(b, p, tr))
			}
			for b.Loop() {
				readAll(b, mustOpenTrack(b, p, tr))
			}
			if bc.cached && p.cfg.Cache.Stats().Misses != 1 {
				b.Fatalf("cache stats %+v: the track was fetched again", p.cfg.Cache.Stats())
			}
		})
	}
}

func mustOpenTrack(tb testing.TB, p *Pipeline, tr music.Track) player.Frames {
	tb.Helper()
	f, err := p.Open(tb.Context(), tr, 0, unity)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

// BenchmarkSwitchToEffects measures what an effect change costs before its
// first frame: opening a 30 s Ogg Opus track 10 s in with the volume at
// 50 % and reading one frame, from the loopback host (ffmpeg seeking
// through the relay) and from the frame cache (ffmpeg reading the cached
// frames), beside the neutral open the change leaves.
func BenchmarkSwitchToEffects(b *testing.B) {
	base, _ := countingHost(b, map[string][]byte{"/a.ogg": audiotest.Ogg(b, 30, 2, 20)})
	half := player.Effects{Volume: 50}
	cases := []struct {
		name   string
		fx     player.Effects
		cached bool
	}{
		{"neutral, fetched", unity, false},
		{"volume 50%, fetched", half, false},
		{"volume 50%, cached", half, true},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			p := newPipeline(b, "", 0)
			tr := music.Track{URL: base + "/a.ogg"}
			if bc.cached {
				p.cfg.Cache = newCache(b)
				readAll(b, mustOpenTrack(b, p, tr))
			}
			for b.Loop() {
				f, err := p.Open(b.Context(), tr, 10*time.Second, bc.fx)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := f.ReadFrame(); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/switch")
		})
	}
}
