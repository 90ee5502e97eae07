package music_test

import (
	"strings"
	"testing"

	"github.com/iddv/timmybot/app/music"
)

// The full table of refused URLs lives with the fetcher, which adds the
// address policy on top; here: what is accepted comes back as given.
func TestParseAudioURLKeepsAcceptedURLs(t *testing.T) {
	for _, raw := range []string{
		"https://cdn.example.com/music/song.mp3?sig=abc#t=10",
		"http://radio.example.net:8000/stream",
		"http://[2606:4700:4700::1111]/a.ogg",
		"http://127.0.0.1:8080/a.ogg",
		"https://example.com./a.ogg",
	} {
		t.Run(raw, func(t *testing.T) {
			u, err := music.ParseAudioURL(raw)
			if err != nil {
				t.Fatalf("ParseAudioURL(%q) = %v", raw, err)
			}
			if u.String() != raw {
				t.Errorf("ParseAudioURL(%q) = %q", raw, u)
			}
		})
	}
}

func TestParseAudioURLNeverEchoesCredentials(t *testing.T) {
	for _, raw := range []string{
		"https://alice:s3cret-pass@example.com/a.mp3",
		"ftp://alice:s3cret-pass@example.com/a.mp3",
		"http://alice:s3cret-pass@/a.mp3",
		"http://alice:s3cret-pass@exa mple.com/",
	} {
		t.Run(raw, func(t *testing.T) {
			_, err := music.ParseAudioURL(raw)
			if music.ErrorCode(err) != music.EINVALID {
				t.Fatalf("ParseAudioURL(%q) = %v, want EINVALID", raw, err)
			}
			for _, secret := range []string{"alice", "s3cret"} {
				if got := err.Error(); strings.Contains(got, secret) {
					t.Errorf("error %q shows %q", got, secret)
				}
			}
		})
	}
}
