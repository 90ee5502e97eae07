// Package audiocheck listens to audio for tests: it decodes a stream with
// ffmpeg to 48 kHz stereo PCM and reports, per 100 ms window, the dominant
// frequency and the level, so a test can check which tone it hears, when it
// changes and how loud it is. It also wraps raw Opus packets, as they arrive
// over a voice connection, into an Ogg Opus stream ffmpeg can decode.
//
// It is a test tool: it fails the test on errors rather than returning them,
// and it is not the bot's Ogg demuxer.
package audiocheck

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"math/cmplx"
	"os/exec"
	"testing"
	"time"
)

// Rate is the sample rate Decode produces and Analyze expects.
const Rate = 48000

// WindowSize is the span of audio each Window describes.
const WindowSize = 100 * time.Millisecond

// Silence is the level, in dBFS, below which a window has no tone.
const Silence = -60

// Window describes WindowSize of audio.
type Window struct {
	Start     time.Duration
	Frequency float64 // the strongest frequency, Hz; 0 when silent
	Level     float64 // RMS of both channels mixed, dBFS
	Left      float64 // RMS of the left channel, dBFS
	Right     float64 // RMS of the right channel, dBFS
}

// Decode turns audio in any format ffmpeg reads into interleaved stereo
// 16-bit samples at 48 kHz.
func Decode(tb testing.TB, audio []byte) []int16 {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-i", "pipe:0",
		"-f", "s16le", "-ar", "48000", "-ac", "2", "pipe:1")
	cmd.Stdin = bytes.NewReader(audio)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	raw, err := cmd.Output()
	if err != nil {
		tb.Fatalf("decoding %d bytes with ffmpeg: %v: %s", len(audio), err, stderr.String())
	}
	pcm := make([]int16, len(raw)/2)
	binary.Read(bytes.NewReader(raw[:len(pcm)*2]), binary.LittleEndian, pcm)
	return pcm
}

// Listen decodes audio and analyses it.
func Listen(tb testing.TB, audio []byte) []Window {
	tb.Helper()
	return Analyze(Decode(tb, audio))
}

// Analyze splits interleaved stereo 48 kHz samples into windows; a last
// partial window is dropped.
func Analyze(pcm []int16) []Window {
	const perWindow = Rate * int(WindowSize/time.Millisecond) / 1000
	var windows []Window
	for i := 0; (i+perWindow)*2 <= len(pcm); i += perWindow {
		frame := pcm[i*2 : (i+perWindow)*2]
		mono := make([]float64, perWindow)
		var left, right, mixed float64
		for j := range perWindow {
			l, r := float64(frame[2*j]), float64(frame[2*j+1])
			mono[j] = (l + r) / 2
			left += l * l
			right += r * r
			mixed += mono[j] * mono[j]
		}
		w := Window{
			Start: time.Duration(i) * time.Second / Rate,
			Level: dBFS(mixed, perWindow), Left: dBFS(left, perWindow), Right: dBFS(right, perWindow),
		}
		if w.Level > Silence {
			w.Frequency = dominant(mono)
		}
		windows = append(windows, w)
	}
	return windows
}

func dBFS(sumSquares float64, n int) float64 {
	rms := math.Sqrt(sumSquares / float64(n))
	if rms == 0 {
		return math.Inf(-1)
	}
	return 20 * math.Log10(rms/32768)
}

// dominant returns the frequency of the spectrum's peak: a Hann-windowed
// FFT zero-padded to 8192 points (5.9 Hz bins), refined by fitting a
// parabola to the log magnitudes around the peak.
func dominant(samples []float64) float64 {
	n := 1
	for n < 2*len(samples) {
		n <<= 1
	}
	x := make([]complex128, n)
	for i, s := range samples {
		hann := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(len(samples)-1))
		x[i] = complex(s*hann, 0)
	}
	fft(x)
	binHz := float64(Rate) / float64(n)
	peak := int(math.Ceil(20 / binHz)) // ignore what is below hearing
	for k := peak; k < n/2; k++ {
		if cmplx.Abs(x[k]) > cmplx.Abs(x[peak]) {
			peak = k
		}
	}
	a, b, c := math.Log(cmplx.Abs(x[peak-1])+1e-9), math.Log(cmplx.Abs(x[peak])+1e-9), math.Log(cmplx.Abs(x[peak+1])+1e-9)
	offset := 0.0
	if d := a - 2*b + c; d != 0 {
		offset = 0.5 * (a - c) / d
	}
	return (float64(peak) + offset) * binHz
}

// fft transforms x in place; len(x) is a power of two.
func fft(x []complex128) {
	n := len(x)
	for i, j := 1, 0; i < n; i++ {
		bit := n >> 1
		for ; j&bit != 0; bit >>= 1 {
			j ^= bit
		}
		j ^= bit
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= n; size <<= 1 {
		step := cmplx.Exp(complex(0, -2*math.Pi/float64(size)))
		for start := 0; start < n; start += size {
			w := complex(1, 0)
			for k := range size / 2 {
				even, odd := x[start+k], x[start+k+size/2]*w
				x[start+k], x[start+k+size/2] = even+odd, even-odd
				w *= step
			}
		}
	}
}

// Run is a stretch of consecutive windows with the same tone.
type Run struct {
	Frequency float64 // mean over the run's windows
	Start     time.Duration
	Duration  time.Duration
}

// Runs merges consecutive non-silent windows whose frequencies lie within
// tolerance Hz of the run's first window. Silent windows end a run.
func Runs(windows []Window, tolerance float64) []Run {
	var runs []Run
	var sum, first float64
	var count int
	for _, w := range windows {
		if w.Frequency == 0 {
			count = 0
			continue
		}
		if count > 0 && math.Abs(w.Frequency-first) <= tolerance {
			count++
			sum += w.Frequency
			last := &runs[len(runs)-1]
			last.Frequency, last.Duration = sum/float64(count), w.Start+WindowSize-last.Start
			continue
		}
		first, sum, count = w.Frequency, w.Frequency, 1
		runs = append(runs, Run{Frequency: w.Frequency, Start: w.Start, Duration: WindowSize})
	}
	return runs
}

// MeanLevel is the mean of the windows' Level, skipping the first skip
// windows (codec start-up); -Inf for none.
func MeanLevel(windows []Window, skip int) float64 {
	if len(windows) <= skip {
		return math.Inf(-1)
	}
	var sum float64
	for _, w := range windows[skip:] {
		sum += w.Level
	}
	return sum / float64(len(windows)-skip)
}

// Tone is a stretch of audio at one frequency.
type Tone struct {
	Frequency float64       // Hz
	Duration  time.Duration // 0 for open-ended
}

// ExpectTones fails tb unless the windows' runs are tones, in order: each
// within 2 % of its frequency and, unless open-ended, within 150 ms of its
// duration.
func ExpectTones(tb testing.TB, windows []Window, tones ...Tone) {
	tb.Helper()
	runs := Runs(windows, 15)
	if len(runs) != len(tones) {
		tb.Fatalf("heard %+v, want %+v", runs, tones)
	}
	for i, tone := range tones {
		if math.Abs(runs[i].Frequency-tone.Frequency) > tone.Frequency*0.02 {
			tb.Errorf("tone %d at %.1f Hz, want %.0f", i, runs[i].Frequency, tone.Frequency)
		}
		if tone.Duration > 0 && (runs[i].Duration-tone.Duration).Abs() > 150*time.Millisecond {
			tb.Errorf("tone %d lasts %v, want %v", i, runs[i].Duration, tone.Duration)
		}
	}
}
