package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/test/fakediscord"
)

// TestCloseLetsInFlightInteractionsFinish stops the bot while its answer
// to an interaction is held up by a rate limit: the answer still arrives.
func TestCloseLetsInFlightInteractionsFinish(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	fake := fakediscord.New(t, fakediscord.Options{})
	g := fake.AddGuild(fakediscord.Guild{})
	bot, st := openBot(ctx, t, fake)
	if err := st.Approve(ctx, music.Approval{Guild: music.GuildID(g.ID), ApprovedBy: ownerID, ApprovedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	// The retry comes after discordgo's Close (which takes a second) and
	// still inside Discord's 3-second window.
	fake.InjectFault(fakediscord.Fault{Route: "POST /interactions/*/*/callback", Status: 429, RetryAfter: 2 * time.Second})

	answered := make(chan error, 1)
	go func() {
		resp, err := fake.Interact(ctx, fakediscord.Slash{GuildID: g.ID, UserID: memberID, Name: "queue"})
		if err == nil && (len(resp.Message.Embeds) != 1 || resp.Message.Embeds[0].Title != "Queue") {
			t.Errorf("answer = %+v", resp.Message)
		}
		answered <- err
	}()
	// Once the bot has hit the rate limit, it is waiting to retry: stop it.
	if err := fake.Await(ctx, func(s *fakediscord.Server) bool { return len(s.RESTErrors()) > 0 }); err != nil {
		t.Fatal(err)
	}
	if err := bot.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-answered; err != nil {
		t.Fatalf("the in-flight interaction was not answered: %v", err)
	}
}
