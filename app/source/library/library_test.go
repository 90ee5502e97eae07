package library

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/app/account"
	"github.com/iddv/timmybot/app/account/accounttest"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/ytdlp"
)

const ada music.UserID = "100000000000000001"

// tokens is a Tokens with one token per service; a service missing is not
// linked.
type tokens map[account.Service]string

func (t tokens) AccessToken(_ context.Context, _ music.UserID, s account.Service) (string, error) {
	tok, ok := t[s]
	if !ok {
		return "", music.Errorf(music.ENOTFOUND, "No %s account is linked.", s.Title())
	}
	return tok, nil
}

// Rejected plays a linker whose renewal the provider refuses.
func (t tokens) Rejected(_ context.Context, _ music.UserID, s account.Service, _ string) (string, error) {
	return "", music.Errorf(music.EINVALID, "Your %s link no longer works: run /link %s again.", s.Title(), s)
}

// renewing is a linker whose renewals work: each hands out the token
// given, and it records the tokens it was told were refused.
type renewing struct {
	tokens
	next     string
	rejected []string
}

func (r *renewing) Rejected(_ context.Context, _ music.UserID, _ account.Service, tok string) (string, error) {
	r.rejected = append(r.rejected, tok)
	return r.next, nil
}

// byISRC mirrors a recording to a page named after its ISRC; recordings
// without one find nothing.
type byISRC struct{}

func (byISRC) Find(_ context.Context, r music.Recording) (music.Track, error) {
	if r.ISRC == "" {
		return music.Track{}, music.Errorf(music.ENOTFOUND, "no match")
	}
	return music.Track{Title: r.Name(), URL: "https://mirror.example/" + r.ISRC, Source: ytdlp.Source}, nil
}

// fixture is a fake provider with a library at every service, pages of
// two items, and a Library reading it.
type fixture struct {
	provider *accounttest.Provider
	lib      *Library
	slept    []time.Duration
}

func newFixture(t *testing.T, maxTracks int) *fixture {
	t.Helper()
	p := accounttest.New(t)
	p.SetPageSize(2)
	apis := map[account.Service]string{}
	toks := tokens{}
	for _, s := range account.Services {
		apis[s] = p.Describe(s).APIURL
		toks[s] = p.AccessToken()
	}
	lib, err := New(Config{Tokens: toks, APIURLs: apis, Finder: byISRC{}, MaxTracks: maxTracks})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{provider: p, lib: lib}
	lib.sleep = func(_ context.Context, d time.Duration) error { f.slept = append(f.slept, d); return nil }
	return f
}

func spotifyItems(n int) []accounttest.Item {
	var items []accounttest.Item
	for i := 1; i <= n; i++ {
		items = append(items, accounttest.Item{ID: fmt.Sprint("sp", i), Title: fmt.Sprint("Song ", i), Artists: []string{"Ada"}, ISRC: fmt.Sprintf("GBAAA260000%d", i), DurationMS: 180000})
	}
	return items
}

func pageItems(prefix string, n int) []accounttest.Item {
	var items []accounttest.Item
	for i := 1; i <= n; i++ {
		items = append(items, accounttest.Item{ID: fmt.Sprint(prefix, i), Title: fmt.Sprint("Song ", i), DurationMS: 125000, URL: fmt.Sprintf("https://soundcloud.com/ada/song-%d", i)})
	}
	return items
}

func (f *fixture) stock() {
	gone := accounttest.Item{Gone: true, ID: "gone"}
	f.provider.SetLibrary(account.Spotify, accounttest.Library{
		Playlists: []accounttest.Playlist{
			{ID: "road", Name: "Road trip", Items: append(spotifyItems(2), append([]accounttest.Item{gone}, spotifyItems(3)[2])...)},
			{ID: "gym", Name: "Gym", Items: spotifyItems(1)},
			{ID: "theirs", Name: "Someone else's", Items: spotifyItems(1), Foreign: true},
		},
		Liked: spotifyItems(3),
		Top:   spotifyItems(2),
	})
	f.provider.SetLibrary(account.YouTube, accounttest.Library{
		Playlists: []accounttest.Playlist{{ID: "PLroad", Name: "Road trip", Items: append(pageItems("vid", 2), gone, pageItems("vid", 3)[2])}},
		Liked:     pageItems("liked", 3),
	})
	f.provider.SetLibrary(account.SoundCloud, accounttest.Library{
		Playlists: []accounttest.Playlist{{ID: "123", Name: "Road trip", Items: pageItems("sc", 3)}, {ID: "456", Name: "Night", Items: pageItems("sc", 1)}, {ID: "789", Name: "Morning"}},
		Liked:     pageItems("sc", 3),
	})
}

func titles(tracks []music.Track) []string {
	var out []string
	for _, t := range tracks {
		out = append(out, t.Title+" <"+t.URL+">")
	}
	return out
}

func TestPlaylistsArePagedInOrder(t *testing.T) {
	f := newFixture(t, 50)
	f.stock()
	tests := []struct {
		service account.Service
		want    []Playlist
	}{
		{account.Spotify, []Playlist{{account.Spotify, "road", "Road trip", 4}, {account.Spotify, "gym", "Gym", 1}, {account.Spotify, "theirs", "Someone else's", 1}}},
		{account.YouTube, []Playlist{{account.YouTube, "PLroad", "Road trip", 4}}},
		{account.SoundCloud, []Playlist{{account.SoundCloud, "123", "Road trip", 3}, {account.SoundCloud, "456", "Night", 1}, {account.SoundCloud, "789", "Morning", 0}}},
	}
	for _, tt := range tests {
		t.Run(string(tt.service), func(t *testing.T) {
			got, err := f.lib.Playlists(context.Background(), ada, tt.service)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Playlists (-want +got):\n%s", diff)
			}
		})
	}
}

// Tracks keep their order across pages; the reads report their progress:
// page tracks page by page as they are read, recordings one by one as they
// are mirrored.
func TestTracksKeepTheirOrderAcrossPages(t *testing.T) {
	f := newFixture(t, 50)
	f.stock()
	var reports []string
	ctx := music.WithProgress(context.Background(), func(done, total int) {
		reports = append(reports, fmt.Sprintf("%d/%d", done, total))
	})
	sc := func(i int) string { return fmt.Sprintf("Song %d <https://soundcloud.com/ada/song-%d>", i, i) }
	tests := []struct {
		name string
		read func() ([]music.Track, string, error)
		want []string
		note string
		// progress is what was reported: done/total, total 0 when unknown.
		progress []string
	}{
		{"spotify playlist, mirrored by ISRC, the item without a track left out",
			func() ([]music.Track, string, error) { return f.lib.PlaylistTracks(ctx, ada, account.Spotify, "road") },
			[]string{"Ada - Song 1 <https://mirror.example/GBAAA2600001>", "Ada - Song 2 <https://mirror.example/GBAAA2600002>", "Ada - Song 3 <https://mirror.example/GBAAA2600003>"}, "", []string{"1/3", "2/3", "3/3"}},
		{"spotify liked",
			func() ([]music.Track, string, error) { return f.lib.CollectionTracks(ctx, ada, account.Spotify, Liked) },
			[]string{"Ada - Song 1 <https://mirror.example/GBAAA2600001>", "Ada - Song 2 <https://mirror.example/GBAAA2600002>", "Ada - Song 3 <https://mirror.example/GBAAA2600003>"}, "", []string{"1/3", "2/3", "3/3"}},
		{"spotify top",
			func() ([]music.Track, string, error) { return f.lib.CollectionTracks(ctx, ada, account.Spotify, Top) },
			[]string{"Ada - Song 1 <https://mirror.example/GBAAA2600001>", "Ada - Song 2 <https://mirror.example/GBAAA2600002>"}, "", []string{"1/2", "2/2"}},
		{"youtube playlist as watch URLs, the deleted video left out",
			func() ([]music.Track, string, error) {
				return f.lib.PlaylistTracks(ctx, ada, account.YouTube, "PLroad")
			},
			[]string{"Song 1 <https://www.youtube.com/watch?v=vid1>", "Song 2 <https://www.youtube.com/watch?v=vid2>", "Song 3 <https://www.youtube.com/watch?v=vid3>"}, "", []string{"2/4", "3/4"}},
		{"youtube liked",
			func() ([]music.Track, string, error) { return f.lib.CollectionTracks(ctx, ada, account.YouTube, Liked) },
			[]string{"Song 1 <https://www.youtube.com/watch?v=liked1>", "Song 2 <https://www.youtube.com/watch?v=liked2>", "Song 3 <https://www.youtube.com/watch?v=liked3>"}, "", []string{"2/3", "3/3"}},
		{"soundcloud playlist as permalinks",
			func() ([]music.Track, string, error) {
				return f.lib.PlaylistTracks(ctx, ada, account.SoundCloud, "123")
			},
			[]string{sc(1), sc(2), sc(3)}, "", []string{"2/0", "3/0"}},
		{"soundcloud liked",
			func() ([]music.Track, string, error) {
				return f.lib.CollectionTracks(ctx, ada, account.SoundCloud, Liked)
			},
			[]string{sc(1), sc(2), sc(3)}, "", []string{"2/0", "3/0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reports = nil
			tracks, note, err := tt.read()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.progress, reports); diff != "" {
				t.Errorf("progress (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, titles(tracks)); diff != "" {
				t.Errorf("tracks (-want +got):\n%s", diff)
			}
			if note != tt.note {
				t.Errorf("note = %q, want %q", note, tt.note)
			}
			for _, tr := range tracks {
				if tr.Source != ytdlp.Source || tr.Validate() != nil {
					t.Errorf("track %+v: want a valid page track yt-dlp plays", tr)
				}
			}
		})
	}
}

func TestPageTracksCarryTheirDurations(t *testing.T) {
	f := newFixture(t, 50)
	f.stock()
	for _, service := range []account.Service{account.YouTube, account.SoundCloud} {
		t.Run(string(service), func(t *testing.T) {
			tracks, _, err := f.lib.CollectionTracks(context.Background(), ada, service, Liked)
			if err != nil {
				t.Fatal(err)
			}
			if tracks[0].Duration != 125*time.Second {
				t.Errorf("duration = %v, want 2m5s", tracks[0].Duration)
			}
		})
	}
}

func TestLongListsStopAtTheMaximumAndSaySo(t *testing.T) {
	tests := []struct {
		service  account.Service
		lib      accounttest.Library
		read     func(*Library) ([]music.Track, string, error)
		note     string
		requests int
	}{
		{account.Spotify, accounttest.Library{Liked: spotifyItems(7)},
			func(l *Library) ([]music.Track, string, error) {
				return l.CollectionTracks(context.Background(), ada, account.Spotify, Liked)
			},
			"Only the first 3 of its 7 tracks were taken (the limit is 3).", 2},
		{account.YouTube, accounttest.Library{Playlists: []accounttest.Playlist{{ID: "PL", Items: pageItems("v", 7)}}},
			func(l *Library) ([]music.Track, string, error) {
				return l.PlaylistTracks(context.Background(), ada, account.YouTube, "PL")
			},
			"Only the first 3 of its 7 tracks were taken (the limit is 3).", 2},
		{account.SoundCloud, accounttest.Library{Liked: pageItems("s", 7)},
			func(l *Library) ([]music.Track, string, error) {
				return l.CollectionTracks(context.Background(), ada, account.SoundCloud, Liked)
			},
			"Only the first 3 tracks were taken (the limit is 3).", 2},
	}
	for _, tt := range tests {
		t.Run(string(tt.service), func(t *testing.T) {
			f := newFixture(t, 3)
			f.provider.SetLibrary(tt.service, tt.lib)
			tracks, note, err := tt.read(f.lib)
			if err != nil {
				t.Fatal(err)
			}
			if len(tracks) != 3 || note != tt.note {
				t.Errorf("%d tracks, note %q; want 3 and %q", len(tracks), note, tt.note)
			}
			if n := len(f.provider.LibraryRequests()); n != tt.requests {
				t.Errorf("%d requests, want %d: pages past the maximum are not read", n, tt.requests)
			}
		})
	}
}

func TestMirrorMissesAreNoted(t *testing.T) {
	f := newFixture(t, 50)
	items := spotifyItems(3)
	items[1].ISRC = ""
	f.provider.SetLibrary(account.Spotify, accounttest.Library{Liked: items})
	tracks, note, err := f.lib.CollectionTracks(context.Background(), ada, account.Spotify, Liked)
	if err != nil || len(tracks) != 2 || note != "1 track had no playable match." {
		t.Errorf("= %d tracks, %q, %v; want 2 and the miss noted", len(tracks), note, err)
	}
}

// TestA401IsRenewedOnce: a token refused before its expiry is renewed by
// the linker and the request tried again, once.
func TestA401IsRenewedOnce(t *testing.T) {
	for _, tt := range []struct {
		name    string
		refuse  int
		wantErr bool
	}{{"then answered", 1, false}, {"refused again", 2, true}} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 50)
			f.stock()
			toks := &renewing{tokens: tokens{account.SoundCloud: f.provider.AccessToken()}, next: f.provider.AccessToken()}
			f.lib.cfg.Tokens = toks
			for range tt.refuse {
				f.provider.Refuse(account.SoundCloud, accounttest.Unauthorized)
			}
			_, err := f.lib.Playlists(context.Background(), ada, account.SoundCloud)
			if (err != nil) != tt.wantErr || len(toks.rejected) != 1 || toks.rejected[0] != toks.tokens[account.SoundCloud] {
				t.Fatalf("Playlists = %v after renewals of %q; want error %v and one renewal of the refused token", err, toks.rejected, tt.wantErr)
			}
		})
	}
}

func TestRefusalsAreExplained(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		refuse  []accounttest.Refusal
		service account.Service
		read    func(*Library) error
		code    string
		want    string
		slept   []time.Duration
	}{
		{"a spotify playlist of someone else's", nil, account.Spotify,
			func(l *Library) error { _, _, err := l.PlaylistTracks(ctx, ada, account.Spotify, "theirs"); return err },
			music.EFORBIDDEN, "Spotify lets the bot read only playlists you own or collaborate on, and that one is someone else's.", nil},
		{"spotify's development mode without the user", []accounttest.Refusal{accounttest.Unregistered}, account.Spotify,
			func(l *Library) error { _, err := l.Playlists(ctx, ada, account.Spotify); return err },
			music.EFORBIDDEN, "The bot's Spotify app is in development mode and your account is not on its list; ask the bot's owner to add you.", nil},
		{"youtube's quota", []accounttest.Refusal{accounttest.QuotaExceeded}, account.YouTube,
			func(l *Library) error { _, _, err := l.CollectionTracks(ctx, ada, account.YouTube, Liked); return err },
			music.EUNAVAILABLE, "The bot's YouTube quota for today is used up; try again tomorrow.", nil},
		{"a token that no longer works", []accounttest.Refusal{accounttest.Unauthorized}, account.SoundCloud,
			func(l *Library) error { _, err := l.Playlists(ctx, ada, account.SoundCloud); return err },
			music.EINVALID, "Your SoundCloud link no longer works: run /link soundcloud again.", nil},
		{"a 429 is waited out once", []accounttest.Refusal{accounttest.RateLimited}, account.Spotify,
			func(l *Library) error { _, err := l.Playlists(ctx, ada, account.Spotify); return err },
			"", "", []time.Duration{time.Second}},
		{"a second 429 is told", []accounttest.Refusal{accounttest.RateLimited, accounttest.RateLimited}, account.YouTube,
			func(l *Library) error { _, err := l.Playlists(ctx, ada, account.YouTube); return err },
			music.EUNAVAILABLE, "YouTube is limiting the bot's requests; try again in 1 seconds.", []time.Duration{time.Second}},
		{"a 429 past the deadline is told at once", []accounttest.Refusal{accounttest.RateLimited}, account.Spotify,
			func(l *Library) error {
				ctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
				defer cancel()
				_, err := l.Playlists(ctx, ada, account.Spotify)
				return err
			},
			music.EUNAVAILABLE, "Spotify is limiting the bot's requests; try again in 1 seconds.", nil},
		{"youtube has no top tracks", nil, account.YouTube,
			func(l *Library) error { _, _, err := l.CollectionTracks(ctx, ada, account.YouTube, Top); return err },
			music.EINVALID, "YouTube keeps no top tracks; play source:liked or one of your playlists instead.", nil},
		{"soundcloud has no top tracks", nil, account.SoundCloud,
			func(l *Library) error { _, _, err := l.CollectionTracks(ctx, ada, account.SoundCloud, Top); return err },
			music.EINVALID, "SoundCloud keeps no top tracks; play source:liked or one of your playlists instead.", nil},
		{"an unknown playlist", nil, account.SoundCloud,
			func(l *Library) error { _, _, err := l.PlaylistTracks(ctx, ada, account.SoundCloud, "404"); return err },
			music.ENOTFOUND, "SoundCloud has no such playlist (it may be private or removed).", nil},
		{"an empty playlist", nil, account.SoundCloud,
			func(l *Library) error { _, _, err := l.PlaylistTracks(ctx, ada, account.SoundCloud, "789"); return err },
			music.ENOTFOUND, "That SoundCloud playlist has no tracks that can be played.", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, 50)
			f.stock()
			for _, r := range tt.refuse {
				f.provider.Refuse(tt.service, r)
			}
			err := tt.read(f.lib)
			if music.ErrorCode(err) != tt.code || music.ErrorMessage(err) != tt.want && tt.code != "" {
				t.Errorf("err = %v (%s), want %s %q", err, music.ErrorCode(err), tt.code, tt.want)
			}
			if diff := cmp.Diff(tt.slept, f.slept); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAUserWithoutALinkIsToldToLink(t *testing.T) {
	lib, err := New(Config{Tokens: tokens{}, APIURLs: map[account.Service]string{account.Spotify: "http://127.0.0.1:1"}, Finder: byISRC{}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = lib.Playlists(context.Background(), ada, account.Spotify)
	if want := "You have not linked a Spotify account: link your account with /link first."; music.ErrorMessage(err) != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

func TestANextPageElsewhereIsNotFollowed(t *testing.T) {
	var elsewhere []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere = append(elsewhere, r.Header.Get("Authorization"))
		fmt.Fprint(w, `{"collection":[]}`)
	}))
	t.Cleanup(other.Close)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"collection":[{"title":"a","permalink_url":"https://soundcloud.com/a"}],"next_href":"%s/me/likes/tracks?cursor=1"}`, other.URL)
	}))
	t.Cleanup(srv.Close)
	lib, err := New(Config{Tokens: tokens{account.SoundCloud: "secret-token"}, APIURLs: map[account.Service]string{account.SoundCloud: srv.URL}, Finder: byISRC{}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = lib.CollectionTracks(context.Background(), ada, account.SoundCloud, Liked)
	if music.ErrorCode(err) != music.EUNAVAILABLE || len(elsewhere) != 0 {
		t.Errorf("err = %v, %d requests elsewhere; want a refusal and the token sent nowhere else", err, len(elsewhere))
	}
	if strings.Contains(fmt.Sprint(err), "secret-token") {
		t.Errorf("the error holds the token: %v", err)
	}
}

func TestISODurations(t *testing.T) {
	for in, want := range map[string]time.Duration{"PT1H2M3S": time.Hour + 2*time.Minute + 3*time.Second, "PT4M": 4 * time.Minute, "PT59S": 59 * time.Second, "P0D": 0, "": 0} {
		if got := isoDuration(in); got != want {
			t.Errorf("isoDuration(%q) = %v, want %v", in, got, want)
		}
	}
}

// coverFinder mirrors a recording to a page that keeps its artwork, as
// the mirror does.
type coverFinder struct{}

func (coverFinder) Find(_ context.Context, r music.Recording) (music.Track, error) {
	return music.Track{Title: r.Name(), URL: "https://mirror.example/" + r.Title, ArtworkURL: r.ArtworkURL}, nil
}

// Each service's liked tracks carry the artwork its API names, in the
// largest size that can be shown; what cannot be shown is left out.
func TestLikedTracksCarryArtwork(t *testing.T) {
	tests := []struct {
		name    string
		service account.Service
		item    string
		want    string
	}{
		{"spotify album image", account.Spotify,
			`{"track":{"type":"track","name":"a","album":{"images":[{"url":"https://i.scdn.co/image/640","width":640},{"url":"https://i.scdn.co/image/300","width":300}]}}}`,
			"https://i.scdn.co/image/640"},
		{"spotify without images", account.Spotify, `{"track":{"type":"track","name":"a","album":{"images":[]}}}`, ""},
		{"youtube largest thumbnail", account.YouTube,
			`{"id":"v1","snippet":{"title":"a","thumbnails":{"default":{"url":"https://i.ytimg.com/vi/v1/default.jpg"},"high":{"url":"https://i.ytimg.com/vi/v1/hqdefault.jpg"}}},"contentDetails":{"duration":"PT1M"}}`,
			"https://i.ytimg.com/vi/v1/hqdefault.jpg"},
		{"youtube past one that cannot be shown", account.YouTube,
			`{"id":"v1","snippet":{"title":"a","thumbnails":{"maxres":{"url":"javascript:x"},"medium":{"url":"https://i.ytimg.com/vi/v1/mqdefault.jpg"}}},"contentDetails":{"duration":"PT1M"}}`,
			"https://i.ytimg.com/vi/v1/mqdefault.jpg"},
		{"youtube without thumbnails", account.YouTube, `{"id":"v1","snippet":{"title":"a"},"contentDetails":{"duration":"PT1M"}}`, ""},
		{"soundcloud artwork at 500x500", account.SoundCloud,
			`{"title":"a","permalink_url":"https://soundcloud.com/a/b","artwork_url":"https://i1.sndcdn.com/artworks-000-abc-large.jpg"}`,
			"https://i1.sndcdn.com/artworks-000-abc-t500x500.jpg"},
		{"soundcloud without artwork", account.SoundCloud, `{"title":"a","permalink_url":"https://soundcloud.com/a/b","artwork_url":null}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch tt.service {
				case account.Spotify:
					fmt.Fprintf(w, `{"items":[%s],"total":1,"next":null}`, tt.item)
				case account.YouTube:
					fmt.Fprintf(w, `{"items":[%s],"pageInfo":{"totalResults":1}}`, tt.item)
				default:
					fmt.Fprintf(w, `{"collection":[%s]}`, tt.item)
				}
			}))
			t.Cleanup(srv.Close)
			lib, err := New(Config{Tokens: tokens{tt.service: "token"}, APIURLs: map[account.Service]string{tt.service: srv.URL}, Finder: coverFinder{}})
			if err != nil {
				t.Fatal(err)
			}
			tracks, _, err := lib.CollectionTracks(context.Background(), ada, tt.service, Liked)
			if err != nil {
				t.Fatal(err)
			}
			if len(tracks) != 1 || tracks[0].ArtworkURL != tt.want {
				t.Errorf("tracks = %+v, want one with artwork %q", tracks, tt.want)
			}
		})
	}
}
