package fakediscord_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/iddv/timmybot/test/fakediscord"
)

// TestAutocompleteAnswer: typing into an option with autocomplete on
// dispatches an APPLICATION_COMMAND_AUTOCOMPLETE interaction with the typed
// text focused, and the bot's type 8 answer comes back as choices; answers
// Discord would refuse are refused, and the interaction then goes
// unanswered.
func TestAutocompleteAnswer(t *testing.T) {
	t.Parallel() // each test waits a second in discordgo's Close
	srv := fakediscord.New(t, fakediscord.Options{InteractionTimeout: time.Second})
	g := srv.AddGuild(fakediscord.Guild{})
	typed := make(chan *discordgo.InteractionCreate, 1)
	refused := make(chan error, 1)
	answers := map[string]*discordgo.InteractionResponse{}
	choices := func(n int, name, value string) []*discordgo.ApplicationCommandOptionChoice {
		var cs []*discordgo.ApplicationCommandOptionChoice
		for k := range n {
			cs = append(cs, &discordgo.ApplicationCommandOptionChoice{Name: fmt.Sprintf("%s %d", name, k), Value: fmt.Sprintf("%s/%d", value, k)})
		}
		return cs
	}
	answer := func(cs []*discordgo.ApplicationCommandOptionChoice) *discordgo.InteractionResponse {
		return &discordgo.InteractionResponse{Type: discordgo.InteractionApplicationCommandAutocompleteResult, Data: &discordgo.InteractionResponseData{Choices: cs}}
	}
	answers["never"] = answer(choices(2, "Never", "https://a.example"))
	answers["none"] = answer([]*discordgo.ApplicationCommandOptionChoice{})
	answers["many"] = answer(choices(26, "Song", "https://a.example"))
	answers["unnamed"] = answer([]*discordgo.ApplicationCommandOptionChoice{{Name: "", Value: "x"}})
	answers["long value"] = answer([]*discordgo.ApplicationCommandOptionChoice{{Name: "x", Value: strings.Repeat("v", 101)}})
	answers["a message"] = &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: &discordgo.InteractionResponseData{Content: "hi"}}
	b := startBot(t, srv, map[string]handler{
		"autocomplete:play": func(s *discordgo.Session, i *discordgo.InteractionCreate) {
			typed <- i
			if err := s.InteractionRespond(i.Interaction, answers[i.ApplicationCommandData().Options[0].StringValue()]); err != nil {
				refused <- err
			}
		},
	})
	receive(t, b.ready, "READY")
	register(t, b, srv, g.ID, &discordgo.ApplicationCommand{Name: "play", Description: "Play", Options: []*discordgo.ApplicationCommandOption{
		{Type: discordgo.ApplicationCommandOptionString, Name: "query", Description: "What", Required: true, MinLength: new(int), MaxLength: 3, Autocomplete: true},
		{Type: discordgo.ApplicationCommandOptionBoolean, Name: "next", Description: "Next"},
	}})
	ctx := testContext(t)
	query := func(v string) fakediscord.Option { return fakediscord.Option{Name: "query", Value: v, Focused: true} }

	resp, err := srv.Autocomplete(ctx, fakediscord.Slash{GuildID: g.ID, Name: "play", Options: []fakediscord.Option{query("never")}})
	if err != nil {
		t.Fatal(err)
	}
	i := receive(t, typed, "the autocomplete interaction")
	opt := i.ApplicationCommandData().Options[0]
	if i.Type != discordgo.InteractionApplicationCommandAutocomplete || !opt.Focused || opt.StringValue() != "never" {
		t.Errorf("interaction type %d, option %+v; want autocomplete with the typed text focused (beyond max_length)", i.Type, opt)
	}
	want := []fakediscord.CommandChoice{{Name: "Never 0", Value: "https://a.example/0"}, {Name: "Never 1", Value: "https://a.example/1"}}
	if resp.Type != fakediscord.CallbackAutocomplete || fmt.Sprint(resp.Choices) != fmt.Sprint(want) {
		t.Errorf("answer type %d choices %v, want type 8 with %v", resp.Type, resp.Choices, want)
	}
	if resp, err := srv.Autocomplete(ctx, fakediscord.Slash{GuildID: g.ID, Name: "play", Options: []fakediscord.Option{query("none")}}); err != nil || len(resp.Choices) != 0 {
		t.Errorf("no suggestions: %+v, %v", resp, err)
	}
	receive(t, typed, "the second autocomplete interaction")

	for _, text := range []string{"many", "unnamed", "long value", "a message"} {
		t.Run(text, func(t *testing.T) {
			_, err := srv.Autocomplete(ctx, fakediscord.Slash{GuildID: g.ID, Name: "play", Options: []fakediscord.Option{query(text)}})
			receive(t, typed, "the interaction")
			if got := receive(t, refused, "the refusal"); got == nil {
				t.Error("the answer was accepted")
			}
			if !errors.Is(err, fakediscord.ErrNotAcknowledged) {
				t.Errorf("err = %v, want ErrNotAcknowledged", err)
			}
		})
	}

	for _, tt := range []struct {
		name    string
		opts    []fakediscord.Option
		wantErr string
	}{
		{"nothing focused", []fakediscord.Option{{Name: "query", Value: "x"}}, "exactly one option must be focused"},
		{"an option without autocomplete", []fakediscord.Option{{Name: "next", Value: "t", Focused: true}}, `option "next" has no autocomplete`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := srv.Autocomplete(ctx, fakediscord.Slash{GuildID: g.ID, Name: "play", Options: tt.opts})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	if _, err := srv.Interact(ctx, fakediscord.Slash{GuildID: g.ID, Name: "play", Options: []fakediscord.Option{query("x")}}); err == nil {
		t.Error("a command with a focused option: no error")
	}
	assertNoDecodeErrors(t)
}
