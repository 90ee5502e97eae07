package discord

import (
	"context"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/player"
)

// noRelated finds no related tracks.
type noRelated struct{}

func (noRelated) Related(context.Context, music.Track, func(music.Track) bool) ([]music.Track, error) {
	return nil, nil
}

func boolean(name string, v bool) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionBoolean, Value: v}
}

// TestAutoplayCommand routes /autoplay through the real command table to
// a playing guild's player.
func TestAutoplayCommand(t *testing.T) {
	tests := []struct {
		name     string
		related  player.RelatedFinder
		before   bool // autoplay was on
		user     string
		enabled  bool
		wantText string
		wantOn   bool
	}{
		{"on", noRelated{}, false, "200", true, "Autoplay on: when the queue runs out, I'll play related tracks.", true},
		{"off", noRelated{}, true, "200", false, "Autoplay off: I'll stop when the queue ends.", false},
		{"from another channel", noRelated{}, false, "300", true, "Join <#50> to control the music.", false},
		// An operator's matter: logged, with an error ID in the answer.
		{"nothing finds related tracks", nil, false, "200", true, "Autoplay is not available here: nothing can find related tracks", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, store := userHandlers(t)
			cfg := player.Config{Guild: testGuild, Queue: store, Opener: noAudio{}}
			if tt.related != nil {
				cfg.Related = tt.related
			}
			p := player.New(cfg)
			t.Cleanup(func() { _ = p.Close() })
			if tt.before {
				if err := p.SetAutoplay(true); err != nil {
					t.Fatal(err)
				}
			}
			h.audio.guilds = map[music.GuildID]*guildAudio{testGuild: {guild: testGuild, player: p}}
			rt, rec := newHandlersRouter(t, h, testGuild)
			rt.HandleInteraction(context.Background(), command(string(testGuild), tt.user, "autoplay", boolean("enabled", tt.enabled)))
			if got := rec.only(t).Data.Content; !strings.HasPrefix(got, tt.wantText) {
				t.Errorf("answer %q, want %q", got, tt.wantText)
			}
			if got := p.Status().Autoplay; got != tt.wantOn {
				t.Errorf("autoplay %v, want %v", got, tt.wantOn)
			}
		})
	}
}

// The now-playing message says autoplay is on and that autoplay queued
// the track.
func TestNowPlayingShowsAutoplay(t *testing.T) {
	st := player.Status{State: player.StatePlaying, Volume: 100, Autoplay: true,
		Entry: music.Entry{Track: music.Track{Title: "Together Forever", URL: "https://www.youtube.com/watch?v=yPYZpwSpKmA", RequestedBy: music.Autoplay}}}
	var fields []string
	for _, f := range nowPlayingStatusEmbeds(st)[0].Fields {
		fields = append(fields, f.Name+": "+f.Value)
	}
	got := strings.Join(fields, "\n")
	for _, want := range []string{"Requested by: autoplay", "Autoplay: on"} {
		if !strings.Contains(got, want) {
			t.Errorf("fields %q lack %q", got, want)
		}
	}
	page := music.QueuePage{Entries: []music.Entry{st.Entry}, Total: 1}
	if line := queueEmbeds(page, 1, 1)[0].Description; !strings.HasSuffix(line, "· autoplay") {
		t.Errorf("queue line %q does not say autoplay", line)
	}
}
