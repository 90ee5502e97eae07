package fakediscord_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/iddv/timmybot/test/fakediscord"
)

// BenchmarkInteractRoundTrip measures what the fake adds to the bot's
// latency: INTERACTION_CREATE dispatched → a discordgo handler's callback
// accepted (ack) and → the deferred response's edit (done), on loopback.
func BenchmarkInteractRoundTrip(b *testing.B) {
	for _, bc := range []struct {
		name     string
		deferred bool
	}{{name: "immediate"}, {name: "deferred", deferred: true}} {
		b.Run(bc.name, func(b *testing.B) {
			srv := fakediscord.New(b, fakediscord.Options{})
			g := srv.AddGuild(fakediscord.Guild{})
			s, err := discordgo.New("Bot " + srv.Token())
			if err != nil {
				b.Fatal(err)
			}
			s.Client = fakeClient(b, srv)
			s.Identify.Intents = discordgo.IntentsGuilds
			content := "pong"
			s.AddHandler(func(s *discordgo.Session, i *discordgo.InteractionCreate) {
				if !bc.deferred {
					_ = s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
						Type: discordgo.InteractionResponseChannelMessageWithSource,
						Data: &discordgo.InteractionResponseData{Content: content},
					})
					return
				}
				_ = s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
				_, _ = s.InteractionResponseEdit(i.Interaction, &discordgo.WebhookEdit{Content: &content})
			})
			if err := s.Open(); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = s.Close() })
			if _, err := s.ApplicationCommandBulkOverwrite(srv.ApplicationID(), g.ID, []*discordgo.ApplicationCommand{{Name: "ping", Description: "Ping"}}); err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			cmd := fakediscord.Slash{GuildID: g.ID, Name: "ping", UserID: srv.NewID()}
			done := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				resp, err := srv.Interact(ctx, cmd)
				if err != nil {
					b.Fatal(err)
				}
				done = append(done, resp.Done)
			}
			b.StopTimer()
			slices.Sort(done)
			b.ReportMetric(float64(done[len(done)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(done[len(done)*99/100].Microseconds()), "p99-µs")
		})
	}
}
