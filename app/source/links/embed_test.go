package links

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/source/deezer"
	"github.com/iddv/timmybot/app/source/mirror"
	"github.com/iddv/timmybot/app/source/spotify"
	"github.com/iddv/timmybot/app/source/spotify/spotifytest"
)

// searcher answers every query with the same candidates and records the
// queries.
type searcher struct {
	cands []mirror.Candidate

	mu      sync.Mutex
	queries []string
}

func (s *searcher) Search(_ context.Context, query string, _ int) ([]mirror.Candidate, error) {
	s.mu.Lock()
	s.queries = append(s.queries, query)
	s.mu.Unlock()
	return s.cands, nil
}

func TestSpotifyEmbedFallback(t *testing.T) {
	song := spotifytest.Track{ID: "s1", Name: "Song", Artists: []string{"Band"}, DurationMS: 200_000, ISRC: "GBAAA0000001"}
	// Only the last candidate is the song: the first is another version,
	// the second four minutes too long.
	cands := []mirror.Candidate{
		{Title: "Band - Song (Live)", Uploader: "Band", Duration: 200 * time.Second, URL: "https://www.youtube.com/watch?v=live"},
		{Title: "Band - Song", Uploader: "Fan", Duration: 440 * time.Second, URL: "https://www.youtube.com/watch?v=long"},
		{Title: "Song", Uploader: "Band - Topic", Duration: 201 * time.Second, URL: "https://www.youtube.com/watch?v=right"},
	}
	tests := []struct {
		name        string
		refuse      bool
		anonymous   bool
		query       string
		wantQueries []string
		wantNote    string
	}{
		{name: "the API's ISRC is searched first", query: "https://open.spotify.com/playlist/p1",
			wantQueries: []string{`"GBAAA0000001"`}},
		{name: "a refused playlist is read from the embed page and matched by artist and title", refuse: true, query: "https://open.spotify.com/playlist/p1",
			wantQueries: []string{"Band - Song"}, wantNote: spotify.EmbedNote},
		{name: "without credentials too", anonymous: true, query: "https://open.spotify.com/playlist/p1",
			wantQueries: []string{"Band - Song"}, wantNote: spotify.EmbedNote},
		{name: "a single track from the embed page carries no note", anonymous: true, query: "https://open.spotify.com/track/s1",
			wantQueries: []string{"Band - Song"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := spotifytest.New(t, "id", "secret")
			sp.AddTrack(song)
			sp.AddPlaylist("p1", []*spotifytest.Track{&song})
			if tt.refuse {
				sp.ForbidPlaylist("p1")
			}
			cfg := spotify.Config{ClientID: "id", ClientSecret: "secret", AccountsURL: sp.URL, APIURL: sp.URL, EmbedURL: sp.URL}
			if tt.anonymous {
				cfg.ClientID, cfg.ClientSecret = "", ""
			}
			client, err := spotify.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			search := &searcher{cands: cands}
			m, err := mirror.New(mirror.Config{Searcher: search})
			if err != nil {
				t.Fatal(err)
			}
			r, err := New(Config{Spotify: client, Deezer: deezer.New(deezer.Config{APIURL: sp.URL}), Finder: m})
			if err != nil {
				t.Fatal(err)
			}
			tracks, note, err := r.Resolve(t.Context(), tt.query)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"https://www.youtube.com/watch?v=right"}, urls(tracks)); diff != "" {
				t.Errorf("tracks (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantQueries, search.queries); diff != "" {
				t.Errorf("queries (-want +got):\n%s", diff)
			}
			if note != tt.wantNote {
				t.Errorf("note %q, want %q", note, tt.wantNote)
			}
		})
	}
}

func TestSpotifyEmbedNoteWithTheCut(t *testing.T) {
	sp := spotifytest.New(t, "id", "secret")
	tracks := make([]*spotifytest.Track, 120)
	for i := range tracks {
		tracks[i] = &spotifytest.Track{ID: fmt.Sprint("t", i), Name: fmt.Sprint("Song ", i), Artists: []string{"A"}}
	}
	sp.AddPlaylist("big", tracks)
	client, err := spotify.New(spotify.Config{EmbedURL: sp.URL})
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{Spotify: client, Deezer: deezer.New(deezer.Config{APIURL: sp.URL}), Finder: &finder{}, MaxTracks: 200})
	if err != nil {
		t.Fatal(err)
	}
	got, note, err := r.Resolve(t.Context(), "spotify:playlist:big")
	if err != nil {
		t.Fatal(err)
	}
	want := spotify.EmbedNote + " Only the first 100 tracks were taken (the limit is 200)."
	if len(got) != spotify.EmbedCap || note != want {
		t.Errorf("%d tracks, note %q; want %d, %q", len(got), note, spotify.EmbedCap, want)
	}
}
