package transcode

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/audio/ffmpeg"
	"github.com/iddv/timmybot/test/audiocheck"
	"github.com/iddv/timmybot/test/audiohost"
)

var unity = ffmpeg.Options{Volume: 100}

// input is how the track reaches ffmpeg: the host's URL, as the relay would
// hand it over, or the HTTP body on a pipe.
type input func(t *testing.T, url string) ffmpeg.Input

func viaURL(_ *testing.T, url string) ffmpeg.Input { return ffmpeg.Input{URL: url} }

func viaPipe(t *testing.T, url string) ffmpeg.Input {
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return ffmpeg.Input{Reader: resp.Body}
}

var inputs = []struct {
	name string
	open input
}{{"url", viaURL}, {"pipe", viaPipe}}

// transcode runs ffmpeg to the end and returns its Ogg Opus output.
func transcode(t *testing.T, in ffmpeg.Input, opts ffmpeg.Options) []byte {
	t.Helper()
	p, err := ffmpeg.Start(t.Context(), in, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	out, err := io.ReadAll(p)
	if err != nil {
		t.Fatalf("transcoding: %v", err)
	}
	return out
}

// TestTranscode generates the host's audio once for all its parts.
func TestTranscode(t *testing.T) {
	h := audiohost.Start(t)
	t.Run("formats", func(t *testing.T) { testEveryFormat(t, h) })
	t.Run("seek", func(t *testing.T) { testSeek(t, h) })
	t.Run("filters", func(t *testing.T) { testFilters(t, h) })
	t.Run("radio stops on close", func(t *testing.T) { testRadioStopsOnClose(t, h) })
}

func testEveryFormat(t *testing.T, h *audiohost.Host) {
	for _, track := range h.Tracks() {
		if track.Name == audiohost.Radio {
			continue
		}
		for _, in := range inputs {
			t.Run(track.Name+"/"+in.name, func(t *testing.T) {
				out := transcode(t, in.open(t, h.URL(track.Name)), unity)
				audiocheck.ExpectTones(t, audiocheck.Listen(t, out), track.Tones...)
			})
		}
	}

	t.Run("radio for 2 s", func(t *testing.T) {
		out := transcode(t, viaURL(t, h.URL(audiohost.Radio)), ffmpeg.Options{Volume: 100, MaxDuration: 2 * time.Second})
		audiocheck.ExpectTones(t, audiocheck.Listen(t, out), audiocheck.Tone{Frequency: 1320, Duration: 2 * time.Second})
	})

	t.Run("length limit", func(t *testing.T) {
		out := transcode(t, viaURL(t, h.URL(audiohost.MP3)), ffmpeg.Options{Volume: 100, MaxDuration: time.Second})
		audiocheck.ExpectTones(t, audiocheck.Listen(t, out), audiocheck.Tone{Frequency: 440, Duration: time.Second})
	})

	for _, in := range inputs {
		t.Run("broken/"+in.name, func(t *testing.T) {
			p, err := ffmpeg.Start(t.Context(), in.open(t, h.URL(audiohost.Broken)), unity)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			// ffmpeg may probe the text as some format we refuse, or as
			// none at all; either way no audio comes out.
			out, err := io.ReadAll(p)
			if err == nil || errors.Is(err, context.Canceled) || len(out) > 0 {
				t.Errorf("transcoding garbage gave %d bytes and %v, want ffmpeg's refusal", len(out), err)
			}
			if !strings.Contains(err.Error(), "Invalid data") && !strings.Contains(err.Error(), "not on whitelist") {
				t.Errorf("the error carries no ffmpeg message: %v", err)
			}
		})
	}
}

// testSeek starts the steps track (440, 660, 880 Hz, a second each) at
// 1.5 s: the output must open with 660 Hz and turn to 880 Hz at 0.5 s,
// give or take 100 ms.
func testSeek(t *testing.T, h *audiohost.Host) {
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			out := transcode(t, in.open(t, h.URL(audiohost.Steps)), ffmpeg.Options{Volume: 100, Start: 1500 * time.Millisecond})
			windows := audiocheck.Listen(t, out)
			audiocheck.ExpectTones(t, windows,
				audiocheck.Tone{Frequency: 660, Duration: 500 * time.Millisecond},
				audiocheck.Tone{Frequency: 880, Duration: time.Second})
			change := audiocheck.Runs(windows, 15)[1].Start
			if (change - 500*time.Millisecond).Abs() > 100*time.Millisecond {
				t.Errorf("the tone changes at %v of the output, want 500ms: the seek landed %v off", change, change-500*time.Millisecond)
			}
		})
	}
}

// testFilters checks that each effect does to the signal what it says.
func testFilters(t *testing.T, h *audiohost.Host) {
	listen := func(t *testing.T, track string, opts ffmpeg.Options) []audiocheck.Window {
		return audiocheck.Listen(t, transcode(t, viaURL(t, h.URL(track)), opts))
	}
	// Windows after the first carry no codec start-up.
	level := func(ws []audiocheck.Window) float64 { return audiocheck.MeanLevel(ws, 1) }
	gain := func(t *testing.T, track string, opts ffmpeg.Options) float64 {
		return level(listen(t, track, opts)) - level(listen(t, track, unity))
	}
	with := func(filters ...string) ffmpeg.Options { return ffmpeg.Options{Volume: 100, Filters: filters} }

	t.Run("nightcore raises pitch and tempo by 1.25", func(t *testing.T) {
		audiocheck.ExpectTones(t, listen(t, audiohost.MP3, with("nightcore")), audiocheck.Tone{Frequency: 440 * 1.25, Duration: 2400 * time.Millisecond})
	})
	t.Run("vaporwave lowers pitch and tempo by 0.8", func(t *testing.T) {
		audiocheck.ExpectTones(t, listen(t, audiohost.MP3, with("vaporwave")), audiocheck.Tone{Frequency: 440 * 0.8, Duration: 3750 * time.Millisecond})
	})
	t.Run("volume 50 is 6 dB lower", func(t *testing.T) {
		expectNear(t, "gain", gain(t, audiohost.MP3, ffmpeg.Options{Volume: 50}), -6.02, 0.5)
	})
	t.Run("volume 200 is 6 dB higher", func(t *testing.T) {
		expectNear(t, "gain", gain(t, audiohost.MP3, ffmpeg.Options{Volume: 200}), 6.02, 0.5)
	})
	t.Run("bassboost lifts 80 Hz, not 6 kHz", func(t *testing.T) {
		expectNear(t, "gain at 80 Hz", gain(t, audiohost.Low, with("bassboost")), 9, 1.5)
		expectNear(t, "gain at 6 kHz", gain(t, audiohost.High, with("bassboost")), 0, 0.5)
	})
	t.Run("treble lifts 6 kHz, not 80 Hz", func(t *testing.T) {
		expectNear(t, "gain at 6 kHz", gain(t, audiohost.High, with("treble")), 6, 1)
		expectNear(t, "gain at 80 Hz", gain(t, audiohost.Low, with("treble")), 0, 0.5)
	})
	t.Run("karaoke removes a centred tone", func(t *testing.T) {
		if g := gain(t, audiohost.MP3, with("karaoke")); g > -20 {
			t.Errorf("a centred tone drops by %.1f dB, want at least 20", -g)
		}
	})
	t.Run("8d moves the sound between the ears", func(t *testing.T) {
		swing := func(ws []audiocheck.Window) float64 {
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, w := range ws[1:] {
				lo, hi = min(lo, w.Left-w.Right), max(hi, w.Left-w.Right)
			}
			return hi - lo
		}
		if s := swing(listen(t, audiohost.MP3, unity)); s > 1 {
			t.Errorf("without the filter the balance swings by %.1f dB", s)
		}
		if s := swing(listen(t, audiohost.MP3, with("8d"))); s < 10 {
			t.Errorf("with 8d the balance swings by %.1f dB over 3 s, want at least 10", s)
		}
	})
	t.Run("normalize brings the level to about -16 LUFS", func(t *testing.T) {
		// A stereo 440 Hz tone at -16 LUFS has an RMS of about -18.3 dBFS
		// per channel; the source is at -21.
		ws := listen(t, audiohost.MP3, ffmpeg.Options{Volume: 100, Normalize: true})
		expectNear(t, "level", level(ws), -18.3, 1.5)
		audiocheck.ExpectTones(t, ws, audiocheck.Tone{Frequency: 440, Duration: 3 * time.Second})
	})
}

func expectNear(t *testing.T, what string, got, want, tolerance float64) {
	t.Helper()
	if math.Abs(got-want) > tolerance {
		t.Errorf("%s %.2f dB, want %.2f ± %.1f", what, got, want, tolerance)
	}
}

// testRadioStopsOnClose: an endless stream ends when the process is closed,
// and reads as a cancellation.
func testRadioStopsOnClose(t *testing.T, h *audiohost.Host) {
	p, err := ffmpeg.Start(t.Context(), viaURL(t, h.URL(audiohost.Radio)), unity)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(p, make([]byte, 4096)); err != nil {
		t.Fatalf("no radio output: %v", err)
	}
	if err := p.Close(); !errors.Is(err, context.Canceled) {
		t.Errorf("Close = %v, want a cancellation", err)
	}
}
