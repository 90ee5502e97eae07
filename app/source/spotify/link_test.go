package spotify

import (
	"testing"

	"github.com/iddv/timmybot/app/music"
)

func TestParseLink(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		want     music.Link
		wantLink bool
		wantErr  bool
	}{
		{name: "track", raw: "https://open.spotify.com/track/4uLU6hMCjMI75M1A2tKUQC", want: music.Link{Kind: music.LinkTrack, ID: "4uLU6hMCjMI75M1A2tKUQC"}, wantLink: true},
		{name: "intl prefix and query", raw: "https://open.spotify.com/intl-de/album/1ATL5GLyefJaxhQzSPVrLX?si=abc&nd=1", want: music.Link{Kind: music.LinkAlbum, ID: "1ATL5GLyefJaxhQzSPVrLX"}, wantLink: true},
		{name: "playlist with trailing slash", raw: "https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M/", want: music.Link{Kind: music.LinkPlaylist, ID: "37i9dQZF1DXcBWIGoYBM5M"}, wantLink: true},
		{name: "uri", raw: "spotify:track:4uLU6hMCjMI75M1A2tKUQC", want: music.Link{Kind: music.LinkTrack, ID: "4uLU6hMCjMI75M1A2tKUQC"}, wantLink: true},
		{name: "artist is refused", raw: "https://open.spotify.com/artist/0gxyHStUsqpMadRV0Di1Qt", wantLink: true, wantErr: true},
		{name: "bad id", raw: "https://open.spotify.com/track/../../v1/me", wantLink: true, wantErr: true},
		{name: "id outside the alphabet", raw: "https://open.spotify.com/track/4uLU6hMC-jMI75M1A2tKUQC", wantLink: true, wantErr: true},
		{name: "uri with extra part", raw: "spotify:user:x:playlist:y", wantLink: true, wantErr: true},
		{name: "other host", raw: "https://open.spotify.com.evil.example/track/4uLU6hMCjMI75M1A2tKUQC", wantErr: true},
		{name: "not spotify", raw: "https://www.youtube.com/watch?v=dQw4w9WgXcQ", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsLink(tt.raw); got != tt.wantLink {
				t.Errorf("IsLink = %v, want %v", got, tt.wantLink)
			}
			got, err := ParseLink(tt.raw)
			if tt.wantErr {
				if music.ErrorCode(err) != music.EINVALID {
					t.Errorf("ParseLink = %+v, %v; want EINVALID", got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseLink = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
