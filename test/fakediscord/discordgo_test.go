package fakediscord_test

import (
	"context"
	"encoding/json"
	"errors"
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

// fakeClient is an HTTP client whose requests for discord.com reach srv.
func fakeClient(tb testing.TB, srv *fakediscord.Server) *http.Client {
	tb.Helper()
	base, err := url.Parse(srv.URL())
	if err != nil {
		tb.Fatal(err)
	}
	return &http.Client{Transport: rewrite{base: base}, Timeout: 10 * time.Second}
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
		if strings.Contains(l, "error unmarshalling") || strings.Contains(l, "error decoding") || strings.Contains(l, "unknown event") || strings.Contains(l, "unknown Op") {
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
	s.Client = fakeClient(t, srv)
	s.Identify.Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildVoiceStates
	b := &bot{
		Session:     s,
		ready:       make(chan *discordgo.Ready, 16),
		guildCreate: make(chan *discordgo.GuildCreate, 64),
		resumed:     make(chan *discordgo.Resumed, 16),
	}
	// discordgo's state cache mutates the structs it hands to handlers, so
	// the tests decode their own copies from the raw payloads.
	s.AddHandler(func(_ *discordgo.Session, e *discordgo.Event) {
		switch e.Type {
		case "READY":
			b.ready <- decodeEvent[discordgo.Ready](t, e)
		case "GUILD_CREATE":
			b.guildCreate <- decodeEvent[discordgo.GuildCreate](t, e)
		case "RESUMED":
			b.resumed <- decodeEvent[discordgo.Resumed](t, e)
		}
	})
	s.AddHandler(func(s *discordgo.Session, i *discordgo.InteractionCreate) {
		name := ""
		switch i.Type {
		case discordgo.InteractionApplicationCommand:
			name = i.ApplicationCommandData().Name
		case discordgo.InteractionMessageComponent:
			name = "component:" + i.MessageComponentData().CustomID
		case discordgo.InteractionApplicationCommandAutocomplete:
			name = "autocomplete:" + i.ApplicationCommandData().Name
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

func decodeEvent[T any](t *testing.T, e *discordgo.Event) *T {
	v := new(T)
	if err := json.Unmarshal(e.RawData, v); err != nil {
		t.Errorf("decoding %s: %v", e.Type, err)
	}
	return v
}

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second): // discordgo waits up to 5 s itself before some retries
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
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
	t.Parallel() // each test waits a second in discordgo's Close
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
	t.Parallel() // each test waits a second in discordgo's Close
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

func TestCommandOverwriteKeepsIDs(t *testing.T) {
	t.Parallel() // each test waits a second in discordgo's Close
	srv := fakediscord.New(t, fakediscord.Options{})
	g := srv.AddGuild(fakediscord.Guild{})
	b := startBot(t, srv, nil)
	receive(t, b.ready, "READY")

	play := &discordgo.ApplicationCommand{Name: "play", Description: "Play a track", Options: []*discordgo.ApplicationCommandOption{{
		Type: discordgo.ApplicationCommandOptionString, Name: "query", Description: "URL", Required: true, MaxLength: 6000,
	}}}
	help := &discordgo.ApplicationCommand{Name: "help", Description: "Show help"}
	first := register(t, b, srv, g.ID, play, help)
	second := register(t, b, srv, g.ID, play)
	if len(first) != 2 || len(second) != 1 || first[0].ID == "" || second[0].ID != first[0].ID {
		t.Fatalf("overwrites returned %v then %v, want /play to keep its ID", first, second)
	}
	if second[0].ApplicationID != srv.ApplicationID() || second[0].GuildID != g.ID || second[0].Version == "" {
		t.Errorf("registered command = %+v, want application, guild and version set", second[0])
	}
	listed, err := b.ApplicationCommands(srv.ApplicationID(), g.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0].Name != "play" || listed[0].Options[0].MaxLength != 6000 {
		t.Errorf("listed = %+v, want /play with its option", listed)
	}
	global := register(t, b, srv, "", help)
	if got := srv.Commands(""); len(got) != 1 || got[0].ID != global[0].ID || got[0].GuildID != "" {
		t.Errorf("global commands = %+v, want /help", got)
	}
	if got := srv.Commands(g.ID); len(got) != 1 || got[0].Name != "play" || got[0].Options[0].Name != "query" {
		t.Errorf("guild commands = %+v, want /play", got)
	}

	_, err = b.ApplicationCommandBulkOverwrite(srv.ApplicationID(), g.ID, []*discordgo.ApplicationCommand{{Name: "Bad Name", Description: "x"}})
	var rest *discordgo.RESTError
	if !errors.As(err, &rest) || rest.Response.StatusCode != 400 || rest.Message == nil || rest.Message.Code != 50035 {
		t.Errorf("registering an invalid name: %v, want a 400 Invalid Form Body", err)
	}
	if got := srv.RESTErrors(); len(got) != 1 || got[0].Code != 50035 {
		t.Errorf("REST errors = %+v, want the one invalid registration", got)
	}
}

func TestInteractionPayloadDecodes(t *testing.T) {
	t.Parallel() // each test waits a second in discordgo's Close
	srv := fakediscord.New(t, fakediscord.Options{})
	g := srv.AddGuild(fakediscord.Guild{})
	got := make(chan *discordgo.InteractionCreate, 1)
	record := func(s *discordgo.Session, i *discordgo.InteractionCreate) {
		got <- i
		respond("ok", discordgo.MessageFlagsEphemeral)(s, i)
	}
	b := startBot(t, srv, map[string]handler{"play": record, "allowlist": record})
	receive(t, b.ready, "READY")
	register(t, b, srv, g.ID, &discordgo.ApplicationCommand{Name: "play", Description: "Play", Options: []*discordgo.ApplicationCommandOption{
		{Type: discordgo.ApplicationCommandOptionString, Name: "query", Description: "URL", Required: true},
		{Type: discordgo.ApplicationCommandOptionInteger, Name: "position", Description: "Where"},
	}})
	register(t, b, srv, "", &discordgo.ApplicationCommand{Name: "allowlist", Description: "Owners only", Options: []*discordgo.ApplicationCommandOption{
		{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "approve", Description: "Approve a guild", Options: []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionString, Name: "guild", Description: "Guild ID", Required: true},
		}},
	}})
	ctx := testContext(t)
	user := srv.NewID()

	resp, err := srv.Interact(ctx, fakediscord.Slash{GuildID: g.ID, UserID: user, Name: "play", Locale: "de", Options: []fakediscord.Option{
		{Name: "query", Value: "https://example.test/a.mp3"}, {Name: "position", Value: 2},
	}})
	if err != nil {
		t.Fatal(err)
	}
	i := receive(t, got, "the interaction")
	data := i.ApplicationCommandData()
	gotFields := []any{i.ID, i.AppID, i.GuildID, i.ChannelID, i.Member.User.ID, string(i.Locale), i.Version, i.AppPermissions != 0,
		data.Name, data.Options[0].StringValue(), data.Options[1].IntValue(), i.Token != ""}
	wantFields := []any{resp.InteractionID, srv.ApplicationID(), g.ID, g.Channels[0].ID, user, "de", 1, true,
		"play", "https://example.test/a.mp3", int64(2), true}
	if diff := cmp.Diff(wantFields, gotFields); diff != "" {
		t.Errorf("interaction as discordgo decoded it (-want +got):\n%s", diff)
	}
	if !resp.Message.Ephemeral() || resp.Message.Content != "ok" {
		t.Errorf("response = %+v, want ephemeral ok", resp.Message)
	}

	// A global command invoked in a DM carries the user, not a member.
	if _, err := srv.Interact(ctx, fakediscord.Slash{UserID: user, Name: "allowlist", Options: []fakediscord.Option{
		{Name: "approve", Options: []fakediscord.Option{{Name: "guild", Value: g.ID}}},
	}}); err != nil {
		t.Fatal(err)
	}
	i = receive(t, got, "the DM interaction")
	sub := i.ApplicationCommandData().Options[0]
	if i.GuildID != "" || i.Member != nil || i.User == nil || i.User.ID != user ||
		sub.Type != discordgo.ApplicationCommandOptionSubCommand || sub.Name != "approve" || sub.Options[0].StringValue() != g.ID {
		t.Errorf("DM interaction: guild %q member %v user %v options %+v", i.GuildID, i.Member, i.User, sub)
	}
	assertNoDecodeErrors(t)
}

func TestInteractChecksWhatDiscordsClientWould(t *testing.T) {
	srv := fakediscord.New(t, fakediscord.Options{})
	g := srv.AddGuild(fakediscord.Guild{})
	status, out := call(t, srv, "PUT", "/api/v10/applications/"+srv.ApplicationID()+"/guilds/"+g.ID+"/commands", "Bot "+srv.Token(),
		[]any{map[string]any{"name": "play", "description": "Play", "options": []any{
			map[string]any{"type": 3, "name": "query", "description": "URL", "required": true, "max_length": 6000},
			map[string]any{"type": 4, "name": "position", "description": "Where", "min_value": 1},
			map[string]any{"type": 3, "name": "mode", "description": "Mode", "choices": []any{map[string]any{"name": "Loop", "value": "loop"}}},
		}}})
	if status != 200 {
		t.Fatalf("registering: %d %s", status, out)
	}
	status, out = call(t, srv, "PUT", "/api/v10/applications/"+srv.ApplicationID()+"/commands", "Bot "+srv.Token(), []any{
		map[string]any{"name": "guild-only", "description": "Not in DMs", "dm_permission": false},
		map[string]any{"name": "anywhere", "description": "Also in DMs"},
	})
	if status != 200 {
		t.Fatalf("registering: %d %s", status, out)
	}
	q := func(v any) fakediscord.Option { return fakediscord.Option{Name: "query", Value: v} }
	tests := []struct {
		name    string
		cmd     fakediscord.Slash
		wantErr string // "" means it passed the checks (and found no session)
	}{
		{name: "valid", cmd: fakediscord.Slash{Name: "play", Options: []fakediscord.Option{q(strings.Repeat("é", 6000))}}},
		{name: "unregistered command", cmd: fakediscord.Slash{Name: "stop"}, wantErr: `command "stop" is not registered`},
		{name: "unknown option", cmd: fakediscord.Slash{Name: "play", Options: []fakediscord.Option{q("x"), {Name: "volume", Value: 3}}}, wantErr: `option "volume" is not registered`},
		{name: "query over max_length", cmd: fakediscord.Slash{Name: "play", Options: []fakediscord.Option{q(strings.Repeat("a", 6001))}}, wantErr: "length 6001 outside [0, 6000]"},
		{name: "missing required option", cmd: fakediscord.Slash{Name: "play"}, wantErr: `required option "query" missing`},
		{name: "wrong type", cmd: fakediscord.Slash{Name: "play", Options: []fakediscord.Option{q(42)}}, wantErr: "want a string"},
		{name: "below min_value", cmd: fakediscord.Slash{Name: "play", Options: []fakediscord.Option{q("x"), {Name: "position", Value: 0}}}, wantErr: "outside the allowed range"},
		{name: "not a choice", cmd: fakediscord.Slash{Name: "play", Options: []fakediscord.Option{q("x"), {Name: "mode", Value: "shuffle"}}}, wantErr: "not one of the choices"},
		{name: "guild the bot is not in", cmd: fakediscord.Slash{GuildID: "42", Name: "play"}, wantErr: "the bot is not in guild"},
		{name: "user ID not a snowflake", cmd: fakediscord.Slash{UserID: "bob", Name: "play", Options: []fakediscord.Option{q("x")}}, wantErr: "not a snowflake"},
		{name: "global command in a DM", cmd: fakediscord.Slash{GuildID: "dm", Name: "anywhere"}},
		{name: "guild-only command in a DM", cmd: fakediscord.Slash{GuildID: "dm", Name: "guild-only"}, wantErr: "not available in DMs"},
		{name: "guild command in a DM", cmd: fakediscord.Slash{GuildID: "dm", Name: "play", Options: []fakediscord.Option{q("x")}}, wantErr: "is not registered"},
		{name: "value JSON cannot hold", cmd: fakediscord.Slash{Name: "stop", Options: []fakediscord.Option{{Name: "x", Value: make(chan int)}}, Unchecked: true}, wantErr: "encoding the interaction"},
		{name: "unchecked lets a stale client through", cmd: fakediscord.Slash{GuildID: "not-a-guild", UserID: "bob", Name: "stop", Options: []fakediscord.Option{{Name: "x", Value: 1}}, Unchecked: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			switch tt.cmd.GuildID {
			case "":
				tt.cmd.GuildID = g.ID
			case "dm":
				tt.cmd.GuildID = ""
			}
			_, err := srv.Interact(testContext(t), tt.cmd)
			if tt.wantErr == "" {
				if !errors.Is(err, fakediscord.ErrNoSession) {
					t.Errorf("error = %v, want only ErrNoSession (no bot is connected)", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestClickUpdatesTheMessage(t *testing.T) {
	t.Parallel() // each test waits a second in discordgo's Close
	srv := fakediscord.New(t, fakediscord.Options{})
	g := srv.AddGuild(fakediscord.Guild{})
	clicked := make(chan *discordgo.InteractionCreate, 1)
	buttons := func(page string) []discordgo.MessageComponent {
		return []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: "Next", Style: discordgo.PrimaryButton, CustomID: "queue:next:" + page},
			discordgo.Button{Label: "Gone", Style: discordgo.SecondaryButton, CustomID: "queue:gone", Disabled: true},
		}}}
	}
	b := startBot(t, srv, map[string]handler{
		"queue": func(s *discordgo.Session, i *discordgo.InteractionCreate) {
			_ = s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
				Type: discordgo.InteractionResponseChannelMessageWithSource,
				Data: &discordgo.InteractionResponseData{Content: "page 1", Components: buttons("2")},
			})
		},
		"component:queue:next:2": func(s *discordgo.Session, i *discordgo.InteractionCreate) {
			clicked <- i
			_ = s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
				Type: discordgo.InteractionResponseUpdateMessage,
				Data: &discordgo.InteractionResponseData{Content: "page 2", Components: buttons("3")},
			})
		},
	})
	receive(t, b.ready, "READY")
	register(t, b, srv, g.ID, &discordgo.ApplicationCommand{Name: "queue", Description: "Show the queue"})
	ctx := testContext(t)
	user := srv.NewID()

	first, err := srv.Interact(ctx, fakediscord.Slash{GuildID: g.ID, UserID: user, Name: "queue"})
	if err != nil {
		t.Fatal(err)
	}
	second, err := srv.Click(ctx, fakediscord.Click{MessageID: first.Message.ID, CustomID: "queue:next:2"})
	if err != nil {
		t.Fatal(err)
	}
	i := receive(t, clicked, "the component interaction")
	if i.Message == nil || i.Message.ID != first.Message.ID || i.Member.User.ID != user || i.MessageComponentData().ComponentType != discordgo.ButtonComponent {
		t.Errorf("component interaction: message %+v member %+v data %+v", i.Message, i.Member, i.MessageComponentData())
	}
	if second.Type != fakediscord.CallbackUpdateMessage || second.Message.ID != first.Message.ID || second.Message.Content != "page 2" ||
		second.Message.Components[0].Components[0].CustomID != "queue:next:3" {
		t.Errorf("after the click: %+v, want the same message on page 2", second)
	}
	if _, err := srv.Click(ctx, fakediscord.Click{MessageID: first.Message.ID, CustomID: "queue:next:2"}); err == nil {
		t.Error("clicking a button the message no longer has: no error")
	}
	if _, err := srv.Click(ctx, fakediscord.Click{MessageID: first.Message.ID, CustomID: "queue:gone"}); err == nil {
		t.Error("clicking a disabled button: no error")
	}
	assertNoDecodeErrors(t)
}

func TestDirectMessagesAndChannelMessages(t *testing.T) {
	t.Parallel() // each test waits a second in discordgo's Close
	srv := fakediscord.New(t, fakediscord.Options{})
	g := srv.AddGuild(fakediscord.Guild{})
	owner := srv.NewID()
	b := startBot(t, srv, map[string]handler{
		"request-access": func(s *discordgo.Session, i *discordgo.InteractionCreate) {
			_ = s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{
				Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
				Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral},
			})
			text := "Access requested"
			ch, err := s.UserChannelCreate(owner)
			if err == nil {
				_, err = s.ChannelMessageSend(ch.ID, "Guild "+i.GuildID+" asks for access")
			}
			if err == nil {
				_, err = s.ChannelMessageSendEmbed(i.ChannelID, &discordgo.MessageEmbed{Title: "Request sent"})
			}
			if err != nil {
				text = err.Error()
			}
			_, _ = s.InteractionResponseEdit(i.Interaction, &discordgo.WebhookEdit{Content: &text})
		},
	})
	receive(t, b.ready, "READY")
	register(t, b, srv, g.ID, &discordgo.ApplicationCommand{Name: "request-access", Description: "Ask for access"})

	resp, err := srv.Interact(testContext(t), fakediscord.Slash{GuildID: g.ID, Name: "request-access"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Message.Content != "Access requested" {
		t.Fatalf("response = %q", resp.Message.Content)
	}
	dms := srv.DMs(owner)
	if len(dms) != 1 || dms[0].Content != "Guild "+g.ID+" asks for access" {
		t.Errorf("DMs to the owner = %+v", dms)
	}
	msgs := srv.Messages(g.Channels[0].ID)
	if len(msgs) != 2 || msgs[0].ID != resp.Message.ID || msgs[1].Embeds[0].Title != "Request sent" {
		t.Errorf("channel messages = %+v, want the response and the embed", msgs)
	}
	if again, err := b.UserChannelCreate(owner); err != nil || again.ID != dms[0].ChannelID || again.Type != discordgo.ChannelTypeDM {
		t.Errorf("second DM channel = %+v, %v; want the same DM channel %s", again, err, dms[0].ChannelID)
	}
	if errs := srv.RESTErrors(); len(errs) != 0 {
		t.Errorf("REST errors: %+v", errs)
	}
}

func TestLeaveGuild(t *testing.T) {
	t.Parallel() // each test waits a second in discordgo's Close
	srv := fakediscord.New(t, fakediscord.Options{})
	g := srv.AddGuild(fakediscord.Guild{})
	b := startBot(t, srv, nil)
	deleted := make(chan *discordgo.GuildDelete, 1)
	b.AddHandler(func(_ *discordgo.Session, d *discordgo.GuildDelete) { deleted <- d })
	receive(t, b.ready, "READY")

	if err := b.GuildLeave(g.ID); err != nil {
		t.Fatal(err)
	}
	if d := receive(t, deleted, "GUILD_DELETE"); d.ID != g.ID {
		t.Errorf("GUILD_DELETE for %s, want %s", d.ID, g.ID)
	}
	if diff := cmp.Diff([]string{g.ID}, srv.LeftGuilds()); diff != "" {
		t.Errorf("left guilds (-want +got):\n%s", diff)
	}
	if len(srv.Guilds()) != 0 {
		t.Errorf("guilds after leaving = %+v", srv.Guilds())
	}
	if _, err := b.ChannelMessageSend(g.Channels[0].ID, "still here?"); err == nil {
		t.Error("posting to a guild the bot left: no error")
	}
}

func TestSessionSurvivesGatewayFailures(t *testing.T) {
	t.Parallel() // each test waits a second in discordgo's Close
	tests := []struct {
		name           string
		fail           func(*fakediscord.Server)
		wantIdentifies int
		wantResumes    int
	}{
		{name: "dropped connection resumes", fail: (*fakediscord.Server).DropConnection, wantIdentifies: 1, wantResumes: 1},
		{name: "reconnect request resumes", fail: (*fakediscord.Server).Reconnect, wantIdentifies: 1, wantResumes: 1},
		{name: "invalid session identifies again", fail: func(s *fakediscord.Server) { s.InvalidateSession(false) }, wantIdentifies: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakediscord.New(t, fakediscord.Options{HeartbeatInterval: 50 * time.Millisecond})
			g := srv.AddGuild(fakediscord.Guild{})
			b := startBot(t, srv, map[string]handler{"ping": respond("pong", 0)})
			first := receive(t, b.ready, "READY")
			register(t, b, srv, g.ID, &discordgo.ApplicationCommand{Name: "ping", Description: "Ping"})
			ctx := testContext(t)

			tt.fail(srv)
			if tt.wantResumes == 0 {
				// A forgotten session gets nothing until the bot identifies again.
				if again := receive(t, b.ready, "second READY"); again.SessionID == first.SessionID {
					t.Errorf("new READY has the old session ID %s", again.SessionID)
				}
			}
			// Dispatched while a resuming bot may be away: it must get it on RESUME.
			resp, err := srv.Interact(ctx, fakediscord.Slash{GuildID: g.ID, Name: "ping"})
			if err != nil {
				t.Fatalf("interaction after the failure: %v (stats %+v)", err, srv.Stats())
			}
			if resp.Message.Content != "pong" {
				t.Errorf("response = %q, want pong", resp.Message.Content)
			}
			st := srv.Stats()
			if st.Identifies != tt.wantIdentifies || st.Resumes != tt.wantResumes {
				t.Errorf("identifies %d resumes %d, want %d and %d", st.Identifies, st.Resumes, tt.wantIdentifies, tt.wantResumes)
			}
			if tt.wantResumes > 0 {
				receive(t, b.resumed, "RESUMED")
				if st.Replayed < 1 {
					t.Errorf("replayed dispatches = %d, want the interaction replayed on RESUME", st.Replayed)
				}
			}
			// Heartbeats continue on the new connection.
			beats := srv.Stats().Heartbeats
			if err := srv.Await(ctx, func(s *fakediscord.Server) bool { return s.Stats().Heartbeats >= beats+2 }); err != nil {
				t.Errorf("heartbeats stopped after the failure: %v", err)
			}
			assertNoDecodeErrors(t)
		})
	}
}

func TestConcurrentInteractionsAcrossGuilds(t *testing.T) {
	t.Parallel() // each test waits a second in discordgo's Close
	srv := fakediscord.New(t, fakediscord.Options{})
	guilds := make([]fakediscord.Guild, 50)
	for i := range guilds {
		guilds[i] = srv.AddGuild(fakediscord.Guild{})
	}
	b := startBot(t, srv, map[string]handler{
		"where": func(s *discordgo.Session, i *discordgo.InteractionCreate) {
			_ = s.InteractionRespond(i.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
			text := "guild " + i.GuildID + " channel " + i.ChannelID
			_, _ = s.InteractionResponseEdit(i.Interaction, &discordgo.WebhookEdit{Content: &text})
		},
	})
	receive(t, b.ready, "READY")
	register(t, b, srv, "", &discordgo.ApplicationCommand{Name: "where", Description: "Where am I"})
	ctx := testContext(t)

	var wg sync.WaitGroup
	errs := make(chan error, len(guilds))
	for _, g := range guilds {
		wg.Go(func() {
			resp, err := srv.Interact(ctx, fakediscord.Slash{GuildID: g.ID, Name: "where"})
			if want := "guild " + g.ID + " channel " + g.Channels[0].ID; err == nil && resp.Message.Content != want {
				err = fmt.Errorf("guild %s got %q, want %q", g.ID, resp.Message.Content, want)
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if st := srv.Stats(); st.Interactions != len(guilds) || st.Callbacks != len(guilds) {
		t.Errorf("stats = %+v, want %d interactions and callbacks", st, len(guilds))
	}
}

func TestUserVoiceStatesReachTheBotsState(t *testing.T) {
	t.Parallel() // each test waits a second in discordgo's Close
	srv := fakediscord.New(t, fakediscord.Options{})
	g := srv.AddGuild(fakediscord.Guild{})
	voiceChannel := g.Channels[1].ID
	early, late := srv.NewID(), srv.NewID()
	if err := srv.SetVoiceState(g.ID, early, voiceChannel); err != nil {
		t.Fatal(err)
	}
	b := startBot(t, srv, nil)
	updates := make(chan string, 4)
	b.AddHandler(func(_ *discordgo.Session, v *discordgo.VoiceStateUpdate) { updates <- v.UserID })
	receive(t, b.guildCreate, "GUILD_CREATE")

	if err := srv.SetVoiceState(g.ID, late, voiceChannel); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, updates, "VOICE_STATE_UPDATE"); got != late {
		t.Fatalf("VOICE_STATE_UPDATE for %s, want %s", got, late)
	}
	for _, user := range []string{early, late} {
		vs, err := b.State.VoiceState(g.ID, user)
		if err != nil || vs.ChannelID != voiceChannel {
			t.Errorf("discordgo state for %s: %+v, %v; want in %s", user, vs, err, voiceChannel)
		}
	}
	if err := srv.SetVoiceState(g.ID, early, ""); err != nil {
		t.Fatal(err)
	}
	receive(t, updates, "VOICE_STATE_UPDATE for leaving")
	if vs, err := b.State.VoiceState(g.ID, early); err == nil {
		t.Errorf("after leaving, discordgo state still has %+v", vs)
	}
	assertNoDecodeErrors(t)
}

func TestDiscordgoCopesWithInjectedFaults(t *testing.T) {
	t.Parallel() // each test waits a second in discordgo's Close
	srv := fakediscord.New(t, fakediscord.Options{})
	g := srv.AddGuild(fakediscord.Guild{})
	owner := srv.NewID()
	b := startBot(t, srv, map[string]handler{
		"ping": respond("pong", 0),
		"notify": func(s *discordgo.Session, i *discordgo.InteractionCreate) {
			text := "sent"
			ch, err := s.UserChannelCreate(owner)
			if err == nil {
				_, err = s.ChannelMessageSend(ch.ID, "hello")
			}
			var rest *discordgo.RESTError
			if errors.As(err, &rest) && rest.Message != nil {
				text = fmt.Sprintf("failed: %d %d", rest.Response.StatusCode, rest.Message.Code)
			}
			respond(text, discordgo.MessageFlagsEphemeral)(s, i)
		},
	})
	receive(t, b.ready, "READY")
	register(t, b, srv, g.ID,
		&discordgo.ApplicationCommand{Name: "ping", Description: "Ping"},
		&discordgo.ApplicationCommand{Name: "notify", Description: "DM the owner"})
	ctx := testContext(t)

	// discordgo waits out a 429 and retries; the user still gets an answer.
	srv.InjectFault(fakediscord.Fault{Route: "POST /interactions/*/*/callback", Status: 429})
	if resp, err := srv.Interact(ctx, fakediscord.Slash{GuildID: g.ID, Name: "ping"}); err != nil || resp.Message.Content != "pong" {
		t.Errorf("after a rate-limited callback: %+v, %v", resp.Message, err)
	}
	// A user who does not accept DMs.
	srv.InjectFault(fakediscord.Fault{Route: "POST /channels/*/messages", Status: 403, Code: 50007, Message: "Cannot send messages to this user"})
	resp, err := srv.Interact(ctx, fakediscord.Slash{GuildID: g.ID, Name: "notify"})
	if err != nil || resp.Message.Content != "failed: 403 50007" {
		t.Errorf("with DMs refused: %+v, %v", resp.Message, err)
	}
	if st := srv.Stats(); st.Faults != 2 || len(srv.DMs(owner)) != 0 {
		t.Errorf("faults %d, DMs %+v; want 2 faults and no DM", st.Faults, srv.DMs(owner))
	}
}

func TestBotEditsItsOwnChannelMessages(t *testing.T) {
	srv := fakediscord.New(t, fakediscord.Options{})
	g := srv.AddGuild(fakediscord.Guild{})
	b := startBot(t, srv, nil)
	receive(t, b.ready, "READY")
	text := g.Channels[0].ID

	m, err := b.ChannelMessageSendEmbed(text, &discordgo.MessageEmbed{Title: "Now playing"})
	if err != nil {
		t.Fatal(err)
	}
	const cover = "https://i.scdn.co/image/ab67616d0000b273"
	embeds := []*discordgo.MessageEmbed{{Title: "Paused", Thumbnail: &discordgo.MessageEmbedThumbnail{URL: cover}}}
	if _, err := b.ChannelMessageEditComplex(&discordgo.MessageEdit{ID: m.ID, Channel: text, Embeds: &embeds}); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages(text)
	if len(got) != 1 || len(got[0].Embeds) != 1 || got[0].Embeds[0].Title != "Paused" || got[0].Embeds[0].Thumbnail == nil || got[0].Embeds[0].Thumbnail.URL != cover {
		t.Fatalf("messages after the edit = %+v, want the one message, edited, with its thumbnail", got)
	}
	// Another channel's ID, or a message that does not exist: Unknown Message.
	for _, edit := range []*discordgo.MessageEdit{{ID: m.ID, Channel: g.Channels[1].ID, Embeds: &embeds}, {ID: "42", Channel: text, Embeds: &embeds}} {
		var rerr *discordgo.RESTError
		if _, err := b.ChannelMessageEditComplex(edit); !errors.As(err, &rerr) || rerr.Message == nil || rerr.Message.Code != 10008 {
			t.Errorf("editing message %s in channel %s: %v, want Unknown Message", edit.ID, edit.Channel, err)
		}
	}
}
