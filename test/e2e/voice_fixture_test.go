package e2e

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/iddv/timmybot/app/voice/dave/davetest"
	"github.com/iddv/timmybot/test/audiocheck"
	"github.com/iddv/timmybot/test/fakediscord"
	"github.com/iddv/timmybot/test/fakevoice"
)

// opusSilence is the Opus frame of silence, which the voice client sends
// without DAVE encryption.
var opusSilence = []byte{0xF8, 0xFF, 0xFE}

// Who is who in a listening room.
const (
	roomBotID      = "600000000000000001"
	roomListenerID = "600000000000000002"
)

// room is a harness whose voice server speaks DAVE for the approved
// guild's voice channel, where a listener (a DAVE member in the test
// process) decrypts what the bot sends.
type room struct {
	*harness
	dave     *fakevoice.DAVEChannel
	listener davetest.Local
	botID    uint64
}

func newRoom(t testing.TB, env ...string) *room {
	t.Helper()
	botID, _ := strconv.ParseUint(roomBotID, 10, 64)
	listenerID, _ := strconv.ParseUint(roomListenerID, 10, 64)
	// The approved guild's voice channel gets the first IDs the fake hands
	// out after the guild's: it is known only once the guild exists, and
	// the DAVE gateway must exist before the voice server. So the room
	// names its channel itself.
	const channelID = "600000000000000003"
	cid, _ := strconv.ParseUint(channelID, 10, 64)
	listener, err := fakevoice.NewListener(cid, listenerID)
	if err != nil {
		t.Fatal(err)
	}
	ch, err := fakevoice.NewDAVEChannel(cid, botID, listener)
	if err != nil {
		t.Fatal(err)
	}
	h := startHarness(t, setup{
		discord:        fakediscord.Options{BotUserID: roomBotID, ApplicationID: roomBotID},
		voice:          fakevoice.Config{RequireDAVE: true, DAVEProtocolVersion: 1, Handler: ch},
		env:            env,
		voiceChannelID: channelID,
	})
	if err := h.fake.SetVoiceState(h.approved.ID, roomListenerID, channelID); err != nil {
		t.Fatal(err)
	}
	return &room{harness: h, dave: ch, listener: listener, botID: botID}
}

// heard decrypts every frame the bot sent so far, as the listener hears it.
// It can be called once: the listener refuses a frame it decrypted before.
func (r *room) heard(t testing.TB) [][]byte {
	t.Helper()
	var out [][]byte
	for i, f := range r.voice.Frames() {
		if bytes.Equal(f.Payload, opusSilence) {
			out = append(out, f.Payload)
			continue
		}
		var plain []byte
		var err error
		r.dave.Locked(func(*davetest.Network) { plain, err = r.listener.Decrypt(r.botID, nil, f.Payload) })
		if err != nil {
			t.Fatalf("the listener could not decrypt frame %d: %v", i, err)
		}
		out = append(out, plain)
	}
	return out
}

// listen decodes frames into tone windows.
func listen(t testing.TB, frames [][]byte) []audiocheck.Window {
	t.Helper()
	ogg, err := audiocheck.OggOpus(frames)
	if err != nil {
		t.Fatal(err)
	}
	return audiocheck.Listen(t, ogg)
}

// waitFrames waits until the bot has sent n frames.
func (r *room) waitFrames(t testing.TB, n int, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if err := r.voice.WaitFrames(ctx, n); err != nil {
		t.Fatalf("the bot sent %d frames, want %d: %v", len(r.voice.Frames()), n, err)
	}
}

// silenceHost serves ten minutes of Opus silence in Ogg at every path: a
// track that plays as long as any test needs, passed through without
// ffmpeg.
func silenceHost(t testing.TB) string {
	t.Helper()
	packets := make([][]byte, 10*60*50)
	for i := range packets {
		packets[i] = opusSilence
	}
	body, err := audiocheck.OggOpus(packets)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/ogg")
		http.ServeContent(w, r, "silence.ogg", time.Time{}, bytes.NewReader(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
