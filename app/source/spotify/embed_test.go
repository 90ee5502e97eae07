package spotify

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/audio/fetch"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/source/spotify/spotifytest"
)

// newAnonymous is a client without credentials: it reads only embed pages.
func newAnonymous(t *testing.T, fake *spotifytest.Server, client *http.Client) *Client {
	t.Helper()
	c, err := New(Config{AccountsURL: fake.URL, APIURL: fake.URL, EmbedURL: fake.URL, HTTPClient: client})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pointers(tracks []spotifytest.Track) []*spotifytest.Track {
	out := make([]*spotifytest.Track, len(tracks))
	for i := range tracks {
		out[i] = &tracks[i]
	}
	return out
}

// catalog serves song as a track, a two-track album and a playlist of
// song, a removed track and an episode.
func catalog(t *testing.T) *spotifytest.Server {
	t.Helper()
	fake := spotifytest.New(t, "id", "secret")
	fake.AddTrack(song)
	two := []spotifytest.Track{
		{ID: "a1", Name: "First", Artists: []string{"Band", "Guest"}, DurationMS: 200000, ISRC: "ISRCA1"},
		{ID: "a2", Name: "Second", Artists: []string{"Band"}, DurationMS: 180500},
	}
	fake.AddAlbum("album", two)
	ep := spotifytest.Track{ID: "ep", Name: "A podcast", Episode: true}
	fake.AddPlaylist("list", []*spotifytest.Track{&two[0], nil, &ep, &two[1]})
	return fake
}

func TestEmbedFallback(t *testing.T) {
	first := music.Recording{Title: "First", Artists: []string{"Band", "Guest"}, Duration: 200 * time.Second, Source: "spotify"}
	second := music.Recording{Title: "Second", Artists: []string{"Band"}, Duration: 180500 * time.Millisecond, Source: "spotify"}
	tests := []struct {
		name      string
		setup     func(*spotifytest.Server)
		anonymous bool
		kind      string
		id        string
		want      music.RecordingList
		wantEmbed []string
		wantCode  string
		wantText  string
	}{
		{name: "the API serves the owner's playlist", kind: music.LinkPlaylist, id: "list",
			want: music.RecordingList{Recordings: []music.Recording{withISRC(first, "ISRCA1"), second}, Total: 2}},
		{name: "a development-mode 403 reads the embed page", kind: music.LinkPlaylist, id: "list",
			setup:     func(s *spotifytest.Server) { s.ForbidPlaylist("list") },
			want:      music.RecordingList{Recordings: []music.Recording{first, second}, Total: 2, Note: EmbedNote},
			wantEmbed: []string{"/embed/playlist/list"}},
		{name: "an editorial playlist the API hides reads the embed page", kind: music.LinkPlaylist, id: "list",
			setup:     func(s *spotifytest.Server) { s.EditorialPlaylist("list") },
			want:      music.RecordingList{Recordings: []music.Recording{first, second}, Total: 2, Note: EmbedNote},
			wantEmbed: []string{"/embed/playlist/list"}},
		{name: "without credentials the embed page is read", anonymous: true, kind: music.LinkPlaylist, id: "list",
			want:      music.RecordingList{Recordings: []music.Recording{first, second}, Total: 2, Note: EmbedNote},
			wantEmbed: []string{"/embed/playlist/list"}},
		{name: "an album the API refuses", kind: music.LinkAlbum, id: "album",
			setup:     func(s *spotifytest.Server) { s.ForbidAll(true) },
			want:      music.RecordingList{Recordings: []music.Recording{first, second}, Total: 2, Note: EmbedNote},
			wantEmbed: []string{"/embed/album/album"}},
		{name: "a track without credentials", anonymous: true, kind: music.LinkTrack, id: song.ID,
			want: music.RecordingList{Recordings: []music.Recording{
				{Title: "Never Gonna Give You Up", Artists: []string{"Rick Astley"}, Duration: 213573 * time.Millisecond, Source: "spotify"}}, Total: 1},
			wantEmbed: []string{"/embed/track/" + song.ID}},
		{name: "a private playlist of someone else", kind: music.LinkPlaylist, id: "list",
			setup:     func(s *spotifytest.Server) { s.ForbidPlaylist("list"); s.PrivatePlaylist("list") },
			wantEmbed: []string{"/embed/playlist/list"}, wantCode: music.ENOTFOUND, wantText: "That playlist is private or gone"},
		{name: "a private playlist without credentials", anonymous: true, kind: music.LinkPlaylist, id: "list",
			setup:     func(s *spotifytest.Server) { s.PrivatePlaylist("list") },
			wantEmbed: []string{"/embed/playlist/list"}, wantCode: music.ENOTFOUND, wantText: "That playlist is private or gone"},
		{name: "an unknown album the API refuses", kind: music.LinkAlbum, id: "nope",
			setup:     func(s *spotifytest.Server) { s.ForbidAll(true) },
			wantEmbed: []string{"/embed/album/nope"}, wantCode: music.ENOTFOUND, wantText: "no such album"},
		{name: "an unknown album the API knows is gone, without asking the embed", kind: music.LinkAlbum, id: "nope",
			wantCode: music.ENOTFOUND, wantText: "no such album"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := catalog(t)
			if tt.setup != nil {
				tt.setup(fake)
			}
			c, _ := newClient(t, fake, "secret")
			if tt.anonymous {
				c = newAnonymous(t, fake, nil)
			}
			got, err := read(t, c, tt.kind, tt.id, 50)
			if music.ErrorCode(err) != tt.wantCode || !strings.Contains(music.ErrorMessage(err), tt.wantText) {
				t.Fatalf("got %v, want code %q with %q", err, tt.wantCode, tt.wantText)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("list (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantEmbed, fake.EmbedRequests()); diff != "" {
				t.Errorf("embed pages read (-want +got):\n%s", diff)
			}
			if tt.anonymous && (fake.Tokens() != 0 || len(fake.Requests()) != 0) {
				t.Errorf("without credentials: %d tokens, API requests %v; want none", fake.Tokens(), fake.Requests())
			}
		})
	}
}

func withISRC(r music.Recording, isrc string) music.Recording { r.ISRC = isrc; return r }

// read reads kind/id as links does; a track is a list of one.
func read(t *testing.T, c *Client, kind, id string, max int) (music.RecordingList, error) {
	switch kind {
	case music.LinkTrack:
		r, err := c.Track(t.Context(), id)
		if err != nil {
			return music.RecordingList{}, err
		}
		return music.RecordingList{Recordings: []music.Recording{r}, Total: 1}, nil
	case music.LinkAlbum:
		return c.AlbumTracks(t.Context(), id, max)
	}
	return c.PlaylistTracks(t.Context(), id, max)
}

func TestEmbedCap(t *testing.T) {
	fake := spotifytest.New(t, "id", "secret")
	fake.AddPlaylist("long", pointers(numbered(150)))
	fake.AddPlaylist("short", pointers(numbered(40)))
	c := newAnonymous(t, fake, nil)
	tests := []struct {
		name      string
		id        string
		max       int
		wantLen   int
		wantTotal int
	}{
		{name: "a long playlist shows its first 100, more unknown", id: "long", max: 500, wantLen: EmbedCap, wantTotal: music.TotalUnknown},
		{name: "the caller's maximum cuts the page", id: "long", max: 50, wantLen: 50, wantTotal: music.TotalUnknown},
		{name: "a short playlist is whole", id: "short", max: 500, wantLen: 40, wantTotal: 40},
		{name: "a short playlist cut by the maximum counts its tracks", id: "short", max: 10, wantLen: 10, wantTotal: 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.PlaylistTracks(t.Context(), tt.id, tt.max)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Recordings) != tt.wantLen || got.Total != tt.wantTotal || got.Truncated() != (tt.wantLen != tt.wantTotal) {
				t.Errorf("got %d of %d (truncated %v), want %d of %d", len(got.Recordings), got.Total, got.Truncated(), tt.wantLen, tt.wantTotal)
			}
			if last := got.Recordings[len(got.Recordings)-1]; last.Title != fmt.Sprint("Song ", tt.wantLen-1) {
				t.Errorf("last track %q, want Song %d", last.Title, tt.wantLen-1)
			}
		})
	}
}

// nextDataPage is an embed page whose data script holds data.
func nextDataPage(data string) []byte {
	return []byte(`<!DOCTYPE html><html><head><script src="/x.js"></script></head><body><div id="__next"></div>` +
		`<script type="application/json" id="__NEXT_DATA__" nonce="n">` + data + `</script><script>window.x=1</script></body></html>`)
}

func entityPage(entity string) []byte {
	return nextDataPage(`{"props":{"pageProps":{"state":{"data":{"entity":` + entity + `}}}},"page":"/playlist/[id]"}`)
}

func TestEmbedPages(t *testing.T) {
	padding := strings.Repeat(" ", maxPage)
	tests := []struct {
		name     string
		status   int
		page     []byte
		want     []music.Recording
		wantCode string
		wantText string
	}{
		{name: "attributes in another order, entries with missing or odd fields", status: http.StatusOK,
			page: entityPage(`{"type":"playlist","name":"Mix","trackList":[
				{"uri":"spotify:track:1","title":"Whole","subtitle":"A, B","duration":1000,"isPlayable":true},
				{"uri":"spotify:track:2","title":"Unplayable here","subtitle":"C","duration":2000,"isPlayable":false},
				{"uri":"spotify:track:3","title":"Duration object","subtitle":"D","duration":{"totalMilliseconds":3000}},
				{"uri":"spotify:track:4","title":"No artist or duration"},
				{"uri":"spotify:track:5","subtitle":"No title"},
				{"uri":"spotify:local:x:y:z:1","title":"Local file","subtitle":"E"},
				{"uri":"spotify:episode:6","title":"Episode","subtitle":"Show"},
				{"title":"No uri"},
				"not an object",
				{"uri":"spotify:track:7","title":"Duration text","subtitle":"F","duration":"long"}]}`),
			want: []music.Recording{
				{Title: "Whole", Artists: []string{"A", "B"}, Duration: time.Second, Source: "spotify"},
				{Title: "Unplayable here", Artists: []string{"C"}, Duration: 2 * time.Second, Source: "spotify"},
				{Title: "Duration object", Artists: []string{"D"}, Duration: 3 * time.Second, Source: "spotify"},
				{Title: "No artist or duration", Source: "spotify"},
				{Title: "Duration text", Artists: []string{"F"}, Source: "spotify"},
			}},
		{name: "an empty playlist", status: http.StatusOK, page: entityPage(`{"type":"playlist","name":"Empty","trackList":[]}`), want: nil},
		{name: "a page over the size bound", status: http.StatusOK,
			page:     append([]byte(padding), entityPage(`{"type":"playlist","trackList":[{"uri":"spotify:track:1","title":"T"}]}`)...),
			wantCode: music.EUNAVAILABLE, wantText: "could not be read"},
		{name: "a page without the data script", status: http.StatusOK, page: []byte(`<html><body><div id="__next">Playlist</div></body></html>`),
			wantCode: music.EUNAVAILABLE, wantText: "could not be read"},
		{name: "a script that never ends", status: http.StatusOK, page: []byte(`<script id="__NEXT_DATA__" type="application/json">{"props":`),
			wantCode: music.EUNAVAILABLE, wantText: "could not be read"},
		{name: "a script that is not JSON", status: http.StatusOK, page: nextDataPage(`self.__next_f.push([1,"x"])`),
			wantCode: music.EUNAVAILABLE, wantText: "could not be read"},
		{name: "an entity without a track list", status: http.StatusOK, page: entityPage(`{"type":"playlist","name":"Mix"}`),
			wantCode: music.EUNAVAILABLE, wantText: "could not be read"},
		{name: "an entity of another kind", status: http.StatusOK, page: entityPage(`{"type":"artist","name":"Band","trackList":[]}`),
			wantCode: music.EUNAVAILABLE, wantText: "could not be read"},
		{name: "a track list that is not a list", status: http.StatusOK, page: entityPage(`{"type":"playlist","trackList":{"items":[]}}`),
			wantCode: music.EUNAVAILABLE, wantText: "could not be read"},
		{name: "no entity", status: http.StatusOK, page: entityPage(`null`),
			wantCode: music.ENOTFOUND, wantText: "private or gone"},
		{name: "an error page served with 200", status: http.StatusOK,
			page:     nextDataPage(`{"props":{"pageProps":{"status":404,"state":{"data":{"entity":{"type":"playlist","trackList":[]}}}}}}`),
			wantCode: music.ENOTFOUND, wantText: "private or gone"},
		{name: "not found", status: http.StatusNotFound, page: []byte("<html>404</html>"),
			wantCode: music.ENOTFOUND, wantText: "private or gone"},
		{name: "a server error", status: http.StatusBadGateway, page: []byte("<html>502</html>"),
			wantCode: music.EUNAVAILABLE, wantText: "HTTP 502"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := spotifytest.New(t, "id", "secret")
			fake.SetEmbedPage("playlist", "x", tt.status, tt.page)
			got, err := newAnonymous(t, fake, nil).PlaylistTracks(t.Context(), "x", 50)
			if music.ErrorCode(err) != tt.wantCode || !strings.Contains(music.ErrorMessage(err), tt.wantText) {
				t.Fatalf("got %v, want code %q with %q", err, tt.wantCode, tt.wantText)
			}
			if diff := cmp.Diff(tt.want, got.Recordings); diff != "" {
				t.Errorf("recordings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEmbedTrackPage(t *testing.T) {
	tests := []struct {
		name     string
		entity   string
		want     music.Recording
		wantCode string
	}{
		{name: "artists listed", entity: `{"type":"track","name":"Song","artists":[{"name":"A"},{"name":""},{"name":"B"}],"duration":1500}`,
			want: music.Recording{Title: "Song", Artists: []string{"A", "B"}, Duration: 1500 * time.Millisecond, Source: "spotify"}},
		{name: "title and subtitle only", entity: `{"title":"Song","subtitle":"A, B"}`,
			want: music.Recording{Title: "Song", Artists: []string{"A", "B"}, Source: "spotify"}},
		{name: "no title", entity: `{"type":"track","artists":[{"name":"A"}]}`, wantCode: music.EUNAVAILABLE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := spotifytest.New(t, "id", "secret")
			fake.SetEmbedPage("track", "x", http.StatusOK, entityPage(tt.entity))
			got, err := newAnonymous(t, fake, nil).Track(t.Context(), "x")
			if music.ErrorCode(err) != tt.wantCode {
				t.Fatalf("got %v, want code %q", err, tt.wantCode)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("recording (-want +got):\n%s", diff)
			}
		})
	}
}

// The embed page is read with the configured client, so the bot's guarded
// client keeps it off internal addresses.
func TestEmbedUsesTheConfiguredClient(t *testing.T) {
	fake := catalog(t)
	c := newAnonymous(t, fake, fetch.NewClient(fetch.Policy{}, fetch.DefaultLimits()))
	_, err := c.PlaylistTracks(t.Context(), "list", 50)
	if music.ErrorCode(err) != music.EINVALID || !strings.Contains(music.ErrorMessage(err), "loopback") {
		t.Errorf("got %v, want the guarded client's loopback refusal", err)
	}
	if got := fake.EmbedRequests(); len(got) != 0 {
		t.Errorf("the fake served %v past the guard", got)
	}
}

func TestNewWantsBothCredentialsOrNeither(t *testing.T) {
	tests := []struct {
		name         string
		id, secret   string
		wantRefusal  bool
		wantEmbedURL string
	}{
		{name: "both", id: "id", secret: "s", wantEmbedURL: DefaultEmbedURL},
		{name: "neither", wantEmbedURL: DefaultEmbedURL},
		{name: "an ID alone", id: "id", wantRefusal: true},
		{name: "a secret alone", secret: "s", wantRefusal: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(Config{ClientID: tt.id, ClientSecret: tt.secret})
			if (err != nil) != tt.wantRefusal {
				t.Fatalf("New: %v, want refusal %v", err, tt.wantRefusal)
			}
			if err == nil && c.cfg.EmbedURL != tt.wantEmbedURL {
				t.Errorf("embed URL %q, want %q", c.cfg.EmbedURL, tt.wantEmbedURL)
			}
		})
	}
}
