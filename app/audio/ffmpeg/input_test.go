package ffmpeg

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/audio/internal/audiotest"
)

func TestInputScanner(t *testing.T) {
	const dump = "Input #0, mp3, from 'pipe:0':\n  Metadata:\n    encoder         : Lavf59.27.100\n"
	tests := []struct {
		name   string
		writes []string
		want   InputInfo
	}{
		{"known", []string{dump + "  Duration: 00:03:12.34, start: 0.025057, bitrate: 128 kb/s\n"}, InputInfo{Duration: 3*time.Minute + 12340*time.Millisecond, BitRate: 128000}},
		{"hours", []string{"  Duration: 02:00:00.50, start: 0.000000, bitrate: N/A\n"}, InputInfo{Duration: 2*time.Hour + 500*time.Millisecond}},
		{"split across writes", []string{dump + "  Durat", "ion: 00:00:", "03.00, start: 0.0", "00000, bitrate: 1536 kb/s\nOutput #0, ogg\n"}, InputInfo{Duration: 3 * time.Second, BitRate: 1536000}},
		{"not known on a pipe", []string{"  Duration: N/A, start: 0.025057, bitrate: 128 kb/s\n"}, InputInfo{BitRate: 128000}},
		{"only the input's", []string{"  Duration: 00:00:03.00, start: 0.0\n  Duration: 00:09:00.00, start: 0.0\n"}, InputInfo{Duration: 3 * time.Second}},
		{"nothing after the output's dump", []string{"Output #0, ogg, to 'pipe:1':\n  Duration: 00:00:03.00, start: 0.0\n"}, InputInfo{}},
		{"a line without its end", []string{"  Duration: 00:00:03.00, start: 0.0"}, InputInfo{}},
		{"an overlong line", []string{"  Duration: 00:00:03.00" + string(bytes.Repeat([]byte("x"), maxInfoLine)) + "\n"}, InputInfo{}},
		{"longer than a week", []string{"  Duration: 200:00:00.00, start: 0.0\n"}, InputInfo{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &inputScanner{}
			for _, w := range tt.writes {
				if n, err := io.WriteString(s, w); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if diff := cmp.Diff(tt.want, s.get()); diff != "" {
				t.Errorf("info (-want +got):\n%s", diff)
			}
		})
	}
}

// A real ffmpeg says a WebM's length on a pipe, from its Info; a WAV's or
// an MP3's it cannot size there, but says their bit rate.
func TestProcessInput(t *testing.T) {
	requireFFmpeg(t)
	mp3 := audiotest.FFmpeg(t, nil, "a.mp3", "-f", "lavfi", "-i", "sine=f=440:d=3", "-c:a", "libmp3lame", "-b:a", "128k", "OUT")
	webm := audiotest.WebM(t, audiotest.Ogg(t, 2, 2, 20), false)
	tests := []struct {
		name     string
		in       io.Reader
		min, max time.Duration
		bitRate  int64
	}{
		{"wav", newToneWAV(440, 3), 0, 0, 1536000},
		{"webm", bytes.NewReader(webm), 1990 * time.Millisecond, 2030 * time.Millisecond, -1},
		{"mp3", bytes.NewReader(mp3), 0, 0, 128000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Start(t.Context(), Input{Reader: tt.in}, unity)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if _, err := io.ReadAll(p); err != nil {
				t.Fatal(err)
			}
			in := p.Input()
			if in.Duration < tt.min || in.Duration > tt.max || (tt.bitRate >= 0 && in.BitRate != tt.bitRate) {
				t.Errorf("Input() = %+v, want a duration of %v to %v and bit rate %d", in, tt.min, tt.max, tt.bitRate)
			}
		})
	}
}
