package discord

import (
	"testing"
	"time"

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

// Every guild's voice connection is paced by the bot's one clock: two
// guilds' first ticks are due at the same instant, which connections with
// a pacer each would not be.
func TestGuildsShareOneClock(t *testing.T) {
	p := &playback{clock: voice.NewClock()}
	var pacers []<-chan time.Time
	for _, guild := range []string{"100000000000000001", "100000000000000002"} {
		cfg := p.voiceConfig(voice.Params{GuildID: guild}, nil)
		if cfg.Pacer == nil {
			t.Fatal("a guild's voice connection has no pacer: it would get a ticker of its own")
		}
		ticks, stop := cfg.Pacer()
		defer stop()
		pacers = append(pacers, ticks)
	}
	var firsts []time.Time
	for _, ticks := range pacers {
		select {
		case due := <-ticks:
			firsts = append(firsts, due)
		case <-time.After(5 * time.Second):
			t.Fatal("no tick")
		}
	}
	if !firsts[0].Equal(firsts[1]) {
		t.Errorf("two guilds' first ticks were due at %v and %v: not one clock", firsts[0], firsts[1])
	}
}
