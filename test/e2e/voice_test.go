package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/discord"
	"github.com/iddv/timmybot/app/localstore"
	"github.com/iddv/timmybot/app/music"
	"github.com/iddv/timmybot/app/voice"
	"github.com/iddv/timmybot/app/voice/voicetest"
	"github.com/iddv/timmybot/test/fakediscord"
	"github.com/iddv/timmybot/test/fakevoice"
)

// TestVoiceJoinThroughTheMainGateway drives the voice client from the main
// gateway: the bot sends opcode 4, takes the session from
// VOICE_STATE_UPDATE and the token and endpoint from VOICE_SERVER_UPDATE,
// connects to that voice server and streams frames it receives intact.
func TestVoiceJoinThroughTheMainGateway(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	fv := fakevoice.Start(t, fakevoice.Config{})
	fake := fakediscord.New(t, fakediscord.Options{VoiceEndpoint: fv.Endpoint()})
	g := fake.AddGuild(fakediscord.Guild{})
	var voiceChannel string
	for _, c := range g.Channels {
		if c.Type == fakediscord.ChannelVoice {
			voiceChannel = c.ID
		}
	}

	bot, _ := openBot(ctx, t, fake)
	defer bot.Close()

	if _, err := bot.JoinVoice(ctx, music.GuildID(g.ID), "not-a-channel"); music.ErrorCode(err) != music.EINVALID {
		t.Fatalf("JoinVoice with a bad channel ID: %v", err)
	}
	params, err := bot.JoinVoice(ctx, music.GuildID(g.ID), voiceChannel)
	if err != nil {
		t.Fatal(err)
	}
	reqs := fake.VoiceStateRequests()
	if len(reqs) != 1 || reqs[0].ChannelID != voiceChannel || !reqs[0].SelfDeaf {
		t.Fatalf("voice state requests = %+v, want one self-deafened join of %s", reqs, voiceChannel)
	}
	want := voice.Params{GuildID: g.ID, ChannelID: voiceChannel, UserID: fake.BotUserID(), SessionID: reqs[0].SessionID, Token: reqs[0].Token, Endpoint: fv.Endpoint()}
	if params != want {
		t.Fatalf("params = %+v, want %+v", params, want)
	}

	conn, err := voice.Connect(ctx, voice.Config{Params: params, TLSConfig: fv.TLSConfig(), Pacer: voicetest.FastPacer})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	bot.WatchVoice(music.GuildID(g.ID), conn)
	if n := bot.VoiceConnections(); n != 1 {
		t.Errorf("VoiceConnections = %d while connected, want 1", n)
	}

	frames := make([][]byte, 50)
	for i := range frames {
		frames[i] = bytes.Repeat([]byte{byte(i + 1)}, 120)
	}
	if err := conn.Play(ctx, &frameSlice{frames: frames}); err != nil {
		t.Fatal(err)
	}
	if err := fv.WaitFrames(ctx, len(frames)); err != nil {
		t.Fatal(err)
	}
	got := fv.Frames()
	for i, f := range frames {
		if !bytes.Equal(got[i].Payload, f) {
			t.Fatalf("frame %d arrived as %x, want %x", i, got[i].Payload, f)
		}
	}

	if err := bot.LeaveVoice(music.GuildID(g.ID)); err != nil {
		t.Fatal(err)
	}
	if n := bot.VoiceConnections(); n != 0 {
		t.Errorf("VoiceConnections = %d after leaving, want 0", n)
	}
	if err := fake.Await(ctx, func(s *fakediscord.Server) bool { return len(s.VoiceStateRequests()) == 2 }); err != nil {
		t.Fatal(err)
	}
	if leave := fake.VoiceStateRequests()[1]; leave.ChannelID != "" {
		t.Errorf("leave request = %+v, want a null channel", leave)
	}
}

// openBot runs a bot in this process against fake, on an embedded store,
// and waits until its commands are registered.
func openBot(ctx context.Context, t *testing.T, fake *fakediscord.Server) (*discord.Bot, *localstore.Store) {
	t.Helper()
	st, err := localstore.Open(filepath.Join(t.TempDir(), "bot.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	bot, err := discord.NewBot(discord.BotConfig{
		Token: fake.Token(), APIURL: fake.URL(), Queues: st, Allowlist: st,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := bot.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if err := fake.Await(ctx, func(s *fakediscord.Server) bool { return len(s.Commands("")) > 0 }); err != nil {
		t.Fatal(err)
	}
	return bot, st
}

// frameSlice provides fixed frames, then io.EOF.
type frameSlice struct {
	frames [][]byte
	next   int
}

func (f *frameSlice) ProvideOpusFrame() ([]byte, error) {
	if f.next == len(f.frames) {
		return nil, io.EOF
	}
	f.next++
	return f.frames[f.next-1], nil
}

func (f *frameSlice) Close() error {
	if f.next != len(f.frames) {
		return fmt.Errorf("closed after %d of %d frames", f.next, len(f.frames))
	}
	return nil
}
