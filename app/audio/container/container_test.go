package container

import "testing"

func TestSniff(t *testing.T) {
	tests := []struct {
		name  string
		first []byte
		want  Kind
	}{
		{"ogg page", []byte("OggS\x00\x02rest"), Ogg},
		{"ebml header", []byte{0x1a, 0x45, 0xdf, 0xa3, 0x9f}, Matroska},
		{"ebml magic alone", []byte{0x1a, 0x45, 0xdf, 0xa3}, Matroska},
		{"mp3 id3", []byte("ID3\x04\x00"), Unknown},
		{"truncated ogg", []byte("Ogg"), Unknown},
		{"truncated ebml", []byte{0x1a, 0x45, 0xdf}, Unknown},
		{"empty", nil, Unknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Sniff(tt.first); got != tt.want {
				t.Errorf("Sniff(%q) = %v, want %v", tt.first, got, tt.want)
			}
		})
	}
}
