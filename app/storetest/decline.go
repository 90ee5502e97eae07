package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/iddv/timmybot/app/music"
)

// testDeclines follows a guild through ask, decline, a new ask and
// approval, reading its state with Access at each step.
func testDeclines(t *testing.T, open Open) {
	clock := NewClock()
	client := open(t, clock.Now)
	a := client().Allowlist
	t0 := clock.Now()
	access := func(t *testing.T, g music.GuildID) music.GuildAccess {
		t.Helper()
		got, err := a.Access(ctx(t), g)
		must(t, "Access", err)
		return got
	}

	if diff := cmp.Diff(music.GuildAccess{}, access(t, guildA)); diff != "" {
		t.Errorf("Access of a guild that never asked (-want +got):\n%s", diff)
	}
	wantCode(t, "Decline without a request", a.Decline(ctx(t), music.Decline{Guild: guildA, DeclinedBy: userA, DeclinedAt: t0}), music.ENOTFOUND)

	ask := music.Ask{Guild: guildA, GuildName: "Band", Asker: music.Asker{User: userB, Reason: "practice", At: t0}}
	asked, err := a.RequestAccess(ctx(t), ask)
	must(t, "RequestAccess", err)
	if diff := cmp.Diff(music.GuildAccess{Request: &asked.Request}, access(t, guildA)); diff != "" {
		t.Errorf("Access of a requesting guild (-want +got):\n%s", diff)
	}

	d := music.Decline{Guild: guildA, DeclinedBy: userA, Reason: "not yet ✋", DeclinedAt: t0.Add(time.Hour)}
	must(t, "Decline", a.Decline(ctx(t), d))
	// A new client is a restarted bot or another task: the decline is stored.
	a = client().Allowlist
	if diff := cmp.Diff(music.GuildAccess{Decline: &d}, access(t, guildA)); diff != "" {
		t.Errorf("Access of a declined guild (-want +got):\n%s", diff)
	}
	reqs, err := a.Requests(ctx(t))
	must(t, "Requests", err)
	if len(reqs) != 0 {
		t.Errorf("Requests after the decline = %v, want none", requestedGuilds(reqs))
	}
	wantCode(t, "Decline twice", a.Decline(ctx(t), d), music.ENOTFOUND)
	wantCode(t, "Revoke a declined guild", a.Revoke(ctx(t), guildA), music.ENOTFOUND)

	again := ask
	again.At = t0.Add(2 * time.Hour)
	asked, err = a.RequestAccess(ctx(t), again)
	must(t, "RequestAccess after a decline", err)
	if !asked.NotifyOwners || asked.Request.Asks != 1 || len(asked.Request.Askers) != 1 {
		t.Errorf("asking after a decline = %+v, want a new request of one ask that notifies the owners", asked)
	}
	if got := access(t, guildA); got.Request == nil || got.Decline != nil {
		t.Errorf("Access after asking again = %+v, want only the new request", got)
	}

	must(t, "Decline", a.Decline(ctx(t), d))
	approval := music.Approval{Guild: guildA, ApprovedBy: userA, ApprovedAt: t0.Add(3 * time.Hour)}
	must(t, "Approve a declined guild", a.Approve(ctx(t), approval))
	if diff := cmp.Diff(music.GuildAccess{Approval: &approval}, access(t, guildA)); diff != "" {
		t.Errorf("Access of a guild approved after a decline (-want +got):\n%s", diff)
	}
	wantCode(t, "Decline an approved guild", a.Decline(ctx(t), d), music.ENOTFOUND)

	_, err = a.RequestAccess(ctx(t), music.Ask{Guild: guildB, Asker: music.Asker{User: userB, At: t0}})
	must(t, "RequestAccess", err)
	invalid := []struct {
		name string
		err  error
	}{
		{"Access bad guild", func() error { _, err := a.Access(ctx(t), "x"); return err }()},
		{"Decline bad guild", a.Decline(ctx(t), music.Decline{Guild: "x", DeclinedBy: userA})},
		{"Decline bad owner", a.Decline(ctx(t), music.Decline{Guild: guildB, DeclinedBy: ""})},
		{"Decline reason too long", a.Decline(ctx(t), music.Decline{Guild: guildB, DeclinedBy: userA, Reason: strings.Repeat("x", music.MaxReasonLen+1)})},
		{"Decline reason not UTF-8", a.Decline(ctx(t), music.Decline{Guild: guildB, DeclinedBy: userA, Reason: "\xff"})},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) { wantCode(t, tt.name, tt.err, music.EINVALID) })
	}
	if got := access(t, guildB); got.Request == nil {
		t.Errorf("a refused decline changed the request: %+v", got)
	}
}
