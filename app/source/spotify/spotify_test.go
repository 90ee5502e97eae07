package spotify

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/spotify/spotifytest"
)

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

func newClient(t *testing.T, fake *spotifytest.Server, secret string) (*Client, *fakeClock) {
	t.Helper()
	// The clock starts at the real time: context deadlines are real.
	clk := &fakeClock{now: time.Now()}
	c, err := New(Config{ClientID: "id", ClientSecret: secret, AccountsURL: fake.URL, APIURL: fake.URL + "/", EmbedURL: fake.URL + "/", Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	c.sleep = clk.sleep
	return c, clk
}

var song = spotifytest.Track{ID: "4uLU6hMCjMI75M1A2tKUQC", Name: "Never Gonna Give You Up", Artists: []string{"Rick Astley"}, DurationMS: 213573, ISRC: "gbarl9300135"}

func TestTrack(t *testing.T) {
	fake := spotifytest.New(t, "id", "secret")
	fake.AddTrack(song)
	c, _ := newClient(t, fake, "secret")
	got, err := c.Track(t.Context(), song.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := music.Recording{Title: "Never Gonna Give You Up", Artists: []string{"Rick Astley"}, Duration: 213573 * time.Millisecond, ISRC: "GBARL9300135", Source: "spotify"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Track (-want +got):\n%s", diff)
	}
}

func TestTrackArtwork(t *testing.T) {
	for _, tt := range []struct {
		name   string
		images []string
		want   string
	}{
		{"no images", nil, ""},
		{"the widest", []string{"https://i.scdn.co/image/640", "https://i.scdn.co/image/300"}, "https://i.scdn.co/image/640"},
		{"the first that can be shown", []string{"data:image/jpeg;base64,AAAA", "https://i.scdn.co/image/300"}, "https://i.scdn.co/image/300"},
		{"none that can be shown", []string{"ftp://i.scdn.co/image/640", "https://i.scdn.co/" + strings.Repeat("x", music.MaxArtworkURLLen)}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fake := spotifytest.New(t, "id", "secret")
			withImages := song
			withImages.AlbumImages = tt.images
			fake.AddTrack(withImages)
			c, _ := newClient(t, fake, "secret")
			got, err := c.Track(t.Context(), song.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.ArtworkURL != tt.want {
				t.Errorf("ArtworkURL = %q, want %q", got.ArtworkURL, tt.want)
			}
		})
	}
}

func numbered(n int) []spotifytest.Track {
	tracks := make([]spotifytest.Track, n)
	for i := range tracks {
		tracks[i] = spotifytest.Track{ID: fmt.Sprint("t", i), Name: fmt.Sprint("Song ", i), Artists: []string{"A", "B"}, DurationMS: 1000, ISRC: fmt.Sprint("ISRC", i)}
	}
	return tracks
}

func titles(rs []music.Recording) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Title)
	}
	return out
}

func TestAlbumTracksPagesAndTruncates(t *testing.T) {
	fake := spotifytest.New(t, "id", "secret")
	fake.AddAlbum("album", numbered(120))
	c, _ := newClient(t, fake, "secret")
	tests := []struct {
		name      string
		max       int
		wantLen   int
		truncated bool
		wantPages int
	}{
		{name: "all of three pages", max: 500, wantLen: 120, wantPages: 3},
		{name: "cut inside the second page", max: 60, wantLen: 60, truncated: true, wantPages: 2},
		{name: "exactly one page", max: 50, wantLen: 50, truncated: true, wantPages: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(fake.Requests())
			got, err := c.AlbumTracks(t.Context(), "album", tt.max)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Recordings) != tt.wantLen || got.Truncated() != tt.truncated || got.Total != 120 {
				t.Errorf("got %d tracks of %d, truncated %v; want %d, truncated %v", len(got.Recordings), got.Total, got.Truncated(), tt.wantLen, tt.truncated)
			}
			if pages := len(fake.Requests()) - before; pages != tt.wantPages {
				t.Errorf("read %d pages, want %d", pages, tt.wantPages)
			}
			last := got.Recordings[len(got.Recordings)-1]
			if want := fmt.Sprint("Song ", tt.wantLen-1); last.Title != want || last.ISRC != "" || len(last.Artists) != 2 {
				t.Errorf("last track %+v, want %q with two artists and no ISRC (album tracks carry none)", last, want)
			}
		})
	}
}

func TestPlaylistTracksSkipsEpisodesAndRemoved(t *testing.T) {
	fake := spotifytest.New(t, "id", "secret")
	ep := spotifytest.Track{ID: "ep", Name: "A podcast", Episode: true}
	two := numbered(2)
	fake.AddPlaylist("mine", []*spotifytest.Track{&two[0], nil, &ep, &two[1]})
	c, _ := newClient(t, fake, "secret")
	got, err := c.PlaylistTracks(t.Context(), "mine", 100)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Song 0", "Song 1"}, titles(got.Recordings)); diff != "" || got.Truncated() || got.Recordings[1].ISRC != "ISRC1" {
		t.Errorf("tracks (-want +got):\n%s total %d, isrc %q", diff, got.Total, got.Recordings[1].ISRC)
	}
	if req := fake.Requests()[0]; !strings.HasPrefix(req, "/v1/playlists/mine/items?") {
		t.Errorf("asked for %s, want the 2026 /items endpoint", req)
	}

	fake.LegacyItems(true)
	got, err = c.PlaylistTracks(t.Context(), "mine", 100)
	if err != nil || len(got.Recordings) != 2 {
		t.Errorf("with the pre-2026 field: %d tracks, %v; want 2", len(got.Recordings), err)
	}
	fake.LegacyItems(false)

	// A removed track on the second page leaves the list whole.
	long := numbered(60)
	items := make([]*spotifytest.Track, len(long))
	for i := range long {
		items[i] = &long[i]
	}
	items[55] = nil
	fake.AddPlaylist("long", items)
	got, err = c.PlaylistTracks(t.Context(), "long", 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Recordings) != 59 || got.Total != 59 || got.Truncated() {
		t.Errorf("got %d of %d, truncated %v; want 59 of 59", len(got.Recordings), got.Total, got.Truncated())
	}
}

func TestRefusals(t *testing.T) {
	fake := spotifytest.New(t, "id", "secret")
	fake.ForbidPlaylist("theirs")
	tests := []struct {
		name     string
		secret   string
		call     func(*Client) error
		wantCode string
		wantText string
	}{
		{name: "private playlist of someone else in development mode", secret: "secret",
			call:     func(c *Client) error { _, err := c.PlaylistTracks(t.Context(), "theirs", 10); return err },
			wantCode: music.ENOTFOUND, wantText: "That playlist is private or gone"},
		{name: "unknown track", secret: "secret",
			call:     func(c *Client) error { _, err := c.Track(t.Context(), "nope"); return err },
			wantCode: music.ENOTFOUND, wantText: "no such track"},
		{name: "unknown album", secret: "secret",
			call:     func(c *Client) error { _, err := c.AlbumTracks(t.Context(), "nope", 10); return err },
			wantCode: music.ENOTFOUND, wantText: "no such album"},
		{name: "wrong credentials", secret: "wrong",
			call:     func(c *Client) error { _, err := c.Track(t.Context(), song.ID); return err },
			wantCode: music.EUNAVAILABLE, wantText: "refused the bot's credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := newClient(t, fake, tt.secret)
			err := tt.call(c)
			if music.ErrorCode(err) != tt.wantCode || !strings.Contains(music.ErrorMessage(err), tt.wantText) {
				t.Errorf("got %v, want %s containing %q", err, tt.wantCode, tt.wantText)
			}
			if strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error %q shows the secret", err)
			}
		})
	}
}

func TestRateLimit(t *testing.T) {
	tests := []struct {
		name      string
		limits    []int
		deadline  time.Duration // 0: none
		wantSleep []time.Duration
		wantCode  string
	}{
		{name: "one 429 is waited out", limits: []int{3}, wantSleep: []time.Duration{3 * time.Second}},
		{name: "a second 429 is refused", limits: []int{3, 7}, wantSleep: []time.Duration{3 * time.Second}, wantCode: music.EUNAVAILABLE},
		{name: "a wait past the deadline is refused", limits: []int{30}, deadline: 10 * time.Second, wantCode: music.EUNAVAILABLE},
		{name: "a wait inside the deadline is waited out", limits: []int{5}, deadline: 10 * time.Second, wantSleep: []time.Duration{5 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := spotifytest.New(t, "id", "secret")
			fake.AddTrack(song)
			fake.RateLimit(tt.limits...)
			c, clk := newClient(t, fake, "secret")
			ctx := t.Context()
			if tt.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithDeadline(ctx, clk.now.Add(tt.deadline))
				defer cancel()
			}
			_, err := c.Track(ctx, song.ID)
			if music.ErrorCode(err) != tt.wantCode {
				t.Errorf("got %v, want code %q", err, tt.wantCode)
			}
			if diff := cmp.Diff(tt.wantSleep, clk.sleeps); diff != "" {
				t.Errorf("sleeps (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTokenIsReusedUntilExpiry(t *testing.T) {
	fake := spotifytest.New(t, "id", "secret")
	fake.AddTrack(song)
	c, clk := newClient(t, fake, "secret")
	steps := []struct {
		name       string
		advance    time.Duration
		expire     bool
		wantTokens int
	}{
		{name: "first request signs in", wantTokens: 1},
		{name: "later request reuses the token", advance: 30 * time.Minute, wantTokens: 1},
		{name: "near expiry a new token is requested", advance: 29*time.Minute + time.Second, wantTokens: 2},
		{name: "a token Spotify refuses early is replaced once", expire: true, wantTokens: 3},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clk.now = clk.now.Add(st.advance)
			if st.expire {
				fake.ExpireTokens()
			}
			if _, err := c.Track(t.Context(), song.ID); err != nil {
				t.Fatal(err)
			}
			if got := fake.Tokens(); got != st.wantTokens {
				t.Errorf("tokens issued %d, want %d", got, st.wantTokens)
			}
		})
	}
}
