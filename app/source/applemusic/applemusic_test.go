package applemusic

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/applemusic/applemusictest"
)

const token = "eyJhbGciOiJFUzI1NiJ9.secret-developer-token"

// fakeClock is a settable clock; sleeps record their durations and advance it.
type fakeClock struct {
	now    time.Time
	sleeps []time.Duration
}

func (c *fakeClock) Now() time.Time { return c.now }

func (c *fakeClock) sleep(_ context.Context, d time.Duration) error {
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	return nil
}

func newClient(t *testing.T, fake *applemusictest.Server, tok string, log *slog.Logger) (*Client, *fakeClock) {
	t.Helper()
	// The clock starts at the real time, against which contexts' deadlines run.
	clk := &fakeClock{now: time.Now()}
	c := New(Config{Token: tok, APIURL: fake.URL, LookupURL: fake.URL, Now: clk.Now, Logger: log})
	c.sleep = clk.sleep
	return c, clk
}

func TestParseLink(t *testing.T) {
	tests := []struct {
		raw      string
		want     Link
		wantText string
	}{
		{raw: "https://music.apple.com/us/song/never-gonna-give-you-up/1559523359", want: Link{"us", music.Link{Kind: music.LinkTrack, ID: "1559523359"}}},
		{raw: "https://music.apple.com/GB/song/1559523359", want: Link{"gb", music.Link{Kind: music.LinkTrack, ID: "1559523359"}}},
		{raw: "https://music.apple.com/us/album/whenever-you-need-somebody/1559523357", want: Link{"us", music.Link{Kind: music.LinkAlbum, ID: "1559523357"}}},
		{raw: "https://music.apple.com/us/album/1559523357/", want: Link{"us", music.Link{Kind: music.LinkAlbum, ID: "1559523357"}}},
		{raw: "https://music.apple.com/us/album/whenever/1559523357?i=1559523359&l=es", want: Link{"us", music.Link{Kind: music.LinkTrack, ID: "1559523359"}}},
		{raw: "https://music.apple.com/de/playlist/todays-hits/pl.f4d106fed2bd41149aaacabb233eb5eb", want: Link{"de", music.Link{Kind: music.LinkPlaylist, ID: "pl.f4d106fed2bd41149aaacabb233eb5eb"}}},
		{raw: "https://music.apple.com/us/playlist/pl.u-8aAVZAAIo4ZDA", want: Link{"us", music.Link{Kind: music.LinkPlaylist, ID: "pl.u-8aAVZAAIo4ZDA"}}},
		{raw: "https://music.apple.com/us/artist/rick-astley/669771", wantText: "artist links cannot be played"},
		{raw: "https://music.apple.com/us/music-video/x/1", wantText: "music-video links cannot be played"},
		{raw: "https://music.apple.com/us/album/x/1559523357?i=../../v1", wantText: "does not name"},
		{raw: "https://music.apple.com/us/song/x/abc", wantText: "does not name"},
		{raw: "https://music.apple.com/us/playlist/x/1234", wantText: "does not name"},
		{raw: "https://music.apple.com/usa/song/1", wantText: "does not name"},
		{raw: "https://music.apple.com/us", wantText: "does not name"},
		{raw: "https://music.apple.com/us/song/a/b/1", wantText: "does not name"},
		{raw: "https://itunes.apple.com/us/album/1", wantText: "not an Apple Music link"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := ParseLink(tt.raw)
			if tt.wantText != "" {
				if music.ErrorCode(err) != music.EINVALID || !strings.Contains(music.ErrorMessage(err), tt.wantText) {
					t.Fatalf("ParseLink = %+v, %v; want EINVALID with %q", got, err, tt.wantText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("link (-want +got):\n%s", diff)
			}
		})
	}
}

// Apple's refusals each become a message the user can read; a token Apple
// refuses is also logged for the operator, the token itself never.
func TestRefusals(t *testing.T) {
	tests := []struct {
		name     string
		token    string
		prepare  func(*applemusictest.Server)
		read     func(context.Context, *Client) error
		wantCode string
		wantText string
		wantLog  string
	}{
		{name: "a wrong token", token: "wrong-" + token, read: readSong,
			wantCode: music.EUNAVAILABLE, wantText: "refused the bot's developer token", wantLog: "TIMMYBOT_APPLE_MUSIC_TOKEN"},
		{name: "a revoked token", token: token, prepare: func(s *applemusictest.Server) { s.Forbid() }, read: readSong,
			wantCode: music.EUNAVAILABLE, wantText: "refused the bot's developer token", wantLog: "status=403"},
		{name: "a song not in the catalog", token: token, read: func(ctx context.Context, c *Client) error {
			_, err := c.Track(ctx, "us", "404")
			return err
		}, wantCode: music.ENOTFOUND, wantText: "no such song in its US storefront"},
		{name: "a playlist not in the catalog", token: token, read: func(ctx context.Context, c *Client) error {
			_, err := c.PlaylistTracks(ctx, "us", "pl.nothing", 10)
			return err
		}, wantCode: music.ENOTFOUND, wantText: "no such playlist"},
		{name: "an album not in the lookup", read: func(ctx context.Context, c *Client) error {
			_, err := c.AlbumTracks(ctx, "us", "404", 10)
			return err
		}, wantCode: music.ENOTFOUND, wantText: "no such album"},
		{name: "a playlist without a token", read: func(ctx context.Context, c *Client) error {
			_, err := c.PlaylistTracks(ctx, "us", "pl.u-abc", 10)
			return err
		}, wantCode: music.EUNAVAILABLE, wantText: "need an Apple Music developer token"},
		{name: "two 429s", token: token, prepare: func(s *applemusictest.Server) { s.RateLimit(1, 4) }, read: readSong,
			wantCode: music.EUNAVAILABLE, wantText: "try again in 4 seconds"},
		{name: "a 429 longer than the deadline", token: token, prepare: func(s *applemusictest.Server) { s.RateLimit(60) }, read: func(ctx context.Context, c *Client) error {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			return readSong(ctx, c)
		}, wantCode: music.EUNAVAILABLE, wantText: "try again in 60 seconds"},
		{name: "two 429s by lookup", prepare: func(s *applemusictest.Server) { s.RateLimit(1, 2) }, read: readSong,
			wantCode: music.EUNAVAILABLE, wantText: "try again in 2 seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := applemusictest.New(t, token)
			fake.AddSong(applemusictest.Song{ID: "1", Name: "One", Artist: "A", DurationMS: 1000, ISRC: "X1"})
			if tt.prepare != nil {
				tt.prepare(fake)
			}
			var logs bytes.Buffer
			c, _ := newClient(t, fake, tt.token, slog.New(slog.NewTextHandler(&logs, nil)))
			err := tt.read(t.Context(), c)
			if music.ErrorCode(err) != tt.wantCode || !strings.Contains(music.ErrorMessage(err), tt.wantText) {
				t.Fatalf("error %v, want code %q with %q", err, tt.wantCode, tt.wantText)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log %q, want it to hold %q", logs.String(), tt.wantLog)
			}
			if strings.Contains(logs.String(), "secret-developer-token") || strings.Contains(err.Error(), "secret-developer-token") {
				t.Errorf("the token reached the log or the error: %s %v", logs.String(), err)
			}
		})
	}
}

func readSong(ctx context.Context, c *Client) error {
	_, err := c.Track(ctx, "us", "1")
	return err
}

// One 429 is waited out, with its Retry-After, by either API.
func TestRateLimitWaitedOnce(t *testing.T) {
	for _, tok := range []string{token, ""} {
		t.Run("token "+tok[:min(len(tok), 5)], func(t *testing.T) {
			fake := applemusictest.New(t, token)
			fake.AddSong(applemusictest.Song{ID: "1", Name: "One", Artist: "A", DurationMS: 1000})
			fake.RateLimit(3)
			c, clk := newClient(t, fake, tok, nil)
			got, err := c.Track(t.Context(), "us", "1")
			if err != nil {
				t.Fatal(err)
			}
			if got.Title != "One" || len(fake.Requests()) != 2 {
				t.Errorf("got %+v after %q", got, fake.Requests())
			}
			if diff := cmp.Diff([]time.Duration{3 * time.Second}, clk.sleeps); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
		})
	}
}

// A "next" link that leaves the catalog is not followed with the token.
func TestNextStaysOnTheCatalog(t *testing.T) {
	c := New(Config{Token: token})
	for _, next := range []string{"https://evil.example/v1/catalog/us/x", "//evil.example/v1/catalog/us", "/v1/me/library", "http://api.music.apple.com/v1/catalog/us"} {
		t.Run(next, func(t *testing.T) {
			if _, err := c.nextPath(next); music.ErrorCode(err) != music.EUNAVAILABLE {
				t.Errorf("nextPath(%q) = %v, want refused", next, err)
			}
		})
	}
	if got, err := c.nextPath("/v1/catalog/us/albums/1/tracks?offset=100"); err != nil || got != "/v1/catalog/us/albums/1/tracks?offset=100" {
		t.Errorf("nextPath = %q, %v", got, err)
	}
}

// An album read in full has exact totals; one cut short says so.
func TestAlbumTotals(t *testing.T) {
	fake := applemusictest.New(t, token)
	var songs []applemusictest.Song
	for _, id := range []string{"1", "2", "3", "4", "5"} {
		songs = append(songs, applemusictest.Song{ID: id, Name: "S" + id, Artist: "A"})
	}
	fake.AddList("albums", "9", "Album", songs)
	c, _ := newClient(t, fake, token, nil)
	tests := []struct {
		max, wantLen, wantTotal int
	}{
		{max: 10, wantLen: 5, wantTotal: 5},
		{max: 5, wantLen: 5, wantTotal: 5},
		{max: 3, wantLen: 3, wantTotal: 5},
		{max: 1, wantLen: 1, wantTotal: 5},
	}
	for _, tt := range tests {
		t.Run(strings.Repeat("x", tt.max), func(t *testing.T) {
			list, err := c.AlbumTracks(t.Context(), "us", "9", tt.max)
			if err != nil || len(list.Recordings) != tt.wantLen || list.Total != tt.wantTotal {
				t.Errorf("AlbumTracks(max %d) = %d of %d, %v; want %d of %d", tt.max, len(list.Recordings), list.Total, err, tt.wantLen, tt.wantTotal)
			}
		})
	}
}

// Both APIs give a song's artwork: the catalog as a template sized here,
// the lookup API at 100x100.
func TestTrackArtwork(t *testing.T) {
	const base = "https://is1-ssl.mzstatic.com/image/thumb/Music/v4/ab/cd/"
	for _, tt := range []struct {
		name, token, artwork, want string
	}{
		{"catalog template", token, base + "{w}x{h}bb.jpg", base + "600x600bb.jpg"},
		{"catalog template with crop and format", token, base + "{w}x{h}{c}.{f}", base + "600x600bb.jpg"},
		{"catalog template with an unknown placeholder", token, base + "{w}x{h}{q}.jpg", ""},
		{"catalog without artwork", token, "", ""},
		{"catalog artwork that is no http(s) URL", token, "ftp://is1-ssl.mzstatic.com/{w}x{h}.jpg", ""},
		{"lookup", "", base + "{w}x{h}bb.jpg", base + "100x100bb.jpg"},
		{"lookup without artwork", "", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := applemusictest.New(t, token)
			fake.AddSong(applemusictest.Song{ID: "1", Name: "One", Artist: "A", DurationMS: 1000, Artwork: tt.artwork})
			c, _ := newClient(t, fake, tt.token, nil)
			got, err := c.Track(t.Context(), "us", "1")
			if err != nil {
				t.Fatal(err)
			}
			if got.ArtworkURL != tt.want {
				t.Errorf("ArtworkURL = %q, want %q", got.ArtworkURL, tt.want)
			}
		})
	}
}
