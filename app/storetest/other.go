package storetest

import (
	"strings"
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
		must(t, "RequestAccess", a.RequestAccess(ctx(t), music.AccessRequest{Guild: guildA, RequestedBy: userA, RequestedAt: t0}))
		return a.Revoke(ctx(t), guildA)
	}(), music.ENOTFOUND)

	req := music.AccessRequest{Guild: guildC, GuildName: "Käse & Musik", RequestedBy: userA, Reason: "first", RequestedAt: t0.Add(time.Minute)}
	must(t, "RequestAccess", a.RequestAccess(ctx(t), req))
	req.Reason, req.RequestedAt = "replaced", t0.Add(-time.Minute)
	must(t, "RequestAccess again", a.RequestAccess(ctx(t), req))
	reqs, err := a.Requests(ctx(t))
	must(t, "Requests", err)
	wantA := music.AccessRequest{Guild: guildA, RequestedBy: userA, RequestedAt: t0}
	if diff := cmp.Diff([]music.AccessRequest{req, wantA}, reqs); diff != "" {
		t.Errorf("Requests (-want +got):\n%s", diff)
	}
	if approved(t, guildC) {
		t.Error("requesting access approved the guild")
	}

	must(t, "Approve a requesting guild", a.Approve(ctx(t), music.Approval{Guild: guildC, ApprovedBy: userB, ApprovedAt: t0}))
	reqs, err = a.Requests(ctx(t))
	must(t, "Requests", err)
	if diff := cmp.Diff([]music.AccessRequest{wantA}, reqs); diff != "" {
		t.Errorf("Requests after approving (-want +got):\n%s", diff)
	}
	wantCode(t, "RequestAccess when approved", a.RequestAccess(ctx(t), music.AccessRequest{Guild: guildC, RequestedBy: userA}), music.ECONFLICT)

	invalid := []struct {
		name string
		err  error
	}{
		{"IsApproved bad guild", func() error { _, err := a.IsApproved(ctx(t), "x"); return err }()},
		{"Approve bad guild", a.Approve(ctx(t), music.Approval{Guild: "x", ApprovedBy: userA})},
		{"Approve bad user", a.Approve(ctx(t), music.Approval{Guild: guildA, ApprovedBy: "x"})},
		{"Revoke bad guild", a.Revoke(ctx(t), "")},
		{"RequestAccess bad guild", a.RequestAccess(ctx(t), music.AccessRequest{Guild: "x", RequestedBy: userA})},
		{"RequestAccess reason too long", a.RequestAccess(ctx(t), music.AccessRequest{
			Guild: guildA, RequestedBy: userA, Reason: strings.Repeat("x", music.MaxReasonLen+1)})},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.name, tt.err, music.EINVALID) })
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
	clock := NewClock()
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
