package ffmpeg

import (
	"bytes"
	"io"
	"testing"
	"time"
)

// BenchmarkTranscode pipes 10 s of 48 kHz stereo WAV through ffmpeg and
// reports the time from Start to the first Ogg page carrying audio (the
// third page, after OpusHead and OpusTags) and the child's CPU seconds per
// second of audio.
func BenchmarkTranscode(b *testing.B) {
	requireFFmpeg(b)
	const audioSeconds = 10
	var firstAudio, cpu time.Duration
	for b.Loop() {
		begin := time.Now()
		p, err := Start(b.Context(), Input{Reader: newToneWAV(440, audioSeconds)}, unity)
		if err != nil {
			b.Fatal(err)
		}
		out := make([]byte, 0, 256<<10)
		buf := make([]byte, 4096)
		for bytes.Count(out, []byte("OggS")) < 3 {
			n, err := p.Read(buf)
			if err != nil {
				b.Fatalf("output ended before the first audio page: %v", err)
			}
			out = append(out, buf[:n]...)
		}
		firstAudio += time.Since(begin)
		if _, err := io.Copy(io.Discard, p); err != nil {
			b.Fatal(err)
		}
		if err := p.Close(); err != nil {
			b.Fatal(err)
		}
		cpu += p.CPUTime()
	}
	b.ReportMetric(float64(firstAudio.Milliseconds())/float64(b.N), "ms-to-first-audio")
	b.ReportMetric(cpu.Seconds()/float64(b.N)/audioSeconds, "cpu-s/audio-s")
}
