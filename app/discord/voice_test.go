package discord

import (
	"testing"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/voice"
)

type updates []voice.Update

func (u *updates) Update(v voice.Update) { *u = append(*u, v) }

func TestVoiceRoutes(t *testing.T) {
	const g music.GuildID = "100000000000000001"
	var r voiceRoutes
	session := func(p *voice.Params) { p.SessionID = "s1" }
	server := func(p *voice.Params) { p.Token, p.Endpoint = "tok", "voice.example:443" }

	// A join completes only once both events arrived, in either order.
	j := &voiceJoin{ready: make(chan struct{})}
	r.joins = map[music.GuildID]*voiceJoin{g: j}
	r.route(g, server, voice.Update{})
	select {
	case <-j.ready:
		t.Fatal("join ready without a session ID")
	default:
	}
	r.route(g, session, voice.Update{})
	<-j.ready
	if j.params.SessionID != "s1" || j.params.Token != "tok" || j.params.Endpoint != "voice.example:443" {
		t.Fatalf("params = %+v", j.params)
	}
	r.route(g, session, voice.Update{}) // a repeat must not close ready twice

	// Without a join, events go to the guild's connection, and nowhere else.
	delete(r.joins, g)
	var conn updates
	r.conns = map[music.GuildID]voiceUpdater{g: &conn}
	r.route(g, server, voice.Update{Token: "tok2", Endpoint: "other.example:443"})
	r.route("100000000000000002", session, voice.Update{SessionID: "elsewhere"})
	if len(conn) != 1 || conn[0] != (voice.Update{Token: "tok2", Endpoint: "other.example:443"}) {
		t.Fatalf("forwarded updates = %+v", conn)
	}
}
