package links

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/applemusic"
	"github.com/iddv/timmybot/app/source/applemusic/applemusictest"
	"github.com/iddv/timmybot/app/source/deezer"
)

// describingFinder mirrors every recording, saying in the track's title
// what it was given: name, ISRC and duration.
type describingFinder struct{}

func (describingFinder) Find(_ context.Context, r music.Recording) (music.Track, error) {
	return music.Track{Title: fmt.Sprintf("%s|%s|%s", r.Name(), r.ISRC, r.Duration), URL: "https://www.youtube.com/watch?v=" + r.Title, Source: r.Source}, nil
}

func appleSetup(t *testing.T, token string) (*Resolver, *applemusictest.Server) {
	t.Helper()
	am := applemusictest.New(t, "dev-token")
	am.AddSong(applemusictest.Song{ID: "100", Name: "Never", Artist: "Rick", DurationMS: 213000, ISRC: "gbarl9300135"})
	am.AddSong(applemusictest.Song{ID: "101", Name: "Two", Artist: "Band", DurationMS: 2000, ISRC: "XX0000000002"})
	am.AddSong(applemusictest.Song{ID: "102", Name: "Local", Artist: "Band", DurationMS: 1000, Storefronts: []string{"us"}})
	album := []applemusictest.Song{
		{ID: "101", Name: "Two", Artist: "Band", DurationMS: 2000, ISRC: "XX0000000002"},
		{ID: "103", Name: "Clip", Artist: "Band", Video: true},
		{ID: "104", Name: "Three", Artist: "Band", DurationMS: 3000, ISRC: "XX0000000003"},
	}
	am.AddList("albums", "200", "The Album", album)
	am.AddList("playlists", "pl.u-abc123", "Mix", []applemusictest.Song{
		{ID: "100", Name: "Never", Artist: "Rick", DurationMS: 213000, ISRC: "GBARL9300135"},
		{ID: "104", Name: "Three", Artist: "Band", DurationMS: 3000, ISRC: "XX0000000003"},
		{ID: "105", Name: "Four", Artist: "Band", DurationMS: 4000},
		{ID: "106", Name: "Five", Artist: "Band", DurationMS: 5000},
		{ID: "107", Name: "Six", Artist: "Band", DurationMS: 6000},
	})
	client := applemusic.New(applemusic.Config{Token: token, APIURL: am.URL, LookupURL: am.URL})
	r, err := New(Config{Deezer: deezer.New(deezer.Config{APIURL: "http://127.0.0.1:1"}), AppleMusic: client, Finder: describingFinder{}, MaxTracks: 3})
	if err != nil {
		t.Fatal(err)
	}
	return r, am
}

// Each Apple Music link shape, with and without a developer token: what is
// asked of Apple, and what is mirrored.
func TestAppleMusicLinks(t *testing.T) {
	const lookup = "/lookup?country=%s&entity=song&id=%s&limit=200"
	tests := []struct {
		name, token, query string
		wantRequests       []string
		wantTracks         []string
		wantNote           string
		wantCode, wantText string
	}{
		{name: "song", token: "dev-token", query: "https://music.apple.com/us/song/never/100",
			wantRequests: []string{"/v1/catalog/us/songs/100"}, wantTracks: []string{"Rick - Never|GBARL9300135|3m33s"}},
		{name: "song without slug", token: "dev-token", query: "https://music.apple.com/us/song/100",
			wantRequests: []string{"/v1/catalog/us/songs/100"}, wantTracks: []string{"Rick - Never|GBARL9300135|3m33s"}},
		{name: "album, paged, the video skipped", token: "dev-token", query: "https://music.apple.com/gb/album/the-album/200",
			wantRequests: []string{"/v1/catalog/gb/albums/200", "/v1/catalog/gb/albums/200/tracks?offset=2"},
			wantTracks:   []string{"Band - Two|XX0000000002|2s", "Band - Three|XX0000000003|3s"}},
		{name: "album without slug", token: "dev-token", query: "https://music.apple.com/gb/album/200",
			wantRequests: []string{"/v1/catalog/gb/albums/200", "/v1/catalog/gb/albums/200/tracks?offset=2"},
			wantTracks:   []string{"Band - Two|XX0000000002|2s", "Band - Three|XX0000000003|3s"}},
		{name: "one song of an album", token: "dev-token", query: "https://music.apple.com/us/album/the-album/200?i=101",
			wantRequests: []string{"/v1/catalog/us/songs/101"}, wantTracks: []string{"Band - Two|XX0000000002|2s"}},
		{name: "playlist cut at the maximum", token: "dev-token", query: "https://music.apple.com/us/playlist/mix/pl.u-abc123",
			wantRequests: []string{"/v1/catalog/us/playlists/pl.u-abc123", "/v1/catalog/us/playlists/pl.u-abc123/tracks?offset=2"},
			wantTracks:   []string{"Rick - Never|GBARL9300135|3m33s", "Band - Three|XX0000000003|3s", "Band - Four||4s"},
			wantNote:     "Only the first 3 tracks were taken (the limit is 3)."},
		{name: "playlist without slug", token: "dev-token", query: "https://music.apple.com/us/playlist/pl.u-abc123",
			wantRequests: []string{"/v1/catalog/us/playlists/pl.u-abc123", "/v1/catalog/us/playlists/pl.u-abc123/tracks?offset=2"},
			wantTracks:   []string{"Rick - Never|GBARL9300135|3m33s", "Band - Three|XX0000000003|3s", "Band - Four||4s"},
			wantNote:     "Only the first 3 tracks were taken (the limit is 3)."},
		{name: "song not sold in that storefront", token: "dev-token", query: "https://music.apple.com/fr/song/local/102",
			wantRequests: []string{"/v1/catalog/fr/songs/102"}, wantCode: music.ENOTFOUND, wantText: "no such song in its FR storefront"},
		{name: "unknown album", token: "dev-token", query: "https://music.apple.com/us/album/x/999",
			wantRequests: []string{"/v1/catalog/us/albums/999"}, wantCode: music.ENOTFOUND, wantText: "no such album"},
		{name: "artist link", token: "dev-token", query: "https://music.apple.com/us/artist/rick/1",
			wantCode: music.EINVALID, wantText: "artist links cannot be played"},
		{name: "song by lookup", query: "https://music.apple.com/us/song/never/100",
			wantRequests: []string{fmt.Sprintf(lookup, "us", "100")}, wantTracks: []string{"Rick - Never||3m33s"}},
		{name: "album by lookup", query: "https://music.apple.com/gb/album/the-album/200",
			wantRequests: []string{fmt.Sprintf(lookup, "gb", "200")}, wantTracks: []string{"Band - Two||2s", "Band - Three||3s"}},
		{name: "one song of an album by lookup", query: "https://music.apple.com/us/album/the-album/200?i=101",
			wantRequests: []string{fmt.Sprintf(lookup, "us", "101")}, wantTracks: []string{"Band - Two||2s"}},
		{name: "an album's ID as a song by lookup", query: "https://music.apple.com/us/song/200",
			wantRequests: []string{fmt.Sprintf(lookup, "us", "200")}, wantCode: music.ENOTFOUND, wantText: "no such song"},
		{name: "song not sold in that storefront by lookup", query: "https://music.apple.com/fr/song/102",
			wantRequests: []string{fmt.Sprintf(lookup, "fr", "102")}, wantCode: music.ENOTFOUND, wantText: "FR storefront"},
		{name: "playlist without a token", query: "https://music.apple.com/us/playlist/mix/pl.u-abc123",
			wantCode: music.EUNAVAILABLE, wantText: "need an Apple Music developer token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, am := appleSetup(t, tt.token)
			if !r.Handles(tt.query) {
				t.Errorf("Handles(%q) = false", tt.query)
			}
			tracks, note, err := r.Resolve(t.Context(), tt.query)
			if music.ErrorCode(err) != tt.wantCode || !strings.Contains(music.ErrorMessage(err), tt.wantText) {
				t.Fatalf("Resolve error %v, want code %q with %q", err, tt.wantCode, tt.wantText)
			}
			if diff := cmp.Diff(tt.wantRequests, am.Requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantTracks, titles(tracks)); diff != "" {
				t.Errorf("tracks (-want +got):\n%s", diff)
			}
			if note != tt.wantNote {
				t.Errorf("note %q, want %q", note, tt.wantNote)
			}
		})
	}
}

func TestAppleMusicNotSetUp(t *testing.T) {
	r, _ := setup(t, false)
	_, _, err := r.Resolve(t.Context(), "https://music.apple.com/us/song/100")
	if music.ErrorCode(err) != music.EUNAVAILABLE || !strings.Contains(music.ErrorMessage(err), "not set up") {
		t.Errorf("Resolve error %v, want Apple Music not set up", err)
	}
}
