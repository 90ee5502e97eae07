package audiocheck

import (
	"math"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// stereo is seconds of a sine of freq at amplitude (full scale 1) on the
// left and amplitude*rightGain on the right.
func stereo(freq, amplitude, rightGain, seconds float64) []int16 {
	n := int(seconds * Rate)
	pcm := make([]int16, 2*n)
	for i := range n {
		v := amplitude * 32767 * math.Sin(2*math.Pi*freq*float64(i)/Rate)
		pcm[2*i], pcm[2*i+1] = int16(v), int16(v*rightGain)
	}
	return pcm
}

func TestAnalyze(t *testing.T) {
	tests := []struct {
		name      string
		pcm       []int16
		wantFreq  float64
		wantLevel float64 // dBFS of the left channel
		wantRight float64
	}{
		{"low", stereo(80, 0.5, 1, 0.3), 80, -9.03, -9.03},
		{"a440", stereo(440, 0.125, 1, 0.3), 440, -21.07, -21.07},
		{"odd frequency", stereo(997, 0.25, 1, 0.3), 997, -15.05, -15.05},
		{"high", stereo(5000, 0.25, 1, 0.3), 5000, -15.05, -15.05},
		{"right quieter by 6 dB", stereo(660, 0.5, 0.5, 0.3), 660, -9.03, -15.05},
		{"silence", make([]int16, 2*Rate/10*3), 0, math.Inf(-1), math.Inf(-1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			windows := Analyze(tt.pcm)
			if len(windows) != 3 {
				t.Fatalf("%d windows for 300 ms, want 3", len(windows))
			}
			for i, w := range windows {
				if w.Start != time.Duration(i)*WindowSize {
					t.Errorf("window %d starts at %v", i, w.Start)
				}
				if math.Abs(w.Frequency-tt.wantFreq) > 1 {
					t.Errorf("window %d frequency %.1f Hz, want %.0f", i, w.Frequency, tt.wantFreq)
				}
				if !near(w.Left, tt.wantLevel, 0.1) || !near(w.Right, tt.wantRight, 0.1) {
					t.Errorf("window %d left %.2f right %.2f dBFS, want %.2f and %.2f", i, w.Left, w.Right, tt.wantLevel, tt.wantRight)
				}
			}
		})
	}
}

func near(got, want, tolerance float64) bool {
	return got == want || math.Abs(got-want) <= tolerance
}

func TestRuns(t *testing.T) {
	w := func(ms int, freq float64) Window {
		return Window{Start: time.Duration(ms) * time.Millisecond, Frequency: freq}
	}
	tests := []struct {
		name    string
		windows []Window
		want    []Run
	}{
		{"none", nil, nil},
		{"one tone", []Window{w(0, 440), w(100, 442), w(200, 438)},
			[]Run{{Frequency: 440, Start: 0, Duration: 300 * time.Millisecond}}},
		{"a change", []Window{w(0, 440), w(100, 440), w(200, 880), w(300, 880)},
			[]Run{{440, 0, 200 * time.Millisecond}, {880, 200 * time.Millisecond, 200 * time.Millisecond}}},
		{"silence splits", []Window{w(0, 440), w(100, 0), w(200, 440)},
			[]Run{{440, 0, 100 * time.Millisecond}, {440, 200 * time.Millisecond, 100 * time.Millisecond}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, Runs(tt.windows, 10), cmpopts.EquateApprox(0, 0.01)); diff != "" {
				t.Errorf("Runs (-want +got):\n%s", diff)
			}
		})
	}
}

func TestMeanLevel(t *testing.T) {
	ws := []Window{{Level: -50}, {Level: -10}, {Level: -20}}
	if got := MeanLevel(ws, 1); got != -15 {
		t.Errorf("MeanLevel = %v, want -15", got)
	}
	if got := MeanLevel(ws, 3); !math.IsInf(got, -1) {
		t.Errorf("MeanLevel of nothing = %v, want -Inf", got)
	}
}
