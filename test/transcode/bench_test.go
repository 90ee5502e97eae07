package transcode

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/audio/ffmpeg"
	"github.com/iddv/timmybot/test/audiohost"
)

// BenchmarkFirstAudio reports the time from Start to the first Ogg page that
// carries audio (the third, after OpusHead and OpusTags), and for files the
// child's CPU seconds per second of audio, start-up included.
func BenchmarkFirstAudio(b *testing.B) {
	h := audiohost.Start(b)
	cases := []struct {
		name  string
		track string
		pipe  bool
		opts  ffmpeg.Options
	}{
		{"mp3 by url", audiohost.MP3, false, unity},
		{"mp3 by pipe", audiohost.MP3, true, unity},
		{"webm by url", audiohost.WebM, false, unity},
		{"mp3 filtered", audiohost.MP3, false, ffmpeg.Options{Volume: 80, Filters: []string{"bassboost"}}},
		{"mp3 normalized", audiohost.MP3, false, ffmpeg.Options{Volume: 100, Normalize: true}},
		{"radio", audiohost.Radio, false, unity},
		{"radio normalized", audiohost.Radio, false, ffmpeg.Options{Volume: 100, Normalize: true}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var first, cpu time.Duration
			for b.Loop() {
				in := ffmpeg.Input{URL: h.URL(c.track)}
				if c.pipe {
					body := bytes.NewReader(h.File(c.track))
					in = ffmpeg.Input{Reader: body}
				}
				begin := time.Now()
				p, err := ffmpeg.Start(b.Context(), in, c.opts)
				if err != nil {
					b.Fatal(err)
				}
				var out []byte
				buf := make([]byte, 4096)
				for bytes.Count(out, []byte("OggS")) < 3 {
					n, err := p.Read(buf)
					if err != nil {
						b.Fatalf("no audio page: %v", err)
					}
					out = append(out, buf[:n]...)
				}
				first += time.Since(begin)
				if c.track != audiohost.Radio {
					if _, err := io.Copy(io.Discard, p); err != nil {
						b.Fatal(err)
					}
				}
				p.Close()
				cpu += p.CPUTime()
			}
			b.ReportMetric(float64(first.Milliseconds())/float64(b.N), "ms-to-first-audio")
			if c.track != audiohost.Radio {
				b.ReportMetric(cpu.Seconds()/float64(b.N)/h.Track(c.track).Duration().Seconds(), "cpu-s/audio-s")
			}
		})
	}
}
