package discord

import (
	"github.com/bwmarrin/discordgo"
	"log/slog"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/music"
)

func TestParseSeek(t *testing.T) {
	tests := []struct {
		in       string
		want     time.Duration
		relative bool
		bad      bool
	}{
		{in: "1:23", want: 83 * time.Second},
		{in: "0:05", want: 5 * time.Second},
		{in: "1:02:03", want: time.Hour + 2*time.Minute + 3*time.Second},
		{in: "90", want: 90 * time.Second},
		{in: "+10", want: 10 * time.Second, relative: true},
		{in: "-10", want: -10 * time.Second, relative: true},
		{in: " +5 ", want: 5 * time.Second, relative: true},
		{in: "", bad: true},
		{in: "+", bad: true},
		{in: "1:5", bad: true},
		{in: "1:60", bad: true},
		{in: "+1:00", bad: true},
		{in: "1:2:3:4", bad: true},
		{in: "abc", bad: true},
		{in: "--5", bad: true},
		{in: "99999999", bad: true},
		{in: "1e3", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, rel, err := parseSeek(tt.in)
			if tt.bad {
				if music.ErrorCode(err) != music.EINVALID {
					t.Fatalf("parseSeek(%q) = %v, %v, %v; want an invalid-input error", tt.in, got, rel, err)
				}
				return
			}
			if err != nil || got != tt.want || rel != tt.relative {
				t.Fatalf("parseSeek(%q) = %v, %v, %v; want %v, %v", tt.in, got, rel, err, tt.want, tt.relative)
			}
		})
	}
}

func TestProgressBar(t *testing.T) {
	tests := []struct {
		name        string
		pos, length time.Duration
		want        string
	}{
		{"start", 0, 4 * time.Minute, "🔘▬▬▬▬▬▬▬▬▬▬▬▬▬▬▬ `0:00 / 4:00`"},
		{"half way", 2 * time.Minute, 4 * time.Minute, "▬▬▬▬▬▬▬▬🔘▬▬▬▬▬▬▬ `2:00 / 4:00`"},
		{"end", 4 * time.Minute, 4 * time.Minute, "▬▬▬▬▬▬▬▬▬▬▬▬▬▬▬🔘 `4:00 / 4:00`"},
		{"past the end", 5 * time.Minute, 4 * time.Minute, "▬▬▬▬▬▬▬▬▬▬▬▬▬▬▬🔘 `4:00 / 4:00`"},
		{"unknown length", 75 * time.Second, 0, "`1:15` · live or unknown length"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := progressBar(tt.pos, tt.length); got != tt.want {
				t.Errorf("progressBar(%v, %v) = %q, want %q", tt.pos, tt.length, got, tt.want)
			}
		})
	}
}

// audioWithState is a playback whose Discord state holds one guild with a
// DJ role and three members in voice: the bot and a listener in one
// channel, a third user in another.
func audioWithState(t *testing.T, djRole string) *playback {
	t.Helper()
	b, err := NewBot(BotConfig{Token: "test-token", Logger: slog.New(slog.DiscardHandler), Playback: PlaybackConfig{DJRole: djRole}})
	if err != nil {
		t.Fatal(err)
	}
	st := b.session.State
	st.User = &discordgo.User{ID: "100"}
	if err := st.GuildAdd(&discordgo.Guild{
		ID:    "1",
		Roles: []*discordgo.Role{{ID: "10", Name: "DJ"}, {ID: "11", Name: "Listener"}},
		VoiceStates: []*discordgo.VoiceState{
			{GuildID: "1", UserID: "100", ChannelID: "50"},
			{GuildID: "1", UserID: "200", ChannelID: "50"},
			{GuildID: "1", UserID: "300", ChannelID: "60"},
		},
	}); err != nil {
		t.Fatal(err)
	}
	return b.audio
}

func TestDJRole(t *testing.T) {
	tests := []struct {
		name   string
		djRole string
		req    Request
		want   bool
	}{
		{"no DJ role configured", "", Request{Guild: "1", User: "200"}, true},
		{"member with the role", "DJ", Request{Guild: "1", User: "200", Roles: []string{"11", "10"}}, true},
		{"member without it", "DJ", Request{Guild: "1", User: "200", Roles: []string{"11"}}, false},
		{"owner without it", "DJ", Request{Guild: "1", User: "200", Owner: true}, true},
		{"a role of that name only elsewhere", "Dj", Request{Guild: "1", User: "200", Roles: []string{"10"}}, false},
		{"unknown guild", "DJ", Request{Guild: "2", User: "200", Roles: []string{"10"}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := audioWithState(t, tt.djRole).isDJ(&tt.req); got != tt.want {
				t.Errorf("isDJ = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestListenersAndChannels(t *testing.T) {
	p := audioWithState(t, "")
	if got := p.botChannel("1"); got != "50" {
		t.Errorf("botChannel = %q, want 50", got)
	}
	if got := p.voiceChannelOf("1", "300"); got != "60" {
		t.Errorf("voiceChannelOf(300) = %q, want 60", got)
	}
	if got := p.listeners("1"); got != 1 {
		t.Errorf("listeners = %d, want 1 (the bot and the user elsewhere do not count)", got)
	}
	// Nothing plays: every control says so.
	if _, err := p.control(&Request{Guild: "1", User: "200"}); err != errNotPlaying {
		t.Errorf("control while idle: %v", err)
	}
}
