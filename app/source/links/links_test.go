package links

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/discord"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/deezer"
	"github.com/iddv/timmybot/app/source/deezer/deezertest"
	"github.com/iddv/timmybot/app/source/spotify"
	"github.com/iddv/timmybot/app/source/spotify/spotifytest"
)

var _ discord.LinkResolver = (*Resolver)(nil)

// finder mirrors every recording whose title does not start with "Lost" to
// a URL naming its source and title.
type finder struct{ calls atomic.Int64 }

func (f *finder) Find(_ context.Context, r music.Recording) (music.Track, error) {
	f.calls.Add(1)
	if strings.HasPrefix(r.Title, "Lost") {
		return music.Track{}, music.Errorf(music.ENOTFOUND, "no match")
	}
	return music.Track{Title: r.Name(), URL: "https://www.youtube.com/" + r.Source + "/" + strings.ReplaceAll(r.Title, " ", "_"), Source: r.Source}, nil
}

func urls(ts []music.Track) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.URL)
	}
	return out
}

func setup(t *testing.T, withSpotify bool) (*Resolver, *finder) {
	t.Helper()
	sp := spotifytest.New(t, "id", "secret")
	sp.AddTrack(spotifytest.Track{ID: "t1", Name: "One", Artists: []string{"A"}, DurationMS: 1000, ISRC: "X1"})
	sp.AddTrack(spotifytest.Track{ID: "t2", Name: "Lost One", Artists: []string{"A"}, DurationMS: 1000})
	sp.AddAlbum("a1", []spotifytest.Track{{ID: "1", Name: "Song 1"}, {ID: "2", Name: "Lost 2"}, {ID: "3", Name: "Song 3"}, {ID: "4", Name: "Song 4"}})
	sp.AddAlbum("lost", []spotifytest.Track{{ID: "1", Name: "Lost 1"}})
	sp.ForbidPlaylist("theirs")
	dz := deezertest.New(t)
	dz.AddTrack(deezertest.Track{ID: 7, Title: "Seven", Artist: "D", Duration: 100, ISRC: "DZ7"})
	dz.AddList("playlist", "9", []deezertest.Track{{ID: 1, Title: "Deez 1", Artist: "D"}, {ID: 2, Title: "Deez 2", Artist: "D"}})
	cfg := Config{Deezer: deezer.New(deezer.Config{APIURL: dz.URL}), Finder: &finder{}, MaxTracks: 3}
	if withSpotify {
		c, err := spotify.New(spotify.Config{ClientID: "id", ClientSecret: "secret", AccountsURL: sp.URL, APIURL: sp.URL, EmbedURL: sp.URL})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Spotify = c
	}
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r, cfg.Finder.(*finder)
}

func TestResolve(t *testing.T) {
	r, _ := setup(t, true)
	tests := []struct {
		name     string
		query    string
		wantURLs []string
		wantNote string
		wantCode string
		wantText string
	}{
		{name: "spotify track", query: "https://open.spotify.com/track/t1?si=x", wantURLs: []string{"https://www.youtube.com/spotify/One"}},
		{name: "spotify uri", query: " spotify:track:t1 ", wantURLs: []string{"https://www.youtube.com/spotify/One"}},
		{name: "spotify album cut at the maximum, a track without a match noted", query: "https://open.spotify.com/album/a1",
			wantURLs: []string{"https://www.youtube.com/spotify/Song_1", "https://www.youtube.com/spotify/Song_3"},
			wantNote: "Only the first 3 of its 4 tracks were taken (the limit is 3). 1 track had no playable match."},
		{name: "deezer track", query: "https://www.deezer.com/fr/track/7", wantURLs: []string{"https://www.youtube.com/deezer/Seven"}},
		{name: "deezer playlist", query: "https://www.deezer.com/playlist/9", wantURLs: []string{"https://www.youtube.com/deezer/Deez_1", "https://www.youtube.com/deezer/Deez_2"}},
		{name: "track without a match", query: "https://open.spotify.com/track/t2", wantCode: music.ENOTFOUND},
		{name: "album without any match", query: "https://open.spotify.com/album/lost", wantCode: music.ENOTFOUND, wantText: "any track of that Spotify album"},
		{name: "someone else's private playlist", query: "https://open.spotify.com/playlist/theirs", wantCode: music.ENOTFOUND, wantText: "private or gone"},
		{name: "artist link", query: "https://open.spotify.com/artist/abc", wantCode: music.EINVALID, wantText: "artist links cannot be played"},
		{name: "unknown deezer album", query: "https://www.deezer.com/album/404", wantCode: music.ENOTFOUND, wantText: "no such album"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !r.Handles(strings.TrimSpace(tt.query)) {
				t.Errorf("Handles(%q) = false", tt.query)
			}
			tracks, note, err := r.Resolve(t.Context(), tt.query)
			if music.ErrorCode(err) != tt.wantCode || !strings.Contains(music.ErrorMessage(err), tt.wantText) {
				t.Fatalf("Resolve error %v, want code %q with %q", err, tt.wantCode, tt.wantText)
			}
			if diff := cmp.Diff(tt.wantURLs, urls(tracks)); diff != "" {
				t.Errorf("tracks (-want +got):\n%s", diff)
			}
			if note != tt.wantNote {
				t.Errorf("note %q, want %q", note, tt.wantNote)
			}
		})
	}
}

func TestSpotifyNotSetUp(t *testing.T) {
	r, f := setup(t, false)
	for _, q := range []string{"https://open.spotify.com/track/t1", "spotify:album:a1"} {
		t.Run(q, func(t *testing.T) {
			_, _, err := r.Resolve(t.Context(), q)
			if music.ErrorCode(err) != music.EUNAVAILABLE || !strings.Contains(music.ErrorMessage(err), "not set up") {
				t.Errorf("Resolve error %v, want Spotify not set up", err)
			}
		})
	}
	if _, _, err := r.Resolve(t.Context(), "https://www.deezer.com/track/7"); err != nil || f.calls.Load() != 1 {
		t.Errorf("deezer without spotify: %v after %d finds", err, f.calls.Load())
	}
}

func TestHandles(t *testing.T) {
	r, _ := setup(t, false)
	tests := []struct {
		query string
		want  bool
	}{
		{"https://open.spotify.com/track/x", true},
		{"spotify:playlist:abc", true},
		{"https://www.deezer.com/track/1", true},
		{"https://www.youtube.com/watch?v=x", false},
		{"https://example.com/song.mp3", false},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			if got := r.Handles(tt.query); got != tt.want {
				t.Errorf("Handles = %v, want %v", got, tt.want)
			}
		})
	}
}
