package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/music"
)

func testAllowlist(t *testing.T, open Open) {
	clock := NewClock()
	a := open(t, clock.Now)().Allowlist
	const guildC music.GuildID = "100000000000000003"
	t0 := clock.Now()

	approved := func(t *testing.T, g music.GuildID) bool {
		t.Helper()
		ok, err := a.IsApproved(ctx(t), g)
		must(t, "IsApproved", err)
		return ok
	}
	if approved(t, guildA) {
		t.Fatal("a guild is approved before anyone approved it")
	}

	first := music.Approval{Guild: guildA, ApprovedBy: userA, ApprovedAt: t0.Add(time.Hour)}
	must(t, "Approve", a.Approve(ctx(t), first))
	must(t, "Approve again", a.Approve(ctx(t), music.Approval{Guild: guildA, ApprovedBy: userB, ApprovedAt: t0.Add(2 * time.Hour)}))
	earlier := music.Approval{Guild: guildB, ApprovedBy: userB, ApprovedAt: t0}
	must(t, "Approve", a.Approve(ctx(t), earlier))
	if !approved(t, guildA) || !approved(t, guildB) {
		t.Error("approved guilds are not approved")
	}
	list, err := a.Approved(ctx(t))
	must(t, "Approved", err)
	if diff := cmp.Diff([]music.Approval{earlier, first}, list); diff != "" {
		t.Errorf("Approved (-want +got):\n%s", diff)
	}

	must(t, "Revoke", a.Revoke(ctx(t), guildA))
	if approved(t, guildA) {
		t.Error("a revoked guild is approved")
	}
	wantCode(t, "Revoke twice", a.Revoke(ctx(t), guildA), music.ENOTFOUND)
	wantCode(t, "Revoke a requesting guild", func() error {
		_, err := a.RequestAccess(ctx(t), music.Ask{Guild: guildA, Asker: music.Asker{User: userA, At: t0}})
		must(t, "RequestAccess", err)
		return a.Revoke(ctx(t), guildA)
	}(), music.ENOTFOUND)

	_, err = a.RequestAccess(ctx(t), music.Ask{Guild: guildC, Asker: music.Asker{User: userA, At: t0.Add(-time.Minute)}})
	must(t, "RequestAccess", err)
	reqs, err := a.Requests(ctx(t))
	must(t, "Requests", err)
	if got := requestedGuilds(reqs); !slices.Equal(got, []music.GuildID{guildC, guildA}) {
		t.Errorf("Requests lists %v, want the oldest request first: %v", got, []music.GuildID{guildC, guildA})
	}
	if approved(t, guildC) {
		t.Error("requesting access approved the guild")
	}

	must(t, "Approve a requesting guild", a.Approve(ctx(t), music.Approval{Guild: guildC, ApprovedBy: userB, ApprovedAt: t0}))
	reqs, err = a.Requests(ctx(t))
	must(t, "Requests", err)
	if got := requestedGuilds(reqs); !slices.Equal(got, []music.GuildID{guildA}) {
		t.Errorf("Requests after approving lists %v, want only %s", got, guildA)
	}
	_, err = a.RequestAccess(ctx(t), music.Ask{Guild: guildC, Asker: music.Asker{User: userB, At: t0}})
	wantCode(t, "RequestAccess when approved", err, music.ECONFLICT)

	invalid := []struct {
		name string
		err  error
	}{
		{"IsApproved bad guild", func() error { _, err := a.IsApproved(ctx(t), "x"); return err }()},
		{"Approve bad guild", a.Approve(ctx(t), music.Approval{Guild: "x", ApprovedBy: userA})},
		{"Approve bad user", a.Approve(ctx(t), music.Approval{Guild: guildA, ApprovedBy: "x"})},
		{"Revoke bad guild", a.Revoke(ctx(t), "")},
		{"RequestAccess bad guild", func() error {
			_, err := a.RequestAccess(ctx(t), music.Ask{Guild: "x", Asker: music.Asker{User: userA}})
			return err
		}()},
		{"RequestAccess reason too long", func() error {
			_, err := a.RequestAccess(ctx(t), music.Ask{Guild: guildA, Asker: music.Asker{User: userA, Reason: strings.Repeat("x", music.MaxReasonLen+1)}})
			return err
		}()},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.name, tt.err, music.EINVALID) })
	}
}

func requestedGuilds(reqs []music.AccessRequest) []music.GuildID {
	out := make([]music.GuildID, len(reqs))
	for i, r := range reqs {
		out[i] = r.Guild
	}
	return out
}

// asker returns the i-th of many distinct members.
func asker(i int) music.UserID { return music.UserID(fmt.Sprintf("3000000000%08d", i+1)) }

// testAccessRequests follows one guild's request through repeated asks, the
// owners' notification throttle, a new client (a restarted bot) and the
// bound on kept askers.
func testAccessRequests(t *testing.T, open Open) {
	clock := NewClock()
	client := open(t, clock.Now)
	a := client().Allowlist
	t0 := clock.Now()
	ask := func(user music.UserID, reason string, at time.Time) music.Ask {
		return music.Ask{Guild: guildA, GuildName: "Käse & Musik", Asker: music.Asker{User: user, Reason: reason, At: at}}
	}

	first := ask(userA, "first", t0)
	got, err := a.RequestAccess(ctx(t), first)
	must(t, "RequestAccess", err)
	want := music.Asked{
		Request:      music.AccessRequest{Guild: guildA, GuildName: "Käse & Musik", Askers: []music.Asker{first.Asker}, Asks: 1, NotifiedAt: t0},
		NotifyOwners: true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("first ask (-want +got):\n%s", diff)
	}

	_, err = a.RequestAccess(ctx(t), ask(userA, "overwritten?", t0.Add(time.Minute)))
	wantCode(t, "the same member asking again", err, music.ECONFLICT)

	second := ask(userB, "second", t0.Add(time.Hour))
	second.GuildName = ""
	got, err = a.RequestAccess(ctx(t), second)
	must(t, "RequestAccess", err)
	want.Request.Askers = []music.Asker{first.Asker, second.Asker}
	want.Request.Asks = 2
	want.NotifyOwners = false
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("second ask, within the notification interval (-want +got):\n%s", diff)
	}

	// A new client is a restarted bot: the last notification is remembered.
	a = client().Allowlist
	third := ask(asker(0), "third", t0.Add(music.NotifyOwnersEvery-time.Nanosecond))
	got, err = a.RequestAccess(ctx(t), third)
	must(t, "RequestAccess after a restart", err)
	if got.NotifyOwners {
		t.Error("an ask just inside the interval after a restart notifies the owners")
	}
	fourth := ask(asker(1), "fourth", t0.Add(music.NotifyOwnersEvery))
	got, err = a.RequestAccess(ctx(t), fourth)
	must(t, "RequestAccess", err)
	want.Request.Askers = append(want.Request.Askers, third.Asker, fourth.Asker)
	want.Request.Asks = 4
	want.Request.NotifiedAt = fourth.At
	want.NotifyOwners = true
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("an ask once the interval passed (-want +got):\n%s", diff)
	}

	// Fill the request past its bound: asker(0) and asker(1) asked already.
	const total = music.MaxAskers + 5
	for i := 2; i < total-2; i++ {
		_, err := a.RequestAccess(ctx(t), ask(asker(i), "", fourth.At.Add(time.Duration(i)*time.Second)))
		must(t, "RequestAccess", err)
	}
	reqs, err := a.Requests(ctx(t))
	must(t, "Requests", err)
	if len(reqs) != 1 {
		t.Fatalf("Requests lists %d requests for one guild, want 1", len(reqs))
	}
	r := reqs[0]
	if len(r.Askers) != music.MaxAskers || r.Asks != total {
		t.Errorf("after %d asks the request keeps %d askers and counts %d asks, want %d and %d",
			total, len(r.Askers), r.Asks, music.MaxAskers, total)
	}
	if diff := cmp.Diff(want.Request.Askers, r.Askers[:4]); diff != "" {
		t.Errorf("the first askers changed (-want +got):\n%s", diff)
	}
	if !r.NotifiedAt.Equal(fourth.At) {
		t.Errorf("NotifiedAt = %v, want the last notification %v", r.NotifiedAt, fourth.At)
	}
}

// testAccessRequestConcurrency has many members ask at once through two
// clients: every ask is recorded and exactly one tells the owners.
func testAccessRequestConcurrency(t *testing.T, open Open) {
	clock := NewClock()
	client := open(t, clock.Now)
	clients := []music.AllowlistStore{client().Allowlist, client().Allowlist}
	const n = 8
	var wg sync.WaitGroup
	results := make([]music.Asked, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			ask := music.Ask{Guild: guildA, Asker: music.Asker{User: asker(i), Reason: fmt.Sprint(i), At: clock.Now()}}
			results[i], errs[i] = clients[i%2].RequestAccess(ctx(t), ask)
		})
	}
	wg.Wait()
	notified := 0
	for i := range n {
		must(t, "RequestAccess", errs[i])
		if results[i].NotifyOwners {
			notified++
		}
	}
	if notified != 1 {
		t.Errorf("%d of %d simultaneous asks notified the owners, want 1", notified, n)
	}
	reqs, err := clients[0].Requests(ctx(t))
	must(t, "Requests", err)
	if len(reqs) != 1 || reqs[0].Asks != n || len(reqs[0].Askers) != n {
		t.Fatalf("after %d simultaneous asks Requests = %+v, want one request with all of them", n, reqs)
	}
	var users []music.UserID
	for _, a := range reqs[0].Askers {
		users = append(users, a.User)
	}
	slices.Sort(users)
	for i, u := range users {
		if u != asker(i) {
			t.Fatalf("recorded askers %v, want %s..%s", users, asker(0), asker(n-1))
		}
	}
}

func testPreferences(t *testing.T, open Open) {
	clock := NewClock()
	p := open(t, clock.Now)().Preferences
	got, err := p.Preferences(ctx(t), userA)
	must(t, "Preferences", err)
	if diff := cmp.Diff(music.Preferences{User: userA}, got); diff != "" {
		t.Errorf("preferences never saved (-want +got):\n%s", diff)
	}
	for _, want := range []music.Preferences{
		{User: userA, Volume: 80, Source: "soundcloud"},
		{User: userA, Volume: music.MaxVolume},
		{User: userA, Volume: 100, Source: "spotify", Quiet: true},
		{User: userA},
	} {
		clock.Advance(time.Minute)
		must(t, "SetPreferences", p.SetPreferences(ctx(t), want))
		want.UpdatedAt = clock.Now()
		got, err := p.Preferences(ctx(t), userA)
		must(t, "Preferences", err)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("saved preferences (-want +got):\n%s", diff)
		}
	}
	other, err := p.Preferences(ctx(t), userB)
	must(t, "Preferences", err)
	if diff := cmp.Diff(music.Preferences{User: userB}, other); diff != "" {
		t.Errorf("another user's preferences (-want +got):\n%s", diff)
	}
	for _, bad := range []music.Preferences{
		{User: "x"},
		{User: userA, Volume: -1},
		{User: userA, Volume: music.MaxVolume + 1},
		{User: userA, Source: strings.Repeat("s", 33)},
	} {
		wantCode(t, "SetPreferences invalid", p.SetPreferences(ctx(t), bad), music.EINVALID)
	}
	_, err = p.Preferences(ctx(t), "x")
	wantCode(t, "Preferences bad user", err, music.EINVALID)
}

func testTrackCache(t *testing.T, open Open) {
	// At the present: a server's time-to-live reaper would delete entries
	// that expired by its own clock.
	clock := NewClockNow()
	c := open(t, clock.Now)().Cache
	key := "https://video.example/watch?v=abc"
	_, err := c.CachedTrack(ctx(t), key)
	wantCode(t, "CachedTrack miss", err, music.ENOTFOUND)

	tr := track("cached")
	must(t, "CacheTrack", c.CacheTrack(ctx(t), key, tr, clock.Now().Add(time.Hour)))
	cached := func(want music.Track) {
		t.Helper()
		got, err := c.CachedTrack(ctx(t), key)
		must(t, "CachedTrack", err)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("cached track (-want +got):\n%s", diff)
		}
	}
	cached(tr)
	clock.Advance(time.Hour - time.Millisecond)
	cached(tr)
	clock.Advance(time.Millisecond)
	_, err = c.CachedTrack(ctx(t), key)
	wantCode(t, "CachedTrack at expiry", err, music.ENOTFOUND)

	replaced := track("replaced")
	must(t, "CacheTrack again", c.CacheTrack(ctx(t), key, replaced, clock.Now().Add(time.Minute)))
	cached(replaced)

	longKey := strings.Repeat("k", music.MaxCacheKeyLen)
	must(t, "CacheTrack long key", c.CacheTrack(ctx(t), longKey, tr, clock.Now().Add(time.Minute)))
	if got, err := c.CachedTrack(ctx(t), longKey); err != nil || got != tr {
		t.Errorf("CachedTrack(long key) = %v, %v; want %v", got, err, tr)
	}
	_, err = c.CachedTrack(ctx(t), longKey[1:])
	wantCode(t, "CachedTrack of a similar key", err, music.ENOTFOUND)

	for name, err := range map[string]error{
		"empty key":     c.CacheTrack(ctx(t), "", tr, clock.Now().Add(time.Hour)),
		"key too long":  c.CacheTrack(ctx(t), longKey+"k", tr, clock.Now().Add(time.Hour)),
		"invalid track": c.CacheTrack(ctx(t), key, music.Track{Title: "no URL"}, clock.Now().Add(time.Hour)),
		"read bad key": func() error {
			_, err := c.CachedTrack(ctx(t), "")
			return err
		}(),
	} {
		wantCode(t, name, err, music.EINVALID)
	}
}
