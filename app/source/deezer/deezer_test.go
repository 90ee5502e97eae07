package deezer

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/deezer/deezertest"
)

func TestTrack(t *testing.T) {
	fake := deezertest.New(t)
	fake.AddTrack(deezertest.Track{ID: 3135556, Title: "Harder, Better, Faster, Stronger", Artist: "Daft Punk", Featuring: []string{"Somebody"}, Duration: 224, ISRC: "gbdUW0000059"})
	got, err := New(Config{APIURL: fake.URL}).Track(t.Context(), "3135556")
	if err != nil {
		t.Fatal(err)
	}
	want := music.Recording{Title: "Harder, Better, Faster, Stronger", Artists: []string{"Daft Punk", "Somebody"}, Duration: 224 * time.Second, ISRC: "GBDUW0000059", Source: "deezer"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Track (-want +got):\n%s", diff)
	}
}

func TestTrackArtwork(t *testing.T) {
	const hash = "2e018122cb56986277102d2041a592c8"
	for _, tt := range []struct {
		name  string
		track deezertest.Track
		want  string
	}{
		{"none", deezertest.Track{}, ""},
		{"the album's largest cover", deezertest.Track{CoverXL: "https://cdn-images.dzcdn.net/images/cover/xl.jpg", CoverBig: "https://cdn-images.dzcdn.net/images/cover/big.jpg", MD5Image: hash}, "https://cdn-images.dzcdn.net/images/cover/xl.jpg"},
		{"the big cover when the largest cannot be shown", deezertest.Track{CoverXL: "javascript:alert(1)", CoverBig: "https://cdn-images.dzcdn.net/images/cover/big.jpg"}, "https://cdn-images.dzcdn.net/images/cover/big.jpg"},
		{"the image hash of an album track", deezertest.Track{MD5Image: hash}, "https://cdn-images.dzcdn.net/images/cover/" + hash + "/1000x1000-000000-80-0-0.jpg"},
		{"no hash that is not one", deezertest.Track{MD5Image: "../../evil"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := deezertest.New(t)
			tr := tt.track
			tr.ID, tr.Title, tr.Artist, tr.Duration = 3135556, "Song", "Artist", 200
			fake.AddTrack(tr)
			got, err := New(Config{APIURL: fake.URL}).Track(t.Context(), "3135556")
			if err != nil {
				t.Fatal(err)
			}
			if got.ArtworkURL != tt.want {
				t.Errorf("ArtworkURL = %q, want %q", got.ArtworkURL, tt.want)
			}
		})
	}
}

func TestListsPageTruncateAndSkipUnreadable(t *testing.T) {
	fake := deezertest.New(t)
	tracks := make([]deezertest.Track, 250)
	for i := range tracks {
		tracks[i] = deezertest.Track{ID: int64(i), Title: fmt.Sprint("Song ", i), Artist: "A", Duration: 100, ISRC: fmt.Sprint("ISRC", i), Unreadable: i == 3}
	}
	fake.AddList("album", "1", tracks)
	fake.AddList("playlist", "2", tracks[:5])
	c := New(Config{APIURL: fake.URL})
	tests := []struct {
		name      string
		read      func() (music.RecordingList, error)
		wantLen   int
		wantTotal int
		wantLast  string
	}{
		{name: "whole album over three pages", read: func() (music.RecordingList, error) { return c.AlbumTracks(t.Context(), "1", 1000) }, wantLen: 249, wantTotal: 249, wantLast: "Song 249"},
		{name: "album cut at the maximum", read: func() (music.RecordingList, error) { return c.AlbumTracks(t.Context(), "1", 120) }, wantLen: 120, wantTotal: 249, wantLast: "Song 120"},
		{name: "playlist without the unreadable track", read: func() (music.RecordingList, error) { return c.PlaylistTracks(t.Context(), "2", 100) }, wantLen: 4, wantTotal: 4, wantLast: "Song 4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.read()
			if err != nil {
				t.Fatal(err)
			}
			last := got.Recordings[len(got.Recordings)-1]
			if len(got.Recordings) != tt.wantLen || got.Total != tt.wantTotal || last.Title != tt.wantLast || last.ISRC == "" {
				t.Errorf("got %d of %d, last %+v; want %d of %d, last %q with an ISRC", len(got.Recordings), got.Total, last, tt.wantLen, tt.wantTotal, tt.wantLast)
			}
			if got.Truncated() != (tt.wantLen < tt.wantTotal) {
				t.Errorf("Truncated = %v", got.Truncated())
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	fake := deezertest.New(t)
	fake.AddTrack(deezertest.Track{ID: 1, Title: "x", Artist: "y"})
	c := New(Config{APIURL: fake.URL})
	tests := []struct {
		name     string
		quota    int
		read     func() error
		wantCode string
		wantText string
	}{
		{name: "unknown track", read: func() error { _, err := c.Track(t.Context(), "999"); return err }, wantCode: music.ENOTFOUND, wantText: "no such track"},
		{name: "unknown playlist", read: func() error { _, err := c.PlaylistTracks(t.Context(), "999", 10); return err }, wantCode: music.ENOTFOUND, wantText: "no such playlist"},
		{name: "quota", quota: 1, read: func() error { _, err := c.Track(t.Context(), "1"); return err }, wantCode: music.EUNAVAILABLE, wantText: "limiting"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.ExceedQuota(tt.quota)
			err := tt.read()
			if music.ErrorCode(err) != tt.wantCode || !strings.Contains(music.ErrorMessage(err), tt.wantText) {
				t.Errorf("got %v, want %s containing %q", err, tt.wantCode, tt.wantText)
			}
		})
	}
}

func TestParseLink(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    music.Link
		wantErr bool
	}{
		{name: "track", raw: "https://www.deezer.com/track/3135556", want: music.Link{Kind: music.LinkTrack, ID: "3135556"}},
		{name: "language and query", raw: "https://www.deezer.com/fr/album/302127?utm_source=x", want: music.Link{Kind: music.LinkAlbum, ID: "302127"}},
		{name: "playlist", raw: "https://deezer.com/en/playlist/908622995/", want: music.Link{Kind: music.LinkPlaylist, ID: "908622995"}},
		{name: "artist is refused", raw: "https://www.deezer.com/artist/27", wantErr: true},
		{name: "not numeric", raw: "https://www.deezer.com/track/abc", wantErr: true},
		{name: "other host", raw: "https://deezer.com.evil.example/track/1", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseLink(tt.raw)
			if tt.wantErr != (err != nil) || got != tt.want {
				t.Errorf("ParseLink = %+v, %v; want %+v (error %v)", got, err, tt.want, tt.wantErr)
			}
			if err != nil && music.ErrorCode(err) != music.EINVALID {
				t.Errorf("error code %s, want EINVALID", music.ErrorCode(err))
			}
		})
	}
}
