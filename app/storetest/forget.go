package storetest

import (
	"fmt"
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

// testForgetAsker removes one member from every pending request through
// another client than the one they asked with: a request others asked for
// stays with one ask fewer, one they alone asked for goes, approvals and
// declines stay, and a second run finds nothing.
func testForgetAsker(t *testing.T, open Open) {
	clock := NewClock()
	client := open(t, clock.Now)
	a := client().Allowlist
	t0 := clock.Now()
	const (
		shared   music.GuildID = "100000000000000003" // asked by userA and userB
		alone    music.GuildID = "100000000000000004" // asked by userA only
		full     music.GuildID = "100000000000000005" // userA among MaxAskers, more asks counted
		approved music.GuildID = "100000000000000006"
		declined music.GuildID = "100000000000000007"
	)
	ask := func(guild music.GuildID, user music.UserID, at time.Time) music.Ask {
		return music.Ask{Guild: guild, GuildName: "Band " + string(guild[len(guild)-1:]), Asker: music.Asker{User: user, Reason: "why " + string(user), At: at}}
	}
	request := func(guild music.GuildID, users ...music.UserID) music.AccessRequest {
		t.Helper()
		var asked music.Asked
		for i, u := range users {
			var err error
			asked, err = a.RequestAccess(ctx(t), ask(guild, u, t0.Add(time.Duration(i)*time.Minute)))
			must(t, "RequestAccess", err)
		}
		return asked.Request
	}

	if n, err := a.ForgetAsker(ctx(t), userA); err != nil || n != 0 {
		t.Fatalf("ForgetAsker with no requests = %d, %v; want 0", n, err)
	}
	sharedReq := request(shared, userA, userB)
	request(alone, userA)
	crowd := []music.UserID{userA}
	for i := range music.MaxAskers + 1 {
		crowd = append(crowd, asker(i))
	}
	fullReq := request(full, crowd...)
	approval := music.Approval{Guild: approved, ApprovedBy: userB, ApprovedAt: t0}
	must(t, "Approve", a.Approve(ctx(t), approval))
	request(declined, userA)
	decline := music.Decline{Guild: declined, DeclinedBy: userB, Reason: "no", DeclinedAt: t0.Add(time.Hour)}
	must(t, "Decline", a.Decline(ctx(t), decline))
	if len(fullReq.Askers) != music.MaxAskers || fullReq.Asks != music.MaxAskers+2 {
		t.Fatalf("the full request keeps %d askers of %d asks, want %d of %d", len(fullReq.Askers), fullReq.Asks, music.MaxAskers, music.MaxAskers+2)
	}

	other := client().Allowlist
	if n, err := other.ForgetAsker(ctx(t), userA); err != nil || n != 3 {
		t.Fatalf("ForgetAsker = %d, %v; want 3 requests changed", n, err)
	}
	wantShared := sharedReq
	wantShared.Askers = sharedReq.Askers[1:]
	wantShared.Asks = 1
	wantFull := fullReq
	wantFull.Askers = fullReq.Askers[1:]
	wantFull.Asks = music.MaxAskers + 1
	for _, tt := range []struct {
		name  string
		guild music.GuildID
		want  music.GuildAccess
	}{
		{"a request others asked for keeps theirs", shared, music.GuildAccess{Request: &wantShared}},
		{"a request the user alone asked for is gone", alone, music.GuildAccess{}},
		{"a full request keeps the others and the asks it only counted", full, music.GuildAccess{Request: &wantFull}},
		{"an approval stays", approved, music.GuildAccess{Approval: &approval}},
		{"a decline stays", declined, music.GuildAccess{Decline: &decline}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := a.Access(ctx(t), tt.guild)
			must(t, "Access", err)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Access after ForgetAsker (-want +got):\n%s", diff)
			}
		})
	}
	reqs, err := a.Requests(ctx(t))
	must(t, "Requests", err)
	if diff := cmp.Diff([]music.GuildID{shared, full}, requestedGuilds(reqs)); diff != "" {
		t.Errorf("Requests after ForgetAsker (-want +got):\n%s", diff)
	}

	if n, err := a.ForgetAsker(ctx(t), userA); err != nil || n != 0 {
		t.Errorf("ForgetAsker again = %d, %v; want 0", n, err)
	}
	again, err := a.RequestAccess(ctx(t), ask(shared, userA, t0.Add(2*time.Hour)))
	must(t, "RequestAccess after being forgotten", err)
	if len(again.Request.Askers) != 2 || again.Request.Asks != 2 {
		t.Errorf("asking again after being forgotten = %+v, want 2 askers and 2 asks", again.Request)
	}
	_, err = a.ForgetAsker(ctx(t), "x")
	wantCode(t, "ForgetAsker bad user", err, music.EINVALID)
}

// testForgetRequester removes one user's name from every entry they
// queued, in every guild, through another client than the one that
// queued them: the entries keep their ids, order and tracks, others'
// entries and autoplay's keep their requester, a second run finds nothing,
// and the queue works on as before.
func testForgetRequester(t *testing.T, open Open) {
	clock := NewClock()
	client := open(t, clock.Now)
	s := client()

	if n, err := s.Requesters.ForgetRequester(ctx(t), userA); err != nil || n != 0 {
		t.Fatalf("ForgetRequester with empty queues = %d, %v; want 0", n, err)
	}
	bobs := track("bob")
	bobs.RequestedBy = userB
	auto := track("auto")
	auto.RequestedBy = music.Autoplay
	enqueue(t, s.Queue, guildA, 0, track("a0"), bobs, track("a1"), auto)
	// More than a megabyte of entries: a DynamoDB scan takes several pages.
	many := make([]music.Track, 300)
	for i := range many {
		many[i] = longTrack(fmt.Sprint(i))
		many[i].RequestedBy = userA
	}
	for start := 0; start < len(many); start += 100 {
		enqueue(t, s.Queue, guildB, start, many[start:start+100]...)
	}
	entriesOf := func(guild music.GuildID) []music.Entry {
		t.Helper()
		var out []music.Entry
		for offset := 0; ; offset += music.MaxPageLimit {
			page, err := s.Queue.Page(ctx(t), guild, offset, music.MaxPageLimit)
			must(t, "Page", err)
			out = append(out, page.Entries...)
			if len(out) >= page.Total {
				return out
			}
		}
	}
	want := map[music.GuildID][]music.Entry{guildA: entriesOf(guildA), guildB: entriesOf(guildB)}
	for _, es := range want {
		for i := range es {
			if es[i].Track.RequestedBy == userA {
				es[i].Track.RequestedBy = ""
			}
		}
	}

	other := client()
	if n, err := other.Requesters.ForgetRequester(ctx(t), userA); err != nil || n != 2+len(many) {
		t.Fatalf("ForgetRequester = %d, %v; want %d entries changed", n, err, 2+len(many))
	}
	for guild, es := range want {
		if diff := cmp.Diff(es, entriesOf(guild)); diff != "" {
			t.Errorf("queue of %s after ForgetRequester (-want +got):\n%s", guild, diff)
		}
	}
	if n, err := s.Requesters.ForgetRequester(ctx(t), userA); err != nil || n != 0 {
		t.Errorf("ForgetRequester again = %d, %v; want 0", n, err)
	}

	head, err := s.Queue.Pop(ctx(t), guildA)
	must(t, "Pop", err)
	if diff := cmp.Diff(want[guildA][0], head); diff != "" {
		t.Errorf("Pop after ForgetRequester (-want +got):\n%s", diff)
	}
	enqueue(t, s.Queue, guildA, 3, track("a2"))
	page, err := other.Queue.Page(ctx(t), guildA, 3, 1)
	must(t, "Page", err)
	if len(page.Entries) != 1 || page.Entries[0].Track.RequestedBy != userA {
		t.Errorf("an entry queued after ForgetRequester = %+v, want it to name its requester", page.Entries)
	}

	for _, bad := range []music.UserID{"", music.Autoplay} {
		_, err := s.Requesters.ForgetRequester(ctx(t), bad)
		wantCode(t, fmt.Sprintf("ForgetRequester(%q)", bad), err, music.EINVALID)
	}
}
