package fakediscord_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/google/go-cmp/cmp"

	"github.com/iddv/timmybot/test/fakediscord"
)

// rewrite sends requests for discord.com to the fake, as the bot's own
// client does when its API base URL is configured.
type rewrite struct{ base *url.URL }

func (rw rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if r.URL.Host == "discord.com" {
		r.URL.Scheme, r.URL.Host, r.Host = rw.base.Scheme, rw.base.Host, rw.base.Host
	}
	return http.DefaultTransport.RoundTrip(r)
}

// bot is a discordgo session connected to a fake, with the events the
// tests look at delivered on channels.
type bot struct {
	*discordgo.Session
	ready       chan *discordgo.Ready
	guildCreate chan *discordgo.GuildCreate
	resumed     chan *discordgo.Resumed
}

// gatewayLogs captures discordgo's warnings and errors so tests can assert
// that it understood every payload.
var gatewayLogs struct {
	sync.Mutex
	lines []string
}

func init() {
	discordgo.Logger = func(level, _ int, format string, a ...any) {
		if level > discordgo.LogWarning {
			return
		}
		gatewayLogs.Lock()
		gatewayLogs.lines = append(gatewayLogs.lines, fmt.Sprintf(format, a...))
		gatewayLogs.Unlock()
	}
}

// assertNoDecodeErrors fails when discordgo could not decode a payload.
func assertNoDecodeErrors(t *testing.T) {
	t.Helper()
	gatewayLogs.Lock()
	defer gatewayLogs.Unlock()
	for _, l := range gatewayLogs.lines {
		if strings.Contains(l, "unmarshal") || strings.Contains(l, "decod") || strings.Contains(l, "unknown") {
			t.Errorf("discordgo could not handle a payload: %s", l)
		}
	}
}

// handler answers interactions; tests set what it does per command name.
type handler func(s *discordgo.Session, i *discordgo.InteractionCreate)

func startBot(t *testing.T, srv *fakediscord.Server, handlers map[string]handler) *bot {
	t.Helper()
	s, err := discordgo.New("Bot " + srv.Token())
	if err != nil {
		t.Fatal(err)
	}
	base, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	s.Client = &http.Client{Transport: rewrite{base: base}, Timeout: 10 * time.Second}
	s.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildVoiceStates
	b := &bot{
		Session:     s,
		ready:       make(chan *discordgo.Ready, 16),
		guildCreate: make(chan *discordgo.GuildCreate, 64),
		resumed:     make(chan *discordgo.Resumed, 16),
	}
	s.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) { b.ready <- r })
	s.AddHandler(func(_ *discordgo.Session, g *discordgo.GuildCreate) { b.guildCreate <- g })
	s.AddHandler(func(_ *discordgo.Session, r *discordgo.Resumed) { b.resumed <- r })
	s.AddHandler(func(s *discordgo.Session, i *discordgo.InteractionCreate) {
		name := ""
		switch i.Type {
		case discordgo.InteractionApplicationCommand:
			name = i.ApplicationCommandData().Name
		case discordgo.InteractionMessageComponent:
			name = "component:" + i.MessageComponentData().CustomID
		}
		if h := handlers[name]; h != nil {
			h(s, i)
		}
	})
	if err := s.Open(); err != nil {
		t.Fatalf("opening the session: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return b
}

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func respond(content string, flags discordgo.MessageFlags) handler {
	return func(s *discordgo.Session, i *discordgo.InteractionCreate) {
		_ = s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: content, Flags: flags},
		})
	}
}

func register(t *testing.T, b *bot, srv *fakediscord.Server, guildID string, cmds ...*discordgo.ApplicationCommand) []*discordgo.ApplicationCommand {
	t.Helper()
	got, err := b.ApplicationCommandBulkOverwrite(srv.ApplicationID(), guildID, cmds)
	if err != nil {
		t.Fatalf("registering commands: %v", err)
	}
	return got
}

func TestSessionReceivesReadyAndGuildCreate(t *testing.T) {
	srv := fakediscord.New(t, fakediscord.Options{})
	g := srv.AddGuild(fakediscord.Guild{Name: "Jazz Club"})
	b := startBot(t, srv, nil)

	r := receive(t, b.ready, "READY")
	if r.SessionID == "" || r.User.ID != srv.BotUserID() || !r.User.Bot {
		t.Errorf("READY session %q user %+v, want a session and the bot user %s", r.SessionID, r.User, srv.BotUserID())
	}
	if len(r.Guilds) != 1 || r.Guilds[0].ID != g.ID || !r.Guilds[0].Unavailable {
		t.Errorf("READY guilds = %+v, want %s unavailable", r.Guilds, g.ID)
	}
	gc := receive(t, b.guildCreate, "GUILD_CREATE")
	if diff := cmp.Diff([]string{g.ID, "Jazz Club", g.OwnerID}, []string{gc.ID, gc.Name, gc.OwnerID}); diff != "" {
		t.Errorf("GUILD_CREATE (-want +got):\n%s", diff)
	}
	if len(gc.Channels) != 2 || gc.Channels[0].Type != discordgo.ChannelTypeGuildText || gc.Channels[1].Type != discordgo.ChannelTypeGuildVoice {
		t.Errorf("GUILD_CREATE channels = %+v, want a text and a voice channel", gc.Channels)
	}

	late := srv.AddGuild(fakediscord.Guild{})
	if gc := receive(t, b.guildCreate, "GUILD_CREATE of a guild joined later"); gc.ID != late.ID {
		t.Errorf("GUILD_CREATE for %s, want %s", gc.ID, late.ID)
	}

	ids := srv.Identifies()
	if len(ids) != 1 || *ids[0].Intents != int64(discordgo.IntentsGuilds|discordgo.IntentsGuildVoiceStates) || !ids[0].Compress {
		t.Errorf("identifies = %+v, want one with the bot's intents and compression", ids)
	}
	if ids[0].Token != "" {
		t.Error("the fake kept the token of an IDENTIFY")
	}
	assertNoDecodeErrors(t)
}

func TestInteractImmediateAndDeferred(t *testing.T) {
	srv := fakediscord.New(t, fakediscord.Options{})
	g := srv.AddGuild(fakediscord.Guild{})
	ping := &discordgo.ApplicationCommand{Name: "ping", Description: "Ping"}
	slow := &discordgo.ApplicationCommand{Name: "slow", Description: "Deferred"}
	followup := &discordgo.ApplicationCommand{Name: "followup", Description: "Deferred, answered by a follow-up"}
	b := startBot(t, srv, map[string]handler{
		"ping": respond("pong", 0),
		"slow": func(s *discordgo.Session, i *discordgo.InteractionCreate) {
			_ = s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
				Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
				Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral},
			})
			content := "done"
			_, _ = s.InteractionResponseEdit(i.Interaction, &discordgo.WebhookEdit{
				Content: &content,
				Embeds:  &[]*discordgo.MessageEmbed{{Title: "Queue", Description: "1. song"}},
			})
		},
		"followup": func(s *discordgo.Session, i *discordgo.InteractionCreate) {
			_ = s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
				Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
			})
			_, _ = s.FollowupMessageCreate(i.Interaction, true, &discordgo.WebhookParams{Content: "first"})
			_, _ = s.FollowupMessageCreate(i.Interaction, true, &discordgo.WebhookParams{Content: "second"})
		},
	})
	receive(t, b.ready, "READY")
	register(t, b, srv, g.ID, ping, slow, followup)
	ctx := testContext(t)

	tests := []struct {
		name      string
		cmd       string
		wantType  int
		want      fakediscord.Message
		followups []string
	}{
		{name: "immediate", cmd: "ping", wantType: fakediscord.CallbackMessage, want: fakediscord.Message{Content: "pong"}},
		{name: "deferred then edited", cmd: "slow", wantType: fakediscord.CallbackDeferredMessage, want: fakediscord.Message{
			Content: "done", Flags: fakediscord.FlagEphemeral,
			Embeds: []fakediscord.Embed{{Type: "rich", Title: "Queue", Description: "1. song"}},
		}},
		{name: "deferred then follow-ups", cmd: "followup", wantType: fakediscord.CallbackDeferredMessage,
			want: fakediscord.Message{Content: "first"}, followups: []string{"second"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := srv.Interact(ctx, fakediscord.Slash{GuildID: g.ID, Name: tt.cmd})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Type != tt.wantType {
				t.Errorf("callback type = %d, want %d", resp.Type, tt.wantType)
			}
			if resp.Message.ID == "" || resp.Message.ChannelID != g.Channels[0].ID {
				t.Errorf("message %q in channel %q, want an ID in %s", resp.Message.ID, resp.Message.ChannelID, g.Channels[0].ID)
			}
			tt.want.ID, tt.want.ChannelID = resp.Message.ID, resp.Message.ChannelID
			if diff := cmp.Diff(tt.want, resp.Message); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
			if resp.Ack <= 0 || resp.Done < resp.Ack {
				t.Errorf("latencies ack %v done %v, want 0 < ack <= done", resp.Ack, resp.Done)
			}
			if tt.followups != nil {
				ctxW, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				err := srv.Await(ctxW, func(s *fakediscord.Server) bool { return len(s.Followups(resp.InteractionID)) == len(tt.followups) })
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, m := range srv.Followups(resp.InteractionID) {
					got = append(got, m.Content)
				}
				if diff := cmp.Diff(tt.followups, got); diff != "" {
					t.Errorf("follow-ups (-want +got):\n%s", diff)
				}
			}
		})
	}
	assertNoDecodeErrors(t)
}
