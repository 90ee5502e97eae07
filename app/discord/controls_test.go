package discord

import (
	"testing"
	"time"

	"github.com/iddv/timmybot/app/music"
)

func TestParseSeek(t *testing.T) {
	tests := []struct {
		in       string
		want     time.Duration
		relative bool
		bad      bool
	}{
		{in: "1:23", want: 83 * time.Second},
		{in: "0:05", want: 5 * time.Second},
		{in: "1:02:03", want: time.Hour + 2*time.Minute + 3*time.Second},
		{in: "90", want: 90 * time.Second},
		{in: "+10", want: 10 * time.Second, relative: true},
		{in: "-10", want: -10 * time.Second, relative: true},
		{in: " +5 ", want: 5 * time.Second, relative: true},
		{in: "", bad: true},
		{in: "+", bad: true},
		{in: "1:5", bad: true},
		{in: "1:60", bad: true},
		{in: "+1:00", bad: true},
		{in: "1:2:3:4", bad: true},
		{in: "abc", bad: true},
		{in: "--5", bad: true},
		{in: "99999999", bad: true},
		{in: "1e3", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, rel, err := parseSeek(tt.in)
			if tt.bad {
				if music.ErrorCode(err) != music.EINVALID {
					t.Fatalf("parseSeek(%q) = %v, %v, %v; want an invalid-input error", tt.in, got, rel, err)
				}
				return
			}
			if err != nil || got != tt.want || rel != tt.relative {
				t.Fatalf("parseSeek(%q) = %v, %v, %v; want %v, %v", tt.in, got, rel, err, tt.want, tt.relative)
			}
		})
	}
}

func TestProgressBar(t *testing.T) {
	tests := []struct {
		name        string
		pos, length time.Duration
		want        string
	}{
		{"start", 0, 4 * time.Minute, "🔘▬▬▬▬▬▬▬▬▬▬▬▬▬▬▬ `0:00 / 4:00`"},
		{"half way", 2 * time.Minute, 4 * time.Minute, "▬▬▬▬▬▬▬▬🔘▬▬▬▬▬▬▬ `2:00 / 4:00`"},
		{"end", 4 * time.Minute, 4 * time.Minute, "▬▬▬▬▬▬▬▬▬▬▬▬▬▬▬🔘 `4:00 / 4:00`"},
		{"past the end", 5 * time.Minute, 4 * time.Minute, "▬▬▬▬▬▬▬▬▬▬▬▬▬▬▬🔘 `4:00 / 4:00`"},
		{"unknown length", 75 * time.Second, 0, "`1:15` · live or unknown length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := progressBar(tt.pos, tt.length); got != tt.want {
				t.Errorf("progressBar(%v, %v) = %q, want %q", tt.pos, tt.length, got, tt.want)
			}
		})
	}
}
