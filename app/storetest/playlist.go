package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/music"
)

// testPlaylists saves, lists, replaces and deletes saved playlists, with
// unicode names, a full-size playlist and every refusal.
func testPlaylists(t *testing.T, open Open) {
	clock := NewClock()
	client := open(t, clock.Now)
	p := client().Playlists

	list := func(t *testing.T, user music.UserID) []music.PlaylistSummary {
		t.Helper()
		got, err := p.Playlists(ctx(t), user)
		must(t, "Playlists", err)
		return got
	}
	if got := list(t, userA); len(got) != 0 {
		t.Fatalf("Playlists of a user who saved none = %+v, want none", got)
	}
	_, err := p.Playlist(ctx(t), userA, "road trip")
	wantCode(t, "Playlist never saved", err, music.ENOTFOUND)
	wantCode(t, "DeletePlaylist never saved", p.DeletePlaylist(ctx(t), userA, "road trip"), music.ENOTFOUND)

	unicodeName := "Käse 🎵 音楽"
	maxName := strings.Repeat("é", music.MaxPlaylistNameLen)
	// Tracks at their bounds: a backend that splits a playlist into items
	// needs several for this one.
	full := make([]music.Track, music.MaxPlaylistTracks)
	for i := range full {
		full[i] = longTrack(fmt.Sprint(i))
	}
	saved := []music.SavedPlaylist{
		{User: userA, Name: "road trip", Tracks: tracks("road", 3)},
		{User: userA, Name: unicodeName, Tracks: []music.Track{track("cheese")}},
		{User: userA, Name: maxName, Tracks: full},
	}
	for i := range saved {
		clock.Advance(time.Minute)
		must(t, "SavePlaylist "+saved[i].Name, p.SavePlaylist(ctx(t), saved[i], false))
		saved[i].SavedAt = clock.Now()
	}
	// A new client is a restarted bot.
	p = client().Playlists
	for _, want := range saved {
		got, err := p.Playlist(ctx(t), userA, want.Name)
		must(t, "Playlist", err)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("playlist %q (-want +got):\n%s", want.Name, diff)
		}
	}
	wantList := []music.PlaylistSummary{
		{Name: unicodeName, Tracks: 1, SavedAt: saved[1].SavedAt},
		{Name: "road trip", Tracks: 3, SavedAt: saved[0].SavedAt},
		{Name: maxName, Tracks: music.MaxPlaylistTracks, SavedAt: saved[2].SavedAt},
	}
	if diff := cmp.Diff(wantList, list(t, userA)); diff != "" {
		t.Errorf("Playlists (-want +got):\n%s", diff)
	}
	if got := list(t, userB); len(got) != 0 {
		t.Errorf("another user's Playlists = %+v, want none", got)
	}
	_, err = p.Playlist(ctx(t), userB, "road trip")
	wantCode(t, "another user's playlist", err, music.ENOTFOUND)
	_, err = p.Playlist(ctx(t), userA, "Road Trip")
	wantCode(t, "a name in other case", err, music.ENOTFOUND)

	replacement := music.SavedPlaylist{User: userA, Name: "road trip", Tracks: tracks("new", 2)}
	wantCode(t, "SavePlaylist over a taken name", p.SavePlaylist(ctx(t), replacement, false), music.ECONFLICT)
	got, err := p.Playlist(ctx(t), userA, "road trip")
	must(t, "Playlist", err)
	if diff := cmp.Diff(saved[0], got); diff != "" {
		t.Errorf("a refused save changed the playlist (-want +got):\n%s", diff)
	}
	clock.Advance(time.Minute)
	must(t, "SavePlaylist with overwrite", p.SavePlaylist(ctx(t), replacement, true))
	replacement.SavedAt = clock.Now()
	got, err = p.Playlist(ctx(t), userA, "road trip")
	must(t, "Playlist", err)
	if diff := cmp.Diff(replacement, got); diff != "" {
		t.Errorf("overwritten playlist (-want +got):\n%s", diff)
	}
	// Shrinking the full playlist leaves none of its old tracks behind.
	shrunk := music.SavedPlaylist{User: userA, Name: maxName, Tracks: tracks("small", 1)}
	must(t, "SavePlaylist shrinking", p.SavePlaylist(ctx(t), shrunk, true))
	shrunk.SavedAt = clock.Now()
	got, err = p.Playlist(ctx(t), userA, maxName)
	must(t, "Playlist", err)
	if diff := cmp.Diff(shrunk, got); diff != "" {
		t.Errorf("shrunk playlist (-want +got):\n%s", diff)
	}

	must(t, "DeletePlaylist", p.DeletePlaylist(ctx(t), userA, unicodeName))
	_, err = p.Playlist(ctx(t), userA, unicodeName)
	wantCode(t, "Playlist after delete", err, music.ENOTFOUND)
	wantCode(t, "DeletePlaylist twice", p.DeletePlaylist(ctx(t), userA, unicodeName), music.ENOTFOUND)
	if got := len(list(t, userA)); got != 2 {
		t.Errorf("%d playlists after deleting one of three, want 2", got)
	}

	invalid := []struct {
		name string
		err  error
	}{
		{"bad user", p.SavePlaylist(ctx(t), music.SavedPlaylist{User: "x", Name: "a", Tracks: tracks("a", 1)}, false)},
		{"empty name", p.SavePlaylist(ctx(t), music.SavedPlaylist{User: userA, Name: "", Tracks: tracks("a", 1)}, false)},
		{"name too long", p.SavePlaylist(ctx(t), music.SavedPlaylist{User: userA, Name: maxName + "é", Tracks: tracks("a", 1)}, false)},
		{"name with spaces around", p.SavePlaylist(ctx(t), music.SavedPlaylist{User: userA, Name: " a", Tracks: tracks("a", 1)}, false)},
		{"no tracks", p.SavePlaylist(ctx(t), music.SavedPlaylist{User: userA, Name: "empty"}, false)},
		{"too many tracks", p.SavePlaylist(ctx(t), music.SavedPlaylist{User: userA, Name: "big", Tracks: tracks("b", music.MaxPlaylistTracks+1)}, false)},
		{"invalid track", p.SavePlaylist(ctx(t), music.SavedPlaylist{User: userA, Name: "bad", Tracks: []music.Track{{Title: "no URL"}}}, false)},
		{"Playlist bad user", func() error { _, err := p.Playlist(ctx(t), "x", "a"); return err }()},
		{"Playlists bad user", func() error { _, err := p.Playlists(ctx(t), ""); return err }()},
		{"DeletePlaylist bad user", p.DeletePlaylist(ctx(t), "x", "a")},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.name, tt.err, music.EINVALID) })
	}
	_, err = p.Playlist(ctx(t), userA, "empty")
	wantCode(t, "Playlist of a refused empty save", err, music.ENOTFOUND)
}

// longTrack is a track at the bounds of music.Track, with text that grows
// when encoded.
func longTrack(name string) music.Track {
	return music.Track{
		Title:      strings.Repeat("\"<&>", music.MaxTitleLen/4),
		URL:        "https://audio.example/" + name + "?" + strings.Repeat("&", music.MaxURLLen-len("https://audio.example/?")-len(name)),
		Duration:   time.Hour,
		Source:     "http",
		ArtworkURL: "https://img.example/?" + strings.Repeat("&", music.MaxArtworkURLLen-len("https://img.example/?")),
	}
}

// testPlaylistLimit fills a user's playlists to the bound: a new name
// beyond it is refused, replacing one is not, and simultaneous saves of
// new names through two clients never exceed it.
func testPlaylistLimit(t *testing.T, open Open) {
	clock := NewClock()
	client := open(t, clock.Now)
	clients := []music.PlaylistStore{client().Playlists, client().Playlists}
	const extra = 5
	var wg sync.WaitGroup
	errs := make([]error, music.MaxPlaylists+extra)
	for i := range errs {
		wg.Go(func() {
			pl := music.SavedPlaylist{User: userA, Name: fmt.Sprintf("list %02d", i), Tracks: tracks(fmt.Sprint(i), 1)}
			errs[i] = clients[i%2].SavePlaylist(ctx(t), pl, false)
		})
	}
	wg.Wait()
	saved, refused := 0, 0
	for _, err := range errs {
		switch music.ErrorCode(err) {
		case "":
			saved++
		case music.EINVALID:
			refused++
		default:
			t.Errorf("SavePlaylist: %v", err)
		}
	}
	if saved != music.MaxPlaylists || refused != extra {
		t.Errorf("%d simultaneous saves: %d saved, %d refused; want %d and %d", len(errs), saved, refused, music.MaxPlaylists, extra)
	}
	got, err := clients[0].Playlists(ctx(t), userA)
	must(t, "Playlists", err)
	if len(got) != music.MaxPlaylists {
		t.Fatalf("%d playlists listed, want %d", len(got), music.MaxPlaylists)
	}
	err = clients[0].SavePlaylist(ctx(t), music.SavedPlaylist{User: userA, Name: "one more", Tracks: tracks("x", 1)}, false)
	wantCode(t, "SavePlaylist beyond the bound", err, music.EINVALID)
	must(t, "SavePlaylist replacing at the bound", clients[1].SavePlaylist(ctx(t),
		music.SavedPlaylist{User: userA, Name: got[0].Name, Tracks: tracks("y", 2)}, true))
	must(t, "SavePlaylist for another user", clients[1].SavePlaylist(ctx(t),
		music.SavedPlaylist{User: userB, Name: "one more", Tracks: tracks("x", 1)}, false))
}
