package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/music"
)

// testForgetUser deletes everything one user saved, through another
// client than the one that saved it: their preferences and playlists go,
// another user's stay, a second deletion finds nothing, and what the user
// saves afterwards starts afresh.
func testForgetUser(t *testing.T, open Open) {
	clock := NewClock()
	client := open(t, clock.Now)
	s := client()

	if n, err := s.Playlists.DeletePlaylists(ctx(t), userA); err != nil || n != 0 {
		t.Fatalf("DeletePlaylists of a user who saved none = %d, %v; want 0", n, err)
	}
	if existed, err := s.Preferences.DeletePreferences(ctx(t), userA); err != nil || existed {
		t.Fatalf("DeletePreferences of a user who saved none = %v, %v; want false", existed, err)
	}

	full := make([]music.Track, music.MaxPlaylistTracks)
	for i := range full {
		full[i] = longTrack(time.Duration(i).String())
	}
	bobs := music.Preferences{User: userB, Volume: 70}
	must(t, "SetPreferences", s.Preferences.SetPreferences(ctx(t), music.Preferences{User: userA, Volume: 50, Quiet: true}))
	must(t, "SetPreferences", s.Preferences.SetPreferences(ctx(t), bobs))
	bobs.UpdatedAt = clock.Now()
	for _, p := range []music.SavedPlaylist{
		{User: userA, Name: "road trip", Tracks: tracks("road", 3)},
		{User: userA, Name: "everything", Tracks: full},
		{User: userB, Name: "road trip", Tracks: tracks("bob", 2)},
	} {
		must(t, "SavePlaylist", s.Playlists.SavePlaylist(ctx(t), p, false))
	}

	other := client()
	if n, err := other.Playlists.DeletePlaylists(ctx(t), userA); err != nil || n != 2 {
		t.Fatalf("DeletePlaylists = %d, %v; want 2", n, err)
	}
	if existed, err := other.Preferences.DeletePreferences(ctx(t), userA); err != nil || !existed {
		t.Fatalf("DeletePreferences = %v, %v; want true", existed, err)
	}

	left, err := s.Playlists.Playlists(ctx(t), userA)
	must(t, "Playlists", err)
	if len(left) != 0 {
		t.Errorf("playlists left = %+v, want none", left)
	}
	_, err = s.Playlists.Playlist(ctx(t), userA, "everything")
	wantCode(t, "Playlist after DeletePlaylists", err, music.ENOTFOUND)
	prefs, err := s.Preferences.Preferences(ctx(t), userA)
	must(t, "Preferences", err)
	if diff := cmp.Diff(music.Preferences{User: userA}, prefs); diff != "" {
		t.Errorf("preferences after DeletePreferences (-want +got):\n%s", diff)
	}
	bobsLists, err := s.Playlists.Playlists(ctx(t), userB)
	must(t, "Playlists", err)
	if len(bobsLists) != 1 {
		t.Errorf("another user's playlists = %+v, want theirs kept", bobsLists)
	}
	got, err := s.Preferences.Preferences(ctx(t), userB)
	must(t, "Preferences", err)
	if diff := cmp.Diff(bobs, got); diff != "" {
		t.Errorf("another user's preferences (-want +got):\n%s", diff)
	}

	if n, err := s.Playlists.DeletePlaylists(ctx(t), userA); err != nil || n != 0 {
		t.Errorf("DeletePlaylists again = %d, %v; want 0", n, err)
	}
	if existed, err := s.Preferences.DeletePreferences(ctx(t), userA); err != nil || existed {
		t.Errorf("DeletePreferences again = %v, %v; want false", existed, err)
	}
	must(t, "SavePlaylist after forgetting", s.Playlists.SavePlaylist(ctx(t), music.SavedPlaylist{User: userA, Name: "new", Tracks: tracks("new", 1)}, false))
	list, err := other.Playlists.Playlists(ctx(t), userA)
	must(t, "Playlists", err)
	if len(list) != 1 || list[0].Name != "new" {
		t.Errorf("playlists saved after forgetting = %+v, want only the new one", list)
	}

	_, err = s.Playlists.DeletePlaylists(ctx(t), "x")
	wantCode(t, "DeletePlaylists bad user", err, music.EINVALID)
	_, err = s.Preferences.DeletePreferences(ctx(t), "")
	wantCode(t, "DeletePreferences bad user", err, music.EINVALID)
}
