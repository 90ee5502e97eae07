package music_test

import (
	"strings"
	"testing"
	"time"

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

func TestArtworkKeepsOnlyShowableURLs(t *testing.T) {
	long := "https://img.example.com/" + strings.Repeat("a", music.MaxArtworkURLLen)
	for _, tt := range []struct {
		name, raw, want string
	}{
		{"https", "https://i.scdn.co/image/ab67616d0000b273", "https://i.scdn.co/image/ab67616d0000b273"},
		{"http", "http://img.example.com/a.jpg", "http://img.example.com/a.jpg"},
		{"empty", "", ""},
		{"data URL", "data:image/png;base64,AAAA", ""},
		{"javascript", "javascript:alert(1)", ""},
		{"attachment", "attachment://cover.png", ""},
		{"relative", "/images/cover.jpg", ""},
		{"no host", "https:///cover.jpg", ""},
		{"credentials", "https://user:pw@img.example.com/a.jpg", ""},
		{"too long", long, ""},
		{"at the limit", long[:music.MaxArtworkURLLen], long[:music.MaxArtworkURLLen]},
		{"invalid UTF-8", "https://img.example.com/\xff.jpg", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := music.Artwork(tt.raw); got != tt.want {
				t.Errorf("Artwork(%.40q) = %.40q, want %.40q", tt.raw, got, tt.want)
			}
		})
	}
}

func TestValidateRefusesArtworkThatCannotBeShown(t *testing.T) {
	for _, tt := range []struct {
		name    string
		artwork string
		wantErr bool
	}{
		{"none", "", false},
		{"https", "https://img.example.com/a.jpg", false},
		{"ftp", "ftp://img.example.com/a.jpg", true},
		{"too long", "https://img.example.com/" + strings.Repeat("a", music.MaxArtworkURLLen), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := music.Track{URL: "https://example.com/a.ogg", ArtworkURL: tt.artwork}.Validate()
			if (music.ErrorCode(err) == music.EINVALID) != tt.wantErr {
				t.Errorf("Validate() = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestCheckDuration(t *testing.T) {
	tests := []struct {
		name     string
		d, limit time.Duration
		want     string
	}{
		{"at the limit", 2 * time.Hour, 2 * time.Hour, ""},
		{"over an hour limit", 2*time.Hour + time.Second, 2 * time.Hour, "That track is longer than the 2-hour limit."},
		{"over a minute limit", 11 * time.Minute, 10 * time.Minute, "That track is longer than the 10-minute limit."},
		{"over a mixed limit", 2 * time.Hour, 90 * time.Minute, "That track is longer than the 1h30m limit."},
		{"unknown duration", 0, time.Minute, ""},
		{"no limit", 100 * time.Hour, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := music.CheckDuration(tt.d, tt.limit)
			if got := music.ErrorMessage(err); err != nil && got != tt.want || err == nil && tt.want != "" {
				t.Errorf("music.CheckDuration(%v, %v) = %v, want %q", tt.d, tt.limit, err, tt.want)
			}
			if err != nil && music.ErrorCode(err) != music.EINVALID {
				t.Errorf("code %q, want EINVALID", music.ErrorCode(err))
			}
		})
	}
}

func TestCutNote(t *testing.T) {
	tests := []struct {
		name              string
		taken, total, max int
		want              string
	}{
		{"total known", 50, 120, 50, "Only the first 50 of its 120 tracks were taken (the limit is 50)."},
		{"total unknown", 50, music.TotalUnknown, 50, "Only the first 50 tracks were taken (the limit is 50)."},
		{"total not said", 3, 0, 3, "Only the first 3 tracks were taken (the limit is 3)."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := music.CutNote(tt.taken, tt.total, tt.max); got != tt.want {
				t.Errorf("CutNote = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUnmatchedAndJoinedNotes(t *testing.T) {
	for missing, want := range map[int]string{0: "", 1: "1 track had no playable match.", 3: "3 tracks had no playable match."} {
		if got := music.UnmatchedNote(missing); got != want {
			t.Errorf("UnmatchedNote(%d) = %q, want %q", missing, got, want)
		}
	}
	if got, want := music.JoinNotes("", "A.", "", "B."), "A. B."; got != want {
		t.Errorf("JoinNotes = %q, want %q", got, want)
	}
	if got := music.JoinNotes("", ""); got != "" {
		t.Errorf("JoinNotes of empty notes = %q, want \"\"", got)
	}
}
