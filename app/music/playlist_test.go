package music

import (
	"strings"
	"testing"
)

func TestPlaylistName(t *testing.T) {
	tests := []struct {
		name, raw, want, wantCode string
	}{
		{"plain", "road trip", "road trip", ""},
		{"spaces around are dropped", "  Käse 🎵 音楽\t", "Käse 🎵 音楽", ""},
		{"the longest", strings.Repeat("音", MaxPlaylistNameLen), strings.Repeat("音", MaxPlaylistNameLen), ""},
		{"one rune too long", strings.Repeat("音", MaxPlaylistNameLen+1), "", EINVALID},
		{"blank", " \t ", "", EINVALID},
		{"a control character", "a\x00b", "", EINVALID},
		{"a newline inside", "a\nb", "", EINVALID},
		{"invalid UTF-8", "a\xffb", "", EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PlaylistName(tt.raw)
			if code := ErrorCode(err); code != tt.wantCode || got != tt.want {
				t.Errorf("PlaylistName(%q) = %q, %v; want %q, code %q", tt.raw, got, err, tt.want, tt.wantCode)
			}
		})
	}
}
